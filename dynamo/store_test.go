package dynamo_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/stream/streamtest"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }

var (
	admin = &crm.User{ID: "admin-1", Roles: []crm.Role{crm.RoleAdmin}}
	// admin2 approves the plans admin proposes: never the proposer
	// (separation of duties).
	admin2  = &crm.User{ID: "admin-2", Roles: []crm.Role{crm.RoleAdmin}}
	sales1  = &crm.User{ID: "sales-1", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"north"}}
	manager = &crm.User{ID: "mgr-1", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"north"}}
)

func as(u *crm.User) context.Context { return crm.NewContextWithUser(context.Background(), u) }

// env is a service over a fresh table, with a counter of DynamoDB calls.
type env struct {
	svc   *crm.Service
	store *dynamo.Store
	calls atomic.Int64
	// db and table, for tests that check the table's invariants.
	db    *dynamodb.Client
	table string
	// consumer applies the table's stream when a test drains it.
	consumer *streamtest.Consumer
}

// drain applies what the writes so far imply (activity, counters,
// analytics), as the stream function does within seconds.
func (e *env) drain(tb testing.TB) {
	tb.Helper()
	e.consumer.Drain(tb)
}

// mustHoldInvariants drains the stream, then fails when a derived item
// (counter, claim, tag entry, profile count) disagrees with the profiles.
func (e *env) mustHoldInvariants(t *testing.T) {
	t.Helper()
	e.drain(t)
	broken, err := dynamo.CheckInvariants(t.Context(), e.db, e.table)
	if err != nil || len(broken) > 0 {
		t.Fatalf("invariants: %v %v", err, broken)
	}
}

func mustEnv(tb testing.TB) *env {
	tb.Helper()
	e := &env{}
	table := ddbtest.NewTable(tb, "CrmTable")
	db := dynamodb.New(ddbtest.Client(tb).Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					e.calls.Add(1)
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	})
	e.store = dynamo.New(db, table, []byte(strings.Repeat("k", 32)))
	e.svc = crm.NewService(e.store)
	e.db, e.table = db, table
	e.consumer = streamtest.New(tb, db, table, e.store, e.svc)
	mustStaff(tb, e.svc, fixtureStaff...)
	return e
}

func mustCreate(tb testing.TB, e *env, u *crm.User, in crm.CustomerInput) *crm.Customer {
	tb.Helper()
	if in.Kind == "" {
		in.Kind = crm.KindOrganization
	}
	c, err := e.svc.CreateCustomer(as(u), in)
	if err != nil {
		tb.Fatalf("create %q: %v", in.Name, err)
	}
	return c
}

func code(err error) string { return crm.ErrorCode(err) }

