package dynamo_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

// fixtureStaff are the users the tests hand work to; mustEnv registers
// them in the directory as their first sign-in would.
var fixtureStaff = []*crm.User{admin, manager, sales1, sales2, sales3, managerSouth,
	{ID: "sales-south", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"south"}},
	{ID: "sales-leaver", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"north"}},
}

// mustStaff signs users in to the directory.
func mustStaff(tb testing.TB, svc *crm.Service, users ...*crm.User) {
	tb.Helper()
	for _, u := range users {
		if _, err := svc.SignIn(as(u), u); err != nil {
			tb.Fatalf("sign %s in: %v", u.ID, err)
		}
	}
}

var (
	serviceUser = &crm.User{ID: "service-1", Roles: []crm.Role{crm.RoleService}, Teams: []string{"north"}}
	auditorUser = &crm.User{ID: "auditor-1", Roles: []crm.Role{crm.RoleAuditor}}
	partnerUser = &crm.User{ID: "apikey-1", Roles: []crm.Role{crm.RolePartner}, PartnerOrgID: "org-1"}
	noRoleUser  = &crm.User{ID: "nobody-1"}
	north       = []string{"north"}
	salesRole   = []crm.Role{crm.RoleSales}
)

func yes() *bool { t := true; return &t }
func no() *bool  { f := false; return &f }

// listed lists users with f as u and returns their ids and the list's
// total (-1 when the list has none).
func listed(t *testing.T, e *env, u *crm.User, f crm.UserFilter) ([]string, int) {
	t.Helper()
	page, err := e.svc.Users(as(u), f, crm.PageRequest{First: crm.MaxPageSize})
	if err != nil {
		t.Fatalf("users %+v: %v", f, err)
	}
	var ids []string
	for _, d := range page.Items {
		ids = append(ids, d.ID)
	}
	total := -1
	if page.Total != nil {
		if total, err = page.Total(as(u)); err != nil {
			t.Fatal(err)
		}
	}
	return ids, total
}

