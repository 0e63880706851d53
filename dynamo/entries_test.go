package dynamo_test

import (
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// A value a customer drops stays claimed until the stream releases it; a
// value it claimed again before the release stays claimed, however often
// the release is delivered.
func TestADroppedValueIsReleasedByTheStreamUnlessClaimedAgain(t *testing.T) {
	e := mustEnv(t)
	a := mustCreate(t, e, admin, crm.CustomerInput{Name: "Holder", Phones: []string{"+8613700000001"}, Emails: []string{"old@holder.cn"}})
	e.drain(t)

	a, err := e.svc.UpdateCustomer(as(admin), a.ID, a.Version, crm.CustomerUpdate{Emails: []string{"new@holder.cn"}})
	if err != nil {
		t.Fatal(err)
	}
	refused := func(in crm.CustomerInput, field string) {
		t.Helper()
		in.Kind = crm.KindOrganization
		_, err := e.svc.CreateCustomer(as(admin), in)
		var de *crm.Error
		if code(err) != crm.EDUPLICATE || !asErr(err, &de) || de.ExistingID != a.ID || de.Field != field {
			t.Fatalf("create %q: %v, want DUPLICATE of %s on %s", in.Name, err, a.ID, field)
		}
	}
	// Until the stream applies the change, the dropped address is still
	// claimed, and refused as a CONFLICT to retry, not as a duplicate of a
	// customer that no longer holds it; the new one is claimed at once.
	_, err = e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Early", Emails: []string{"old@holder.cn"}})
	var ce *crm.Error
	if code(err) != crm.ECONFLICT || !asErr(err, &ce) || ce.Field != "input.emails[0]" || ce.ExistingID != "" {
		t.Fatalf("create with the address given up a moment ago: %#v, want CONFLICT on input.emails[0]", err)
	}
	refused(crm.CustomerInput{Name: "Second", Emails: []string{"new@holder.cn"}}, "input.emails[0]")
	// An import row with the address is not matched to the customer that
	// gave it up (whose empty fields it would fill) but refused to retry.
	res, err := e.svc.ImportCustomers(as(admin), crm.ImportInput{ImportID: "given-up-address", Duplicates: crm.DuplicateUpdateEmpty,
		Rows: []crm.ImportRow{{Row: 2, Name: "Imported", Emails: []string{"old@holder.cn"}, Industry: "steel"}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Rows[0]; r.Status != crm.ImportRejected || r.ExistingID != "" || len(r.Problems) != 1 || r.Problems[0].Code != crm.ECONFLICT {
		t.Fatalf("import row with the address given up a moment ago: %+v, want rejected as CONFLICT", r)
	}
	if got, err := e.svc.Customer(as(admin), a.ID); err != nil || got.Industry != "" {
		t.Fatalf("the customer that gave the address up: %v, industry %q", err, got.Industry)
	}
	e.drain(t)
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Takes the old address", Emails: []string{"old@holder.cn"}})

	// Dropped and claimed again before the stream runs: the release of the
	// first change leaves the claim of the second.
	dropped, err := e.svc.UpdateCustomer(as(admin), a.ID, a.Version, crm.CustomerUpdate{Phones: []string{"+8613700000002"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err = e.svc.UpdateCustomer(as(admin), a.ID, dropped.Version, crm.CustomerUpdate{Phones: []string{"+8613700000001", "+8613700000002"}})
	if err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	refused(crm.CustomerInput{Name: "Late", Phones: []string{"+86 137 0000 0001"}}, "input.phones[0]")

	// Both changes delivered again, in their order: the claim is the
	// second change's, and stays.
	before := *dropped
	before.Phones, before.Version = []string{"+8613700000001"}, dropped.Version-1
	redelivered := []stream.Change{
		{Event: "MODIFY", Kind: stream.KindProfile, CustomerID: a.ID, CustomerBefore: &before, Customer: dropped},
		{Event: "MODIFY", Kind: stream.KindProfile, CustomerID: a.ID, CustomerBefore: dropped, Customer: a},
	}
	if err := e.store.WriteLookups(t.Context(), redelivered); err != nil {
		t.Fatal(err)
	}
	refused(crm.CustomerInput{Name: "Redelivered", Phones: []string{"+8613700000001"}}, "input.phones[0]")
	e.mustHoldInvariants(t)
}

// A customer's tag entries, which lists by tag read, follow its tags from
// the stream, and a batch delivered again writes the same entries.
func TestTagEntriesFollowTheProfileFromTheStream(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Tagged", Tags: []string{"vip", "north-key"}})
	e.drain(t)
	listed := func(tag string) bool {
		t.Helper()
		page, err := e.svc.Customers(as(admin), crm.CustomerFilter{Tag: tag}, crm.PageRequest{First: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Items) == 1 && page.Items[0].ID == c.ID
	}
	if !listed("vip") || !listed("north-key") {
		t.Fatal("a created customer is not listed by its tags")
	}
	prev := c
	c, err := e.svc.UpdateCustomer(as(admin), c.ID, c.Version, crm.CustomerUpdate{Tags: []string{"vip", "price-sensitive"}})
	if err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if !listed("vip") || !listed("price-sensitive") || listed("north-key") {
		t.Fatal("the lists by tag do not follow the change of tags")
	}
	again := []stream.Change{{Event: "MODIFY", Kind: stream.KindProfile, CustomerID: c.ID, CustomerBefore: prev, Customer: c}}
	if err := e.store.WriteLookups(t.Context(), again); err != nil {
		t.Fatal(err)
	}
	if !listed("vip") || !listed("price-sensitive") || listed("north-key") {
		t.Fatal("a change delivered again moved the tag entries")
	}
	e.mustHoldInvariants(t)
}
