package dynamo_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// The new-customer team (新客业务) receives the leads that telesales hand
// (提单); sales-1 and sales-2 of team north are the telesales.
var (
	closer1 = &crm.User{ID: "closer-1", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"newbiz"}}
	closer2 = &crm.User{ID: "closer-2", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"newbiz"}}
	// newbizManager manages the new-customer team.
	newbizManager = &crm.User{ID: "mgr-newbiz", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"newbiz"}}
)

func leadEnv(t *testing.T) (*env, *clock) {
	t.Helper()
	e, clk := poolEnv(t)
	mustStaff(t, e.svc, closer1, closer2, newbizManager)
	e.svc.Leads = crm.LeadPolicy{Teams: []string{"newbiz"}}
	return e, clk
}

func mustLead(t *testing.T, e *env, u *crm.User, in crm.LeadInput) *crm.Lead {
	t.Helper()
	l, err := e.svc.CreateLead(as(u), in)
	if err != nil {
		t.Fatalf("lead on %s by %s: %v", in.CustomerID, u.ID, err)
	}
	return l
}

func leadKey(l *crm.Lead) crm.LeadKey { return crm.LeadKey{CustomerID: l.CustomerID, ID: l.ID} }

// agendaLeads returns the leads on u's agenda today, with the customer
// each shows, and checks the agenda stays within three DynamoDB calls.
func agendaLeads(t *testing.T, e *env, u *crm.User) map[string]*crm.AgendaItem {
	t.Helper()
	e.calls.Store(0)
	a, err := e.svc.Agenda(as(u), time.Time{}, "")
	if err != nil {
		t.Fatalf("agenda of %s: %v", u.ID, err)
	}
	if n := e.calls.Load(); n > 3 {
		t.Fatalf("the agenda of %s made %d DynamoDB calls, want at most 3", u.ID, n)
	}
	out := map[string]*crm.AgendaItem{}
	for _, it := range a.Items {
		if it.Kind == crm.AgendaLead {
			out[it.Lead.ID] = it
		}
	}
	return out
}

func leadNotices(t *testing.T, e *env, u *crm.User) []*crm.Notification {
	t.Helper()
	var out []*crm.Notification
	for _, n := range inbox(t, e, u, false) {
		if n.LeadID != "" {
			out = append(out, n)
		}
	}
	return out
}