func TestAdminManagesUsersAndDepartments(t *testing.T) {
	e := mustEnv(t)
	ctx := as(admin)
	dept, err := e.svc.CreateDepartment(ctx, crm.DepartmentInput{Name: "Service Desk", Team: "north", ManagerID: manager.ID})
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.svc.CreateUser(ctx, crm.UserInput{ID: "new-hire", Name: " Zhou Xin ", Email: "Zhou.Xin@Example.com",
		Roles: salesRole, Teams: north, DepartmentID: dept.ID})
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Zhou Xin" || u.Email != "zhou.xin@example.com" || !u.Active || u.Version != 1 || u.CreatedBy != admin.ID || u.FirstSignInAt != nil {
		t.Fatalf("created %+v", u)
	}
	if got, err := e.svc.User(as(sales1), "new-hire"); err != nil || got.DepartmentID != dept.ID || !slices.Equal(got.Teams, north) {
		t.Fatalf("read back %+v %v", got, err)
	}

	// Each list answers with its counter, and agrees with it.
	for _, tc := range []struct {
		name string
		f    crm.UserFilter
		in   bool
	}{
		{"ActiveTeam", crm.UserFilter{Active: yes(), Team: "north"}, true},
		{"ActiveDepartment", crm.UserFilter{Active: yes(), DepartmentID: dept.ID}, true},
		{"ActiveRole", crm.UserFilter{Active: yes(), Role: crm.RoleSales}, true},
		{"OtherRole", crm.UserFilter{Active: yes(), Role: crm.RoleService}, false},
		{"Active", crm.UserFilter{Active: yes()}, true},
		{"Everyone", crm.UserFilter{}, true},
		{"Deactivated", crm.UserFilter{Active: no()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, total := listed(t, e, admin, tc.f)
			if slices.Contains(ids, "new-hire") != tc.in || total != len(ids) {
				t.Fatalf("ids %v total %d", ids, total)
			}
		})
	}
	// Two conditions: one is the list, the other is checked; no counter.
	if ids, total := listed(t, e, admin, crm.UserFilter{Active: yes(), Team: "north", Role: crm.RoleManager}); !slices.Equal(ids, []string{manager.ID}) || total != -1 {
		t.Fatalf("north managers %v total %d", ids, total)
	}
	// By name, folded: width and case do not count.
	for _, prefix := range []string{"zho", "ＺＨＯＵ x", "Zhou Xin"} {
		if ids, _ := listed(t, e, sales1, crm.UserFilter{Active: yes(), NamePrefix: prefix}); !slices.Equal(ids, []string{"new-hire"}) {
			t.Fatalf("name %q: %v", prefix, ids)
		}
	}

	// Optimistic locking; a rename moves the user's entries.
	name := "Zhou Xinyi"
	if _, err := e.svc.UpdateUser(ctx, "new-hire", 2, crm.UserUpdate{Name: &name}); code(err) != crm.ECONFLICT {
		t.Fatalf("stale version: %v", err)
	}
	u, err = e.svc.UpdateUser(ctx, "new-hire", 1, crm.UserUpdate{Name: &name})
	if err != nil || u.Version != 2 || u.Name != name {
		t.Fatalf("rename %+v %v", u, err)
	}
	if ids, total := listed(t, e, admin, crm.UserFilter{Active: yes(), DepartmentID: dept.ID}); !slices.Equal(ids, []string{"new-hire"}) || total != 1 {
		t.Fatalf("after rename %v %d", ids, total)
	}
	if ids, _ := listed(t, e, admin, crm.UserFilter{NamePrefix: "zhou xiny"}); len(ids) != 1 {
		t.Fatalf("renamed user listed %d times", len(ids))
	}

	// Deactivation moves the user to the deactivated list, and back.
	u, err = e.svc.DeactivateUser(ctx, "new-hire", 2)
	if err != nil || u.Active || u.DeactivatedBy != admin.ID || u.DeactivatedAt == nil {
		t.Fatalf("deactivate %+v %v", u, err)
	}
	if _, err := e.svc.DeactivateUser(ctx, "new-hire", 3); code(err) != crm.ECONFLICT {
		t.Fatalf("deactivated twice: %v", err)
	}
	if ids, total := listed(t, e, admin, crm.UserFilter{Active: no()}); !slices.Equal(ids, []string{"new-hire"}) || total != 1 {
		t.Fatalf("deactivated list %v %d", ids, total)
	}
	if ids, total := listed(t, e, admin, crm.UserFilter{Active: yes(), DepartmentID: dept.ID}); len(ids) != 0 || total != 0 {
		t.Fatalf("department still lists %v %d", ids, total)
	}
	if _, err := e.svc.User(as(sales1), "new-hire"); code(err) != crm.ENOTFOUND {
		t.Fatalf("sales reads a deactivated user: %v", err)
	}
	if u, err = e.svc.ReactivateUser(ctx, "new-hire", 3); err != nil || !u.Active || u.DeactivatedAt != nil {
		t.Fatalf("reactivate %+v %v", u, err)
	}
	if _, err := e.svc.DeactivateUser(ctx, admin.ID, 1); code(err) != crm.EINVALID {
		t.Fatalf("admin deactivated themself: %v", err)
	}

	// Ids are unique; a create with a key is safe to retry.
	if _, err := e.svc.CreateUser(ctx, crm.UserInput{ID: "new-hire", Name: "Other", Roles: salesRole}); code(err) != crm.EDUPLICATE {
		t.Fatalf("duplicate id: %v", err)
	}
	in := crm.UserInput{ID: "second-hire", Name: "Qian Hao", Roles: salesRole, Teams: north, IdempotencyKey: "create-second-hire"}
	first, err := e.svc.CreateUser(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := e.svc.CreateUser(ctx, in); err != nil || again.ID != first.ID || again.Version != 1 {
		t.Fatalf("retry %+v %v", again, err)
	}
	in.Name = "Someone Else"
	if _, err := e.svc.CreateUser(ctx, in); code(err) != crm.ECONFLICT {
		t.Fatalf("key reused for another request: %v", err)
	}

	// Departments: unique names, renamed with a version.
	if _, err := e.svc.CreateDepartment(ctx, crm.DepartmentInput{Name: "service  DESK"}); code(err) != crm.EDUPLICATE {
		t.Fatalf("duplicate department name: %v", err)
	}
	renamed := "Customer Service"
	d, err := e.svc.UpdateDepartment(ctx, dept.ID, 1, crm.DepartmentUpdate{Name: &renamed})
	if err != nil || d.Version != 2 {
		t.Fatalf("rename department %+v %v", d, err)
	}
	if _, err := e.svc.CreateDepartment(ctx, crm.DepartmentInput{Name: "Service Desk"}); err != nil {
		t.Fatalf("the old name is free again: %v", err)
	}
	all, err := e.svc.Departments(as(sales1))
	if err != nil || len(all) != 2 || all[0].Name != renamed {
		t.Fatalf("departments %+v %v", all, err)
	}
}

