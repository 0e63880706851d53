package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	namefold "github.com/rapportcrm/rapport/names"
)

// filterFixture is 24 customers spread over every filter dimension: kind,
// source, industry (written three ways), grade, region, team, owner (a
// salesperson's, an admin's, the pool), a tag, and, after the grading job,
// value scores and tiers; some have been contacted, some have a follow-up
// scheduled. It returns them as stored once the stream has applied it all.
func filterFixture(t *testing.T) (*env, []*crm.Customer) {
	t.Helper()
	e, clk := poolEnv(t)
	industries := []string{"Energy", "Retail", " energy", ""}
	var ids []string
	for i := range 24 {
		in := crm.CustomerInput{
			Kind: []crm.CustomerKind{crm.KindPerson, crm.KindOrganization, crm.KindOrganization}[i%3], Name: fmt.Sprintf("Filt %c%02d", 'Z'-i, i),
			Source:   []crm.Source{crm.SourceWeb, crm.SourceReferral}[i%2],
			Industry: industries[i%4], Grade: map[bool]string{true: "A", false: "C"}[i%5 == 0],
			Region: []string{"north", "south"}[(i/2)%2], Team: []string{"north", "south"}[i/12],
		}
		if i%2 == 0 {
			in.Tags = []string{"vip"}
		}
		switch {
		case i < 12 && i%3 == 1:
			in.OwnerID = &sales1.ID
		case i%7 == 3:
			nobody := ""
			in.OwnerID = &nobody
		}
		ids = append(ids, mustCreate(t, e, admin, in).ID)
	}
	for i, id := range ids {
		if i%3 == 2 {
			continue // never contacted
		}
		at := clk.Now().Add(-time.Duration(i*7%24) * time.Hour)
		in := crm.InteractionInput{CustomerID: id, Type: crm.TypeCall, OccurredAt: &at}
		if i%2 == 0 {
			next := clk.Now().Add(time.Duration(24+i*5%17) * time.Hour)
			in.NextFollowUpAt = &next
		}
		mustLog(t, e, admin, in)
		if i%4 == 0 {
			amount := float64(1000 * (i + 1))
			mustLog(t, e, admin, crm.InteractionInput{CustomerID: id, Type: crm.TypeTransaction, Amount: &amount, Currency: "CNY", OccurredAt: &at})
		}
	}
	e.drain(t)
	if _, err := e.svc.RunGrading(as(admin)); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	out := make([]*crm.Customer, len(ids))
	for i, id := range ids {
		out[i] = mustCustomer(t, e, id)
	}
	return e, out
}

// wanted is what a filter should list, worked out from the customers as
// stored.
func wanted(all []*crm.Customer, f crm.CustomerFilter) map[string]bool {
	out := map[string]bool{}
	for _, c := range all {
		if (!f.IncludeArchived && c.Status == crm.StatusArchived) ||
			(f.OwnerID != "" && c.OwnerID != f.OwnerID) || (f.Pool && c.OwnerID != "") ||
			(f.Grade != "" && c.Grade.Level != f.Grade) || (f.Stage != "" && c.Stage != f.Stage) ||
			(f.Region != "" && c.Region != f.Region) || (f.Team != "" && c.Team != f.Team) ||
			(f.Tag != "" && !slices.Contains(c.Tags, f.Tag)) || (f.ValueTier != "" && c.ValueTier != f.ValueTier) ||
			(f.Industry != "" && !strings.EqualFold(strings.TrimSpace(c.Industry), f.Industry)) ||
			(f.Kind != "" && c.Kind != f.Kind) || (f.Source != "" && c.Source != f.Source) {
			continue
		}
		out[c.ID] = true
	}
	return out
}

