package dynamo_test

import (
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

// A DUPLICATE names the customer holding the value only to a caller who may
// read that customer: the holder's id is as private as the customer.
func TestDuplicateNamesTheHolderOnlyToWhoMayReadIt(t *testing.T) {
	e := mustEnv(t)
	southOwner := "sales-south"
	foreign := mustCreate(t, e, admin, crm.CustomerInput{Name: "Southern", Team: "south", OwnerID: &southOwner,
		Phones: []string{"+8613700000001"}})
	mine := mustCreate(t, e, sales1, crm.CustomerInput{Name: "Mine", Team: "north", Phones: []string{"+8613700000002"}})

	_, err := e.svc.CreateCustomer(as(sales1), crm.CustomerInput{Kind: crm.KindPerson, Name: "Copy", Team: "north",
		Phones: []string{"+86 137 0000 0001"}})
	var de *crm.Error
	if !asErr(err, &de) || de.Code != crm.EDUPLICATE || de.Field != "input.phones[0]" || de.ExistingID != "" ||
		strings.Contains(de.Message, foreign.ID) {
		t.Fatalf("a salesperson reusing a foreign customer's phone got %#v; want DUPLICATE without the holder", err)
	}
	_, err = e.svc.CreateCustomer(as(sales1), crm.CustomerInput{Kind: crm.KindPerson, Name: "Copy", Team: "north",
		Phones: []string{"+86 137 0000 0002"}})
	if !asErr(err, &de) || de.Code != crm.EDUPLICATE || de.ExistingID != mine.ID {
		t.Fatalf("reusing one's own customer's phone: %#v; want DUPLICATE naming %s", err, mine.ID)
	}
	phones := []string{"+8613700000001"}
	if _, err := e.svc.UpdateCustomer(as(sales1), mine.ID, mine.Version, crm.CustomerUpdate{Phones: phones}); !asErr(err, &de) ||
		de.Code != crm.EDUPLICATE || de.ExistingID != "" {
		t.Fatalf("update to a foreign customer's phone: %#v", err)
	}
}