func TestDirectoryAuthorizationByRole(t *testing.T) {
	e := mustEnv(t)
	mustStaff(t, e.svc, serviceUser, auditorUser)
	gone, err := e.svc.CreateUser(as(admin), crm.UserInput{ID: "gone", Name: "Gone Away", Roles: salesRole})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DeactivateUser(as(admin), gone.ID, 1); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		u    *crm.User
		// active, all users, a deactivated user, create, another's workload
		want [5]string
	}{
		{"Admin", admin, [5]string{"", "", "", "", ""}},
		{"Manager", manager, [5]string{"", "", "", crm.EFORBIDDEN, ""}},
		{"Auditor", auditorUser, [5]string{"", "", "", crm.EFORBIDDEN, ""}},
		{"Sales", sales1, [5]string{"", crm.EFORBIDDEN, crm.ENOTFOUND, crm.EFORBIDDEN, crm.EFORBIDDEN}},
		{"Service", serviceUser, [5]string{"", crm.EFORBIDDEN, crm.ENOTFOUND, crm.EFORBIDDEN, crm.EFORBIDDEN}},
		{"Partner", partnerUser, [5]string{crm.EFORBIDDEN, crm.EFORBIDDEN, crm.EFORBIDDEN, crm.EFORBIDDEN, crm.EFORBIDDEN}},
		{"NoRole", noRoleUser, [5]string{crm.EFORBIDDEN, crm.EFORBIDDEN, crm.EFORBIDDEN, crm.EFORBIDDEN, crm.EFORBIDDEN}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := as(tc.u)
			_, errActive := e.svc.Users(ctx, crm.UserFilter{Active: yes()}, crm.PageRequest{First: 10})
			_, errAll := e.svc.Users(ctx, crm.UserFilter{}, crm.PageRequest{First: 10})
			_, errGone := e.svc.User(ctx, gone.ID)
			_, errCreate := e.svc.CreateUser(ctx, crm.UserInput{ID: "made-by-" + tc.u.ID, Name: "Made", Roles: salesRole})
			_, errs := e.svc.Workloads(ctx, []string{sales2.ID})
			got := [5]string{code(errActive), code(errAll), code(errGone), code(errCreate), code(errs[0])}
			if got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if _, errs := e.svc.Workloads(ctx, []string{tc.u.ID}); tc.want[0] == "" && errs[0] != nil {
				t.Fatalf("own workload: %v", errs[0])
			}
		})
	}
}

// The stack registers a staff user from their token on first use: the
// first sign-in writes, the next ones write nothing (a warm instance does
// not even read), and changed claims are mirrored.
func TestSignInRegistersFromClaimsAndWritesOnlyWhenTheyChange(t *testing.T) {
	e := mustEnv(t)
	tok := &crm.User{ID: "cognito-sub-1", Name: "Gao Yan", Email: "gao@example.com", Roles: salesRole, Teams: north}
	calls := func(f func()) int64 {
		before := e.calls.Load()
		f()
		return e.calls.Load() - before
	}
	signIn := func(svc *crm.Service, u *crm.User) (*crm.User, error) { return svc.SignIn(as(u), u) }

	if n := calls(func() {
		if _, err := signIn(e.svc, tok); err != nil {
			t.Fatal(err)
		}
	}); n != 2 {
		t.Fatalf("first sign-in made %d DynamoDB calls, want 2 (read, register)", n)
	}
	d, err := e.svc.User(as(admin), tok.ID)
	if err != nil || d.Name != "Gao Yan" || d.Email != "gao@example.com" || !slices.Equal(d.Roles, salesRole) ||
		!slices.Equal(d.Teams, north) || d.FirstSignInAt == nil || d.CreatedBy != tok.ID || !d.Active {
		t.Fatalf("registered %+v %v", d, err)
	}
	if n := calls(func() { _, _ = signIn(e.svc, tok) }); n != 0 {
		t.Fatalf("a warm sign-in made %d calls", n)
	}
	cold := crm.NewService(e.store) // another instance of the API
	if n := calls(func() { _, _ = signIn(cold, tok) }); n != 1 {
		t.Fatalf("a cold sign-in with the same claims made %d calls, want 1 read", n)
	}

	// The token's teams changed: mirrored once, on the next sign-in.
	moved := *tok
	moved.Teams = []string{"south"}
	if n := calls(func() { _, _ = signIn(e.svc, &moved) }); n != 2 {
		t.Fatalf("changed claims made %d calls, want 2", n)
	}
	if d, _ = e.svc.User(as(admin), tok.ID); !slices.Equal(d.Teams, []string{"south"}) || d.Version != 2 {
		t.Fatalf("not mirrored: %+v", d)
	}
	if ids, _ := listed(t, e, admin, crm.UserFilter{Active: yes(), Team: "north"}); slices.Contains(ids, tok.ID) {
		t.Fatal("still listed in the old team")
	}
	// Registration is audited as the user's own sign-in.
	day, err := e.svc.AuditLog(as(admin), crm.AuditFilter{Actor: tok.ID, Operation: "signIn"}, crm.PageRequest{First: 10})
	if err != nil || len(day.Items) != 2 || day.Items[0].Changes[0].Entity != "user" {
		t.Fatalf("audit %+v %v", day, err)
	}
}

