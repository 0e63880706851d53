package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

// Past the bound of bounded reads (2 here, 1,000 deployed), the orders the
// index keeps still list every match, in order, in full pages, with the
// exact total: from a scope's entries alone (everything; a team by value
// score), or from them with the rest of the filter checked on each
// customer (a team by name, an owner, the pool, a kind, a source).
func TestTheOrderIndexListsPastTheBoundInFullPages(t *testing.T) {
	e, all := filterFixture(t)
	e.store.SetWalkBound(2)
	for _, field := range []crm.OrderField{crm.OrderName, crm.OrderValueScore, crm.OrderLastInteractionAt} {
		for _, asc := range []bool{true, false} {
			for fname, f := range map[string]crm.CustomerFilter{
				"Everything":   {},
				"Team":         {Team: "north"},
				"TeamAndKind":  {Team: "north", Kind: crm.KindOrganization},
				"Owner":        {OwnerID: sales1.ID},
				"Pool":         {Pool: true},
				"Source":       {Source: crm.SourceWeb},
				"IndustryTier": {Industry: "energy", ValueTier: crm.TierSmall},
			} {
				o := crm.CustomerOrder{Field: field, Ascending: asc}
				t.Run(fmt.Sprintf("%s/%t/%s", field, asc, fname), func(t *testing.T) {
					f.Order = o
					total := mustListInOrder(t, e, all, f, 3)
					if fname == "IndustryTier" {
						return // two criteria past the bound: not counted
					}
					if want := len(wanted(all, f)); total == nil || *total != want {
						t.Fatalf("totalCount = %v, want %d", total, want)
					}
				})
			}
		}
	}
	// A page of everything by name, or by last interaction (whose check
	// reads the activities too), is one Query of entries and one
	// BatchGetItem, however many customers there are.
	for _, field := range []crm.OrderField{crm.OrderName, crm.OrderLastInteractionAt} {
		e.calls.Store(0)
		page, err := e.svc.Customers(as(admin), crm.CustomerFilter{Order: crm.CustomerOrder{Field: field}}, crm.PageRequest{First: 5})
		if err != nil || len(page.Items) != 5 || !page.HasNext || e.calls.Load() != 2 {
			t.Fatalf("%s: %d customers in %d calls (%v), want 5 in 2", field, len(page.Items), e.calls.Load(), err)
		}
	}
	// Next follow-up is read from the follow-up entries of an owner or a
	// team (everything's: order_followup_test.go).
	for _, asc := range []bool{true, false} {
		for fname, f := range map[string]crm.CustomerFilter{
			"Owner":          {OwnerID: sales1.ID},
			"Team":           {Team: "south"},
			"TeamAndKind":    {Team: "north", Kind: crm.KindOrganization},
			"OwnerAndSource": {OwnerID: sales1.ID, Source: crm.SourceWeb},
		} {
			f.Order = crm.CustomerOrder{Field: crm.OrderNextFollowUpAt, Ascending: asc}
			t.Run(fmt.Sprintf("NEXT_FOLLOW_UP_AT/%t/%s", asc, fname), func(t *testing.T) {
				total := mustListInOrder(t, e, all, f, 2)
				if fname == "OwnerAndSource" {
					return // two criteria past the bound, neither a team: not counted
				}
				if total == nil || *total != len(wanted(all, f)) {
					t.Fatalf("totalCount = %v, want %d", total, len(wanted(all, f)))
				}
			})
		}
	}
}

// mustListInOrder walks f's list (as admin, pages of size) and checks
// that it holds exactly what f asks for, in f's order; it returns the
// list's total.
func mustListInOrder(t *testing.T, e *env, all []*crm.Customer, f crm.CustomerFilter, size int) *int {
	t.Helper()
	want := wanted(all, f)
	got, total := walk(t, e, admin, f, size)
	if len(got) != len(want) {
		t.Fatalf("listed %d customers, want %d", len(got), len(want))
	}
	for _, c := range got {
		if !want[c.ID] {
			t.Fatalf("listed %s, which the filter excludes", c.ID)
		}
	}
	ordered(t, got, f.Order)
	return total
}

// Customers with the same name stand by id, both ways, and a page that
// ends between them resumes with the next.
func TestTiesInAnIndexedOrderGoByIDAcrossPages(t *testing.T) {
	e := mustEnv(t)
	e.store.SetWalkBound(2)
	var same []string
	for i := range 5 {
		same = append(same, mustCreate(t, e, admin, crm.CustomerInput{Name: "Same Name", Team: "north"}).ID)
		mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprintf("Other %d", i), Team: "north"})
	}
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Same", Team: "north"}) // a prefix of the others: before them
	e.drain(t)
	for _, asc := range []bool{true, false} {
		o := crm.CustomerOrder{Field: crm.OrderName, Ascending: asc}
		got, total := walk(t, e, admin, crm.CustomerFilter{Order: o}, 2)
		if len(got) != 11 || total == nil || *total != 11 {
			t.Fatalf("ascending %t: %d listed, total %v; want 11", asc, len(got), total)
		}
		ordered(t, got, o)
		var ties []string
		for _, c := range got {
			if c.Name == "Same Name" {
				ties = append(ties, c.ID)
			}
		}
		want := slices.Clone(same)
		if !asc {
			slices.Reverse(want)
		}
		if !slices.Equal(ties, want) {
			t.Fatalf("ascending %t: ties in order %v, want %v", asc, ties, want)
		}
	}
}