func TestCreateAndReadCustomerRoundTrips(t *testing.T) {
	e := mustEnv(t)
	rev := 1.5e6
	owner := "sales-1"
	in := crm.CustomerInput{
		Kind: crm.KindOrganization, Name: "Acme Power", Phones: []string{"+86 10 6552 1234"}, Emails: []string{"Ops@Acme.CN"},
		Addresses: []crm.Address{{City: "Beijing", Country: "CN"}}, Industry: "utilities", Region: "north",
		Source: crm.SourceReferral, AnnualRevenue: &rev, CreditRating: "AA", Tags: []string{"Big Account"},
		Attributes: []crm.Attribute{{Key: "network", Value: "dual ring"}}, OwnerID: &owner, Team: "north", Grade: "B",
	}
	c := mustCreate(t, e, admin, in)
	got, err := e.svc.Customer(as(admin), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Acme Power" || got.Phones[0] != "+861065521234" || got.Emails[0] != "ops@acme.cn" ||
		got.Tags[0] != "big-account" || got.Grade.Level != "B" || got.Version != 1 || *got.AnnualRevenue != rev ||
		got.Attributes[0].Value != "dual ring" || got.Addresses[0].City != "Beijing" || got.OwnerID != owner {
		t.Fatalf("round trip lost data: %+v", got)
	}
	// The grade it starts with is the profile's; the history records
	// changes from it, and the grade at any instant since is the profile's.
	hist, err := e.svc.GradeHistory(as(admin), c.ID, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil || len(hist.Items) != 0 {
		t.Fatalf("grade history of a new customer: %+v %v", hist, err)
	}
	if g, err := e.svc.GradeAt(as(admin), c.ID, c.CreatedAt); err != nil || g == nil || g.To != "B" || g.Source != crm.GradeManual {
		t.Fatalf("grade at creation: %+v %v", g, err)
	}
}

func TestDuplicatePhoneOrEmailIsRefusedAtomically(t *testing.T) {
	e := mustEnv(t)
	first := mustCreate(t, e, admin, crm.CustomerInput{Name: "First", Phones: []string{"+8613800000001"}, Emails: []string{"a@first.cn"}})

	_, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Second",
		Emails: []string{"b@second.cn"}, Phones: []string{"+86 138 0000 0001"}})
	var de *crm.Error
	if code(err) != crm.EDUPLICATE || !asErr(err, &de) || de.ExistingID != first.ID || de.Field != "input.phones[0]" {
		t.Fatalf("err = %#v, want DUPLICATE naming %s", err, first.ID)
	}
	// Nothing of the refused customer remains: its email is still free.
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Third", Emails: []string{"b@second.cn"}})

	// Racing creators of the same email: exactly one wins.
	var wins atomic.Int64
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: fmt.Sprint("Racer ", i), Emails: []string{"race@x.cn"}})
			switch code(err) {
			case "":
				wins.Add(1)
			case crm.EDUPLICATE:
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d racers won, want exactly 1", wins.Load())
	}
}

func asErr(err error, target **crm.Error) bool {
	e, ok := err.(*crm.Error)
	*target = e
	return ok
}

func TestUpdateWithStaleVersionIsConflict(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Versioned", Phones: []string{"+8613111111111"}})
	name := "Renamed"
	up, err := e.svc.UpdateCustomer(as(admin), c.ID, 1, crm.CustomerUpdate{Name: &name, Phones: []string{"+862222222222"}})
	if err != nil || up.Version != 2 {
		t.Fatalf("update: %v %+v", err, up)
	}
	if _, err := e.svc.UpdateCustomer(as(admin), c.ID, 1, crm.CustomerUpdate{Name: &name}); code(err) != crm.ECONFLICT {
		t.Fatalf("stale update: %v, want CONFLICT", err)
	}
	// The old phone was released, the new one claimed.
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Takes old phone", Phones: []string{"+8613111111111"}})
	if _, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "x", Phones: []string{"+862222222222"}}); code(err) != crm.EDUPLICATE {
		t.Fatalf("new phone not claimed: %v", err)
	}
}

