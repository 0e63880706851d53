package dynamo_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

func auditAs(u *crm.User, op string) context.Context {
	return crm.WithAuditScope(as(u), crm.AuditScope{Operation: op, RequestID: "req-" + op})
}

func field(c crm.AuditChange, name string) (crm.FieldChange, bool) {
	i := slices.IndexFunc(c.Fields, func(f crm.FieldChange) bool { return f.Name == name })
	if i < 0 {
		return crm.FieldChange{}, false
	}
	return c.Fields[i], true
}

func TestEveryWriteIsAuditedWithWhoWhatBeforeAndAfter(t *testing.T) {
	e := mustEnv(t)
	c, err := e.svc.CreateCustomer(auditAs(manager, "createCustomer"), crm.CustomerInput{Kind: crm.KindOrganization,
		Name: "Audited Ltd", Team: "north", Industry: "steel"})
	if err != nil {
		t.Fatal(err)
	}
	industry := "textiles"
	if _, err := e.svc.UpdateCustomer(auditAs(manager, "updateCustomer"), c.ID, c.Version,
		crm.CustomerUpdate{Industry: &industry}); err != nil {
		t.Fatal(err)
	}
	// A refused write leaves no audit entry behind.
	if _, err := e.svc.UpdateCustomer(auditAs(manager, "updateCustomer"), c.ID, c.Version,
		crm.CustomerUpdate{Industry: &industry}); code(err) != crm.ECONFLICT {
		t.Fatalf("stale update: %v", err)
	}
	if _, err := e.svc.LogInteraction(auditAs(sales1, "logInteraction"), crm.InteractionInput{CustomerID: c.ID,
		Channel: crm.ChannelPhone, Type: crm.TypeCall, Subject: "hello"}); code(err) != crm.EFORBIDDEN {
		t.Fatalf("a salesperson logged on a pool customer: %v", err)
	}
	mustLog(t, e, admin, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeCall, Subject: "audited call"})

	if _, err := e.svc.AuditLog(as(manager), crm.AuditFilter{CustomerID: c.ID}, crm.PageRequest{First: crm.DefaultPageSize}); code(err) != crm.EFORBIDDEN {
		t.Fatalf("a manager read the audit log: %v", err)
	}
	auditor := &crm.User{ID: "auditor-1", Roles: []crm.Role{crm.RoleAuditor}}
	page, err := e.svc.AuditLog(as(auditor), crm.AuditFilter{CustomerID: c.ID}, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 {
		t.Fatalf("%d audit entries for the customer, want 3 (create, update, call): %+v", len(page.Items), page.Items)
	}
	call, upd, create := page.Items[0], page.Items[1], page.Items[2]
	if create.Actor != manager.ID || create.Operation != "createCustomer" || create.RequestID != "req-createCustomer" ||
		!slices.Contains(create.Roles, crm.RoleManager) {
		t.Fatalf("create entry: %+v", create)
	}
	kinds := func(e *crm.AuditEntry) []string {
		var out []string
		for _, ch := range e.Changes {
			out = append(out, ch.Entity+":"+string(ch.Action))
		}
		return out
	}
	if got := kinds(create); !slices.Equal(got, []string{"customer:CREATE"}) {
		t.Fatalf("create entry changes %v", got)
	}
	if got := kinds(upd); !slices.Equal(got, []string{"customer:UPDATE"}) {
		t.Fatalf("update entry changes %v", got)
	}
	f, ok := field(upd.Changes[0], "industry")
	if !ok || f.Before != `"steel"` || f.After != `"textiles"` {
		t.Fatalf("update entry does not say what changed: %+v", upd.Changes[0].Fields)
	}
	if v, ok := field(upd.Changes[0], "version"); !ok || v.Before != "1" || v.After != "2" {
		t.Fatalf("version change not recorded: %+v", v)
	}
	// An append writes only itself: what follows for the customer is the
	// stream's, audited as the system's.
	if call.Actor != admin.ID || !slices.Equal(kinds(call), []string{"interaction:CREATE"}) {
		t.Fatalf("call entry: %+v %v", call, kinds(call))
	}

	// The day's log has them too, and filters by actor: with the
	// manager's first sign-in, which registered them in the directory.
	day, err := e.svc.AuditLog(as(admin), crm.AuditFilter{Day: time.Now(), Actor: manager.ID}, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(day.Items) != 3 || day.Items[0].ID != upd.ID || day.Items[2].Operation != "signIn" {
		t.Fatalf("the day's entries by the manager: %d", len(day.Items))
	}
}

func TestIdempotentCreatesReturnTheFirstResult(t *testing.T) {
	e := mustEnv(t)
	in := crm.CustomerInput{Kind: crm.KindPerson, Name: "Retried", Phones: []string{"+8613900000042"}, IdempotencyKey: "create-retried-1"}
	first, err := e.svc.CreateCustomer(as(admin), in)
	if err != nil {
		t.Fatal(err)
	}
	// The client timed out and retries: same key, same request.
	again, err := e.svc.CreateCustomer(as(admin), in)
	if err != nil || again.ID != first.ID {
		t.Fatalf("retry: %v, id %v; want the first customer %s", err, again, first.ID)
	}
	changed := in
	changed.Name = "Someone else"
	if _, err := e.svc.CreateCustomer(as(admin), changed); code(err) != crm.ECONFLICT {
		t.Fatalf("the key reused for another request: %v, want CONFLICT", err)
	}
	if _, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Bad key", IdempotencyKey: "x y"}); code(err) != crm.EINVALID {
		t.Fatalf("a malformed key: %v", err)
	}
	// Another user's key is theirs alone.
	if c, err := e.svc.CreateCustomer(as(manager), crm.CustomerInput{Kind: crm.KindPerson, Name: "Retried", Team: "north",
		IdempotencyKey: in.IdempotencyKey}); err != nil || c.ID == first.ID {
		t.Fatalf("another user's request with the same key: %v %v", c, err)
	}

	// Concurrent retries of a logged call: one interaction, one id.
	var wg sync.WaitGroup
	ids := make([]string, 5)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: first.ID, Channel: crm.ChannelPhone,
				Type: crm.TypeCall, Subject: "only once", IdempotencyKey: "call-0001"})
			if err != nil {
				t.Errorf("retry %d: %v", i, err)
				return
			}
			ids[i] = it.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("retries returned different interactions: %v", ids)
		}
	}
	if got := mustCustomer(t, e, first.ID); got.InteractionCount != 1 {
		t.Fatalf("interaction count %d after 5 retries of one call, want 1", got.InteractionCount)
	}
	all, err := e.svc.Customers(as(admin), crm.CustomerFilter{}, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := all.Total(as(admin)); n != 2 {
		t.Fatalf("%d customers counted, want 2", n)
	}
}