// walk reads every page of a list, checking that a page claiming a next
// one is full and that no customer shows twice; it returns the customers
// in list order and the list's total.
func walk(t *testing.T, e *env, u *crm.User, f crm.CustomerFilter, size int) ([]*crm.Customer, *int) {
	t.Helper()
	var got []*crm.Customer
	var total *int
	after := ""
	for pageNo := 0; ; pageNo++ {
		page, err := e.svc.Customers(as(u), f, crm.PageRequest{First: size, After: after})
		if err != nil {
			t.Fatalf("page %d: %v", pageNo, err)
		}
		if page.HasNext && len(page.Items) != size {
			t.Fatalf("page %d holds %d customers of %d and claims a next page", pageNo, len(page.Items), size)
		}
		if pageNo == 0 && page.Total != nil {
			n, err := page.Total(context.Background())
			switch {
			case errors.Is(err, crm.ErrNotCounted):
			case err != nil:
				t.Fatal(err)
			default:
				total = &n
			}
		}
		for _, c := range page.Items {
			if slices.ContainsFunc(got, func(g *crm.Customer) bool { return g.ID == c.ID }) {
				t.Fatalf("%s listed twice", c.ID)
			}
		}
		got = append(got, page.Items...)
		if !page.HasNext {
			return got, total
		}
		after = page.EndCursor
	}
}

func TestNewFiltersCombineWithEveryOtherAndCountExactly(t *testing.T) {
	e, all := filterFixture(t)
	tiers := map[crm.ValueTier]int{}
	for _, c := range all {
		tiers[c.ValueTier]++
	}
	if tiers[crm.TierKey] == 0 || tiers[crm.TierSmall] == 0 {
		t.Fatalf("the grading job left the fixture without tiers: %v", tiers)
	}
	for name, f := range map[string]crm.CustomerFilter{
		"Kind":                          {Kind: crm.KindPerson},
		"Source":                        {Source: crm.SourceWeb},
		"IndustryWhateverItsCase":       {Industry: "ENERGY"},
		"ValueTier":                     {ValueTier: crm.TierSmall},
		"GradeAndRegion":                {Grade: "A", Region: "north"},
		"StageAndKind":                  {Stage: crm.StageExploration, Kind: crm.KindOrganization},
		"TeamAndGrade":                  {Team: "north", Grade: "C"},
		"TeamAndValueTier":              {Team: "south", ValueTier: crm.TierSmall},
		"GradeAndValueTier":             {Grade: "C", ValueTier: crm.TierSmall},
		"OwnerAndSource":                {OwnerID: sales1.ID, Source: crm.SourceReferral},
		"TagKindAndIndustry":            {Tag: "vip", Kind: crm.KindOrganization, Industry: "energy"},
		"PoolOfARegionAndKind":          {Pool: true, Region: "south", Kind: crm.KindOrganization},
		"PoolAndSource":                 {Pool: true, Source: crm.SourceWeb},
		"EveryDimensionAtOnce":          {Team: "north", Region: "north", Grade: "C", Stage: crm.StageExploration, Tag: "vip", Kind: crm.KindOrganization, Source: crm.SourceWeb, Industry: "energy"},
		"IndustryWithArchivedIncluded":  {Industry: "retail", IncludeArchived: true},
		"TierIndustryKindSourceRegion":  {ValueTier: crm.TierSmall, Industry: "retail", Kind: crm.KindOrganization, Source: crm.SourceReferral, Region: "south"},
		"NothingMatchesTheCombination":  {Kind: crm.KindPerson, Source: crm.SourceReferral, Industry: "energy", Region: "north", Grade: "A"},
		"StageAloneCountsFromCounters":  {Stage: crm.StageExploration},
		"EverythingCountsFromCounters":  {},
		"OwnerAloneCountsFromCounters":  {OwnerID: sales1.ID},
		"RegionAloneCountsFromCounters": {Region: "south"},
	} {
		t.Run(name, func(t *testing.T) {
			want := wanted(all, f)
			got, total := walk(t, e, admin, f, 3)
			if len(got) != len(want) {
				t.Fatalf("listed %d customers, want %d", len(got), len(want))
			}
			for _, c := range got {
				if !want[c.ID] {
					t.Fatalf("listed %s (%+v), which the filter excludes", c.ID, c)
				}
			}
			if total == nil || *total != len(want) {
				t.Fatalf("totalCount = %v, want %d", total, len(want))
			}
		})
	}
}