func TestFilteredListReturnsFullPagesAndExactTotals(t *testing.T) {
	e := mustEnv(t)
	// 40 customers in region north; every 4th is grade A.
	for i := range 40 {
		grade := "C"
		if i%4 == 0 {
			grade = "A"
		}
		mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprint("C", i), Region: "north", Grade: grade, Tags: []string{fmt.Sprint("t", i%2)}})
	}
	// grade A and tag t0: the index gives grade A (10), the tag filter keeps all 10.
	f := crm.CustomerFilter{Region: "north", Grade: "A", Stage: crm.StageExploration}
	seen := map[string]bool{}
	after := ""
	for pageNo := 0; ; pageNo++ {
		page, err := e.svc.Customers(as(admin), f, crm.PageRequest{First: 4, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if page.HasNext && len(page.Items) != 4 {
			t.Fatalf("page %d has %d items but claims more", pageNo, len(page.Items))
		}
		for _, c := range page.Items {
			if c.Grade.Level != "A" || seen[c.ID] {
				t.Fatalf("unexpected or repeated %s", c.ID)
			}
			seen[c.ID] = true
		}
		if !page.HasNext {
			break
		}
		after = page.EndCursor
	}
	if len(seen) != 10 {
		t.Fatalf("listed %d grade A customers, want 10", len(seen))
	}

	e.drain(t) // the counters follow from the stream
	page, err := e.svc.Customers(as(admin), crm.CustomerFilter{Tag: "t1"}, crm.PageRequest{First: 50})
	if err != nil || len(page.Items) != 20 || page.Total == nil {
		t.Fatalf("tag list: %d items, %v", len(page.Items), err)
	}
	if n, err := page.Total(context.Background()); err != nil || n != 20 {
		t.Fatalf("tag total = %d, %v; want 20", n, err)
	}
	all, _ := e.svc.Customers(as(admin), crm.CustomerFilter{}, crm.PageRequest{First: 1})
	if n, _ := all.Total(context.Background()); n != 40 {
		t.Fatalf("total = %d, want 40", n)
	}
	// Archiving takes the customer out of lists and counters.
	c := page.Items[0]
	if _, err := e.svc.ArchiveCustomer(as(admin), c.ID, c.Version); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if n, _ := all.Total(context.Background()); n != 39 {
		t.Fatalf("total after archive = %d, want 39", n)
	}
}

func TestCursorsAreTamperEvident(t *testing.T) {
	e := mustEnv(t)
	for i := range 3 {
		mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprint("C", i), Region: "east"})
	}
	page, err := e.svc.Customers(as(admin), crm.CustomerFilter{}, crm.PageRequest{First: 1})
	if err != nil || !page.HasNext {
		t.Fatalf("%v %+v", err, page)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(page.EndCursor)
	raw[len(raw)/2] ^= 1
	for name, cur := range map[string]string{
		"Garbage":   "%%%",
		"Forged":    base64.RawURLEncoding.EncodeToString(raw),
		"OtherList": page.EndCursor, // used below on a different filter
		"Truncated": page.EndCursor[:len(page.EndCursor)-2],
	} {
		t.Run(name, func(t *testing.T) {
			f := crm.CustomerFilter{}
			if name == "OtherList" {
				f.Region = "east"
			}
			_, err := e.svc.Customers(as(admin), f, crm.PageRequest{First: 1, After: cur})
			var de *crm.Error
			if !asErr(err, &de) || de.Code != crm.EINVALID || de.Field != "after" {
				t.Fatalf("err = %v, want BAD_USER_INPUT on after", err)
			}
		})
	}
}

