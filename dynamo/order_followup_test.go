package dynamo_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

// Past the bound of bounded reads (2 here, 1,000 deployed), everything by
// next follow-up, alone or with any other filter, and a manager's several
// teams, are listed from the merge of the teams' follow-up entries: every
// match, in order, in full pages, customers without a follow-up (the pool,
// grades without a routine one) last; the total is the counters' where
// they count the filter.
func TestEverythingByNextFollowUpListsPastTheBoundInFullPages(t *testing.T) {
	e, all := filterFixture(t)
	e.store.SetWalkBound(2)
	twoTeams := &crm.User{ID: "mgr-two", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"south", "east"}}
	for _, asc := range []bool{true, false} {
		for fname, c := range map[string]struct {
			u       *crm.User
			f       crm.CustomerFilter
			counted bool
		}{
			"Everything":        {admin, crm.CustomerFilter{}, true},
			"Kind":              {admin, crm.CustomerFilter{Kind: crm.KindOrganization}, true},
			"GradeAndRegion":    {admin, crm.CustomerFilter{Grade: "C", Region: "north"}, false},
			"ManagerOfTwoTeams": {twoTeams, crm.CustomerFilter{}, false},
		} {
			t.Run(fmt.Sprintf("%t/%s", asc, fname), func(t *testing.T) {
				f := c.f
				f.Order = crm.CustomerOrder{Field: crm.OrderNextFollowUpAt, Ascending: asc}
				want := wanted(all, f)
				if c.u == twoTeams {
					want = wanted(all, crm.CustomerFilter{Team: "south"})
				}
				for _, size := range []int{1, 3, 7} {
					got, total := walk(t, e, c.u, f, size)
					if len(got) != len(want) {
						t.Fatalf("pages of %d listed %d customers, want %d", size, len(got), len(want))
					}
					for _, cu := range got {
						if !want[cu.ID] {
							t.Fatalf("listed %s, which the filter excludes", cu.ID)
						}
					}
					ordered(t, got, f.Order)
					if c.counted && (total == nil || *total != len(want)) {
						t.Fatalf("totalCount = %v, want %d", total, len(want))
					}
				}
			})
		}
	}
	// A page is the teams' list (GetItem TEAMS), one Query per team and
	// one BatchGetItem, however many customers there are.
	e.calls.Store(0)
	page, err := e.svc.Customers(as(admin), crm.CustomerFilter{Order: crm.CustomerOrder{Field: crm.OrderNextFollowUpAt, Ascending: true}},
		crm.PageRequest{First: 3})
	if err != nil || len(page.Items) != 3 || !page.HasNext || e.calls.Load() != 4 {
		t.Fatalf("%d customers in %d calls (%v), want 3 in 4", len(page.Items), e.calls.Load(), err)
	}
	// Archived customers have no follow-up entries: with includeArchived,
	// past the bound, the order is still refused, naming the field.
	_, err = e.svc.Customers(as(admin), crm.CustomerFilter{IncludeArchived: true, Order: crm.CustomerOrder{Field: crm.OrderNextFollowUpAt}},
		crm.PageRequest{First: 3})
	var ce *crm.Error
	if !errors.As(err, &ce) || ce.Code != crm.EINVALID || ce.Field != "orderBy" {
		t.Fatalf("archived included past the bound: %v, want BAD_USER_INPUT on orderBy", err)
	}
}