// A customer whose value moves between two pages is listed where its
// cursor finds it, never twice beside itself: the pages still follow in
// order from the cursor's position, and every other customer is listed
// once.
func TestValuesMovingBetweenPagesLeaveTheRestInOrder(t *testing.T) {
	e, all := filterFixture(t)
	e.store.SetWalkBound(2)
	o := crm.CustomerOrder{Field: crm.OrderName, Ascending: true}
	f := crm.CustomerFilter{Order: o}
	first, err := e.svc.Customers(as(admin), f, crm.PageRequest{First: 4})
	if err != nil || len(first.Items) != 4 || !first.HasNext {
		t.Fatalf("first page: %d, %v", len(first.Items), err)
	}
	// One customer already listed moves to the end, one not yet listed to
	// the front.
	listed := first.Items[0]
	var ahead *crm.Customer
	for _, c := range all {
		if !slices.ContainsFunc(first.Items, func(x *crm.Customer) bool { return x.ID == c.ID }) {
			ahead = c
			break
		}
	}
	rename := func(c *crm.Customer, name string) {
		cur := mustCustomer(t, e, c.ID)
		if _, err := e.svc.UpdateCustomer(as(admin), c.ID, cur.Version, crm.CustomerUpdate{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	rename(listed, "Zz moved last")
	rename(ahead, "Aa moved first")
	e.drain(t)
	got := slices.Clone(first.Items)
	after := first.EndCursor
	for {
		page, err := e.svc.Customers(as(admin), f, crm.PageRequest{First: 4, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if page.HasNext && len(page.Items) != 4 {
			t.Fatalf("a page of %d claims a next one", len(page.Items))
		}
		ordered(t, page.Items, o)
		got = append(got, page.Items...)
		if !page.HasNext {
			break
		}
		after = page.EndCursor
	}
	seen := map[string]int{}
	for _, c := range got {
		seen[c.ID]++
	}
	for _, c := range all {
		switch {
		case c.ID == ahead.ID:
			if seen[c.ID] != 0 {
				t.Fatalf("%s moved before the cursor and was listed after it", c.ID)
			}
		case c.ID == listed.ID:
			if seen[c.ID] != 2 || got[len(got)-1].ID != c.ID {
				t.Fatalf("%s moved to the end: listed %d times, last %s", c.ID, seen[c.ID], got[len(got)-1].ID)
			}
		case seen[c.ID] != 1:
			t.Fatalf("%s listed %d times", c.ID, seen[c.ID])
		}
	}
}

// Customers stored before the order index get their entries from the
// backfill, once: a second run, and a page applied again, write nothing.
func TestOrderIndexBackfillRunsTwiceToTheSameIndex(t *testing.T) {
	e, all := filterFixture(t)
	// The layout before: no entries, and activities that record none.
	res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}
	entries := 0
	for _, it := range res.Items {
		pk, sk := it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberS).Value
		switch {
		case len(pk) > 6 && pk[:6] == "ORDER#":
			entries++
			_, err = e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table, Key: dynamo.KeyOf(pk, sk)})
		case sk == "~S":
			_, err = e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table, Key: dynamo.KeyOf(pk, sk),
				UpdateExpression: aws.String("REMOVE ord")})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if entries < len(all) {
		t.Fatalf("%d order entries for %d customers", entries, len(all))
	}
	toSearchLayout2(t, e) // whose manifests named no order entry either
	for _, name := range []string{"2026-12-order-index", "2026-12-search-keys-order"} {
		if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table,
			Key: dynamo.KeyOf("MIGRATION#"+name, "PROGRESS")}); err != nil {
			t.Fatal(err)
		}
	}
	e.store.SetWalkBound(2)
	byName := crm.CustomerFilter{Order: crm.CustomerOrder{Field: crm.OrderName, Ascending: true}}
	if got, _ := walk(t, e, admin, byName, 5); len(got) != 0 {
		t.Fatalf("before the backfill the index lists %d", len(got))
	}
	e.store.SetMigrationPage(7)
	status, err := e.store.Migrate(as(admin), func() bool { return true })
	// The activity's entries are of those with a score or an interaction;
	// the name's are the search manifests'.
	valued := 0
	for _, c := range all {
		if c.ValueScore != nil || c.LastInteractionAt != nil {
			valued++
		}
	}
	if m := migrationNamed(status, "2026-12-order-index"); err != nil || !m.Done || m.Changed != valued {
		t.Fatalf("migration: %+v %v (want %d changed)", status, err, valued)
	}
	// The name's entries come with the first of the search keys' syncs
	// that runs (on this table, which recorded none, 2026-12-search-keys).
	if m := migrationNamed(status, "2026-12-search-keys-order"); !m.Done {
		t.Fatalf("migration: %+v", m)
	}
	got, _ := walk(t, e, admin, byName, 5)
	if len(got) != len(all) {
		t.Fatalf("after the backfill: %d listed, want %d", len(got), len(all))
	}
	ordered(t, got, byName.Order)
	mustHoldInvariants(t, e)
	if status, err = e.store.Migrate(as(admin), func() bool { return true }); err != nil || migrationNamed(status, "2026-12-order-index").Changed != valued {
		t.Fatalf("a second run: %+v %v", status, err)
	}
	mustChangeNothingAgain(t, e, e.store.OrderPage)
}

