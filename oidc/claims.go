package oidc

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/crm"
)

// ClaimsToUser maps verified token claims to a user: sub is the ID
// (required); name falls back to cognito:username then preferred_username;
// roles come from rolesClaim and teams from teamsClaim (defaults
// "cognito:groups" and "custom:teams" when empty).
//
// A list claim may be a JSON array, a single string, a comma- or
// space-separated string (roles only; team names may contain spaces), or the
// "[A B]" string API Gateway's JWT authorizer renders arrays as. Unknown role
// names are ignored and a user may end up with no roles: deciding what such a
// user may do is authorization's job, not authentication's.
func ClaimsToUser(claims map[string]any, rolesClaim, teamsClaim string) (*crm.User, error) {
	if rolesClaim == "" {
		rolesClaim = DefaultRolesClaim
	}
	if teamsClaim == "" {
		teamsClaim = DefaultTeamsClaim
	}
	sub, _ := claims["sub"].(string)
	if strings.TrimSpace(sub) == "" {
		return nil, unauthorized("invalid token", errors.New("token has no subject"))
	}
	u := &crm.User{ID: sub, Email: stringClaim(claims, "email")}
	for _, c := range []string{"name", "cognito:username", "preferred_username"} {
		if u.Name = stringClaim(claims, c); u.Name != "" {
			break
		}
	}
	for _, s := range listClaim(claims[rolesClaim], true) {
		if r, ok := crm.ParseRole(s); ok && !slices.Contains(u.Roles, r) {
			u.Roles = append(u.Roles, r)
		}
	}
	for _, s := range listClaim(claims[teamsClaim], false) {
		if !slices.Contains(u.Teams, s) {
			u.Teams = append(u.Teams, s)
		}
	}
	return u, nil
}

// StringClaimsToUser is ClaimsToUser for claims an API Gateway HTTP API JWT
// authorizer has already verified and flattened to strings
// (requestContext.authorizer.jwt.claims).
func StringClaimsToUser(claims map[string]string, rolesClaim, teamsClaim string) (*crm.User, error) {
	m := make(map[string]any, len(claims))
	for k, v := range claims {
		m[k] = v
	}
	return ClaimsToUser(m, rolesClaim, teamsClaim)
}

func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return strings.TrimSpace(s)
}

// listClaim returns the non-empty trimmed items of a list-valued claim.
// splitSpaces says whether a plain string also splits on whitespace.
func listClaim(v any, splitSpaces bool) []string {
	var items []string
	switch v := v.(type) {
	case []string:
		items = v
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				items = append(items, s)
			}
		}
	case string:
		items = splitListString(v, splitSpaces)
	}
	out := items[:0:0]
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// splitListString splits a string-rendered list. A JSON array string is
// decoded as such; "[a b]" is API Gateway's rendering of a JSON array, whose
// items are space-separated; anything else is comma-separated.
func splitListString(s string, splitSpaces bool) []string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		var arr []string
		if json.Unmarshal([]byte(s), &arr) == nil {
			return arr
		}
		s = s[1 : len(s)-1]
		splitSpaces = true
	}
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || (splitSpaces && (r == ' ' || r == '\t' || r == '\n' || r == '\r'))
	})
}
