package crm

import (
	"slices"
	"testing"
	"time"
)

func TestParseLeadTeams(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		wantErr  bool
	}{
		{"OK", "newbiz-north, newbiz-south", []string{"newbiz-north", "newbiz-south"}, false},
		{"OKTwiceOnce", "newbiz,newbiz", []string{"newbiz"}, false},
		{"ErrEmptyName", "newbiz,,other", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseLeadTeams(tc.in)
			if (err != nil) != tc.wantErr || (!tc.wantErr && !slices.Equal(p.Teams, tc.want)) {
				t.Fatalf("ParseLeadTeams(%q) = %v, %v; want %v (error %v)", tc.in, p.Teams, err, tc.want, tc.wantErr)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("error %v, want BAD_USER_INPUT", err)
			}
		})
	}
}

// TestLeadNoticesTellTheRecipientAndTheMaker: a handed lead tells its
// recipient, a returned one its maker, each once per move; an accept or a
// rewrite tells nobody.
func TestLeadNoticesTellTheRecipientAndTheMaker(t *testing.T) {
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	handed := &Lead{ID: "L1", CustomerID: "C1", Need: "An ERP", QualifiedBy: "tele-1", HandedTo: "closer-1", HandedAt: at,
		Status: LeadHanded, Version: 1, UpdatedAt: at, UpdatedBy: "tele-1"}
	returned := handed.Clone()
	returned.Status, returned.Version, returned.ReturnReason, returned.UpdatedBy = LeadReturned, 2, "signed elsewhere", "closer-1"
	accepted := handed.Clone()
	accepted.Status, accepted.Version, accepted.UpdatedBy = LeadAccepted, 2, "closer-1"
	for _, tc := range []struct {
		name       string
		prev, next *Lead
		want       string // user:kind, or ""
	}{
		{"HandedTellsTheRecipient", nil, handed, "closer-1:LEAD_HANDED"},
		{"ReturnedTellsTheMaker", handed, returned, "tele-1:LEAD_RETURNED"},
		{"AcceptedTellsNobody", handed, accepted, ""},
		{"RewriteTellsNobody", handed, handed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := leadNotices(tc.prev, tc.next)
			got := ""
			if len(ns) == 1 {
				got = ns[0].UserID + ":" + string(ns[0].Kind)
				if ns[0].LeadID != "L1" || ns[0].CustomerID != "C1" {
					t.Fatalf("notice %+v does not name the lead and its customer", ns[0])
				}
				if again := leadNotices(tc.prev, tc.next); again[0].ID != ns[0].ID {
					t.Fatalf("derived again, the notice's id changed: %s, %s", ns[0].ID, again[0].ID)
				}
			} else if len(ns) > 1 {
				t.Fatalf("%d notices, want at most one", len(ns))
			}
			if got != tc.want {
				t.Fatalf("notices %q, want %q", got, tc.want)
			}
		})
	}
}

// TestALeadShowsItsCustomerToItsRecipientOnlyWhileItWaits: the agenda's
// grant ends when the lead is decided or the customer changes hands; a
// manager reading the recipient's agenda gets no grant of their own.
func TestALeadShowsItsCustomerToItsRecipientOnlyWhileItWaits(t *testing.T) {
	closer := &User{ID: "closer-1", Roles: []Role{RoleSales}, Teams: []string{"newbiz"}}
	manager := &User{ID: "boss", Roles: []Role{RoleManager}, Teams: []string{"newbiz"}}
	waiting := &Lead{ID: "L1", CustomerID: "C1", QualifiedBy: "tele-1", HandedTo: "closer-1", Status: LeadHanded}
	held := &Customer{ID: "C1", OwnerID: "tele-1", Team: "tele", Status: StatusActive}
	returned := waiting.Clone()
	returned.Status = LeadReturned
	reassigned := held.Clone()
	reassigned.OwnerID = "sales-9"
	archived := held.Clone()
	archived.Status = StatusArchived
	for _, tc := range []struct {
		name string
		u    *User
		l    *Lead
		c    *Customer
		want bool
	}{
		{"WaitingForTheRecipient", closer, waiting, held, true},
		{"Returned", closer, returned, held, false},
		{"ReassignedMeanwhile", closer, waiting, reassigned, false},
		{"Archived", closer, waiting, archived, false},
		{"ManagerOfTheRecipientOutsideTheCustomersTeam", manager, waiting, held, false},
		{"NoCustomer", closer, waiting, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := leadShowsCustomer(tc.u, tc.l, tc.c); got != tc.want {
				t.Fatalf("leadShowsCustomer = %v, want %v", got, tc.want)
			}
		})
	}
}