func TestCustomer360IsOneQuery(t *testing.T) {
	e := mustEnv(t)
	owner := sales1.ID // owned: pool customers have no follow-up
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Screen Pop", OwnerID: &owner, Team: "north"})
	for i := range 3 {
		if _, err := e.svc.AddContact(as(admin), c.ID, crm.ContactInput{Name: fmt.Sprint("Contact ", i), Primary: i == 2}); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().Add(-time.Hour)
	for i := range 15 {
		at := base.Add(time.Duration(i) * time.Minute)
		if _, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.Channels[i%len(crm.Channels)],
			Type: crm.TypeCall, Subject: fmt.Sprint("call ", i), OccurredAt: &at}); err != nil {
			t.Fatal(err)
		}
	}
	e.drain(t)
	e.calls.Store(0)
	v, err := e.store.Customer360(context.Background(), c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.calls.Load(); n != 1 {
		t.Fatalf("360 view made %d DynamoDB calls, want 1", n)
	}
	if len(v.Contacts) != 3 || len(v.RecentInteractions) != 10 || v.RecentInteractions[0].Subject != "call 14" {
		t.Fatalf("360: %d contacts, %d interactions, newest %q", len(v.Contacts), len(v.RecentInteractions), v.RecentInteractions[0].Subject)
	}
	primaries := 0
	for _, ct := range v.Contacts {
		if ct.Primary {
			primaries++
		}
	}
	if primaries != 1 || v.Customer.ContactCount != 3 || v.Customer.InteractionCount != 15 || v.Customer.LastInteractionAt == nil {
		t.Fatalf("derived fields wrong: primaries=%d %+v", primaries, v.Customer)
	}

	// Read your writes: a call logged a moment ago, which the stream has
	// not applied, shows at once, with its follow-up.
	followUp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Millisecond)
	it, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone,
		Type: crm.TypeCall, Subject: "just now", NextFollowUpAt: &followUp})
	if err != nil {
		t.Fatal(err)
	}
	v, err = e.svc.Customer360(as(admin), c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if v.RecentInteractions[0].ID != it.ID || v.Customer.InteractionCount != 16 || v.Customer.LastInteractionID != it.ID ||
		!v.Customer.LastInteractionAt.Equal(it.OccurredAt) || v.Customer.NextFollowUpAt == nil || !v.Customer.NextFollowUpAt.Equal(followUp) {
		t.Fatalf("the 360 does not show the call logged a moment ago: newest %s, count %d, last %s at %v, follow-up %v",
			v.RecentInteractions[0].ID, v.Customer.InteractionCount, v.Customer.LastInteractionID, v.Customer.LastInteractionAt, v.Customer.NextFollowUpAt)
	}

	// The Query reads what the view shows once this instance knows the
	// customer's contact count: activity, profile, 3 contacts and 10
	// interactions. Contacts added through another instance cost a second
	// Query of exactly what is left, once.
	store, read := itemsRead(t, e)
	for i, want := range []struct{ calls, items, contacts int }{
		{1, 2 + 8 + 10, 3}, // not known yet: up to 8 contacts
		{1, 2 + 3 + 10, 3},
		{2, 2 + 5 + 10, 5}, // two contacts added elsewhere
		{1, 2 + 5 + 10, 5},
	} {
		if i == 2 {
			for j := range 2 {
				if _, err := e.svc.AddContact(as(admin), c.ID, crm.ContactInput{Name: fmt.Sprint("Later ", j)}); err != nil {
					t.Fatal(err)
				}
			}
			e.drain(t)
		}
		v, err := store.Customer360(context.Background(), c.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if calls, items := read(); calls != want.calls || items != want.items || len(v.Contacts) != want.contacts || len(v.RecentInteractions) != 10 {
			t.Errorf("360 read %d: %d Queries of %d items for %d contacts and %d interactions, want %d of %d for %d and 10",
				i, calls, items, len(v.Contacts), len(v.RecentInteractions), want.calls, want.items, want.contacts)
		}
	}
}

// itemsRead returns a store of its own on e's table (another instance)
// and a function that tells how many Queries it made, and how many items
// they read, since it was last called.
func itemsRead(tb testing.TB, e *env) (*dynamo.Store, func() (calls, items int)) {
	var mu sync.Mutex
	var calls, items int
	db := dynamodb.New(e.db.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countItems",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleInitialize(ctx, in)
					if q, ok := out.Result.(*dynamodb.QueryOutput); ok {
						mu.Lock()
						calls++
						items += int(q.Count)
						mu.Unlock()
					}
					return out, md, err
				}), middleware.After)
		})
	})
	return dynamo.New(db, e.table, []byte(strings.Repeat("k", 32))), func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		c, i := calls, items
		calls, items = 0, 0
		return c, i
	}
}

func TestInteractionsInTimeRange(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Timeline"})
	day0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		at := day0.Add(time.Duration(i) * 24 * time.Hour)
		if _, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelEmail, Type: crm.TypeNote, OccurredAt: &at}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := e.svc.Interactions(as(admin), c.ID, crm.TimeRange{From: day0.Add(2 * 24 * time.Hour), To: day0.Add(5 * 24 * time.Hour)}, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 4 || !page.Items[0].OccurredAt.Equal(day0.Add(5*24*time.Hour)) {
		t.Fatalf("range gave %d items", len(page.Items))
	}
	if page.Total != nil {
		t.Fatal("a bounded range has no counter")
	}
}

