package dynamo_test

import (
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

// An organization may carry its unified social credit code: validated,
// normalized, unique like a phone, freed when cleared, and taken over by
// the survivor of a merge; a person has none.
func TestCreditCodeIsValidatedAndUnique(t *testing.T) {
	e := mustEnv(t)
	const cc = "91440300708461136T"
	org := func(name, cc string) (*crm.Customer, error) {
		return e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindOrganization, Name: name, CreditCode: cc})
	}
	a, err := org("Shenzhen Example Ltd", " 9144 0300-7084 6113 6t ")
	if err != nil || a.CreditCode != cc {
		t.Fatalf("create with a code written loosely: %+v %v", a, err)
	}
	for _, tc := range []struct {
		name, cc, code string
		kind           crm.CustomerKind
	}{
		{"TheSameCode", "９１４４０３００７０８４６１１３６Ｔ", crm.EDUPLICATE, crm.KindOrganization},
		{"ACheckCharacterMistyped", "91440300708461136U", crm.EINVALID, crm.KindOrganization},
		{"TooShort", "9144030070846113", crm.EINVALID, crm.KindOrganization},
		{"APerson", "914403001922038216", crm.EINVALID, crm.KindPerson},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: tc.kind, Name: "Other", CreditCode: tc.cc})
			ce, ok := err.(*crm.Error)
			if !ok || ce.Code != tc.code || ce.Field != "input.creditCode" {
				t.Fatalf("%v, want %s on input.creditCode", err, tc.code)
			}
			if tc.code == crm.EDUPLICATE && ce.ExistingID != a.ID {
				t.Fatalf("duplicate names %q, want %s", ce.ExistingID, a.ID)
			}
		})
	}
	// Cleared, the code is free again; a merge's survivor takes the merged
	// customer's; two different codes are two organizations.
	empty := ""
	if _, err := e.svc.UpdateCustomer(as(admin), a.ID, a.Version, crm.CustomerUpdate{CreditCode: &empty}); err != nil {
		t.Fatal(err)
	}
	b, err := org("Shenzhen Example Co", cc)
	if err != nil {
		t.Fatalf("the code after it was cleared: %v", err)
	}
	other, err := org("Another Example", "914403001922038216")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.MergeCustomers(as(admin), crm.MergeInput{SurvivorID: other.ID, MergedID: b.ID,
		ExpectedSurvivorVersion: other.Version, ExpectedMergedVersion: b.Version, Reason: "x"})
	if code(err) != crm.EINVALID {
		t.Fatalf("merging two organizations with different codes: %v", err)
	}
	mustMerge(t, e, admin, mustCustomer(t, e, a.ID), mustCustomer(t, e, b.ID))
	if got := mustCustomer(t, e, a.ID).CreditCode; got != cc {
		t.Fatalf("the survivor's code %q, want the merged customer's", got)
	}
	if _, err := org("Third", cc); code(err) != crm.EDUPLICATE {
		t.Fatalf("the code after the merge: %v, want DUPLICATE", err)
	}
	mustHoldInvariants(t, e)
}
