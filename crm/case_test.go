package crm

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// caseWorkflow is the transition table the workflow must have, drawn here
// apart from caseMoves so that adding, dropping or redirecting a move fails
// this test: a row per state a case is in, a column per state it moves to
// (in the order of CaseStatuses), x for a legal move. It follows seed 001's
// handling of an opinion (「判定、處理責任部門確定、提出處理方案、提交領導批示」:
// triage, the responsible department, a handling plan, a leader's approval).
var caseWorkflow = []string{
	//                   OPN TRI ASG PRO PLR APR RES CLO WDN REJ REO
	/* OPEN          */ " .   x   .   .   .   .   .   .   x   .   .",
	/* TRIAGED       */ " .   .   x   .   .   .   .   .   x   .   .",
	/* ASSIGNED      */ " .   .   x   x   .   .   .   .   x   .   .",
	/* PROPOSED      */ " .   .   x   .   x   x   .   .   x   .   .",
	/* PLAN_REJECTED */ " .   .   x   x   .   .   .   .   x   .   .",
	/* APPROVED      */ " .   .   .   .   .   .   x   .   x   .   .",
	/* RESOLVED      */ " .   .   .   .   .   .   .   x   .   .   x",
	/* CLOSED        */ " .   .   .   .   .   .   .   .   .   .   x",
	/* WITHDRAWN     */ " .   .   .   .   .   .   .   .   .   .   x",
	/* REJECTED      */ " .   .   .   .   .   .   .   .   .   .   x",
	/* REOPENED      */ " .   x   x   .   .   .   .   .   x   .   .",
}

// legalMove reads caseWorkflow.
func legalMove(from, to CaseStatus) bool {
	row := strings.Fields(caseWorkflow[slices.Index(CaseStatuses, from)])
	return row[slices.Index(CaseStatuses, to)] == "x"
}

// Every pair of states, legal and not: 11 × 11 moves, each with everything
// its target needs (assignee, plan, satisfaction, a note, a manager) so
// that the table alone decides. Only closing and the customer withdrawing
// end a case; a rejected plan sends it back to be re-planned, and no move
// leads to the REJECTED of the earlier workflow.
func TestCaseTransitionTableIsExactlyTheWorkflow(t *testing.T) {
	mgr := &User{ID: "mgr", Roles: []Role{RoleManager}, Teams: []string{"north"}}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	three := 3
	legal := 0
	for _, from := range CaseStatuses {
		for _, to := range CaseStatuses {
			allowed := legalMove(from, to)
			if allowed {
				legal++
			}
			t.Run(fmt.Sprintf("%s_to_%s", from, to), func(t *testing.T) {
				c := &Case{ID: "c1", Status: from, Version: 4}
				err := applyMove(c, CaseMove{To: to, AssignTo: "sales-1", Plan: "refund", Satisfaction: &three, Note: "because"}, mgr, now, true)
				if !allowed {
					e, ok := err.(*Error)
					if !ok || e.Code != EINVALID || e.Field != "input.to" {
						t.Fatalf("illegal move %s → %s: %v, want BAD_USER_INPUT on input.to", from, to, err)
					}
					if c.Status != from || c.Version != 4 || len(c.Transitions) != 0 {
						t.Fatalf("a refused move changed the case: %+v", c)
					}
					return
				}
				if err != nil {
					t.Fatalf("legal move %s → %s refused: %v", from, to, err)
				}
				last := c.Transitions[len(c.Transitions)-1]
				if c.Status != to || c.Version != 5 || last.From != from || last.To != to || last.By != mgr.ID || !last.At.Equal(now) {
					t.Fatalf("move %s → %s recorded as %+v (case %+v)", from, to, last, c)
				}
			})
		}
	}
	if n := len(CaseStatuses); n != 11 || legal != 24 {
		t.Fatalf("%d states and %d legal moves; the table above pins 11 and 24", n, legal)
	}
}

