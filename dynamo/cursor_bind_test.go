package dynamo_test

import (
	"fmt"
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

// A cursor is bound to the caller's view of a list: the same unfiltered
// list seen by another salesperson, a manager or an admin is another
// list, and a cursor from one is refused on the others.
func TestCursorsAreBoundToTheCallersVisibility(t *testing.T) {
	e := mustEnv(t)
	owner := sales1.ID
	for i := range 3 {
		mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprint("Seen ", i), OwnerID: &owner, Team: "north"})
	}
	page, err := e.svc.Customers(as(sales1), crm.CustomerFilter{}, crm.PageRequest{First: 1})
	if err != nil || !page.HasNext {
		t.Fatalf("%v %+v", err, page)
	}
	if _, err := e.svc.Customers(as(sales1), crm.CustomerFilter{}, crm.PageRequest{First: 1, After: page.EndCursor}); err != nil {
		t.Fatalf("the caller's own cursor: %v", err)
	}
	for _, u := range []*crm.User{sales2, manager, admin} {
		_, err := e.svc.Customers(as(u), crm.CustomerFilter{}, crm.PageRequest{First: 1, After: page.EndCursor})
		var de *crm.Error
		if !asErr(err, &de) || de.Code != crm.EINVALID || de.Field != "after" {
			t.Errorf("%s with %s's cursor: %v, want BAD_USER_INPUT on after", u.ID, sales1.ID, err)
		}
	}
}
