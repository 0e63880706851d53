package dynamo_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// Fuzz targets over the service and a real table. Plain `go test` runs
// their seeds; `make fuzz FUZZ=FuzzCustomerFilter PKG=./dynamo` explores.
// The property: whatever a caller sends, the answer is a result or a
// caller's error (BAD_USER_INPUT, FORBIDDEN, NOT_FOUND), never INTERNAL or
// a panic, and a list never holds a customer the caller may not read.

var fuzzUsers = []*crm.User{
	admin, sales1, manager,
	{ID: "service-1", Roles: []crm.Role{crm.RoleService}, Teams: []string{"north"}},
	{ID: "auditor-1", Roles: []crm.Role{crm.RoleAuditor}},
}

// mustFuzzEnv is a table with a few customers across owners, teams,
// regions, grades and tags, and the pool.
func mustFuzzEnv(f *testing.F) (*env, []string) {
	f.Helper()
	e := mustEnv(f)
	pool := ""
	other := "sales-2"
	var ids []string
	for _, in := range []crm.CustomerInput{
		{Name: "North Owned", Region: "north", Team: "north", OwnerID: &sales1.ID, Grade: "A", Tags: []string{"vip"}},
		{Name: "South Other", Region: "south", Team: "south", OwnerID: &other, Grade: "C", Tags: []string{"lead", "vip"}},
		{Name: "Pooled North", Region: "north", OwnerID: &pool, Grade: "B"},
		{Name: "Admin's", Stage: crm.Stage("STABILITY")},
	} {
		ids = append(ids, mustCreate(f, e, admin, in).ID)
	}
	return e, ids
}

func FuzzCustomerFilter(f *testing.F) {
	e, _ := mustFuzzEnv(f)
	for _, s := range []struct {
		owner, region, team, tag, grade, stage string
		pool, archived                         bool
		first                                  int
		after                                  string
		user                                   uint8
	}{
		{}, {owner: "sales-1"}, {owner: "sales-2", user: 1}, {pool: true, region: "north"}, {pool: true, owner: "x"},
		{grade: "A"}, {grade: "a"}, {grade: "Z"}, {stage: "STABILITY"}, {stage: "stability"}, {tag: "VIP"}, {tag: "v i p"},
		{tag: strings.Repeat("t", 41)}, {region: "north", team: "north", tag: "vip", grade: "A", user: 2},
		{team: "south", user: 2}, {team: "north", user: 3}, {archived: true, user: 4}, {first: -1}, {first: 101}, {first: 100},
		{after: "forged"}, {after: strings.Repeat("A", 3000)}, {owner: "OWNER#sales-1"}, {region: "north#x"},
		{owner: "\x00"}, {region: strings.Repeat("r", 101)}, {tag: "\xff"}, {owner: "sales-1", user: 1},
	} {
		f.Add(s.owner, s.region, s.team, s.tag, s.grade, s.stage, s.pool, s.archived, s.first, s.after, s.user)
	}
	f.Fuzz(func(t *testing.T, owner, region, team, tag, grade, stage string, pool, archived bool, first int, after string, user uint8) {
		u := fuzzUsers[int(user)%len(fuzzUsers)]
		filter := crm.CustomerFilter{OwnerID: owner, Pool: pool, Grade: grade, Stage: crm.Stage(stage), Region: region,
			Team: team, Tag: tag, IncludeArchived: archived}
		page, err := e.svc.Customers(as(u), filter, crm.PageRequest{First: first, After: after})
		switch code := crm.ErrorCode(err); code {
		case "":
			for _, c := range page.Items {
				if !canSee(u, c) {
					t.Fatalf("%s (%v) listed customer %s of owner %q team %q", u.ID, u.Roles, c.ID, c.OwnerID, c.Team)
				}
			}
			if page.Total != nil {
				if _, err := page.Total(as(u)); err != nil {
					t.Fatalf("total: %v", err)
				}
			}
		case crm.EINVALID, crm.EFORBIDDEN:
		default:
			t.Fatalf("filter %+v first %d after %q as %s: %s %v", filter, first, after, u.ID, code, err)
		}
	})
}

// canSee restates who may list whom independently of crm's own
// authorization code.
func canSee(u *crm.User, c *crm.Customer) bool {
	switch {
	case u.HasRole(crm.RoleAdmin), u.HasRole(crm.RoleAuditor):
		return true
	case u.HasRole(crm.RoleSales) && (c.OwnerID == u.ID || c.OwnerID == ""):
		return true
	case u.HasRole(crm.RoleManager), u.HasRole(crm.RoleService):
		return c.Team != "" && slices.Contains(u.Teams, c.Team)
	}
	return false
}

func FuzzCustomerID(f *testing.F) {
	e, ids := mustFuzzEnv(f)
	for _, id := range append(ids, "", " ", "#", "CUST#x", "01HZZZZZZZZZZZZZZZZZZZZZZZ", strings.Repeat("9", 64), strings.Repeat("9", 65),
		"\x00", "\xff\xfe", "a/b", "../x", "~P", "x\ny", "ü", "01HZZZZZZZZZZZZZZZZZZZZZZZ#~P") {
		f.Add(id, uint8(0))
		f.Add(id, uint8(1))
	}
	f.Fuzz(func(t *testing.T, id string, user uint8) {
		ctx := as(fuzzUsers[int(user)%len(fuzzUsers)])
		check := func(what string, err error) {
			t.Helper()
			switch code := crm.ErrorCode(err); code {
			case "", crm.ENOTFOUND, crm.EINVALID, crm.EFORBIDDEN:
			default:
				t.Fatalf("%s(%q): %s %v", what, id, code, err)
			}
		}
		_, err := e.svc.Customer(ctx, id)
		check("Customer", err)
		_, err = e.svc.Customer360(ctx, id, 5)
		check("Customer360", err)
		_, err = e.svc.Contacts(ctx, id)
		check("Contacts", err)
		_, err = e.svc.Interactions(ctx, id, crm.TimeRange{From: time.Unix(0, 0)}, crm.PageRequest{First: 5})
		check("Interactions", err)
		_, err = e.svc.LogInteraction(ctx, crm.InteractionInput{CustomerID: id, Channel: crm.ChannelPhone, Type: crm.TypeNote})
		check("LogInteraction", err)
	})
}
