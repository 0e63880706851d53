package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/infra/ddbstream"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/stream"
)

// logChanges has the test's consumer write the change feed's logs.
func logChanges(e *env) {
	e.consumer.Handlers = append(e.consumer.Handlers, &stream.ChangeLog{Store: e.store})
}

// readFeed reads a caller's whole feed after a cursor, a few entries a
// page, on a clock past the settling delay: the entries and the cursor to
// read on from.
func readFeed(tb testing.TB, e *env, ctx context.Context, after string) ([]*crm.CustomerChange, string) {
	tb.Helper()
	restore := e.svc.Now
	defer func() { e.svc.Now = restore }()
	e.svc.Now = func() time.Time { return time.Now().Add(time.Minute) }
	var out []*crm.CustomerChange
	for {
		p, err := e.svc.Changes(ctx, crm.PageRequest{First: 4, After: after})
		if err != nil {
			tb.Fatalf("changes after %q: %v", after, err)
		}
		if p.EndCursor == "" || len(p.Cursors) != len(p.Items) {
			tb.Fatalf("page without its cursors: %+v", p)
		}
		out = append(out, p.Items...)
		after = p.EndCursor
		if !p.HasNext {
			return out, after
		}
	}
}

// applyFeed is what a client does with the feed: keep the latest version
// of every customer, drop the removed ones.
func applyFeed(tb testing.TB, copy map[string]int, entries []*crm.CustomerChange) {
	tb.Helper()
	for _, c := range entries {
		if held, ok := copy[c.CustomerID]; ok && held > c.Version {
			continue
		}
		switch c.Kind {
		case crm.ChangeUpsert:
			copy[c.CustomerID] = c.Version
			if c.Customer != nil && (c.Customer.ID != c.CustomerID || c.Customer.Version < c.Version) {
				tb.Errorf("upsert of %s v%d carries customer %s v%d", c.CustomerID, c.Version, c.Customer.ID, c.Customer.Version)
			}
		case crm.ChangeRemove:
			delete(copy, c.CustomerID)
			if c.Customer != nil {
				tb.Errorf("removal of %s carries the customer", c.CustomerID)
			}
		}
	}
}

// fullRead is what the client would read from scratch: the customers it
// lists (a salesperson's own and the pool's), id → version.
func fullRead(tb testing.TB, e *env, ctx context.Context, filters ...crm.CustomerFilter) map[string]int {
	tb.Helper()
	out := map[string]int{}
	for _, f := range append(filters, crm.CustomerFilter{})[:max(1, len(filters))] {
		p, err := e.svc.Customers(ctx, f, crm.PageRequest{First: 100})
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range p.Items {
			out[c.ID] = c.Version
		}
	}
	return out
}

