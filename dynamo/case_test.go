package dynamo_test

import (
	"slices"
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
	if _, err := e.svc.UpdateCustomer(as(admin), cust.ID, mustCustomer(t, e, cust.ID).Version, crm.CustomerUpdate{OwnerID: &owner}); err != nil {
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
	if _, err := e.svc.MoveCase(as(admin), cust.ID, handled.ID, 1, crm.CaseMove{To: crm.CaseWithdrawn, Note: "the customer called it off"}); err != nil {
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

// A case's first response and its resolution have their own deadlines
// from the grade (C: answered within 24 hours, resolved within 72); the job
// escalates once per deadline that passes. A rejected plan sends the case
// back to be re-planned, open and its clock running, and the manager who
// approves is not the one who proposed (seed 001's 「提出處理方案、提交領導批示」:
// a plan is proposed, then submitted to a leader).
func TestFirstResponseAndResolutionRunOnTheirOwnDeadlines(t *testing.T) {
	e, clk := poolEnv(t)
	const hour = time.Hour
	owner := sales1.ID
	cust := mustCreate(t, e, admin, crm.CustomerInput{Name: "Patient Pumps", Team: "north", Grade: "C", OwnerID: &owner})
	cs := mustOpenCase(t, e, admin, cust.ID, crm.PriorityNormal)
	opened := cs.OpenedAt
	if !cs.RespondBy.Equal(opened.Add(24*hour)) || !cs.ResolveBy.Equal(opened.Add(72*hour)) || !cs.DueAt.Equal(cs.RespondBy) {
		t.Fatalf("deadlines at opening: respond %v resolve %v due %v", cs.RespondBy, cs.ResolveBy, cs.DueAt)
	}
	escalate := func(step string, want bool) {
		t.Helper()
		got, err := e.svc.EscalateOverdue(as(admin))
		if err != nil || slices.Contains(got, cs.ID) != want {
			t.Fatalf("%s: escalated %v (%v), want this case escalated: %v", step, got, err, want)
		}
		if cs, err = e.store.Case(as(admin), cust.ID, cs.ID); err != nil {
			t.Fatal(err)
		}
	}
	move := func(u *crm.User, m crm.CaseMove) {
		t.Helper()
		next, err := e.svc.MoveCase(as(u), cust.ID, cs.ID, cs.Version, m)
		if err != nil {
			t.Fatalf("move to %s by %s: %v", m.To, u.ID, err)
		}
		cs = next
	}

	clk.Advance(30 * hour)
	escalate("no response after 30 hours", true)
	escalate("again at once", false)
	move(sales1, crm.CaseMove{To: crm.CaseTriaged, Note: "called the customer back"})
	if fr := cs.FirstResponseAt(); fr == nil || !fr.Equal(opened.Add(30*hour)) || !cs.DueAt.Equal(cs.ResolveBy) {
		t.Fatalf("after the first response: first response %v, due %v (resolve by %v)", fr, cs.DueAt, cs.ResolveBy)
	}
	clk.Advance(10 * hour)
	escalate("responded, resolution not yet due", false)

	move(sales1, crm.CaseMove{To: crm.CaseAssigned, AssignTo: sales1.ID})
	move(manager, crm.CaseMove{To: crm.CaseProposed, Plan: "credit note"})
	if _, err := e.svc.MoveCase(as(manager), cust.ID, cs.ID, cs.Version, crm.CaseMove{To: crm.CaseApproved}); code(err) != crm.EFORBIDDEN {
		t.Fatalf("the proposer approving their own plan: %v, want FORBIDDEN", err)
	}
	move(admin, crm.CaseMove{To: crm.CasePlanRejected, Note: "visit them first"})
	if !cs.Status.IsOpen() || !cs.DueAt.Equal(opened.Add(72*hour)) {
		t.Fatalf("a rejected plan ended the case or moved its clock: %s due %v", cs.Status, cs.DueAt)
	}
	move(sales1, crm.CaseMove{To: crm.CaseProposed, Plan: "visit, then a credit note"})
	move(manager, crm.CaseMove{To: crm.CaseApproved})

	clk.Advance(33 * hour) // 73 hours after opening
	escalate("resolution overdue", true)
	escalate("again at once", false)
	move(sales1, crm.CaseMove{To: crm.CaseResolved})
	if r := cs.ResolvedAt(); r == nil || !r.Equal(opened.Add(73*hour)) {
		t.Fatalf("resolved at %v", r)
	}

	// One-person teams turn separation of duties off.
	e.svc.SeparateApproval = false
	solo := mustOpenCase(t, e, admin, cust.ID, crm.PriorityNormal)
	cs = solo
	for _, m := range []crm.CaseMove{{To: crm.CaseTriaged}, {To: crm.CaseAssigned, AssignTo: manager.ID},
		{To: crm.CaseProposed, Plan: "refund"}, {To: crm.CaseApproved}} {
		move(manager, m)
	}
}