// A store given a clock dates by it the audit entries of each way it
// writes them: a transaction's (a create), an append's (a logged call)
// and a screen pop's outside the caller's reach. Each is filed under its
// day, with an id of its time: the demo's replayed year is audited on the
// days it replays (make run).
func TestAStoresClockDatesItsAuditEntries(t *testing.T) {
	e := mustEnv(t)
	at := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	store := dynamo.New(e.db, e.table, []byte(strings.Repeat("k", 32))).UseClock(func() time.Time { return at })
	svc := crm.NewService(store)
	svc.Now = func() time.Time { return at }
	owner := sales1.ID
	c, err := svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Dated", OwnerID: &owner, Team: "north",
		Phones: []string{"138 5555 0101"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone, Type: crm.TypeCall,
		Subject: "dated call"}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if v, err := svc.CustomerByPhone(as(sales2), "138 5555 0101", 5); err != nil || v == nil {
		t.Fatalf("pop: %+v %v", v, err)
	}
	page, err := svc.AuditLog(as(admin), crm.AuditFilter{Day: at}, crm.PageRequest{First: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range page.Items {
		if !a.At.Equal(at) || !crm.TimeOfID(a.ID).Equal(at) {
			t.Errorf("entry %s dated %s (id's time %s), want %s", a.ID, a.At, crm.TimeOfID(a.ID), at)
		}
		got = append(got, a.Changes[0].Entity+" "+string(a.Changes[0].Action))
	}
	slices.Sort(got)
	if want := []string{"customer CREATE", "customer READ", "interaction CREATE"}; !slices.Equal(got, want) {
		t.Fatalf("the entries of %s: %v, want %v", at.Format(time.DateOnly), got, want)
	}
}