// The feed of every kind of caller keeps a copy equal to what the caller
// reads in full, across every kind of removal — archive, merge, unshare,
// hand-over to someone else, a move to another team — and the claims and
// edits between: a salesperson never hears of a colleague's customer, a
// partner never of one not shared with it, and a partner reads the
// customers masked as its API masks them.
func TestTheChangeFeedKeepsEachCallersCopyInStep(t *testing.T) {
	e := mustEnv(t)
	logChanges(e)
	org := mustPartnerOrg(t, e.svc, "Agency", []crm.MaskField{crm.MaskPhones})
	partner, err := e.svc.VerifyAPIKey(context.Background(), mustIssue(t, e.svc, org.ID))
	if err != nil {
		t.Fatal(err)
	}
	callers := map[string]context.Context{
		"admin": as(admin), "sales1": as(sales1), "sales2": as(sales2), "manager": as(manager),
		"managerSouth": as(managerSouth), "partner": crm.NewContextWithUser(context.Background(), partner),
	}
	// Each caller holds a copy that is empty and takes its cursor before
	// anything is written: what follows reaches it through the feed only.
	cursors := map[string]string{}
	for name, ctx := range callers {
		if cursors[name], err = e.svc.ChangesCursor(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s1, s2, nobody := sales1.ID, sales2.ID, ""
	made := 0
	mk := func(name string, owner *string) *crm.Customer {
		made++
		return mustCreate(t, e, admin, crm.CustomerInput{Name: name, OwnerID: owner, Team: "north", Region: "north",
			Phones: []string{fmt.Sprintf("+86 138 0013 %04d", made)}})
	}
	kept := mk("Kept", &s1)
	archived := mk("Archived", &s1)
	twin := mk("Twin", &s1)
	unshared := mk("Unshared", &s1)
	shared := mk("Shared", &s1)
	handed := mk("Handed", &s1)
	moved := mk("Moved", &s2)
	pooled := mk("Pooled", &nobody)
	colleague := mk("Colleague", &s2)
	for _, c := range []*crm.Customer{unshared, shared} {
		if _, err := e.svc.ShareCustomer(as(admin), c.ID, org.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.drain(t)
	fresh := func(id string) *crm.Customer {
		c, err := e.store.Customer(as(admin), id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	name := "Kept & Co"
	if _, err := e.svc.UpdateCustomer(as(sales1), kept.ID, fresh(kept.ID).Version, crm.CustomerUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ArchiveCustomer(as(admin), archived.ID, fresh(archived.ID).Version); err != nil {
		t.Fatal(err)
	}
	k, tw := fresh(kept.ID), fresh(twin.ID)
	if _, err := e.svc.MergeCustomers(as(admin), crm.MergeInput{SurvivorID: k.ID, MergedID: tw.ID,
		ExpectedSurvivorVersion: k.Version, ExpectedMergedVersion: tw.Version, Reason: "entered twice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UnshareCustomer(as(admin), unshared.ID, org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.HandOverCustomer(as(sales1), handed.ID, s2, "leaving the region", nil); err != nil {
		t.Fatal(err)
	}
	south, s3 := "south", sales3.ID
	if _, err := e.svc.UpdateCustomer(as(admin), moved.ID, fresh(moved.ID).Version,
		crm.CustomerUpdate{Team: &south, OwnerID: &s3}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ClaimCustomer(as(sales1), pooled.ID); err != nil {
		t.Fatal(err)
	}
	colleagueName := "Colleague Ltd"
	if _, err := e.svc.UpdateCustomer(as(sales2), colleague.ID, fresh(colleague.ID).Version, crm.CustomerUpdate{Name: &colleagueName}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)

	full := map[string]func() map[string]int{
		"admin": func() map[string]int { return fullRead(t, e, callers["admin"]) },
		"sales1": func() map[string]int {
			return fullRead(t, e, callers["sales1"], crm.CustomerFilter{}, crm.CustomerFilter{Pool: true})
		},
		"sales2": func() map[string]int {
			return fullRead(t, e, callers["sales2"], crm.CustomerFilter{}, crm.CustomerFilter{Pool: true})
		},
		"manager":      func() map[string]int { return fullRead(t, e, callers["manager"]) },
		"managerSouth": func() map[string]int { return fullRead(t, e, callers["managerSouth"]) },
		"partner":      func() map[string]int { return fullRead(t, e, callers["partner"]) },
	}
	feeds := map[string][]*crm.CustomerChange{}
	for name, ctx := range callers {
		t.Run(name, func(t *testing.T) {
			entries, _ := readFeed(t, e, ctx, cursors[name])
			feeds[name] = entries
			t.Logf("%d entries", len(entries))
			copy := map[string]int{}
			applyFeed(t, copy, entries)
			if want := full[name](); !maps.Equal(copy, want) {
				t.Errorf("the feed's copy %v, the full read %v", copy, want)
			}
		})
	}

	removed := func(name, id string) bool {
		return slices.ContainsFunc(feeds[name], func(c *crm.CustomerChange) bool { return c.CustomerID == id && c.Kind == crm.ChangeRemove })
	}
	named := func(name, id string) bool {
		return slices.ContainsFunc(feeds[name], func(c *crm.CustomerChange) bool { return c.CustomerID == id })
	}
	for _, tt := range []struct {
		caller, what, id string
	}{
		{"sales1", "archived", archived.ID},
		{"sales1", "merged away", twin.ID},
		{"sales1", "handed to a colleague", handed.ID},
		{"admin", "archived", archived.ID},
		{"admin", "merged away", twin.ID},
		{"partner", "unshared", unshared.ID},
		{"manager", "moved to the south team", moved.ID},
		{"sales2", "handed to sales-3 in the south", moved.ID},
	} {
		if !removed(tt.caller, tt.id) {
			t.Errorf("%s: no removal of the customer %s", tt.caller, tt.what)
		}
	}
	if named("sales1", colleague.ID) || named("sales1", moved.ID) {
		t.Errorf("sales1's feed names a colleague's customer: %v", feeds["sales1"])
	}
	if !slices.ContainsFunc(feeds["partner"], func(c *crm.CustomerChange) bool { return c.CustomerID == shared.ID && c.Customer != nil }) {
		t.Errorf("the partner's feed %v has no upsert of the customer shared with it", feeds["partner"])
	}
	for _, c := range feeds["partner"] {
		if c.CustomerID != unshared.ID && c.CustomerID != shared.ID {
			t.Errorf("the partner's feed names %s, never shared with it", c.CustomerID)
		}
		if c.Customer == nil {
			continue
		}
		if want := crm.PartnerView(org, fresh(c.CustomerID)); !slices.Equal(c.Customer.Phones, want.Phones) || c.Customer.Phones[0] == fresh(c.CustomerID).Phones[0] {
			t.Errorf("the partner reads phones %v, its API %v", c.Customer.Phones, want.Phones)
		}
	}
	// The claim from the pool is, for its claimer, the upsert alone: the
	// pool's removal at the same write comes before it and the page keeps
	// the latest per customer.
	for _, c := range feeds["sales1"] {
		if c.CustomerID == pooled.ID && (c.Kind != crm.ChangeUpsert || c.Customer == nil || c.Customer.OwnerID != s1) {
			t.Errorf("sales1's entry of the claimed customer %+v, want its upsert with the customer", c)
		}
	}
	// The survivor's last upsert is at its current version.
	var last *crm.CustomerChange
	for _, c := range feeds["admin"] {
		if c.CustomerID == kept.ID {
			last = c
		}
	}
	if cur := fresh(kept.ID); last == nil || last.Version != cur.Version || last.Customer == nil || last.Customer.Name != name {
		t.Errorf("the survivor's last entry %+v, want version %d named %q", last, cur.Version, name)
	}
}

// halfWriter writes half of what it is given and fails, every other
// call: a change log that stopped part-way.
type halfWriter struct {
	w     stream.ChangeLogWriter
	calls int
}

func (h *halfWriter) AppendChanges(ctx context.Context, records []stream.LoggedChange) error {
	h.calls++
	if h.calls%2 == 1 {
		if err := h.w.AppendChanges(ctx, records[:len(records)/2]); err != nil {
			return err
		}
		return errors.New("the table went away")
	}
	return h.w.AppendChanges(ctx, records)
}

// A batch delivered again after its change log stopped part-way, and then
// the whole stream again after a lost checkpoint, log each record's
// entries once: no log holds an entry of a record twice, and the feed
// reads the same.
func TestARedeliveredBatchLogsNoChangeTwice(t *testing.T) {
	e := mustEnv(t)
	writer := &halfWriter{w: e.store}
	e.consumer.Handlers = append(e.consumer.Handlers, &stream.ChangeLog{Store: writer})
	start, err := e.svc.ChangesCursor(as(admin))
	if err != nil {
		t.Fatal(err)
	}
	redeliveryScenario(t, e)
	for failures := 0; ; failures++ {
		if _, err := e.consumer.Poller.Drain(t.Context()); err == nil {
			break
		} else if failures > 200 {
			t.Fatalf("drain: %v", err)
		}
	}
	if writer.calls < 2 {
		t.Fatalf("%d change log calls: nothing was delivered again", writer.calls)
	}
	before, _ := readFeed(t, e, as(admin), start)
	audiences := []string{crm.AudienceAll, crm.AudiencePool, "OWNER#" + sales1.ID, "TEAM#north", "TEAM#south"}
	logs := map[string][]string{}
	for _, a := range audiences {
		if logs[a], err = e.store.ChangeLogEntries(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	if len(logs[crm.AudienceAll]) == 0 {
		t.Fatal("nothing logged")
	}
	consumer := &stream.Consumer{Store: e.store, Settler: e.svc, Handlers: []stream.Handler{&stream.ChangeLog{Store: e.store}}}
	again, err := ddbstream.New(t.Context(), e.db, ddbtest.Streams(t), e.table, consumer.Handle)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := again.Drain(t.Context()); err != nil || n == 0 {
		t.Fatalf("drain the whole stream again: %d records, %v", n, err)
	}
	for _, a := range audiences {
		got, err := e.store.ChangeLogEntries(t.Context(), a)
		if err != nil || !slices.Equal(got, logs[a]) {
			t.Errorf("%s: %d entries after the whole stream again (%v), %d before", a, len(got), err, len(logs[a]))
		}
		seen := map[string]bool{}
		for _, r := range got {
			if seen[r] {
				t.Errorf("%s: the entry %s is logged twice", a, r)
			}
			seen[r] = true
		}
	}
	after, _ := readFeed(t, e, as(admin), start)
	if len(after) != len(before) {
		t.Errorf("the feed read %d entries after the redelivery, %d before", len(after), len(before))
	}
	t.Logf("%d change log calls; %d entries for everyone", writer.calls, len(logs[crm.AudienceAll]))
}

// A cursor is the caller's own, for the audiences the caller has, and
// resumes for 7 days: another caller's is refused as any foreign cursor,
// an older one or one taken before the caller's access changed asks for a
// resync.
func TestChangeCursorsThatCannotResumeAreRefused(t *testing.T) {
	e := mustEnv(t)
	logChanges(e)
	s1 := sales1.ID
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Seen", OwnerID: &s1, Team: "north"})
	e.drain(t)
	_, cursor := readFeed(t, e, as(manager), "")
	otherTeams := *manager
	otherTeams.Teams = []string{"north", "south"}
	read := func(ctx context.Context, now time.Time) error {
		e.svc.Now = func() time.Time { return now }
		defer func() { e.svc.Now = time.Now }()
		_, err := e.svc.Changes(ctx, crm.PageRequest{First: 10, After: cursor})
		return err
	}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		now  time.Time
		code string
	}{
		{"ResumesWithinTheWindow", as(manager), time.Now().Add(6 * 24 * time.Hour), ""},
		{"ExpiredAfterSevenDays", as(manager), time.Now().Add(8 * 24 * time.Hour), crm.ERESYNC},
		{"TeamsChanged", as(&otherTeams), time.Now(), crm.ERESYNC},
		{"AnotherCallers", as(managerSouth), time.Now(), crm.EINVALID},
		{"AnotherManagerOfTheSameTeam", as(&crm.User{ID: "mgr-3", Roles: manager.Roles, Teams: manager.Teams}), time.Now(), crm.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := read(tt.ctx, tt.now)
			if code(err) != tt.code {
				t.Fatalf("%v, want %q", err, tt.code)
			}
			var de *crm.Error
			if err != nil && (!asErr(err, &de) || de.Field != "after") {
				t.Errorf("%v names no field after", err)
			}
		})
	}
}

// A page of the feed costs one Query per audience of the caller and one
// BatchGetItem for the customers of its upserts.
func TestAChangesPageCostsAQueryPerAudienceAndOneBatchGet(t *testing.T) {
	e := mustEnv(t)
	logChanges(e)
	s1, nobody := sales1.ID, ""
	for _, owner := range []*string{&s1, &s1, &nobody} {
		mustCreate(t, e, admin, crm.CustomerInput{Name: "Counted", OwnerID: owner, Team: "north"})
	}
	e.drain(t)
	e.svc.Now = func() time.Time { return time.Now().Add(time.Minute) }
	for _, tt := range []struct {
		name  string
		u     *crm.User
		calls int64
	}{
		{"Admin", admin, 2},
		{"SalesOwnAndPool", sales1, 3},
		{"Manager", manager, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.calls.Load()
			p, err := e.svc.Changes(as(tt.u), crm.PageRequest{First: 50})
			if err != nil || len(p.Items) != 3 {
				t.Fatalf("%v: %+v, want the 3 customers", err, p)
			}
			if n := e.calls.Load() - before; n != tt.calls {
				t.Errorf("%d DynamoDB calls, want %d", n, tt.calls)
			}
		})
	}
}