// TestLeadFromThePoolIsHandedAcceptedAndTheCustomerMoves follows seed 000's
// 提单: a telesales user picks a company from their group's pool, finds its
// need on the phone and hands it to a salesperson of the new-customer team,
// who sees it on their agenda and in their inbox, accepts it and owns the
// customer, which joins their team.
func TestLeadFromThePoolIsHandedAcceptedAndTheCustomerMoves(t *testing.T) {
	e, clk := leadEnv(t)
	c := mustPooled(t, e, "Kunming Valve Works", "G")
	in := crm.LeadInput{CustomerID: c.ID, Need: "An ERP for two plants, budget approved for next year", Notes: "Call Mr Zhou, IT head",
		HandedTo: closer1.ID, IdempotencyKey: "lead-kunming-valve"}
	if _, err := e.svc.CreateLead(as(sales1), in); code(err) != crm.ECONFLICT {
		t.Fatalf("a lead on a pool customer not claimed: %v, want CONFLICT (claim it first)", err)
	}
	if _, err := e.svc.ClaimCustomer(as(sales1), c.ID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	lead := mustLead(t, e, sales1, in)
	if lead.Status != crm.LeadHanded || lead.QualifiedBy != sales1.ID || lead.HandedTo != closer1.ID || lead.Source != crm.SourceTelesales ||
		lead.Team != "north" || !slices.Equal(lead.ToTeams, []string{"newbiz"}) || !lead.HandedAt.Equal(clk.Now()) || lead.Version != 1 {
		t.Fatalf("new lead %+v: want HANDED by sales-1 to closer-1 at the clock's time, TELESALES, team north to newbiz", lead)
	}
	if again := mustLead(t, e, sales1, in); again.ID != lead.ID {
		t.Fatalf("a retried create made lead %s, want the first, %s", again.ID, lead.ID)
	}
	if list, err := e.svc.CustomerLeads(as(sales1), c.ID, crm.PageRequest{First: 10}); err != nil || len(list.Items) != 1 {
		t.Fatalf("the customer's leads: %v, %v; want the one lead", list, err)
	}

	// The recipient sees it waiting, with the customer, whom a
	// salesperson could not read otherwise.
	if _, err := e.svc.Customer(as(closer1), c.ID); code(err) != crm.ENOTFOUND {
		t.Fatalf("closer-1 reads sales-1's customer: %v, want NOT_FOUND", err)
	}
	waiting := agendaLeads(t, e, closer1)
	if it := waiting[lead.ID]; it == nil || it.Customer == nil || it.Customer.ID != c.ID || !it.At.Equal(lead.HandedAt) {
		t.Fatalf("closer-1's agenda leads %v: want lead %s with its customer, since it was handed", waiting, lead.ID)
	}
	if mine := agendaLeads(t, e, sales1); len(mine) != 0 {
		t.Fatalf("sales-1's agenda shows the lead they handed: %v", mine)
	}
	e.drain(t)
	ns := leadNotices(t, e, closer1)
	if len(ns) != 1 || ns[0].Kind != crm.NoticeLeadHanded || ns[0].LeadID != lead.ID || ns[0].Actor != sales1.ID {
		t.Fatalf("closer-1's lead notifications %+v: want one LEAD_HANDED from sales-1", ns)
	}
	if _, err := e.svc.Lead(as(newbizManager), leadKey(lead)); err != nil {
		t.Fatalf("the receiving team's manager reads the lead: %v", err)
	}

	clk.Advance(time.Hour)
	if _, err := e.svc.AcceptLead(as(closer2), leadKey(lead), 1); code(err) != crm.ENOTFOUND {
		t.Fatalf("closer-2 accepts a lead handed to closer-1: %v, want NOT_FOUND", err)
	}
	accepted, err := e.svc.AcceptLead(as(closer1), leadKey(lead), 1)
	if err != nil {
		t.Fatal(err)
	}
	if accepted.Status != crm.LeadAccepted || accepted.Version != 2 || accepted.DecidedAt == nil || !accepted.DecidedAt.Equal(clk.Now()) {
		t.Fatalf("accepted lead %+v: want ACCEPTED at version 2, decided now", accepted)
	}
	owned := mustCustomer(t, e, c.ID)
	if owned.OwnerID != closer1.ID || owned.Team != "newbiz" || owned.Claim != nil || owned.LastHandover == nil || owned.LastHandover.From != sales1.ID {
		t.Fatalf("after the accept the customer is %s's in team %s (claim %+v, handover %+v): want closer-1's in newbiz, no claim, from sales-1",
			owned.OwnerID, owned.Team, owned.Claim, owned.LastHandover)
	}
	if _, err := e.svc.Customer(as(closer1), c.ID); err != nil {
		t.Fatalf("the new owner reads the customer: %v", err)
	}
	// The telesales user keeps the lead, not the customer.
	if _, err := e.svc.Lead(as(sales1), leadKey(lead)); err != nil {
		t.Fatalf("sales-1 reads the lead they made: %v", err)
	}
	if _, err := e.svc.Customer(as(sales1), c.ID); code(err) != crm.ENOTFOUND {
		t.Fatalf("sales-1 reads the customer they handed: %v, want NOT_FOUND (a salesperson reads their own customers)", err)
	}
	if waiting := agendaLeads(t, e, closer1); len(waiting) != 0 {
		t.Fatalf("an accepted lead stays on closer-1's agenda: %v", waiting)
	}
	if _, err := e.svc.AcceptLead(as(closer1), leadKey(lead), 2); code(err) != crm.ECONFLICT {
		t.Fatalf("accepting an accepted lead: %v, want CONFLICT", err)
	}

	// Audited: the lead's making and its acceptance with the customer's
	// change of hands.
	audit, err := e.svc.AuditLog(as(admin), crm.AuditFilter{CustomerID: c.ID}, crm.PageRequest{First: 50})
	if err != nil {
		t.Fatal(err)
	}
	var leadWrites []string
	for _, a := range audit.Items {
		for _, ch := range a.Changes {
			if ch.Entity == "lead" {
				leadWrites = append(leadWrites, fmt.Sprintf("%s %s by %s", ch.Action, ch.ID, a.Actor))
			}
		}
	}
	slices.Sort(leadWrites)
	if want := []string{"CREATE " + lead.ID + " by sales-1", "UPDATE " + lead.ID + " by closer-1"}; !slices.Equal(leadWrites, want) {
		t.Fatalf("audited lead writes %v, want %v", leadWrites, want)
	}
}

// TestReturnedLeadGoesBackToTheTelesalesUser: the recipient returns a lead
// with a reason; the customer stays with the telesales user, who sees the
// lead on their agenda, is notified, and hands it to someone else.
func TestReturnedLeadGoesBackToTheTelesalesUser(t *testing.T) {
	e, clk := leadEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Dianchi Printing", OwnerID: &owner, Team: "north"})
	lead := mustLead(t, e, sales1, crm.LeadInput{CustomerID: c.ID, Need: "Wants CRM for 40 seats", HandedTo: closer2.ID})

	clk.Advance(2 * time.Hour)
	if _, err := e.svc.ReturnLead(as(closer2), leadKey(lead), 1, "  "); code(err) != crm.EINVALID || errField(err) != "input.reason" {
		t.Fatalf("a return without a reason: %v, want BAD_USER_INPUT on input.reason", err)
	}
	returned, err := e.svc.ReturnLead(as(closer2), leadKey(lead), 1, "They already signed with a competitor last month")
	if err != nil {
		t.Fatal(err)
	}
	if returned.Status != crm.LeadReturned || returned.ReturnReason != "They already signed with a competitor last month" {
		t.Fatalf("returned lead %+v: want RETURNED with the reason", returned)
	}
	if got := mustCustomer(t, e, c.ID); got.OwnerID != sales1.ID || got.Team != "north" {
		t.Fatalf("after the return the customer is %s's in %s, want still sales-1's in north", got.OwnerID, got.Team)
	}
	back := agendaLeads(t, e, sales1)
	if it := back[lead.ID]; it == nil || it.Lead.ReturnReason == "" || !it.At.Equal(clk.Now()) || it.Customer == nil {
		t.Fatalf("sales-1's agenda leads %v: want the returned lead, since its return, with the reason", back)
	}
	if waiting := agendaLeads(t, e, closer2); len(waiting) != 0 {
		t.Fatalf("a returned lead stays on closer-2's agenda: %v", waiting)
	}
	e.drain(t)
	ns := leadNotices(t, e, sales1)
	if len(ns) != 1 || ns[0].Kind != crm.NoticeLeadReturned || ns[0].Actor != closer2.ID {
		t.Fatalf("sales-1's lead notifications %+v: want one LEAD_RETURNED from closer-2", ns)
	}

	// Handed again, to closer-1: off sales-1's agenda, onto closer-1's.
	clk.Advance(time.Hour)
	if _, err := e.svc.HandLead(as(closer2), leadKey(lead), 2, closer1.ID); code(err) != crm.EFORBIDDEN {
		t.Fatalf("the recipient hands the lead on: %v, want FORBIDDEN (its maker hands it)", err)
	}
	again, err := e.svc.HandLead(as(sales1), leadKey(lead), 2, closer1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != crm.LeadHanded || again.HandedTo != closer1.ID || len(again.History) != 3 {
		t.Fatalf("handed again %+v: want HANDED to closer-1, three moves", again)
	}
	if len(agendaLeads(t, e, sales1)) != 0 || agendaLeads(t, e, closer1)[lead.ID] == nil {
		t.Fatal("the lead handed again is not on closer-1's agenda alone")
	}
	// closer-2 still reads what they were handed once.
	if _, err := e.svc.Lead(as(closer2), leadKey(lead)); err != nil {
		t.Fatalf("closer-2 reads a lead once handed to them: %v", err)
	}
	withdrawn, err := e.svc.WithdrawLead(as(sales1), leadKey(lead), 3, "the company closed its plant")
	if err != nil || withdrawn.Status != crm.LeadWithdrawn {
		t.Fatalf("withdraw: %+v, %v", withdrawn, err)
	}
	if len(agendaLeads(t, e, closer1)) != 0 {
		t.Fatal("a withdrawn lead stays on closer-1's agenda")
	}
}

// TestLeadHandoffIsRefusedToAnyoneButTheNewCustomerTeam: the recipient must
// be an active salesperson of a team that receives leads; refusals name the
// field. Partners have no part in leads.
func TestLeadHandoffIsRefusedToAnyoneButTheNewCustomerTeam(t *testing.T) {
	e, _ := leadEnv(t)
	quitter := &crm.User{ID: "closer-quit", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"newbiz"}}
	mustStaff(t, e.svc, quitter)
	d, err := e.svc.User(as(admin), quitter.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DeactivateUser(as(admin), quitter.ID, d.Version); err != nil {
		t.Fatal(err)
	}
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Yunnan Tea Traders", OwnerID: &owner, Team: "north"})
	partner := &crm.User{ID: "apikey-lead", Roles: []crm.Role{crm.RolePartner}, PartnerOrgID: "org-1"}
	for _, tc := range []struct {
		name      string
		by        *crm.User
		to        string
		wantCode  string
		wantField string
	}{
		{"ErrUnknownUser", sales1, "nobody-here", crm.EINVALID, "input.handedTo"},
		{"ErrDeactivatedUser", sales1, quitter.ID, crm.EINVALID, "input.handedTo"},
		{"ErrSalespersonOfAnotherTeam", sales1, "sales-south", crm.EINVALID, "input.handedTo"},
		{"ErrTelesalesColleague", sales1, sales2.ID, crm.EINVALID, "input.handedTo"},
		{"ErrNotASalesperson", sales1, newbizManager.ID, crm.EINVALID, "input.handedTo"},
		{"ErrToThemselves", sales1, sales1.ID, crm.EINVALID, "input.handedTo"},
		{"ErrNotTheirCustomer", sales2, closer1.ID, crm.ENOTFOUND, ""},
		{"ErrManagerMakesNoLead", manager, closer1.ID, crm.EFORBIDDEN, ""},
		{"ErrPartner", partner, closer1.ID, crm.EFORBIDDEN, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.CreateLead(as(tc.by), crm.LeadInput{CustomerID: c.ID, Need: "A new line", HandedTo: tc.to})
			if code(err) != tc.wantCode || (tc.wantField != "" && errField(err) != tc.wantField) {
				t.Fatalf("got %v (field %q), want %s on %q", err, errField(err), tc.wantCode, tc.wantField)
			}
		})
	}
	lead := mustLead(t, e, sales1, crm.LeadInput{CustomerID: c.ID, Need: "A new line", HandedTo: closer1.ID})
	for name, call := range map[string]func() error{
		"read":   func() error { _, err := e.svc.Lead(as(partner), leadKey(lead)); return err },
		"list":   func() error { _, err := e.svc.CustomerLeads(as(partner), c.ID, crm.PageRequest{First: 5}); return err },
		"accept": func() error { _, err := e.svc.AcceptLead(as(partner), leadKey(lead), 1); return err },
		"return": func() error { _, err := e.svc.ReturnLead(as(partner), leadKey(lead), 1, "no"); return err },
	} {
		if err := call(); code(err) != crm.EFORBIDDEN {
			t.Errorf("a partner's %s: %v, want FORBIDDEN", name, err)
		}
	}
	// Without configured teams, a lead stays in the customer's team.
	e.svc.Leads = crm.LeadPolicy{}
	if _, err := e.svc.CreateLead(as(sales1), crm.LeadInput{CustomerID: c.ID, Need: "A new line", HandedTo: closer1.ID}); code(err) != crm.EINVALID {
		t.Fatalf("without LEAD_TEAMS, a lead to another team: %v, want BAD_USER_INPUT", err)
	}
	if _, err := e.svc.CreateLead(as(sales1), crm.LeadInput{CustomerID: c.ID, Need: "A new line", HandedTo: sales2.ID}); err != nil {
		t.Fatalf("without LEAD_TEAMS, a lead to a colleague of the customer's team: %v", err)
	}
}

// TestConcurrentAcceptAndReturnOneWins: the recipient's accept and return
// of the same version race (two devices); one wins, the other hears
// CONFLICT, and the customer's owner agrees with the winner.
func TestConcurrentAcceptAndReturnOneWins(t *testing.T) {
	e, _ := leadEnv(t)
	owner := sales1.ID
	for round := range 4 {
		c := mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprint("Contested Lead ", round), OwnerID: &owner, Team: "north"})
		lead := mustLead(t, e, sales1, crm.LeadInput{CustomerID: c.ID, Need: "Two lines", HandedTo: closer1.ID})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, act := range []func() error{
			func() error { _, err := e.svc.AcceptLead(as(closer1), leadKey(lead), 1); return err },
			func() error { _, err := e.svc.ReturnLead(as(closer1), leadKey(lead), 1, "not ours"); return err },
		} {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = act() }()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || (errs[0] != nil && code(errs[0]) != crm.ECONFLICT) || (errs[1] != nil && code(errs[1]) != crm.ECONFLICT) {
			t.Fatalf("round %d: accept %v, return %v; want exactly one to win and the other CONFLICT", round, errs[0], errs[1])
		}
		got, err := e.svc.Lead(as(sales1), leadKey(lead))
		if err != nil {
			t.Fatal(err)
		}
		wantOwner := sales1.ID
		if errs[0] == nil {
			wantOwner = closer1.ID
		}
		if cu := mustCustomer(t, e, c.ID); cu.OwnerID != wantOwner || got.Version != 2 {
			t.Fatalf("round %d: lead %s v%d, customer owned by %s; want v2 and owner %s", round, got.Status, got.Version, cu.OwnerID, wantOwner)
		}
	}
}