// mustChangeNothingAgain applies a migration's page to the whole table
// again (what a run that stopped before recording its progress leaves to
// the next), which must find every item in step and write nothing, and
// checks the invariants.
func mustChangeNothingAgain(t *testing.T, e *env, page func(context.Context, []map[string]types.AttributeValue) (int, error)) {
	t.Helper()
	res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := page(as(admin), res.Items); err != nil || n != 0 {
		t.Fatalf("the page again: %d, %v", n, err)
	}
	mustHoldInvariants(t, e)
}

// Kind, source and industry are counted per team like the other
// dimensions, and stay exact through creates, updates, archiving,
// restoring and merging: their totals come from the counters (the bound
// of bounded counts is 1 here, so no list could be counted otherwise).
func TestKindSourceAndIndustryCountersFollowEveryWrite(t *testing.T) {
	e := mustEnv(t)
	var cs []*crm.Customer
	for i := range 9 {
		cs = append(cs, mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprintf("Counted %d", i),
			Kind:     []crm.CustomerKind{crm.KindPerson, crm.KindOrganization}[i%2],
			Source:   []crm.Source{crm.SourceWeb, crm.SourceReferral, crm.SourceEvent}[i%3],
			Industry: []string{"Energy", " energy ", "Retail"}[i%3], Team: []string{"north", "south"}[i%2]}))
	}
	e.drain(t)
	update := func(c *crm.Customer, upd crm.CustomerUpdate) {
		cur := mustCustomer(t, e, c.ID)
		if _, err := e.svc.UpdateCustomer(as(admin), c.ID, cur.Version, upd); err != nil {
			t.Fatal(err)
		}
	}
	retail, event, south := "retail", crm.SourceEvent, "south"
	update(cs[0], crm.CustomerUpdate{Industry: &retail, Source: &event, Team: &south})
	cur := mustCustomer(t, e, cs[1].ID)
	if _, err := e.svc.ArchiveCustomer(as(admin), cs[1].ID, cur.Version); err != nil {
		t.Fatal(err)
	}
	cur = mustCustomer(t, e, cs[2].ID)
	if _, err := e.svc.ArchiveCustomer(as(admin), cs[2].ID, cur.Version); err != nil {
		t.Fatal(err)
	}
	cur = mustCustomer(t, e, cs[2].ID)
	if _, err := e.svc.RestoreCustomer(as(admin), cs[2].ID, cur.Version); err != nil {
		t.Fatal(err)
	}
	mustMerge(t, e, admin, mustCustomer(t, e, cs[3].ID), mustCustomer(t, e, cs[5].ID))
	e.drain(t)
	e.store.SetWalkBound(1)
	var now []*crm.Customer
	for _, c := range cs {
		if c.ID != cs[5].ID { // merged into cs[3]
			now = append(now, mustCustomer(t, e, c.ID))
		}
	}
	for name, f := range map[string]crm.CustomerFilter{
		"Person":            {Kind: crm.KindPerson},
		"Organization":      {Kind: crm.KindOrganization},
		"Web":               {Source: crm.SourceWeb},
		"Event":             {Source: crm.SourceEvent},
		"EnergyAnyCase":     {Industry: "ENERGY"},
		"Retail":            {Industry: "retail"},
		"TeamAndKind":       {Team: "south", Kind: crm.KindPerson},
		"TeamAndSource":     {Team: "north", Source: crm.SourceReferral},
		"TeamAndIndustry":   {Team: "south", Industry: "Retail"},
		"IndustryNobodyHas": {Industry: "mining"},
	} {
		t.Run(name, func(t *testing.T) {
			page, err := e.svc.Customers(as(admin), f, crm.PageRequest{First: 1})
			if err != nil {
				t.Fatal(err)
			}
			n, err := page.Total(context.Background())
			if want := len(wanted(now, f)); err != nil || n != want {
				t.Fatalf("totalCount = %d (%v), want %d", n, err, want)
			}
		})
	}
	mustHoldInvariants(t, e)
}
