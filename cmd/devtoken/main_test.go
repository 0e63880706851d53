package main

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/demo"
)

func TestFindUser(t *testing.T) {
	tests := []struct {
		name       string
		req        request
		id, uname  string
		roles      []crm.Role
		teams      []string
		errMention string
	}{
		{"DemoUserByID", request{id: "manager-south"}, "manager-south", "Chen Jie", []crm.Role{crm.RoleManager}, []string{"south"}, ""},
		{"DemoUserByIDWithTheirOwnRole", request{id: "sales-liu", roles: []crm.Role{crm.RoleSales}, teams: []string{"south"}}, "sales-liu", "Liu Yang", []crm.Role{crm.RoleSales}, []string{"south"}, ""},
		{"RoleAlonePicksTheDemoUser", request{roles: []crm.Role{crm.RoleAuditor}}, "auditor", "Audrey Auditor", []crm.Role{crm.RoleAuditor}, nil, ""},
		{"RoleAndTeamPickTheDemoUser", request{roles: []crm.Role{crm.RoleManager}, teams: []string{"south"}}, "manager-south", "Chen Jie", []crm.Role{crm.RoleManager}, []string{"south"}, ""},
		{"NothingIsTheDemoAdmin", request{}, "admin", "Ada Admin", []crm.Role{crm.RoleAdmin}, nil, ""},
		{"NoDemoUserForTheTeamMakesOneUp", request{roles: []crm.Role{crm.RoleService}, teams: []string{"south"}}, "dev-service", "Dev Service", []crm.Role{crm.RoleService}, []string{"south"}, ""},
		{"SomeoneElseWithRoles", request{id: "sales-new", roles: []crm.Role{crm.RoleSales}, teams: []string{"east"}, name: "New Hire"}, "sales-new", "New Hire", []crm.Role{crm.RoleSales}, []string{"east"}, ""},
		{"ErrDemoUserWithAnotherRole", request{id: "sales-li", roles: []crm.Role{crm.RoleAdmin}}, "", "", nil, nil, "sales-li is in the directory (Li Wei, roles SALES, teams north)"},
		{"ErrDemoUserWithAnotherTeam", request{id: "manager-north", teams: []string{"south"}}, "", "", nil, nil, "manager-north is in the directory"},
		{"ErrSomeoneElseWithoutRoles", request{id: "nobody"}, "", "", nil, nil, "nobody is not in the directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := findUser(tt.req, demo.Users)
			if tt.errMention != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMention) {
					t.Fatalf("err %v, want it to mention %q", err, tt.errMention)
				}
				return
			}
			if err != nil || u.ID != tt.id || u.Name != tt.uname || !slices.Equal(u.Roles, tt.roles) || !slices.Equal(u.Teams, tt.teams) || u.Email != tt.id+"@example.test" {
				t.Fatalf("got %+v, %v; want %s %q %v %v", u, err, tt.id, tt.uname, tt.roles, tt.teams)
			}
		})
	}
}

// Without a server to read the directory from, the demo users stand in for
// it, and stderr says so.
func TestWithoutAServerTheDemoUsersStandIn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close() // nothing answers there now
	env := map[string]string{"PORT": port, "RAPPORT_LOCAL_DIR": t.TempDir()}
	var stdout, stderr strings.Builder
	if err := run([]string{"-user", "sales-liu"}, &stdout, &stderr, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "using the built-in demo users") || !strings.Contains(stderr.String(), "sales-liu (Liu Yang) roles=SALES teams=south") {
		t.Fatalf("stderr %s", stderr.String())
	}
	if tok := strings.TrimSpace(stdout.String()); strings.Count(tok, ".") != 2 {
		t.Fatalf("stdout %q is no token", tok)
	}
}