// Roles and teams are the token's: an admin sets them only before the
// first sign-in, which replaces them; the department is the directory's.
func TestTheTokenStaysAuthoritativeAndTheDirectoryAddsTheDepartment(t *testing.T) {
	e := mustEnv(t)
	dept, err := e.svc.CreateDepartment(as(admin), crm.DepartmentInput{Name: "Service Desk"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(as(admin), crm.UserInput{ID: "pre", Name: "Pre Registered", Roles: salesRole, Teams: north, DepartmentID: dept.ID}); err != nil {
		t.Fatal(err)
	}
	tok := &crm.User{ID: "pre", Name: "Pre Registered", Roles: []crm.Role{crm.RoleService}, Teams: []string{"south"}}
	in, err := e.svc.SignIn(as(tok), tok)
	if err != nil || !slices.Equal(in.Roles, tok.Roles) || in.Department != dept.ID {
		t.Fatalf("signed in as %+v %v", in, err)
	}
	d, _ := e.svc.User(as(admin), "pre")
	if !slices.Equal(d.Roles, tok.Roles) || !slices.Equal(d.Teams, tok.Teams) || d.DepartmentID != dept.ID || d.FirstSignInAt == nil {
		t.Fatalf("directory after sign-in %+v", d)
	}
	if _, err := e.svc.UpdateUser(as(admin), "pre", d.Version, crm.UserUpdate{Roles: salesRole}); code(err) != crm.EINVALID || errField(err) != "input.roles" {
		t.Fatalf("roles edited after sign-in: %v", err)
	}
	email := "pre@example.com"
	if _, err := e.svc.UpdateUser(as(admin), "pre", d.Version, crm.UserUpdate{Email: &email, Roles: tok.Roles}); err != nil {
		t.Fatalf("email (roles unchanged): %v", err)
	}
}

func errField(err error) string {
	var e *crm.Error
	if asErr(err, &e) {
		return e.Field
	}
	return ""
}

// A deactivated user is refused at once on the instance that deactivated
// them, and on the others once their cached entry is older than
// DirectoryTTL.
func TestDeactivatedUsersAreRefused(t *testing.T) {
	e := mustEnv(t)
	other := crm.NewService(e.store)
	if _, err := other.SignIn(as(sales2), sales2); err != nil {
		t.Fatal(err)
	}
	d, _ := e.svc.User(as(admin), sales2.ID)
	if _, err := e.svc.DeactivateUser(as(admin), sales2.ID, d.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SignIn(as(sales2), sales2); code(err) != crm.EFORBIDDEN {
		t.Fatalf("same instance: %v", err)
	}
	if _, err := other.SignIn(as(sales2), sales2); err != nil {
		t.Fatalf("within DirectoryTTL the other instance still admits them: %v", err)
	}
	other.DirectoryTTL = 0 // as if the TTL had passed
	if _, err := other.SignIn(as(sales2), sales2); code(err) != crm.EFORBIDDEN {
		t.Fatalf("other instance after the TTL: %v", err)
	}
	// Partners are no users of the directory.
	if _, err := e.svc.SignIn(as(partnerUser), partnerUser); err != nil {
		t.Fatalf("partner: %v", err)
	}
}

// Simultaneous first sign-ins of one user on many instances register it
// once, counted once.
func TestConcurrentFirstSignInsRegisterOnce(t *testing.T) {
	e := mustEnv(t)
	tok := &crm.User{ID: "busy-first-day", Name: "Wu Lin", Roles: salesRole, Teams: north}
	_, before := listed(t, e, admin, crm.UserFilter{})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = crm.NewService(e.store).SignIn(as(tok), tok)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ids, total := listed(t, e, admin, crm.UserFilter{})
	if total != before+1 || len(ids) != total {
		t.Fatalf("total %d (was %d), listed %d", total, before, len(ids))
	}
}

// Every path that hands work to someone refuses an unknown or deactivated
// user, or one without the role the work needs, naming the field, and
// writes nothing.
func TestWorkIsHandedOnlyToActiveUsersOfTheDirectory(t *testing.T) {
	e := mustEnv(t)
	mustStaff(t, e.svc, serviceUser, auditorUser, &crm.User{ID: "gone", Roles: salesRole, Teams: north})
	if _, err := e.svc.DeactivateUser(as(admin), "gone", 1); err != nil {
		t.Fatal(err)
	}
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Handed Around", OwnerID: &sales1.ID, Team: "north"})
	it, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone, Type: crm.TypeComplaint})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := e.svc.MoveCase(as(admin), c.ID, it.ID, 1, crm.CaseMove{To: crm.CaseTriaged})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = e.store.Customer(as(admin), c.ID)
	paths := []struct {
		name, field string
		hand        func(to string) error
	}{
		{"assignCustomer", "ownerId", func(to string) error { _, err := e.svc.AssignCustomer(as(admin), c.ID, to, ""); return err }},
		{"createCustomer", "input.ownerId", func(to string) error {
			_, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "New", OwnerID: &to, Team: "north"})
			return err
		}},
		{"updateCustomer", "input.ownerId", func(to string) error {
			_, err := e.svc.UpdateCustomer(as(admin), c.ID, c.Version, crm.CustomerUpdate{OwnerID: &to})
			return err
		}},
		{"handOverPortfolio", "toUserId", func(to string) error { _, err := e.svc.HandOver(as(manager), sales1.ID, to); return err }},
		{"moveCase", "input.assignTo", func(to string) error {
			_, err := e.svc.MoveCase(as(admin), c.ID, cs.ID, cs.Version, crm.CaseMove{To: crm.CaseAssigned, AssignTo: to})
			return err
		}},
		{"logInteraction", "input.handledBy", func(to string) error {
			_, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone, Type: crm.TypeCall, HandledBy: to})
			return err
		}},
		{"createDepartment", "input.managerId", func(to string) error {
			_, err := e.svc.CreateDepartment(as(admin), crm.DepartmentInput{Name: "Dept of " + to, ManagerID: to})
			return err
		}},
	}
	for _, p := range paths {
		for _, to := range []string{"sales-typo", "gone"} {
			t.Run(p.name+"/"+to, func(t *testing.T) {
				if err := p.hand(to); code(err) != crm.EINVALID || errField(err) != p.field {
					t.Fatalf("got %v, want BAD_USER_INPUT on %s", err, p.field)
				}
			})
		}
	}
	// The work needs a role the user lacks: a service agent owns no
	// customers, an auditor works no cases.
	if err := paths[0].hand(serviceUser.ID); code(err) != crm.EINVALID || errField(err) != "ownerId" {
		t.Fatalf("service agent as owner: %v", err)
	}
	if err := paths[4].hand(auditorUser.ID); code(err) != crm.EINVALID || errField(err) != "input.assignTo" {
		t.Fatalf("auditor as assignee: %v", err)
	}
	if _, err := e.svc.MoveCase(as(admin), c.ID, cs.ID, cs.Version, crm.CaseMove{To: crm.CaseAssigned, AssignTo: serviceUser.ID,
		Department: "01JZZZZZZZZZZZZZZZZZZZZZZZ"}); code(err) != crm.EINVALID || errField(err) != "input.department" {
		t.Fatalf("unknown department: %v", err)
	}
	// Nothing moved.
	after, _ := e.store.Customer(as(admin), c.ID)
	if after.Version != c.Version || after.OwnerID != sales1.ID {
		t.Fatalf("customer changed: %+v", after)
	}
	if now, _ := e.store.Case(as(admin), c.ID, cs.ID); now.Version != cs.Version {
		t.Fatalf("case changed: %+v", now)
	}
	// A real user is accepted on every path.
	for _, p := range paths[:len(paths)-1] {
		if p.name == "handOverPortfolio" || p.name == "updateCustomer" {
			continue // they would move the customer the other paths use
		}
		to := sales2.ID
		if err := p.hand(to); err != nil {
			t.Fatalf("%s to %s: %v", p.name, to, err)
		}
	}
}

