package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

// searchFixture stores customers of every kind of match, owned by sales-1
// in team north, and drains the stream so their search keys are written.
func searchFixture(t *testing.T, e *env) map[string]string {
	t.Helper()
	owner := sales1.ID
	ids := map[string]string{}
	for _, c := range []struct {
		key string
		in  crm.CustomerInput
	}{
		{"bj-huaxin", crm.CustomerInput{Name: "北京华信科技有限公司", Phones: []string{"010-6552 1234"}}},
		{"huaxin-bj", crm.CustomerInput{Name: "华信科技(北京)有限公司"}},
		{"huaxin", crm.CustomerInput{Name: "华信科技"}},
		{"huaxin-group", crm.CustomerInput{Name: "华信科技集团"}},
		{"acme", crm.CustomerInput{Name: "Acme Trading Co., Ltd."}},
		{"zhang", crm.CustomerInput{Kind: crm.KindPerson, Name: "张伟", Phones: []string{"+86 139 8765 5678"}}},
	} {
		c.in.OwnerID, c.in.Team = &owner, "north"
		ids[c.key] = mustCreate(t, e, admin, c.in).ID
	}
	if _, err := e.svc.AddContact(as(admin), ids["acme"], crm.ContactInput{Name: "王芳", Role: crm.ContactDecisionMaker,
		Phones: []string{"138 1234 5678"}}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	return ids
}

// searchIDs searches as u and returns the ids found, in order, naming
// them by the fixture's keys.
func searchIDs(t *testing.T, e *env, u *crm.User, query string, f crm.CustomerFilter, keys map[string]string) []string {
	t.Helper()
	page, err := e.svc.SearchCustomers(as(u), query, f, crm.PageRequest{First: 20})
	if err != nil {
		t.Fatalf("search %q: %v", query, err)
	}
	return named(page.Items, keys)
}

func named(cs []*crm.Customer, keys map[string]string) []string {
	out := []string{}
	for _, c := range cs {
		name := c.ID
		for k, id := range keys {
			if id == c.ID {
				name = k
			}
		}
		out = append(out, name)
	}
	return out
}

// Every kind of match finds its customer, best match first, in two
// DynamoDB calls: the index's Query and the profiles' BatchGetItem.
func TestSearchFindsEveryKindOfMatchBestFirstInTwoCalls(t *testing.T) {
	e := mustEnv(t)
	ids := searchFixture(t, e)
	tests := []struct {
		query string
		want  []string
	}{
		// exact, then prefix (the name starts with it), then core
		{"华信科技", []string{"huaxin", "huaxin-bj", "huaxin-group", "bj-huaxin"}},
		// (all by their core here: by name then)
		{"华信科技有限公司", []string{"bj-huaxin", "huaxin", "huaxin-bj", "huaxin-group"}},
		{"北京华信", []string{"bj-huaxin", "huaxin", "huaxin-bj", "huaxin-group"}},
		{"北京华信科技有限公司", []string{"bj-huaxin", "huaxin", "huaxin-bj", "huaxin-group"}},
		{"华信科技(北京)有限公司", []string{"huaxin-bj", "bj-huaxin", "huaxin", "huaxin-group"}},
		// pinyin, full and initials, spaces or not
		{"huaxin", []string{"bj-huaxin", "huaxin", "huaxin-bj", "huaxin-group"}},
		{"Hua Xin Ke", []string{"bj-huaxin", "huaxin", "huaxin-bj", "huaxin-group"}},
		{"hxkj", []string{"bj-huaxin", "huaxin", "huaxin-bj", "huaxin-group"}},
		{"zhangw", []string{"zhang"}},
		{"zw", []string{"zhang"}},
		// word prefix, case and width folded
		{"ａｃｍｅ", []string{"acme"}},
		{"ACME tr", []string{"acme"}},
		{"trad", []string{"acme"}},
		// a contact person's name or reading: its customer
		{"王芳", []string{"acme"}},
		{"wangf", []string{"acme"}},
		// the last 4 or more digits of a phone, the customer's or a contact's
		{"5678", []string{"acme", "zhang"}}, // both by phone: by the number found then (87654321831 < 87655678931)
		{"12345678", []string{"acme"}},
		{"6552 1234", []string{"bj-huaxin"}},
		{"+86 10 6552 1234", []string{"bj-huaxin"}},
		{"１３８ １２３４ ５６７８", []string{"acme"}},
		{"xyz", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			e.calls.Store(0)
			if got := searchIDs(t, e, admin, tt.query, crm.CustomerFilter{}, ids); !slices.Equal(got, tt.want) {
				t.Errorf("search %q = %v, want %v", tt.query, got, tt.want)
			}
			if n := e.calls.Load(); n > 2 {
				t.Errorf("%d DynamoDB calls, want at most 2", n)
			}
		})
	}
}