func TestTemplateVersionsAndEvaluations(t *testing.T) {
	e := mustEnv(t)
	in := crm.TemplateInput{Name: "Relationship", Indicators: []crm.Indicator{
		{Key: "satisfied", Name: "Satisfied", Dimension: crm.DimSatisfaction, Weight: 0.6, ScaleMin: 1, ScaleMax: 5},
		{Key: "loyal", Name: "Would buy again", Dimension: crm.DimLoyalty, Weight: 0.4, ScaleMin: 0, ScaleMax: 10},
	}}
	tpl, err := e.svc.CreateTemplate(as(admin), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateTemplate(as(sales1), in); code(err) != crm.EFORBIDDEN {
		t.Fatalf("sales created a template: %v", err)
	}
	v2, err := e.svc.CreateTemplateVersion(as(admin), tpl.ID, 1, in)
	if err != nil || v2.Version != 2 {
		t.Fatalf("v2: %v", err)
	}
	if _, err := e.svc.CreateTemplateVersion(as(admin), tpl.ID, 1, in); code(err) != crm.ECONFLICT {
		t.Fatalf("stale version: %v", err)
	}
	v1, err := e.svc.Template(as(sales1), tpl.ID, 1)
	if err != nil || v1.Version != 1 || v1.LatestVersion != 2 {
		t.Fatalf("v1: %+v %v", v1, err)
	}

	c := mustCreate(t, e, sales1, crm.CustomerInput{Name: "Evaluated"})
	ev, err := e.svc.SubmitEvaluation(as(admin), crm.EvaluationInput{CustomerID: c.ID, TemplateID: tpl.ID, Kind: crm.EvalCustomerSurvey,
		Scores: []crm.IndicatorScore{{Key: "satisfied", Value: 4}, {Key: "loyal", Value: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	// satisfied 4 on 1–5 → 75, loyal 5 on 0–10 → 50: overall .6*75+.4*50 = 65.
	if ev.Overall != 65 || ev.TemplateVersion != 2 {
		t.Fatalf("overall = %v (v%d), want 65 on v2", ev.Overall, ev.TemplateVersion)
	}
	got := mustCustomer(t, e, c.ID)
	if got.SatisfactionIndex == nil || *got.SatisfactionIndex != 75 || *got.LoyaltyIndex != 50 || len(got.RecentEvaluations) != 1 {
		t.Fatalf("indexes not updated: %+v", got)
	}
	list, err := e.svc.Templates(as(manager), crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil || len(list.Items) != 1 || list.Items[0].Version != 2 {
		t.Fatalf("templates: %+v %v", list, err)
	}
}

func TestSalesSeesOnlyOwnCustomersAndPool(t *testing.T) {
	e := mustEnv(t)
	other := "sales-2"
	mine := mustCreate(t, e, sales1, crm.CustomerInput{Name: "Mine", Region: "north"})
	theirs := mustCreate(t, e, admin, crm.CustomerInput{Name: "Theirs", OwnerID: &other, Team: "north"})
	nobody := ""
	pooled := mustCreate(t, e, admin, crm.CustomerInput{Name: "Pooled", OwnerID: &nobody, Region: "north"})

	if _, err := e.svc.Customer(as(sales1), theirs.ID); code(err) != crm.ENOTFOUND {
		t.Fatalf("read foreign: %v", err)
	}
	name := "hijack"
	if _, err := e.svc.UpdateCustomer(as(sales1), theirs.ID, 1, crm.CustomerUpdate{Name: &name}); code(err) != crm.ENOTFOUND {
		t.Fatalf("update foreign: %v", err)
	}
	if _, err := e.svc.UpdateCustomer(as(sales1), pooled.ID, 1, crm.CustomerUpdate{Name: &name}); code(err) != crm.EFORBIDDEN {
		t.Fatalf("update pool: %v", err)
	}
	page, err := e.svc.Customers(as(sales1), crm.CustomerFilter{}, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != mine.ID {
		t.Fatalf("own list: %+v %v", page, err)
	}
	page, err = e.svc.Customers(as(sales1), crm.CustomerFilter{Pool: true, Region: "north"}, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != pooled.ID {
		t.Fatalf("pool list: %+v %v", page, err)
	}
}

func TestFilteredListStopsAtItsBudgetWithoutSkipping(t *testing.T) {
	e := mustEnv(t)
	e.store.SetReadBudget(2, 10)
	var rare []string
	for i := range 30 {
		stage := crm.StageFormation
		if i%10 == 0 {
			stage = crm.StageDecline
		}
		c := mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprint("C", i), Grade: "D", Stage: stage})
		if stage == crm.StageDecline {
			rare = append(rare, c.ID)
		}
	}
	// Grade and stage: the grade index is read, the stage checked per item.
	f := crm.CustomerFilter{Grade: "D", Stage: crm.StageDecline}
	var got []string
	after, pages := "", 0
	for ; pages < 20; pages++ {
		e.calls.Store(0)
		page, err := e.svc.Customers(as(admin), f, crm.PageRequest{First: 5, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if n := e.calls.Load(); n > 2 {
			t.Fatalf("page %d made %d calls, budget is 2", pages, n)
		}
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		if !page.HasNext {
			break
		}
		if page.EndCursor == "" {
			t.Fatal("a page with more to read has no end cursor")
		}
		after = page.EndCursor
	}
	if pages < 2 {
		t.Fatalf("budget of 10 items read 30 in %d pages", pages+1)
	}
	if fmt.Sprint(got) != fmt.Sprint(reverse(rare)) {
		t.Fatalf("listed %v, want %v (newest first, none skipped)", got, reverse(rare))
	}
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func TestReviewedEdgesAreBadInputNotInternal(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Edges", Team: "north"})
	old := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	long := strings.Repeat("x", 3000)
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"InteractionBefore1970", func() error {
			_, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone, Type: crm.TypeCall, OccurredAt: &old})
			return err
		}, "input.occurredAt"},
		{"EvaluationBefore1970", func() error {
			_, err := e.svc.SubmitEvaluation(as(admin), crm.EvaluationInput{CustomerID: c.ID, TemplateID: "t", Kind: crm.EvalThirdParty, ThirdParty: "Auditor", EvaluatedAt: &old})
			return err
		}, "input.evaluatedAt"},
		{"RangeBefore1970", func() error {
			_, err := e.svc.Interactions(as(admin), c.ID, crm.TimeRange{From: old}, crm.PageRequest{First: crm.DefaultPageSize})
			return err
		}, "from"},
		{"HugeID", func() error { _, err := e.svc.Customer(as(admin), long); return err }, "id"},
		{"HugeCustomerID", func() error { _, err := e.svc.Contacts(as(admin), long); return err }, "customerId"},
		{"HugeHandledBy", func() error {
			_, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone, Type: crm.TypeCall, HandledBy: long})
			return err
		}, "input.handledBy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var de *crm.Error
			if err := tt.call(); !asErr(err, &de) || de.Code != crm.EINVALID || de.Field != tt.field {
				t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, tt.field)
			}
		})
	}
	// Only those who assign work may credit an interaction to someone else.
	if _, err := e.svc.LogInteraction(as(sales1), crm.InteractionInput{CustomerID: mustCreate(t, e, sales1, crm.CustomerInput{Name: "Own"}).ID,
		Channel: crm.ChannelPhone, Type: crm.TypeCall, HandledBy: "sales-2"}); code(err) != crm.EFORBIDDEN {
		t.Fatalf("crediting another user: %v", err)
	}
}

func TestConcurrentPrimaryContactChangesLeaveOnePrimary(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Two contacts"})
	var ids []string
	for _, n := range []string{"A", "B", "C"} {
		ct, err := e.svc.AddContact(as(admin), c.ID, crm.ContactInput{Name: n})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ct.ID)
	}
	yes := true
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.svc.UpdateContact(as(admin), c.ID, id, 1, crm.ContactUpdate{Primary: &yes})
		}()
	}
	wg.Wait()
	all, err := e.svc.Contacts(as(admin), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	primaries := 0
	for _, ct := range all {
		if ct.Primary {
			primaries++
		}
	}
	if primaries != 1 {
		t.Fatalf("%d primary contacts after concurrent changes, want 1", primaries)
	}
}