// A handover to a mistyped user moves nothing; deactivating the leaver
// reports what to hand over, and the handover empties it.
func TestHandOverToAnUnknownUserMovesNothing(t *testing.T) {
	e := mustEnv(t)
	leaver := "sales-leaver"
	var ids []string
	for i := range 3 {
		c := mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprint("Leaver's ", i), OwnerID: &leaver, Team: "north"})
		ids = append(ids, c.ID)
	}
	// Two open cases assigned to the leaver (one on someone else's
	// customer), one closed.
	other := mustCreate(t, e, admin, crm.CustomerInput{Name: "Not the Leaver's", OwnerID: &sales1.ID, Team: "north"})
	assign := func(customerID string) *crm.Case {
		it, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: customerID, Channel: crm.ChannelPhone, Type: crm.TypeFaultReport})
		if err != nil {
			t.Fatal(err)
		}
		cs, _ := e.store.Case(as(admin), customerID, it.ID)
		for _, m := range []crm.CaseMove{{To: crm.CaseTriaged}, {To: crm.CaseAssigned, AssignTo: leaver}} {
			if cs, err = e.svc.MoveCase(as(admin), customerID, cs.ID, cs.Version, m); err != nil {
				t.Fatal(err)
			}
		}
		return cs
	}
	assign(ids[0])
	assign(other.ID)
	done := assign(ids[1])
	for _, m := range []crm.CaseMove{{To: crm.CaseProposed, Plan: "replace"}, {To: crm.CaseApproved}, {To: crm.CaseResolved}} {
		var err error
		by := admin
		if m.To == crm.CaseApproved {
			by = admin2 // not the proposer
		}
		if done, err = e.svc.MoveCase(as(by), ids[1], done.ID, done.Version, m); err != nil {
			t.Fatal(err)
		}
	}
	workload := func(id string) crm.Workload {
		t.Helper()
		ws, errs := e.svc.Workloads(as(manager), []string{id})
		if errs[0] != nil {
			t.Fatal(errs[0])
		}
		return *ws[0]
	}
	d, _ := e.svc.User(as(admin), leaver)
	if _, err := e.svc.DeactivateUser(as(admin), leaver, d.Version); err != nil {
		t.Fatal(err)
	}
	e.drain(t) // the owners' totals follow from the stream
	if w := workload(leaver); w != (crm.Workload{Customers: 3, OpenCases: 2}) {
		t.Fatalf("leaver's workload %+v", w)
	}

	if _, err := e.svc.HandOver(as(manager), leaver, "sales-lee"); code(err) != crm.EINVALID || errField(err) != "toUserId" {
		t.Fatalf("handover to a typo: %v", err)
	}
	page, _ := e.svc.Customers(as(admin), crm.CustomerFilter{OwnerID: leaver}, crm.PageRequest{First: 10})
	if len(page.Items) != 3 || workload(leaver) != (crm.Workload{Customers: 3, OpenCases: 2}) {
		t.Fatalf("something moved: %d customers, %+v", len(page.Items), workload(leaver))
	}

	before := workload(sales2.ID)
	h, err := e.svc.HandOver(as(manager), leaver, sales2.ID)
	if err != nil || len(h.Moved) != 3 {
		t.Fatalf("handover %+v %v", h, err)
	}
	e.drain(t)
	// The case on someone else's customer stays: the handover moves the
	// portfolio; the workload still shows it.
	if w := workload(leaver); w != (crm.Workload{OpenCases: 1}) {
		t.Fatalf("leaver after handover %+v", w)
	}
	if w := workload(sales2.ID); w.Customers != before.Customers+3 || w.OpenCases != before.OpenCases+1 {
		t.Fatalf("successor %+v (before %+v)", w, before)
	}
}
