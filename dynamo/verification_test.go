package dynamo_test

import (
	"fmt"
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

func marked(c *crm.Customer) string {
	var out []string
	for _, m := range c.FieldVerifications {
		out = append(out, fmt.Sprintf("%s:%s", m.Field, m.By))
	}
	return fmt.Sprint(out)
}

func TestFieldVerificationMarksAreSetListedAndDroppedOnEdit(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, sales1, crm.CustomerInput{Name: "Checked Co", Team: "north", Phones: []string{"+8613500000001"}, Industry: "textiles"})
	review := func(u *crm.User, version int, verified bool, fields ...crm.CustomerField) (*crm.Customer, error) {
		return e.svc.ReviewCustomerFields(as(u), c.ID, version, fields, verified)
	}

	got, err := review(manager, 1, true, crm.FieldName, crm.FieldPhones)
	if err != nil || marked(got) != "[NAME:mgr-1 PHONES:mgr-1]" || got.Verification != crm.Unverified {
		t.Fatalf("two of three fields verified: %v %s %s", err, marked(got), got.Verification)
	}
	got, err = review(manager, 2, true, crm.FieldIndustry)
	if err != nil || got.Verification != crm.Verified || got.VerifiedBy != manager.ID || got.VerifiedAt == nil {
		t.Fatalf("every non-empty field verified: %v %+v", err, got)
	}
	if stored := mustCustomer(t, e, c.ID); marked(stored) != "[NAME:mgr-1 PHONES:mgr-1 INDUSTRY:mgr-1]" || stored.Verification != crm.Verified {
		t.Fatalf("stored marks: %s %s", marked(stored), stored.Verification)
	}

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"SalesMayNotVerify", second(review(sales1, 3, true, crm.FieldName)), crm.EFORBIDDEN},
		{"SalesMayNotVerifyThroughUpdate", second(e.svc.UpdateCustomer(as(sales1), c.ID, 3, crm.CustomerUpdate{Verification: ptr(crm.Unverified)})), crm.EFORBIDDEN},
		{"StaleVersion", second(review(manager, 2, true, crm.FieldName)), crm.ECONFLICT},
		{"EmptyFieldHasNothingToVerify", second(review(manager, 3, true, crm.FieldCreditRating)), crm.EINVALID},
		{"NoFields", second(review(manager, 3, true)), crm.EINVALID},
		{"UnknownField", second(review(manager, 3, true, "TAGS")), crm.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code(tc.err) != tc.want {
				t.Fatalf("err = %v, want %s", tc.err, tc.want)
			}
		})
	}

	// The owner edits the phones: their mark goes, the record is unverified
	// again; the other marks stay.
	got, err = e.svc.UpdateCustomer(as(sales1), c.ID, 3, crm.CustomerUpdate{Phones: []string{"+8613500000009"}})
	if err != nil || marked(got) != "[NAME:mgr-1 INDUSTRY:mgr-1]" || got.Verification != crm.Unverified || got.VerifiedBy != "" {
		t.Fatalf("after editing phones: %v %s %s", err, marked(got), got.Verification)
	}
	// An edit that leaves a value as it was (same phones, reordered tags) keeps the marks.
	got, err = e.svc.UpdateCustomer(as(sales1), c.ID, 4, crm.CustomerUpdate{Name: ptr(" Checked Co "), Tags: []string{"x"}})
	if err != nil || marked(got) != "[NAME:mgr-1 INDUSTRY:mgr-1]" {
		t.Fatalf("unchanged name lost its mark: %v %s", err, marked(got))
	}
	// The whole-record flag of updateCustomer marks every non-empty field
	// as checked by the caller, or clears them.
	got, err = e.svc.UpdateCustomer(as(admin), c.ID, 5, crm.CustomerUpdate{Verification: ptr(crm.Verified)})
	if err != nil || marked(got) != "[NAME:admin-1 PHONES:admin-1 INDUSTRY:admin-1]" || got.Verification != crm.Verified || got.VerifiedBy != admin.ID {
		t.Fatalf("verification VERIFIED: %v %s %s", err, marked(got), got.Verification)
	}
	got, err = review(manager, 6, false, crm.FieldIndustry)
	if err != nil || marked(got) != "[NAME:admin-1 PHONES:admin-1]" || got.Verification != crm.Unverified {
		t.Fatalf("withdrawn mark: %v %s", err, marked(got))
	}
	// Asking for what the record already is changes nothing.
	got, err = e.svc.UpdateCustomer(as(manager), c.ID, 7, crm.CustomerUpdate{Verification: ptr(crm.Unverified)})
	if err != nil || marked(got) != "[NAME:admin-1 PHONES:admin-1]" {
		t.Fatalf("UNVERIFIED on an unverified record: %v %s", err, marked(got))
	}
	got, err = e.svc.UpdateCustomer(as(manager), c.ID, 8, crm.CustomerUpdate{Verification: ptr(crm.Verified)})
	if err != nil || got.Verification != crm.Verified {
		t.Fatalf("verification VERIFIED: %v %s", err, marked(got))
	}
	got, err = e.svc.UpdateCustomer(as(manager), c.ID, 9, crm.CustomerUpdate{Verification: ptr(crm.Unverified)})
	if err != nil || len(got.FieldVerifications) != 0 || got.Verification != crm.Unverified {
		t.Fatalf("verification UNVERIFIED: %v %s", err, marked(got))
	}
}

func TestMergeCarriesTheMarksOfTheValuesItKeeps(t *testing.T) {
	e := mustEnv(t)
	sv := mustCreate(t, e, admin, crm.CustomerInput{Name: "Keeper", Team: "north", Phones: []string{"+8613400000001"}})
	m := mustCreate(t, e, admin, crm.CustomerInput{Name: "Gone", Team: "north", Industry: "mining", Phones: []string{"+8613400000002"}})
	sv, err := e.svc.ReviewCustomerFields(as(manager), sv.ID, 1, []crm.CustomerField{crm.FieldName, crm.FieldPhones}, true)
	if err != nil {
		t.Fatal(err)
	}
	m, err = e.svc.ReviewCustomerFields(as(admin), m.ID, 1, []crm.CustomerField{crm.FieldIndustry, crm.FieldPhones}, true)
	if err != nil {
		t.Fatal(err)
	}
	res := mustMerge(t, e, admin, sv, m)
	// Name keeps the survivor's mark, industry comes with the merged
	// customer's; the phones are a new list nobody has checked.
	if marked(res.Survivor) != "[NAME:mgr-1 INDUSTRY:admin-1]" || res.Survivor.Verification != crm.Unverified {
		t.Fatalf("marks after the merge: %s %s", marked(res.Survivor), res.Survivor.Verification)
	}
}