func TestSearchComposesWithTheNewFilters(t *testing.T) {
	e, all := filterFixture(t)
	for name, f := range map[string]crm.CustomerFilter{
		"Kind":        {Kind: crm.KindPerson},
		"SourceGrade": {Source: crm.SourceWeb, Grade: "C"},
		"IndustryTag": {Industry: "energy", Tag: "vip"},
		"Tier":        {ValueTier: crm.TierSmall},
	} {
		t.Run(name, func(t *testing.T) {
			want := wanted(all, f)
			seen := map[string]bool{}
			after := ""
			for {
				page, err := e.svc.SearchCustomers(as(admin), "filt", f, crm.PageRequest{First: 4, After: after})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range page.Items {
					if !want[c.ID] || seen[c.ID] {
						t.Fatalf("search returned %s, which the filter excludes or was returned before", c.ID)
					}
					seen[c.ID] = true
				}
				if !page.HasNext {
					break
				}
				after = page.EndCursor
			}
			if len(seen) != len(want) {
				t.Fatalf("search found %d customers, want %d", len(seen), len(want))
			}
		})
	}
}

// ordered checks that customers stand in the order o asks for: by the
// field's value, those without one last, ties by id.
func ordered(t *testing.T, got []*crm.Customer, o crm.CustomerOrder) {
	t.Helper()
	type pos struct {
		missing bool
		v, id   string
	}
	at := func(c *crm.Customer) pos {
		stamp := func(tm *time.Time) pos {
			if tm == nil {
				return pos{missing: true, id: c.ID}
			}
			return pos{v: tm.UTC().Format(time.RFC3339Nano), id: c.ID}
		}
		switch o.Field {
		case crm.OrderName:
			return pos{v: namefold.Fold(c.Name), id: c.ID}
		case crm.OrderLastInteractionAt:
			return stamp(c.LastInteractionAt)
		case crm.OrderNextFollowUpAt:
			return stamp(c.NextFollowUpAt)
		case crm.OrderValueScore:
			if c.ValueScore == nil {
				return pos{missing: true, id: c.ID}
			}
			return pos{v: fmt.Sprintf("%012.4f", *c.ValueScore), id: c.ID}
		}
		return pos{v: c.ID, id: c.ID}
	}
	for i := 1; i < len(got); i++ {
		a, b := at(got[i-1]), at(got[i])
		if a.missing && !b.missing {
			t.Fatalf("position %d: %s has no %s but comes before %s, which has", i, a.id, o.Field, b.id)
		}
		if a.missing != b.missing {
			continue
		}
		c := strings.Compare(a.v, b.v)
		if c == 0 {
			c = strings.Compare(a.id, b.id)
		}
		if (o.Ascending && c > 0) || (!o.Ascending && c < 0) {
			t.Fatalf("position %d: %+v before %+v is out of %s order (ascending %t)", i, a, b, o.Field, o.Ascending)
		}
	}
}

func TestOrderByEveryFieldBothWaysWithFullPagesAcrossCursors(t *testing.T) {
	e, all := filterFixture(t)
	for _, field := range crm.OrderFields {
		for _, asc := range []bool{true, false} {
			for fname, f := range map[string]crm.CustomerFilter{
				"Everything":       {},
				"TeamAndKind":      {Team: "north", Kind: crm.KindOrganization},
				"GradeAndIndustry": {Grade: "C", Industry: "energy"},
			} {
				o := crm.CustomerOrder{Field: field, Ascending: asc}
				t.Run(fmt.Sprintf("%s/%t/%s", field, asc, fname), func(t *testing.T) {
					f.Order = o
					total := mustListInOrder(t, e, all, f, 4)
					if want := len(wanted(all, f)); total == nil || *total != want {
						t.Fatalf("totalCount = %v, want %d", total, want)
					}
				})
			}
		}
	}
	// The fixture has customers with and without each activity field, so
	// "missing last" was exercised.
	var contacted, never int
	for _, c := range all {
		if c.LastInteractionAt == nil {
			never++
		} else {
			contacted++
		}
	}
	if contacted == 0 || never == 0 {
		t.Fatalf("fixture: %d contacted, %d never", contacted, never)
	}
}