// What each target needs, and who may make the moves a manager makes.
func TestCaseMoveNeeds(t *testing.T) {
	sales := &User{ID: "sales-1", Roles: []Role{RoleSales}, Teams: []string{"north"}}
	mgr := &User{ID: "mgr", Roles: []Role{RoleManager}, Teams: []string{"north"}}
	admin := &User{ID: "admin", Roles: []Role{RoleAdmin}}
	sat := func(v int) *int { return &v }
	tests := []struct {
		name    string
		from    CaseStatus
		move    CaseMove
		by      *User
		code    string
		field   string
		message string
	}{
		{"AssignNeedsAnAssignee", CaseTriaged, CaseMove{To: CaseAssigned}, sales, EINVALID, "input.assignTo", ""},
		{"ProposeNeedsAPlan", CaseAssigned, CaseMove{To: CaseProposed, Plan: "  "}, sales, EINVALID, "input.plan", ""},
		{"OnlyAManagerApproves", CaseProposed, CaseMove{To: CaseApproved}, sales, EFORBIDDEN, "",
			"only an admin or a manager may approve the plan of a case"},
		{"OnlyAManagerRejectsAPlan", CaseProposed, CaseMove{To: CasePlanRejected, Note: "too costly"}, sales, EFORBIDDEN, "",
			"only an admin or a manager may reject the plan of a case"},
		{"ManagerApproves", CaseProposed, CaseMove{To: CaseApproved}, mgr, "", "", ""},
		{"AdminRejectsAPlanWithWhy", CaseProposed, CaseMove{To: CasePlanRejected, Note: "offer a visit first"}, admin, "", "", ""},
		{"RejectingAPlanNeedsWhy", CaseProposed, CaseMove{To: CasePlanRejected, Note: " "}, admin, EINVALID, "input.note", ""},
		{"WithdrawingNeedsWhatTheCustomerSaid", CaseAssigned, CaseMove{To: CaseWithdrawn}, sales, EINVALID, "input.note", ""},
		{"TheCustomerWithdraws", CaseAssigned, CaseMove{To: CaseWithdrawn, Note: "solved it themselves"}, sales, "", "", ""},
		{"NoOneRejectsACaseOutright", CaseOpen, CaseMove{To: CaseRejected}, admin, EINVALID, "input.to", ""},
		{"CloseNeedsSatisfaction", CaseResolved, CaseMove{To: CaseClosed}, sales, EINVALID, "input.satisfaction", ""},
		{"SatisfactionBelow1", CaseResolved, CaseMove{To: CaseClosed, Satisfaction: sat(0)}, sales, EINVALID, "input.satisfaction", ""},
		{"Satisfaction1", CaseResolved, CaseMove{To: CaseClosed, Satisfaction: sat(1)}, sales, "", "", ""},
		{"Satisfaction5", CaseResolved, CaseMove{To: CaseClosed, Satisfaction: sat(5)}, sales, "", "", ""},
		{"SatisfactionAbove5", CaseResolved, CaseMove{To: CaseClosed, Satisfaction: sat(6)}, sales, EINVALID, "input.satisfaction", ""},
		{"UnknownStatus", CaseOpen, CaseMove{To: "PARKED"}, mgr, EINVALID, "input.to", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{ID: "c1", Status: tt.from, Version: 1}
			err := applyMove(c, tt.move, tt.by, time.Now(), true)
			if ErrorCode(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("err = %v, want code %q", err, tt.code)
			}
			if e, ok := err.(*Error); ok && ((tt.field != "" && e.Field != tt.field) || (tt.message != "" && e.Message != tt.message)) {
				t.Fatalf("err = %+v, want field %q message %q", e, tt.field, tt.message)
			}
		})
	}
}

// A case's first response is the step that takes it out of OPEN: the
// job's escalation and a handover keep it OPEN and answer nobody.
func TestFirstResponseIsTheFirstStepOutOfOpen(t *testing.T) {
	opened := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
	step := func(from, to CaseStatus, h int, note string) CaseTransition {
		return CaseTransition{From: from, To: to, By: "u", At: opened.Add(time.Duration(h) * time.Hour), Note: note}
	}
	for _, tt := range []struct {
		name  string
		steps []CaseTransition
		want  int // hours after opening; -1: none yet
	}{
		{"AwaitingResponse", nil, -1},
		{"Escalated", []CaseTransition{step(CaseOpen, CaseOpen, 15, "escalated")}, -1},
		{"HandedOverThenTriaged", []CaseTransition{step(CaseOpen, CaseOpen, 2, "handed over"), step(CaseOpen, CaseTriaged, 20, "billing")}, 20},
		{"EscalatedThenTriaged", []CaseTransition{step(CaseOpen, CaseOpen, 15, "escalated"), step(CaseOpen, CaseTriaged, 30, "billing")}, 30},
		{"TriagedReopenedTriaged", []CaseTransition{step(CaseOpen, CaseTriaged, 3, ""), step(CaseTriaged, CaseAssigned, 4, ""),
			step(CaseAssigned, CaseWithdrawn, 5, ""), step(CaseWithdrawn, CaseReopened, 6, ""), step(CaseReopened, CaseTriaged, 7, "")}, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{Status: CaseOpen, Transitions: append([]CaseTransition{{To: CaseOpen, By: "u", At: opened}}, tt.steps...)}
			got := c.FirstResponseAt()
			if tt.want < 0 {
				if got != nil {
					t.Fatalf("first response %v; want none yet", got)
				}
				return
			}
			if want := opened.Add(time.Duration(tt.want) * time.Hour); got == nil || !got.Equal(want) {
				t.Fatalf("first response %v; want %v", got, want)
			}
		})
	}
}

// An escalation passes a case on when its holder has not moved it: a
// handover its holder made to themselves moves nothing.
func TestACaseIsActedOnOnlyByAStepOfItsHolderThatMovesIt(t *testing.T) {
	opened := CaseTransition{To: CaseOpen, By: "sales-1"}
	for _, tt := range []struct {
		name  string
		steps []CaseTransition
		want  bool
	}{
		{"OpenedByAnother", []CaseTransition{opened}, false},
		{"HandedOverToItsHolderByItsHolder", []CaseTransition{opened, {From: CaseOpen, To: CaseOpen, By: "mgr"}}, false},
		{"TriagedByItsHolder", []CaseTransition{opened, {From: CaseOpen, To: CaseTriaged, By: "mgr"}}, true},
		{"TriagedByAnother", []CaseTransition{opened, {From: CaseOpen, To: CaseTriaged, By: "sales-2"}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{Status: CaseOpen, AssignedTo: "mgr", Transitions: tt.steps}
			if got := c.actedOn(); got != tt.want {
				t.Fatalf("acted on: %v, want %v", got, tt.want)
			}
		})
	}
}
