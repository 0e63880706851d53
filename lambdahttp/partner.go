package lambdahttp

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/crm"
)

// The partner-key authorizer (cmd/authorizer) answers API Gateway with a
// simple response whose context describes the partner principal; API
// Gateway passes that context to the API function as
// requestContext.authorizer.lambda, where Handler turns it back into the
// user. Context values are strings: API Gateway allows only strings,
// numbers and booleans there.
const (
	ctxPrincipal   = "principal"
	ctxPartnerID   = "partnerId"
	ctxPartnerName = "partnerName"
	ctxMasked      = "masked" // comma-separated crm.MaskField values
	// ctxShowAmounts is "true" when the organization shows amounts; any
	// other value, or none, hides them (fails closed).
	ctxShowAmounts = "showAmounts"
)

// AuthorizerContext is the context the authorizer returns for a verified
// partner principal.
func AuthorizerContext(u *crm.User) map[string]any {
	masked := make([]string, len(u.Masked))
	for i, f := range u.Masked {
		masked[i] = string(f)
	}
	return map[string]any{
		ctxPrincipal: u.ID, ctxPartnerID: u.PartnerOrgID, ctxPartnerName: u.Name,
		ctxMasked: strings.Join(masked, ","), ctxShowAmounts: fmt.Sprint(u.ShowAmounts),
	}
}

// PartnerUser is the partner principal an authorizer context describes. It
// fails closed: a context without a masking policy masks every field, and
// one without a principal or organization is refused.
func PartnerUser(c map[string]any) (*crm.User, error) {
	str := func(k string) string { s, _ := c[k].(string); return strings.TrimSpace(s) }
	u := &crm.User{ID: str(ctxPrincipal), Name: str(ctxPartnerName), Roles: []crm.Role{crm.RolePartner},
		PartnerOrgID: str(ctxPartnerID), ShowAmounts: str(ctxShowAmounts) == "true"}
	if u.ID == "" || u.PartnerOrgID == "" {
		return nil, fmt.Errorf("authorizer context names no principal or partner organization (keys %v)", keysOf(c))
	}
	masked, ok := c[ctxMasked].(string)
	if !ok {
		u.Masked = slices.Clone(crm.MaskFields)
		return u, nil
	}
	for _, f := range strings.Split(masked, ",") {
		if f = strings.TrimSpace(f); f != "" {
			u.Masked = append(u.Masked, crm.MaskField(f))
		}
	}
	return u, nil
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
