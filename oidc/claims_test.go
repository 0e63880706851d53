package oidc_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/oidc"
)

func TestClaimsToUserRolesClaimFormats(t *testing.T) {
	adminSales := []crm.Role{crm.RoleAdmin, crm.RoleSales}
	tests := []struct {
		name  string
		roles any
		want  []crm.Role
	}{
		{"JSON array", []any{"ADMIN", "SALES"}, adminSales},
		{"string slice", []string{"ADMIN", "SALES"}, adminSales},
		{"single string", "ADMIN", []crm.Role{crm.RoleAdmin}},
		{"space-separated", "ADMIN SALES", adminSales},
		{"comma-separated", "ADMIN,SALES", adminSales},
		{"comma and space", " ADMIN, SALES ", adminSales},
		{"API Gateway array rendering", "[ADMIN SALES]", adminSales},
		{"API Gateway one-element array", "[ADMIN]", []crm.Role{crm.RoleAdmin}},
		{"API Gateway empty array", "[]", nil},
		{"JSON array as string", `["ADMIN","SALES"]`, adminSales},
		{"unknown roles ignored", []any{"ADMIN", "superuser", "SALES"}, adminSales},
		{"unknown roles ignored in API Gateway rendering", "[eu-west-1_Pool_Google ADMIN SALES]", adminSales},
		{"role names are case-sensitive", "admin Sales", nil},
		{"duplicates collapsed", "ADMIN ADMIN,SALES", adminSales},
		{"non-string array items ignored", []any{"ADMIN", 7, nil, map[string]any{}, "SALES"}, adminSales},
		{"only unknown roles gives no roles", "guest", nil},
		{"missing claim gives no roles", nil, nil},
		{"number claim gives no roles", 3.0, nil},
		{"every role", "[ADMIN MANAGER SALES SERVICE AUDITOR]", crm.Roles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]any{"sub": "u1"}
			if tt.roles != nil {
				claims["cognito:groups"] = tt.roles
			}
			u, err := oidc.ClaimsToUser(claims, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(u.Roles, tt.want) {
				t.Errorf("roles = %#v, want %#v", u.Roles, tt.want)
			}
		})
	}
}

func TestClaimsToUserTeamsClaimFormats(t *testing.T) {
	tests := []struct {
		name  string
		teams any
		want  []string
	}{
		{"comma-separated", "north,south", []string{"north", "south"}},
		{"comma and space", "north, south", []string{"north", "south"}},
		{"team names may contain spaces", "North East,South", []string{"North East", "South"}},
		{"single team", "north", []string{"north"}},
		{"JSON array", []any{"north", "south"}, []string{"north", "south"}},
		{"API Gateway array rendering", "[north south]", []string{"north", "south"}},
		{"duplicates and blanks dropped", "north,,north, ", []string{"north"}},
		{"empty string", "", nil},
		{"missing", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]any{"sub": "u1"}
			if tt.teams != nil {
				claims["custom:teams"] = tt.teams
			}
			u, err := oidc.ClaimsToUser(claims, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(u.Teams, tt.want) {
				t.Errorf("teams = %#v, want %#v", u.Teams, tt.want)
			}
		})
	}
}

func TestClaimsToUserIdentity(t *testing.T) {
	tests := []struct {
		name     string
		claims   map[string]any
		wantName string
		wantErr  bool
	}{
		{"name claim preferred", map[string]any{"sub": "u1", "name": "Ann", "cognito:username": "ann1", "preferred_username": "annie"}, "Ann", false},
		{"falls back to cognito:username", map[string]any{"sub": "u1", "cognito:username": "ann1", "preferred_username": "annie"}, "ann1", false},
		{"falls back to preferred_username", map[string]any{"sub": "u1", "preferred_username": "annie"}, "annie", false},
		{"no name at all", map[string]any{"sub": "u1"}, "", false},
		{"missing sub", map[string]any{"name": "Ann"}, "", true},
		{"blank sub", map[string]any{"sub": "  "}, "", true},
		{"non-string sub", map[string]any{"sub": 42.0}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := oidc.ClaimsToUser(tt.claims, "", "")
			if tt.wantErr {
				wantCode(t, err, crm.EUNAUTHORIZED)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != "u1" || u.Name != tt.wantName {
				t.Errorf("user = %+v, want ID u1 name %q", u, tt.wantName)
			}
		})
	}
}

func TestClaimsToUserCustomClaimNames(t *testing.T) {
	u, err := oidc.ClaimsToUser(map[string]any{
		"sub": "u1", "email": "a@example.test",
		"roles": []any{"AUDITOR"}, "cognito:groups": []any{"ADMIN"},
		"teams": "east", "custom:teams": "north",
	}, "roles", "teams")
	if err != nil {
		t.Fatal(err)
	}
	want := crm.User{ID: "u1", Email: "a@example.test", Roles: []crm.Role{crm.RoleAuditor}, Teams: []string{"east"}}
	if !reflect.DeepEqual(*u, want) {
		t.Errorf("user = %+v, want %+v", *u, want)
	}
}

func TestStringClaimsToUserFromAPIGatewayAuthorizer(t *testing.T) {
	// requestContext.authorizer.jwt.claims of an HTTP API JWT authorizer in
	// front of a Cognito user pool.
	claims := map[string]string{
		"sub":              "8f1c-42",
		"cognito:username": "ann",
		"email":            "ann@example.test",
		"cognito:groups":   "[ADMIN SALES]",
		"custom:teams":     "north,south",
		"exp":              "1735689600",
		"iss":              "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
	}
	u, err := oidc.StringClaimsToUser(claims, "", "")
	if err != nil {
		t.Fatal(err)
	}
	want := crm.User{ID: "8f1c-42", Name: "ann", Email: "ann@example.test",
		Roles: []crm.Role{crm.RoleAdmin, crm.RoleSales}, Teams: []string{"north", "south"}}
	if !reflect.DeepEqual(*u, want) {
		t.Errorf("user = %+v, want %+v", *u, want)
	}
}

// FuzzClaimsToUser feeds arbitrary JSON claim sets: mapping must not panic,
// must keep only known roles, and must never invent an ID.
func FuzzClaimsToUser(f *testing.F) {
	for _, s := range []string{
		`{"sub":"u","cognito:groups":["ADMIN","x"],"custom:teams":"a,b"}`,
		`{"sub":"u","cognito:groups":"[ADMIN SALES]","custom:teams":"[a b]"}`,
		`{"sub":"u","cognito:groups":"[\"ADMIN\"","custom:teams":["a",1,null]}`,
		`{"sub":1,"cognito:groups":{"a":1}}`,
		`{}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var claims map[string]any
		if json.Unmarshal([]byte(s), &claims) != nil {
			return
		}
		u, err := oidc.ClaimsToUser(claims, "", "")
		if err != nil {
			return
		}
		if sub, _ := claims["sub"].(string); u.ID != sub || sub == "" {
			t.Fatalf("ID %q from sub %v", u.ID, claims["sub"])
		}
		for _, r := range u.Roles {
			if _, ok := crm.ParseRole(string(r)); !ok {
				t.Fatalf("unknown role %q kept", r)
			}
		}
		for _, team := range u.Teams {
			if team == "" {
				t.Fatal("empty team kept")
			}
		}
	})
}
