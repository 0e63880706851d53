package crm

import "testing"

func TestCustomerPermissions(t *testing.T) {
	own := &Customer{ID: "own", OwnerID: "s1", Team: "north"}
	foreign := &Customer{ID: "foreign", OwnerID: "s2", Team: "south"}
	teamOther := &Customer{ID: "team", OwnerID: "s3", Team: "north"}
	pool := &Customer{ID: "pool", Team: "north"}
	users := map[string]*User{
		"admin":   {ID: "a", Roles: []Role{RoleAdmin}},
		"auditor": {ID: "au", Roles: []Role{RoleAuditor}},
		"manager": {ID: "m", Roles: []Role{RoleManager}, Teams: []string{"north"}},
		"sales":   {ID: "s1", Roles: []Role{RoleSales}, Teams: []string{"north"}},
		"service": {ID: "sv", Roles: []Role{RoleService}, Teams: []string{"north"}},
		"nobody":  {ID: "n"},
	}
	type perms struct{ read, edit, work, assign bool }
	tests := []struct {
		user string
		c    *Customer
		want perms
	}{
		{"admin", foreign, perms{true, true, true, true}},
		{"auditor", foreign, perms{true, false, false, false}},
		{"manager", teamOther, perms{true, true, true, true}},
		{"manager", foreign, perms{false, false, false, false}},
		{"sales", own, perms{true, true, true, false}},
		{"sales", pool, perms{true, false, false, false}},
		{"sales", teamOther, perms{false, false, false, false}},
		{"sales", foreign, perms{false, false, false, false}},
		{"service", teamOther, perms{true, false, true, false}},
		{"service", foreign, perms{false, false, false, false}},
		{"nobody", pool, perms{false, false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.user+"On"+tt.c.ID, func(t *testing.T) {
			u := users[tt.user]
			got := perms{canRead(u, tt.c), canEdit(u, tt.c), canWork(u, tt.c), canAssign(u, tt.c)}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVisibilityNarrowsLists(t *testing.T) {
	sales := &User{ID: "s1", Roles: []Role{RoleSales}}
	f := CustomerFilter{}
	if err := visibility(sales, &f); err != nil || f.OwnerID != "s1" {
		t.Fatalf("sales default list: %+v %v", f, err)
	}
	f = CustomerFilter{OwnerID: "s2"}
	if err := visibility(sales, &f); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("sales listing another owner: %v", err)
	}
	mgr := &User{ID: "m", Roles: []Role{RoleManager}, Teams: []string{"north"}}
	f = CustomerFilter{Team: "south"}
	if err := visibility(mgr, &f); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("manager listing another team: %v", err)
	}
	f = CustomerFilter{}
	if err := visibility(mgr, &f); err != nil || len(f.VisibleTeams) != 1 {
		t.Fatalf("manager default list: %+v %v", f, err)
	}
}
