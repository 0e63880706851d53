package dynamo_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

// The account team (老客业务) takes the customers the new-customer team
// wins; account-1 already serves a customer, account-2 none.
var (
	account1       = &crm.User{ID: "account-1", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"accounts"}}
	account2       = &crm.User{ID: "account-2", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"accounts"}}
	accountManager = &crm.User{ID: "mgr-accounts", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"accounts"}}
	soloManager    = &crm.User{ID: "mgr-solo", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"solo-accounts"}}
)

func handoverNotices(t *testing.T, e *env, u *crm.User, customerID string) []*crm.Notification {
	t.Helper()
	var out []*crm.Notification
	for _, n := range inbox(t, e, u, false) {
		if n.CustomerID == customerID && n.Kind == crm.NoticeCustomerHandedOver {
			out = append(out, n)
		}
	}
	return out
}

// TestFirstWonDealHandsTheCustomerToAnAccountOwner follows seed 000's
// telesales flow to its end: new-customer sales close the deal and the
// customer, now an O, goes to the account staff (ACCOUNT_TEAMS), to the
// salesperson with the fewest customers, while the seller keeps the deal.
// A later deal moves nothing; a contract without a deal hands over too; a
// team without salespeople gives the customer to its manager; a team the
// configuration does not name keeps its customers.
func TestFirstWonDealHandsTheCustomerToAnAccountOwner(t *testing.T) {
	e, clk := leadEnv(t)
	mustStaff(t, e.svc, account1, account2, accountManager, soloManager)
	e.svc.Accounts = crm.AccountPolicy{Teams: map[string]string{"newbiz": "accounts", "solo": "solo-accounts"}}
	a1 := account1.ID
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Existing Account Co", OwnerID: &a1, Team: "accounts"})
	e.drain(t) // its owner's counter
	closer := closer1.ID
	newCustomer := func(name, team string) *crm.Customer {
		return mustCreate(t, e, admin, crm.CustomerInput{Name: name, OwnerID: &closer, Team: team, Industry: "Manufacturing"})
	}

	t.Run("WonDeal", func(t *testing.T) {
		c := newCustomer("Kunming Valve Works", "newbiz")
		deal := mustDeal(t, e, closer1, crm.OpportunityInput{CustomerID: c.ID, Title: "Valve line", Amount: "88000"})
		clk.Advance(1)
		won := mustMove(t, e, closer1, deal, crm.OpportunityMoveInput{Stage: "WON"})
		got := mustCustomer(t, e, c.ID)
		h := got.LastHandover
		if got.Grade.Level != "O" || got.OwnerID != account2.ID || got.Team != "accounts" || h == nil || h.From != closer1.ID ||
			h.To != account2.ID || h.By != crm.SystemUserID || !strings.Contains(h.Reason, "account team accounts") {
			t.Fatalf("after the win: grade %s, owner %s, team %s, handover %+v; want O, account-2 (fewest customers) in accounts, handed by the system from closer-1",
				got.Grade.Level, got.OwnerID, got.Team, h)
		}
		deal2, err := e.svc.Opportunity(as(admin), crm.OpportunityKey{CustomerID: c.ID, ID: won.ID})
		if err != nil || deal2.OwnerID != closer1.ID || deal2.Team != "newbiz" {
			t.Fatalf("the won deal after the handover: %+v, %v; want it still closer-1's in newbiz", deal2, err)
		}
		if ns := handoverNotices(t, e, closer1, c.ID); len(ns) != 1 || ns[0].To != account2.ID || !strings.Contains(ns[0].Message, "stays yours") {
			t.Fatalf("closer-1's handover notices %+v; want one saying account-2 took the customer", ns)
		}
		if ns := handoverNotices(t, e, account2, c.ID); len(ns) != 1 || ns[0].From != closer1.ID {
			t.Fatalf("account-2's handover notices %+v; want one from closer-1", ns)
		}
		audit, err := e.svc.AuditLog(as(admin), crm.AuditFilter{CustomerID: c.ID}, crm.PageRequest{First: 50})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(audit.Items, func(a *crm.AuditEntry) bool {
			return a.Actor == crm.SystemUserID && slices.ContainsFunc(a.Changes, func(ch crm.AuditChange) bool {
				return ch.Entity == "customer" && slices.ContainsFunc(ch.Fields, func(f crm.FieldChange) bool { return f.Name == "ownerId" })
			})
		}) {
			t.Fatalf("no system audit entry records the owner's change: %+v", audit.Items)
		}

		// A second deal, won by the account owner, moves nothing.
		more := mustDeal(t, e, account2, crm.OpportunityInput{CustomerID: c.ID, Title: "Spare valves", Amount: "9000"})
		clk.Advance(1)
		mustMove(t, e, account2, more, crm.OpportunityMoveInput{Stage: "WON"})
		if again := mustCustomer(t, e, c.ID); again.OwnerID != account2.ID || again.LastHandover == nil || !again.LastHandover.At.Equal(h.At) {
			t.Fatalf("after a second deal the customer is %s's, handover %+v; want account-2's, no new handover", again.OwnerID, again.LastHandover)
		}
	})

	t.Run("ContractWithoutDeal", func(t *testing.T) {
		c := newCustomer("Fjord Logistics", "newbiz")
		_, err := e.svc.CreateContract(as(closer1), crm.ContractInput{CustomerID: c.ID, Title: "Service contract", Amount: "30000",
			SignedOn: day(2026, 3, 1), EndsOn: day(2027, 2, 28), Instalments: []crm.InstalmentInput{{DueOn: day(2026, 4, 1), Amount: "30000"}}})
		if err != nil {
			t.Fatal(err)
		}
		// account-2 holds one customer now, account-1 one: ties go by id.
		if got := mustCustomer(t, e, c.ID); got.Grade.Level != "O" || got.OwnerID != account1.ID || got.Team != "accounts" {
			t.Fatalf("after the contract: grade %s, owner %s, team %s; want O, account-1 (a tie, by id) in accounts", got.Grade.Level, got.OwnerID, got.Team)
		}
	})

	t.Run("TeamWithoutSalespeopleGoesToItsManager", func(t *testing.T) {
		c := newCustomer("Solo Ltd", "solo")
		deal := mustDeal(t, e, admin, crm.OpportunityInput{CustomerID: c.ID, Title: "Trial", Amount: "1000", OwnerID: closer})
		clk.Advance(1)
		mustMove(t, e, admin, deal, crm.OpportunityMoveInput{Stage: "WON"})
		if got := mustCustomer(t, e, c.ID); got.OwnerID != soloManager.ID || got.Team != "solo-accounts" {
			t.Fatalf("after the win: owner %s, team %s; want mgr-solo in solo-accounts", got.OwnerID, got.Team)
		}
	})

	t.Run("TeamNotConfiguredStays", func(t *testing.T) {
		c := newCustomer("North Mill", "north")
		deal := mustDeal(t, e, admin, crm.OpportunityInput{CustomerID: c.ID, Title: "Mill", Amount: "5000", OwnerID: closer})
		clk.Advance(1)
		mustMove(t, e, admin, deal, crm.OpportunityMoveInput{Stage: "WON"})
		if got := mustCustomer(t, e, c.ID); got.Grade.Level != "O" || got.OwnerID != closer1.ID || got.LastHandover != nil {
			t.Fatalf("after the win: grade %s, owner %s, handover %+v; want O, still closer-1's, no handover", got.Grade.Level, got.OwnerID, got.LastHandover)
		}
	})
	mustHoldInvariants(t, e)
}
