package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/server"
)

// directoryStaff are users the tests hand work to without their ever
// calling: owners and assignees of fixtures.
var directoryStaff = []*crm.User{
	{ID: "sales3", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"south"}},
	{ID: "sales-s", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"south"}},
	{ID: "successor", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"north"}},
}

// mustDirectory signs the test users in to svc's directory, as their first
// requests would, so that work can be handed to them and their requests
// are answered from the service's cache.
func mustDirectory(tb testing.TB, svc *crm.Service) {
	tb.Helper()
	all := directoryStaff
	for _, u := range users {
		all = append(all, u)
	}
	for _, u := range all {
		if _, err := svc.SignIn(crm.NewContextWithUser(context.Background(), u), u); err != nil {
			tb.Fatalf("sign %s in: %v", u.ID, err)
		}
	}
}

// In the stack, a staff user's first request registers them from their
// token's claims; once an admin deactivates them, their requests are
// refused with 403 FORBIDDEN, and the directory lists them as such.
func TestStaffAreRegisteredAtFirstRequestAndRefusedOnceDeactivated(t *testing.T) {
	svc := crm.NewService(dynamo.New(ddbtest.Client(t), ddbtest.NewTable(t, "CrmTable"), []byte(strings.Repeat("s", 32))))
	newcomer := &crm.User{ID: "cognito-sub-7", Name: "Lin Hua", Email: "lin.hua@example.com",
		Roles: []crm.Role{crm.RoleService}, Teams: []string{"north"}}
	auth := authFunc(func(r *http.Request) (*crm.User, error) {
		if r.Header.Get("X-Test-User") == newcomer.ID {
			return newcomer, nil
		}
		return headerAuth{}.Authenticate(r)
	})
	srv := httptest.NewServer(server.New(svc, auth, slog.New(slog.DiscardHandler), testOptions))
	t.Cleanup(srv.Close)
	call := func(user, q string, vars map[string]any) (*http.Response, *response) {
		return postTo(t, srv.URL+"/graphql", as(user), q, vars)
	}

	if _, r := call(newcomer.ID, `{ me { id departmentId } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("first request: %+v", r.Errors)
	}
	const read = `query($id: ID!) { user(id: $id) { name email roles teams active firstSignInAt createdBy version } }`
	var got struct {
		User struct {
			Name, Email, CreatedBy string
			Roles, Teams           []string
			Active                 bool
			FirstSignInAt          *string
			Version                int
		}
	}
	_, r := call("admin", read, map[string]any{"id": newcomer.ID})
	if err := json.Unmarshal(r.Data, &got); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%v %+v", err, r.Errors)
	}
	u := got.User
	if u.Name != "Lin Hua" || u.Email != "lin.hua@example.com" || !slices.Equal(u.Roles, []string{"SERVICE"}) ||
		!slices.Equal(u.Teams, []string{"north"}) || !u.Active || u.FirstSignInAt == nil || u.CreatedBy != newcomer.ID {
		t.Fatalf("registered %+v", u)
	}

	if _, r := call("admin", `mutation($id: ID!, $v: Int!) { deactivateUser(id: $id, expectedVersion: $v) { active workload { customers openCases } } }`,
		map[string]any{"id": newcomer.ID, "v": u.Version}); len(r.Errors) > 0 {
		t.Fatalf("deactivate: %+v", r.Errors)
	}
	res, r := call(newcomer.ID, `{ me { id } }`, nil)
	if res.StatusCode != http.StatusForbidden || r.code() != crm.EFORBIDDEN || !strings.Contains(r.Errors[0].Message, "deactivated") {
		t.Fatalf("deactivated user: %d %+v", res.StatusCode, r.Errors)
	}

	// users lists active users by default; null lists everyone.
	listed := func(filter string) []string {
		t.Helper()
		var out struct {
			Users struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		_, r := call("admin", `{ users`+filter+` { edges { node { id } } } }`, nil)
		if err := json.Unmarshal(r.Data, &out); err != nil || len(r.Errors) > 0 {
			t.Fatalf("users%s: %v %+v", filter, err, r.Errors)
		}
		var ids []string
		for _, e := range out.Users.Edges {
			ids = append(ids, e.Node.ID)
		}
		return ids
	}
	for filter, want := range map[string]bool{"": false, `(filter: {team: "north"})`: false,
		`(filter: {active: null})`: true, `(filter: {active: false})`: true} {
		if got := slices.Contains(listed(filter), newcomer.ID); got != want {
			t.Errorf("users%s lists the deactivated user: %v", filter, got)
		}
	}
}