func TestSearchRefusesWhatCannotBeSearched(t *testing.T) {
	e := mustEnv(t)
	for _, tt := range []struct {
		query, after string
		first        int
		field        string
	}{
		{query: "a", first: 20, field: "query"},
		{query: " - ", first: 20, field: "query"},
		{query: string(make([]rune, 201)), first: 20, field: "query"},
		{query: "acme", first: 0, field: "first"},
		{query: "acme", first: 20, after: "not-a-cursor", field: "after"},
	} {
		_, err := e.svc.SearchCustomers(as(admin), tt.query, crm.CustomerFilter{}, crm.PageRequest{First: tt.first, After: tt.after})
		var ce *crm.Error
		if code(err) != crm.EINVALID || !errors.As(err, &ce) || ce.Field != tt.field {
			t.Errorf("search %q first %d after %q: %v, want BAD_USER_INPUT on %s", tt.query, tt.first, tt.after, err, tt.field)
		}
	}
}

// Each role finds only what it may read, and the filter narrows further.
func TestSearchReturnsOnlyWhatTheCallerMayReadAndComposesWithTheFilter(t *testing.T) {
	e := mustEnv(t)
	owner := sales1.ID
	mine := mustCreate(t, e, admin, crm.CustomerInput{Name: "Huaxin North", OwnerID: &owner, Team: "north", Grade: "A",
		Phones: []string{"+86 138 1111 5678"}})
	pool := mustCreate(t, e, admin, crm.CustomerInput{Name: "Huaxin Pool", Team: "north", Region: "north"})
	south := mustCreate(t, e, admin, crm.CustomerInput{Name: "Huaxin South", Team: "south", Grade: "B"})
	org := mustPartnerOrg(t, e.svc, "Agency", []crm.MaskField{crm.MaskPhones})
	if _, err := e.svc.ShareCustomer(as(admin), mine.ID, org.ID); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	partner, err := e.svc.VerifyAPIKey(context.Background(), mustIssue(t, e.svc, org.ID))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"mine": mine.ID, "pool": pool.ID, "south": south.ID}
	for _, tt := range []struct {
		name string
		u    *crm.User
		f    crm.CustomerFilter
		want []string
	}{
		{"an admin finds all", admin, crm.CustomerFilter{}, []string{"mine", "pool", "south"}},
		{"an admin's filter narrows", admin, crm.CustomerFilter{Grade: "B"}, []string{"south"}},
		{"a team's manager finds the team's", manager, crm.CustomerFilter{}, []string{"mine", "pool"}},
		{"a salesperson finds their own", sales1, crm.CustomerFilter{}, []string{"mine"}},
		{"a salesperson asks for the pool, of every team", sales1, crm.CustomerFilter{Pool: true}, []string{"pool", "south"}},
		{"the pool of a region", sales1, crm.CustomerFilter{Pool: true, Region: "north"}, []string{"pool"}},
		{"a partner finds what is shared with it", partner, crm.CustomerFilter{}, []string{"mine"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.calls.Store(0)
			if got := searchIDs(t, e, tt.u, "huaxin", tt.f, keys); !slices.Equal(got, tt.want) {
				t.Errorf("found %v, want %v", got, tt.want)
			}
			if n := e.calls.Load(); n > 2 {
				t.Errorf("%d DynamoDB calls, want at most 2", n)
			}
		})
	}
	// A partner sees the customer masked, as every partner read does, and
	// searches no more digits of a number than it sees.
	page, err := e.svc.SearchCustomers(as(partner), "5678", crm.CustomerFilter{}, crm.PageRequest{First: 20})
	if err != nil || len(page.Items) != 1 || page.Items[0].Phones[0] != "+86 *** **** 5678" {
		t.Fatalf("a partner's search by the last 4 digits: %+v %v", page, err)
	}
	if _, err := e.svc.SearchCustomers(as(partner), "11115678", crm.CustomerFilter{}, crm.PageRequest{First: 20}); code(err) != crm.EINVALID {
		t.Errorf("a partner's search by more digits than it sees: %v, want BAD_USER_INPUT", err)
	}
	if _, err := e.svc.SearchCustomers(as(sales1), "huaxin", crm.CustomerFilter{OwnerID: "sales-2"}, crm.PageRequest{First: 20}); code(err) != crm.EFORBIDDEN {
		t.Errorf("a salesperson searching another's customers: %v, want FORBIDDEN", err)
	}
	// Who may read a customer is checked on its profile, not carried by
	// its keys: a customer assigned to another is gone from sales-1's
	// search as soon as the write is made.
	moved := mustCustomer(t, e, mine.ID)
	if _, err := e.svc.AssignCustomer(as(admin), moved.ID, "sales-2", "moved"); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, e, sales1, "huaxin", crm.CustomerFilter{}, keys); len(got) != 0 {
		t.Errorf("after the customer was assigned to another: %v", got)
	}
}