func TestBoundedCountCostsItsCounterReadsAQueryAndABatch(t *testing.T) {
	e, all := filterFixture(t)
	f := crm.CustomerFilter{Grade: "A", Region: "north"}
	page, err := e.svc.Customers(as(admin), f, crm.PageRequest{First: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.calls.Store(0)
	n, err := page.Total(context.Background())
	// GetItem TEAMS, BatchGetItem of the teams' counters, Query of grade
	// A's keys (the narrower), BatchGetItem of their profiles.
	if err != nil || n != len(wanted(all, f)) || e.calls.Load() != 4 {
		t.Fatalf("totalCount = %d (%v) in %d calls; want %d in 4", n, err, e.calls.Load(), len(wanted(all, f)))
	}
	e.store.SetWalkBound(2)
	e.calls.Store(0)
	if _, err := page.Total(context.Background()); !errors.Is(err, crm.ErrNotCounted) || e.calls.Load() != 2 {
		t.Fatalf("past the bound: %v in %d calls; want not counted after the 2 counter reads", err, e.calls.Load())
	}
}

func TestBoundedReadsStopAtTheirBoundAndSaySo(t *testing.T) {
	e, all := filterFixture(t)
	e.store.SetWalkBound(5)
	// More than 5 customers in every dimension of the filter: no count, and
	// no order that the order index does not keep.
	big := crm.CustomerFilter{Grade: "C", Region: "north", Kind: crm.KindOrganization}
	got, total := walk(t, e, admin, big, 3)
	if total != nil {
		t.Fatalf("totalCount = %d past the bound, want null", *total)
	}
	if len(got) != len(wanted(all, big)) {
		t.Fatalf("the list itself is not bounded: listed %d, want %d", len(got), len(wanted(all, big)))
	}
	// Archived customers are in no order index: past the bound, ordering
	// them is refused.
	big.Order, big.IncludeArchived = crm.CustomerOrder{Field: crm.OrderNextFollowUpAt, Ascending: true}, true
	_, err := e.svc.Customers(as(admin), big, crm.PageRequest{First: 3})
	var ce *crm.Error
	if !errors.As(err, &ce) || ce.Code != crm.EINVALID || ce.Field != "orderBy" {
		t.Fatalf("ordering past the bound: %v, want BAD_USER_INPUT on orderBy", err)
	}
	big.IncludeArchived = false
	// The salesperson's 4 customers are within it, whatever else the
	// filter holds: ordered and counted from them.
	mine := crm.CustomerFilter{Grade: "C", Region: "north", Order: crm.CustomerOrder{Field: crm.OrderName, Ascending: true}}
	got, total = walk(t, e, sales1, mine, 2)
	mine.OwnerID = sales1.ID
	if want := len(wanted(all, mine)); len(got) != want || total == nil || *total != want {
		t.Fatalf("a salesperson's list by name: %d listed, total %v, want %d", len(got), total, want)
	}
	ordered(t, got, mine.Order)
}

func TestFilteredAndOrderedListsShowOnlyWhatTheCallerMayRead(t *testing.T) {
	e, all := filterFixture(t)
	acme := mustPartnerOrg(t, e.svc, "Acme", nil)
	var shared []string
	for _, c := range all {
		if c.Team == "north" && c.Kind == crm.KindOrganization && len(shared) < 3 {
			if _, err := e.svc.ShareCustomer(as(admin), c.ID, acme.ID); err != nil {
				t.Fatal(err)
			}
			shared = append(shared, c.ID)
		}
	}
	e.drain(t)
	partner, err := e.svc.VerifyAPIKey(context.Background(), mustIssue(t, e.svc, acme.ID))
	if err != nil {
		t.Fatal(err)
	}
	byName := crm.CustomerOrder{Field: crm.OrderName, Ascending: true}
	for name, tc := range map[string]struct {
		u       *crm.User
		f       crm.CustomerFilter
		mayRead func(*crm.Customer) bool
	}{
		"SalesOwnByKind":        {sales1, crm.CustomerFilter{Kind: crm.KindOrganization}, func(c *crm.Customer) bool { return c.OwnerID == sales1.ID }},
		"SalesOwnByNameOrder":   {sales1, crm.CustomerFilter{Order: byName}, func(c *crm.Customer) bool { return c.OwnerID == sales1.ID }},
		"SalesPoolBySource":     {sales1, crm.CustomerFilter{Pool: true, Source: crm.SourceReferral}, func(c *crm.Customer) bool { return c.OwnerID == "" }},
		"ManagerTeamBySource":   {manager, crm.CustomerFilter{Source: crm.SourceWeb}, func(c *crm.Customer) bool { return c.Team == "north" }},
		"ManagerTeamByScore":    {manager, crm.CustomerFilter{Order: crm.CustomerOrder{Field: crm.OrderValueScore}}, func(c *crm.Customer) bool { return c.Team == "north" }},
		"PartnerSharedByKind":   {partner, crm.CustomerFilter{Kind: crm.KindOrganization}, func(c *crm.Customer) bool { return slices.Contains(shared, c.ID) }},
		"PartnerSharedByName":   {partner, crm.CustomerFilter{Order: byName}, func(c *crm.Customer) bool { return slices.Contains(shared, c.ID) }},
		"PartnerSharedNoPerson": {partner, crm.CustomerFilter{Kind: crm.KindPerson}, func(c *crm.Customer) bool { return false }},
	} {
		t.Run(name, func(t *testing.T) {
			want := map[string]bool{}
			for id := range wanted(all, tc.f) {
				if tc.mayRead(customerByID(all, id)) {
					want[id] = true
				}
			}
			got, total := walk(t, e, tc.u, tc.f, 2)
			if len(got) != len(want) {
				t.Fatalf("listed %d customers, want %d", len(got), len(want))
			}
			for _, c := range got {
				if !want[c.ID] {
					t.Fatalf("listed %s, which the caller may not read or the filter excludes", c.ID)
				}
			}
			if total == nil || *total != len(want) {
				t.Fatalf("totalCount = %v, want %d", total, len(want))
			}
			if tc.f.Order.Field != "" {
				ordered(t, got, tc.f.Order)
			}
		})
	}
	// A salesperson never lists a colleague's customers, whatever the filter.
	_, err = e.svc.Customers(as(sales1), crm.CustomerFilter{OwnerID: admin.ID, Kind: crm.KindPerson, Order: byName}, crm.PageRequest{First: 5})
	if code(err) != crm.EFORBIDDEN {
		t.Fatalf("a salesperson asking for another owner's list: %v, want FORBIDDEN", err)
	}
}

func customerByID(all []*crm.Customer, id string) *crm.Customer {
	for _, c := range all {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func TestNewFiltersRefuseValuesThatAreNotTheirs(t *testing.T) {
	e := mustEnv(t)
	for name, tc := range map[string]struct {
		f     crm.CustomerFilter
		field string
	}{
		"Tier":     {crm.CustomerFilter{ValueTier: "GOLD"}, "filter.valueTier"},
		"Kind":     {crm.CustomerFilter{Kind: "ROBOT"}, "filter.kind"},
		"Source":   {crm.CustomerFilter{Source: "RUMOUR"}, "filter.source"},
		"Industry": {crm.CustomerFilter{Industry: strings.Repeat("x", crm.MaxShortText+1)}, "filter.industry"},
		"Order":    {crm.CustomerFilter{Order: crm.CustomerOrder{Field: "MOOD"}}, "orderBy.field"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.svc.Customers(as(admin), tc.f, crm.PageRequest{First: 5})
			var ce *crm.Error
			if !errors.As(err, &ce) || ce.Code != crm.EINVALID || !strings.HasPrefix(ce.Field, tc.field) {
				t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
}
