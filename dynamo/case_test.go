package dynamo_test

import (
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

func mustOpenCase(t *testing.T, e *env, u *crm.User, customerID string, p crm.Priority) *crm.Case {
	t.Helper()
	it, err := e.svc.LogInteraction(as(u), crm.InteractionInput{CustomerID: customerID, Channel: crm.ChannelCallCenter,
		Direction: crm.Inbound, Type: crm.TypeComplaint, Subject: "Billing error", Priority: p})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.store.Case(as(u), customerID, it.ID)
	if err != nil {
		t.Fatalf("a complaint opened no case: %v", err)
	}
	return c
}

func TestCaseWorkflowAllowsOnlyLegalTransitions(t *testing.T) {
	e, _ := poolEnv(t)
	cust := mustCreate(t, e, admin, crm.CustomerInput{Name: "Complainer", Team: "north", Grade: "A"})
	c := mustOpenCase(t, e, admin, cust.ID, "")
	if c.Status != crm.CaseOpen || c.Priority != crm.PriorityNormal || !c.DueAt.Equal(c.OpenedAt.Add(4*time.Hour)) {
		t.Fatalf("opened case: %+v (grade A answers in 4 hours)", c)
	}
	five := 5
	billing, err := e.svc.CreateDepartment(as(admin), crm.DepartmentInput{Name: "Billing"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		user  *crm.User
		move  crm.CaseMove
		code  string
		field string
	}{
		{admin, crm.CaseMove{To: crm.CaseResolved}, crm.EINVALID, "input.to"}, // cannot skip the workflow
		{admin, crm.CaseMove{To: crm.CaseTriaged, Note: "billing"}, "", ""},
		{admin, crm.CaseMove{To: crm.CaseAssigned}, crm.EINVALID, "input.assignTo"},
		{admin, crm.CaseMove{To: crm.CaseAssigned, AssignTo: "sales-1", Department: billing.ID}, "", ""},
		{sales1, crm.CaseMove{To: crm.CaseProposed}, crm.EINVALID, "input.plan"},
		{sales1, crm.CaseMove{To: crm.CaseProposed, Plan: "refund the overcharge"}, "", ""},
		{sales1, crm.CaseMove{To: crm.CaseApproved}, crm.EFORBIDDEN, ""}, // a manager approves
		{manager, crm.CaseMove{To: crm.CaseApproved}, "", ""},
		{manager, crm.CaseMove{To: crm.CaseResolved, Note: "refunded"}, "", ""},
		{manager, crm.CaseMove{To: crm.CaseClosed}, crm.EINVALID, "input.satisfaction"},
		{manager, crm.CaseMove{To: crm.CaseClosed, Satisfaction: &five}, "", ""},
		{manager, crm.CaseMove{To: crm.CaseApproved}, crm.EINVALID, "input.to"},
		{manager, crm.CaseMove{To: crm.CaseReopened, Note: "billed again"}, "", ""},
	}
	// sales-1 owns nothing here; give them the customer so they may work it.
	owner := sales1.ID
	if _, err := e.svc.UpdateCustomer(as(admin), cust.ID, 2, crm.CustomerUpdate{OwnerID: &owner}); err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		next, err := e.svc.MoveCase(as(st.user), cust.ID, c.ID, c.Version, st.move)
		if code(err) != st.code {
			t.Fatalf("step %d (%s): %v, want %q", i, st.move.To, err, st.code)
		}
		if st.code == "" {
			c = next
			continue
		}
		if e, ok := err.(*crm.Error); st.field != "" && (!ok || e.Field != st.field) {
			t.Fatalf("step %d: error %v does not name %s", i, err, st.field)
		}
	}
	if c.Status != crm.CaseReopened || len(c.Transitions) != 8 || *c.Satisfaction != 5 {
		t.Fatalf("final case: %s with %d steps", c.Status, len(c.Transitions))
	}
	for _, tr := range c.Transitions[1:] {
		if tr.By == "" || tr.At.IsZero() || tr.From == "" {
			t.Fatalf("unrecorded step %+v", tr)
		}
	}
	if _, err := e.svc.MoveCase(as(admin), cust.ID, c.ID, c.Version-1, crm.CaseMove{To: crm.CaseTriaged}); code(err) != crm.ECONFLICT {
		t.Fatalf("stale case version: %v", err)
	}
}

func TestOverdueCasesAreEscalatedOnce(t *testing.T) {
	e, clk := poolEnv(t)
	cust := mustCreate(t, e, admin, crm.CustomerInput{Name: "Waiting", Grade: "C"}) // 24-hour SLA
	slow := mustOpenCase(t, e, admin, cust.ID, crm.PriorityNormal)
	urgent := mustOpenCase(t, e, admin, cust.ID, crm.PriorityUrgent) // 12 hours
	handled := mustOpenCase(t, e, admin, cust.ID, crm.PriorityUrgent)
	if _, err := e.svc.MoveCase(as(admin), cust.ID, handled.ID, 1, crm.CaseMove{To: crm.CaseRejected, Note: "duplicate"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(13 * time.Hour)
	got, err := e.svc.EscalateOverdue(as(admin))
	if err != nil || len(got) != 1 || got[0] != urgent.ID {
		t.Fatalf("after 13h escalated %v (%v), want the urgent case", got, err)
	}
	clk.Advance(12 * time.Hour)
	got, err = e.svc.EscalateOverdue(as(admin))
	if err != nil || len(got) != 1 || got[0] != slow.ID {
		t.Fatalf("after 25h escalated %v (%v), want the normal case only (once each)", got, err)
	}
	c, _ := e.store.Case(as(admin), cust.ID, slow.ID)
	if c.Priority != crm.PriorityUrgent || c.EscalatedAt == nil || c.Transitions[len(c.Transitions)-1].By != crm.SystemUserID {
		t.Fatalf("escalation not recorded: %+v", c)
	}
	page, err := e.svc.Cases(as(admin), cust.ID, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("cases: %v %v", page, err)
	}
}