// Pages follow each other without gap or repeat, in rank order, with
// cursors bound to the search.
func TestSearchPagesHonestly(t *testing.T) {
	e := mustEnv(t)
	var want []string
	for i := range 7 {
		want = append(want, mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprintf("Globex %d", i)}).ID)
	}
	e.drain(t)
	var got []string
	after := ""
	for pages := 1; ; pages++ {
		e.calls.Store(0)
		page, err := e.svc.SearchCustomers(as(admin), "globex", crm.CustomerFilter{}, crm.PageRequest{First: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if n := e.calls.Load(); n > 2 {
			t.Errorf("page %d: %d calls, want at most 2", pages, n)
		}
		got = append(got, ids(page.Items)...)
		if len(page.Cursors) != len(page.Items) {
			t.Fatalf("page %d: %d cursors for %d customers", pages, len(page.Cursors), len(page.Items))
		}
		if !page.HasNext {
			break
		}
		if len(page.Items) != 3 || pages > 3 {
			t.Fatalf("page %d: %d customers with a next page", pages, len(page.Items))
		}
		after = page.EndCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages = %v, want %v (by name)", got, want)
	}
	// A cursor of one search does not resume another.
	first, err := e.svc.SearchCustomers(as(admin), "globex", crm.CustomerFilter{}, crm.PageRequest{First: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SearchCustomers(as(admin), "glob", crm.CustomerFilter{}, crm.PageRequest{First: 2, After: first.EndCursor}); code(err) != crm.EINVALID {
		t.Errorf("another search's cursor: %v, want BAD_USER_INPUT", err)
	}
}

// Renames, contact and phone changes, archiving and merges keep the
// index in step: the old values no longer find the customer, the new ones
// do, and the table holds exactly the key items its customers imply.
func TestSearchKeysFollowRenamesContactsArchivesAndMerges(t *testing.T) {
	e := mustEnv(t)
	ids := searchFixture(t, e)
	find := func(query string, f crm.CustomerFilter) []string {
		t.Helper()
		return searchIDs(t, e, admin, query, f, ids)
	}
	acme := mustCustomer(t, e, ids["acme"])
	name, phones := "Initech Trading", []string{"+86 137 2222 3333"}
	if _, err := e.svc.UpdateCustomer(as(admin), acme.ID, acme.Version, crm.CustomerUpdate{Name: &name, Phones: phones}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if got := find("acme", crm.CustomerFilter{}); len(got) != 0 {
		t.Errorf("the old name finds %v", got)
	}
	if got := find("initech", crm.CustomerFilter{}); !slices.Equal(got, []string{"acme"}) {
		t.Errorf("the new name finds %v", got)
	}
	if got := find("3333", crm.CustomerFilter{}); !slices.Equal(got, []string{"acme"}) {
		t.Errorf("the new phone finds %v", got)
	}
	// A contact renamed.
	cs, err := e.svc.Contacts(as(admin), acme.ID)
	if err != nil || len(cs) != 1 {
		t.Fatalf("contacts: %+v %v", cs, err)
	}
	li := "李娜"
	if _, err := e.svc.UpdateContact(as(admin), acme.ID, cs[0].ID, cs[0].Version, crm.ContactUpdate{Name: &li}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if got := find("王芳", crm.CustomerFilter{}); len(got) != 0 {
		t.Errorf("the contact's old name finds %v", got)
	}
	if got := find("lina", crm.CustomerFilter{}); !slices.Equal(got, []string{"acme"}) {
		t.Errorf("the contact's new name finds %v", got)
	}
	// Archived: found only when archived customers are asked for.
	z := mustCustomer(t, e, ids["zhang"])
	if _, err := e.svc.ArchiveCustomer(as(admin), z.ID, z.Version); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if got := find("zhangwei", crm.CustomerFilter{}); len(got) != 0 {
		t.Errorf("an archived customer is found: %v", got)
	}
	if got := find("zhangwei", crm.CustomerFilter{IncludeArchived: true}); !slices.Equal(got, []string{"zhang"}) {
		t.Errorf("with includeArchived: %v", got)
	}
	// Merged: the survivor is found by the merged customer's contact and
	// phone, the merged one no longer.
	mustMerge(t, e, admin, mustCustomer(t, e, ids["huaxin"]), mustCustomer(t, e, ids["acme"]))
	e.drain(t)
	if got := find("lina", crm.CustomerFilter{}); !slices.Equal(got, []string{"huaxin"}) {
		t.Errorf("the merged customer's contact finds %v, want the survivor", got)
	}
	if got := find("initech", crm.CustomerFilter{}); len(got) != 0 {
		t.Errorf("the merged customer's name finds %v", got)
	}
	mustHoldInvariants(t, e)
}

// The migration builds the index of customers stored before it existed;
// run twice, or a page applied again, it leaves the same items.
func TestSearchKeysMigrationRunsTwiceToTheSameIndex(t *testing.T) {
	e := mustEnv(t)
	ids := searchFixture(t, e)
	// The layout before: no search items.
	deleteIndex := func() int {
		n := 0
		for _, prefix := range []string{"SEARCH#", "SEARCHKEYS#"} {
			res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table,
				FilterExpression:          aws.String("begins_with(pk, :p)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: prefix}}})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range res.Items {
				if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table,
					Key: dynamo.KeyOf(it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberS).Value)}); err != nil {
					t.Fatal(err)
				}
			}
			n += len(res.Items)
		}
		return n
	}
	if n := deleteIndex(); n < 6 {
		t.Fatalf("%d search items, want at least one per customer", n)
	}
	if got := searchIDs(t, e, admin, "huaxin", crm.CustomerFilter{}, ids); len(got) != 0 {
		t.Fatalf("before the migration: %v", got)
	}
	e.store.SetMigrationPage(3)
	status, err := e.store.Migrate(as(admin), func() bool { return true })
	if m := migrationNamed(status, "2026-12-search-keys"); err != nil || !m.Done || m.Changed != 6 {
		t.Fatalf("migration: %+v %v", status, err)
	}
	if got := searchIDs(t, e, admin, "huaxin", crm.CustomerFilter{}, ids); !slices.Equal(got, []string{"bj-huaxin", "huaxin", "huaxin-bj", "huaxin-group"}) {
		t.Fatalf("after the migration: %v", got)
	}
	if status, err = e.store.Migrate(as(admin), func() bool { return true }); err != nil || migrationNamed(status, "2026-12-search-keys").Changed != 6 {
		t.Fatalf("a second run: %+v %v", status, err)
	}
	// A page applied again (a run that stopped before recording it)
	// finds every customer in step, and writes nothing.
	mustChangeNothingAgain(t, e, e.store.SearchPage)
}

// Across windows of key items (3 here, 200 deployed) pages still follow
// each other without gap or repeat, whether the caller may read every
// customer or some, and a page stops within its call bound.
func TestSearchPagesAcrossWindows(t *testing.T) {
	e := mustEnv(t)
	e.store.SetSearchWindow(3)
	owner := sales1.ID
	var all, own []string
	for i := range 10 {
		in := crm.CustomerInput{Name: fmt.Sprintf("Globex %02d", i), Team: "north"}
		if i%3 == 0 {
			in.OwnerID = &owner
		} else {
			in.OwnerID = aws.String("sales-2")
		}
		c := mustCreate(t, e, admin, in)
		all = append(all, c.ID)
		if i%3 == 0 {
			own = append(own, c.ID)
		}
	}
	e.drain(t)
	for _, tt := range []struct {
		name string
		u    *crm.User
		want []string
	}{
		{"an admin", admin, all},
		{"a salesperson", sales1, own},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			after := ""
			for pages := 1; ; pages++ {
				e.calls.Store(0)
				page, err := e.svc.SearchCustomers(as(tt.u), "globex", crm.CustomerFilter{}, crm.PageRequest{First: 2, After: after})
				if err != nil {
					t.Fatal(err)
				}
				if n := e.calls.Load(); n > 2 {
					t.Errorf("page %d: %d calls, the bound is 2", pages, n)
				}
				got = append(got, ids(page.Items)...)
				if !page.HasNext || pages > 20 {
					break
				}
				after = page.EndCursor
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("pages = %v, want %v", got, tt.want)
			}
		})
	}
}
