package crm

import (
	"fmt"
	"slices"
	"testing"
)

// The change feed's audiences are the read rules unit by unit: an active
// customer is in one of a user's audiences exactly when the user may read
// it, for every role and every kind of customer.
func TestAudiencesAreTheReadRules(t *testing.T) {
	shared := []PartnerShare{{OrgID: "org-1"}}
	customers := []*Customer{
		{ID: "own", OwnerID: "s1", Team: "north", Status: StatusActive},
		{ID: "foreign", OwnerID: "s2", Team: "south", Status: StatusActive},
		{ID: "team", OwnerID: "s3", Team: "north", Status: StatusActive},
		{ID: "pool", Team: "north", Status: StatusActive},
		{ID: "poolNoTeam", Status: StatusActive},
		{ID: "shared", OwnerID: "s2", Team: "south", Status: StatusActive, Partners: shared},
		{ID: "sharedPool", Status: StatusActive, Partners: shared},
	}
	users := []*User{
		{ID: "a", Roles: []Role{RoleAdmin}},
		{ID: "au", Roles: []Role{RoleAuditor}},
		{ID: "m", Roles: []Role{RoleManager}, Teams: []string{"north"}},
		{ID: "m2", Roles: []Role{RoleManager}, Teams: []string{"north", "south"}},
		{ID: "s1", Roles: []Role{RoleSales}, Teams: []string{"north"}},
		{ID: "sv", Roles: []Role{RoleService}, Teams: []string{"south"}},
		{ID: "ms", Roles: []Role{RoleManager, RoleSales}, Teams: []string{"south"}},
		{ID: "p", Roles: []Role{RolePartner}, PartnerOrgID: "org-1"},
		{ID: "p2", Roles: []Role{RolePartner}, PartnerOrgID: "org-2"},
	}
	for _, u := range users {
		auds, err := userAudiences(u)
		if err != nil {
			t.Fatalf("%s: %v", u.ID, err)
		}
		for _, c := range customers {
			t.Run(fmt.Sprintf("%sOn%s", u.ID, c.ID), func(t *testing.T) {
				in := slices.ContainsFunc(CustomerAudiences(c), func(a string) bool { return slices.Contains(auds, a) })
				if in != canRead(u, c) {
					t.Errorf("in an audience of %v: %v; may read: %v", auds, in, canRead(u, c))
				}
			})
		}
	}
}

func TestAudiencesOfARoleThatReadsNothingAreRefused(t *testing.T) {
	for _, u := range []*User{{ID: "n"}, {ID: "p", Roles: []Role{RolePartner}}, {ID: "m", Roles: []Role{RoleManager}}} {
		if _, err := userAudiences(u); ErrorCode(err) != EFORBIDDEN {
			t.Errorf("%+v: %v, want FORBIDDEN", u, err)
		}
	}
}

func TestFeedEntriesOfEachKindOfWrite(t *testing.T) {
	base := Customer{ID: "c", OwnerID: "s1", Team: "north", Status: StatusActive, Version: 3}
	with := func(f func(*Customer)) *Customer {
		c := base
		c.Version = 4
		f(&c)
		return &c
	}
	same := base
	tests := []struct {
		name string
		prev *Customer
		next *Customer
		want []string
	}{
		{"Created", nil, &base, []string{"UPSERT ALL", "UPSERT OWNER#s1", "UPSERT TEAM#north"}},
		{"Edited", &base, with(func(c *Customer) { c.Name = "x" }), []string{"UPSERT ALL", "UPSERT OWNER#s1", "UPSERT TEAM#north"}},
		{"RewrittenAtTheSameVersion", &base, &same, nil},
		{"Archived", &base, with(func(c *Customer) { c.Status = StatusArchived }),
			[]string{"REMOVE ALL", "REMOVE OWNER#s1", "REMOVE TEAM#north"}},
		{"Restored", with(func(c *Customer) { c.Status = StatusArchived; c.Version = 3 }), with(func(*Customer) {}),
			[]string{"UPSERT ALL", "UPSERT OWNER#s1", "UPSERT TEAM#north"}},
		{"MergedAway", &base, with(func(c *Customer) { c.Status = StatusMerged; c.MergedInto = "d" }),
			[]string{"REMOVE ALL", "REMOVE OWNER#s1", "REMOVE TEAM#north"}},
		{"HandedOver", &base, with(func(c *Customer) { c.OwnerID = "s2" }),
			[]string{"REMOVE OWNER#s1", "UPSERT ALL", "UPSERT OWNER#s2", "UPSERT TEAM#north"}},
		{"Released", &base, with(func(c *Customer) { c.OwnerID = "" }),
			[]string{"REMOVE OWNER#s1", "UPSERT ALL", "UPSERT POOL", "UPSERT TEAM#north"}},
		{"MovedToAnotherTeam", &base, with(func(c *Customer) { c.Team = "south" }),
			[]string{"REMOVE TEAM#north", "UPSERT ALL", "UPSERT OWNER#s1", "UPSERT TEAM#south"}},
		{"Shared", &base, with(func(c *Customer) { c.Partners = []PartnerShare{{OrgID: "o"}} }),
			[]string{"UPSERT ALL", "UPSERT OWNER#s1", "UPSERT PARTNER#o", "UPSERT TEAM#north"}},
		{"Unshared", with(func(c *Customer) { c.Partners = []PartnerShare{{OrgID: "o"}}; c.Version = 3 }), with(func(*Customer) {}),
			[]string{"REMOVE PARTNER#o", "UPSERT ALL", "UPSERT OWNER#s1", "UPSERT TEAM#north"}},
		{"Deleted", &base, nil, []string{"REMOVE ALL", "REMOVE OWNER#s1", "REMOVE TEAM#north"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range FeedEntries("c", tt.prev, tt.next) {
				want := 4
				if tt.next == nil || tt.name == "Created" {
					want = 3
				}
				if e.CustomerID != "c" || e.Version != want {
					t.Errorf("entry %+v, want customer c at version %d", e, want)
				}
				got = append(got, string(e.Kind)+" "+e.Audience)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("entries %q, want %q", got, tt.want)
			}
		})
	}
}
