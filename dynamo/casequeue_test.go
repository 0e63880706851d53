package dynamo_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

// deskQueue reads a department's whole queue as u, page by page, and
// returns the ids listed and the queue's total (-1 when it has none).
func deskQueue(t *testing.T, e *env, u *crm.User, q crm.CaseQueueRequest) ([]string, int) {
	t.Helper()
	var ids []string
	total, after := -1, ""
	for range 20 {
		page, err := e.svc.CaseQueue(as(u), q, crm.PageRequest{First: 2, After: after})
		if err != nil {
			t.Fatalf("queue %+v as %s: %v", q, u.ID, err)
		}
		for _, c := range page.Items {
			ids = append(ids, c.ID)
		}
		if page.Total != nil {
			if total, err = page.Total(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if !page.HasNext {
			break
		}
		after = page.EndCursor
	}
	return ids, total
}

// mustMoveCase moves a case or fails the test.
func mustMoveCase(t *testing.T, e *env, u *crm.User, c *crm.Case, m crm.CaseMove) *crm.Case {
	t.Helper()
	next, err := e.svc.MoveCase(as(u), c.CustomerID, c.ID, c.Version, m)
	if err != nil {
		t.Fatalf("move case %s to %s as %s: %v", c.ID, m.To, u.ID, err)
	}
	return next
}

// The service desk's inbox: the cases triaged to its department wait
// unassigned, soonest due first; assignment keeps them in the queue (a
// case assigned while no department holds it takes its assignee's),
// escalation hands the untouched ones to the department's manager, and
// closing, withdrawing or a move to another department takes them out;
// the counts follow every step.
func TestDepartmentQueueFollowsTheServiceDesksCases(t *testing.T) {
	e, clk := poolEnv(t)
	mustStaff(t, e.svc, serviceUser)
	desk, err := e.svc.CreateDepartment(as(admin), crm.DepartmentInput{Name: "Service Desk", Team: "north", ManagerID: manager.ID})
	if err != nil {
		t.Fatal(err)
	}
	billing, err := e.svc.CreateDepartment(as(admin), crm.DepartmentInput{Name: "Billing", Team: "north"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.User(as(admin), serviceUser.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateUser(as(admin), serviceUser.ID, d.Version, crm.UserUpdate{DepartmentID: &desk.ID}); err != nil {
		t.Fatal(err)
	}
	owner := sales1.ID
	north := mustCreate(t, e, admin, crm.CustomerInput{Name: "Harbin Boilers", OwnerID: &owner, Team: "north", Grade: "C"})
	south := mustCreate(t, e, admin, crm.CustomerInput{Name: "Guangzhou Ferries", Team: "south", Grade: "C"})

	// Four complaints a minute apart (C: resolved within 72 hours).
	var cs [4]*crm.Case
	for i, cust := range []*crm.Customer{north, north, north, south} {
		cs[i] = mustOpenCase(t, e, admin, cust.ID, crm.PriorityNormal)
		clk.Advance(time.Minute)
	}
	if ids, n := deskQueue(t, e, admin, crm.CaseQueueRequest{DepartmentID: desk.ID}); len(ids) != 0 || n != 0 {
		t.Fatalf("before triage the desk's queue holds %v (%d): an OPEN case is in no department's queue", ids, n)
	}
	cs[0] = mustMoveCase(t, e, admin, cs[0], crm.CaseMove{To: crm.CaseTriaged, Department: desk.ID})
	cs[1] = mustMoveCase(t, e, admin, cs[1], crm.CaseMove{To: crm.CaseTriaged, Department: desk.ID})
	cs[1] = mustMoveCase(t, e, admin, cs[1], crm.CaseMove{To: crm.CaseAssigned, AssignTo: serviceUser.ID})
	cs[2] = mustMoveCase(t, e, admin, cs[2], crm.CaseMove{To: crm.CaseTriaged})
	cs[2] = mustMoveCase(t, e, admin, cs[2], crm.CaseMove{To: crm.CaseAssigned, AssignTo: serviceUser.ID})
	cs[3] = mustMoveCase(t, e, admin, cs[3], crm.CaseMove{To: crm.CaseTriaged, Department: desk.ID})
	if cs[1].Department != desk.ID || cs[2].Department != desk.ID {
		t.Fatalf("assigned cases' departments %q, %q: want the one triaged to, and the assignee's", cs[1].Department, cs[2].Department)
	}
	all := []string{cs[0].ID, cs[1].ID, cs[2].ID, cs[3].ID}

	// The desk sees what it may read (not the south customer's case), the
	// count counts the whole queue.
	steps := []struct {
		name  string
		user  *crm.User
		q     crm.CaseQueueRequest
		ids   []string
		total int
	}{
		{"the admin, everything", admin, crm.CaseQueueRequest{DepartmentID: desk.ID}, all, 4},
		{"the service desk", serviceUser, crm.CaseQueueRequest{DepartmentID: desk.ID}, all[:3], 4},
		{"its unassigned cases", serviceUser, crm.CaseQueueRequest{DepartmentID: desk.ID, Unassigned: true}, all[:1], 2},
		{"the manager, unassigned", manager, crm.CaseQueueRequest{DepartmentID: desk.ID, Unassigned: true}, all[:1], 2},
		{"overdue: none yet", serviceUser, crm.CaseQueueRequest{DepartmentID: desk.ID, Overdue: true}, nil, 0},
		{"of a status: no count", serviceUser, crm.CaseQueueRequest{DepartmentID: desk.ID, Status: crm.CaseAssigned}, all[1:3], -1},
		{"another department", admin, crm.CaseQueueRequest{DepartmentID: billing.ID}, nil, 0},
	}
	for _, st := range steps {
		if ids, n := deskQueue(t, e, st.user, st.q); !slices.Equal(ids, st.ids) || n != st.total {
			t.Fatalf("%s: %v (%d), want %v (%d)", st.name, ids, n, st.ids, st.total)
		}
	}

	// The agent works one case; three days on all four are overdue, and
	// the job hands the three nobody acted on to the desk's manager.
	cs[1] = mustMoveCase(t, e, serviceUser, cs[1], crm.CaseMove{To: crm.CaseProposed, Plan: "replace the burner"})
	clk.Advance(73 * time.Hour)
	if ids, n := deskQueue(t, e, serviceUser, crm.CaseQueueRequest{DepartmentID: desk.ID, Overdue: true}); !slices.Equal(ids, all[:3]) || n != 4 {
		t.Fatalf("overdue: %v (%d)", ids, n)
	}
	run := runJob(t, e)
	if len(run.Escalated) != 4 {
		t.Fatalf("escalated %v, want all four", run.Escalated)
	}
	for i := range cs {
		if cs[i], err = e.store.Case(as(admin), cs[i].CustomerID, cs[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := []string{cs[0].AssignedTo, cs[1].AssignedTo, cs[2].AssignedTo, cs[3].AssignedTo}; !slices.Equal(got,
		[]string{manager.ID, serviceUser.ID, manager.ID, manager.ID}) {
		t.Fatalf("after escalation assigned to %v", got)
	}
	if ids, n := deskQueue(t, e, manager, crm.CaseQueueRequest{DepartmentID: desk.ID, Unassigned: true}); len(ids) != 0 || n != 0 {
		t.Fatalf("unassigned after escalation: %v (%d), want none", ids, n)
	}
	if ids, n := deskQueue(t, e, manager, crm.CaseQueueRequest{DepartmentID: desk.ID}); !slices.Equal(ids, all[:3]) || n != 4 {
		t.Fatalf("the escalated cases stay in the queue: %v (%d)", ids, n)
	}

	// Closed, withdrawn, moved to another department: out of the queue.
	five := 5
	cs[1] = mustMoveCase(t, e, manager, cs[1], crm.CaseMove{To: crm.CaseApproved})
	cs[1] = mustMoveCase(t, e, serviceUser, cs[1], crm.CaseMove{To: crm.CaseResolved, Note: "replaced"})
	cs[1] = mustMoveCase(t, e, serviceUser, cs[1], crm.CaseMove{To: crm.CaseClosed, Satisfaction: &five})
	cs[2] = mustMoveCase(t, e, manager, cs[2], crm.CaseMove{To: crm.CaseWithdrawn, Note: "fixed it themselves"})
	cs[0] = mustMoveCase(t, e, manager, cs[0], crm.CaseMove{To: crm.CaseAssigned, AssignTo: manager.ID, Department: billing.ID})
	if ids, n := deskQueue(t, e, serviceUser, crm.CaseQueueRequest{DepartmentID: desk.ID}); len(ids) != 0 || n != 1 {
		t.Fatalf("the desk at the end: %v (%d), want only the south case, counted and not shown", ids, n)
	}
	if ids, n := deskQueue(t, e, admin, crm.CaseQueueRequest{DepartmentID: billing.ID}); !slices.Equal(ids, all[:1]) || n != 1 {
		t.Fatalf("billing at the end: %v (%d)", ids, n)
	}
	// A reopened case comes back to its department's queue.
	cs[1] = mustMoveCase(t, e, admin, cs[1], crm.CaseMove{To: crm.CaseReopened, Note: "the burner failed again"})
	if ids, n := deskQueue(t, e, serviceUser, crm.CaseQueueRequest{DepartmentID: desk.ID}); !slices.Equal(ids, all[1:2]) || n != 2 {
		t.Fatalf("after reopening: %v (%d)", ids, n)
	}
	mustHoldInvariants(t, e)
}

// A department's queue is the desk's and its managers': a salesperson, an
// auditor, a manager of another team and a partner are refused, and bad
// arguments name their field.
func TestDepartmentQueueIsReadOnlyByTheDesk(t *testing.T) {
	e, _ := poolEnv(t)
	desk, err := e.svc.CreateDepartment(as(admin), crm.DepartmentInput{Name: "Service Desk", Team: "north", ManagerID: manager.ID})
	if err != nil {
		t.Fatal(err)
	}
	southDesk, err := e.svc.CreateDepartment(as(admin), crm.DepartmentInput{Name: "South Desk", Team: "south", ManagerID: manager.ID})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		user  *crm.User
		q     crm.CaseQueueRequest
		code  string
		field string
	}{
		{"the admin", admin, crm.CaseQueueRequest{DepartmentID: desk.ID}, "", ""},
		{"its team's manager", manager, crm.CaseQueueRequest{DepartmentID: desk.ID}, "", ""},
		{"its manager, of another team", manager, crm.CaseQueueRequest{DepartmentID: southDesk.ID}, "", ""},
		{"its team's service staff", serviceUser, crm.CaseQueueRequest{DepartmentID: desk.ID, Unassigned: true}, "", ""},
		{"a salesperson of its team", sales1, crm.CaseQueueRequest{DepartmentID: desk.ID}, crm.EFORBIDDEN, "departmentId"},
		{"an auditor", auditorUser, crm.CaseQueueRequest{DepartmentID: desk.ID}, crm.EFORBIDDEN, "departmentId"},
		{"another team's manager", managerSouth, crm.CaseQueueRequest{DepartmentID: desk.ID}, crm.EFORBIDDEN, "departmentId"},
		{"another team's service staff", serviceUser, crm.CaseQueueRequest{DepartmentID: southDesk.ID}, crm.EFORBIDDEN, "departmentId"},
		{"a partner", partnerUser, crm.CaseQueueRequest{DepartmentID: desk.ID}, crm.EFORBIDDEN, "departmentId"},
		{"a salesperson guessing a department", sales1, crm.CaseQueueRequest{DepartmentID: "01JNOSUCHDEPT"}, crm.EFORBIDDEN, "departmentId"},
		{"an unknown department", admin, crm.CaseQueueRequest{DepartmentID: "01JNOSUCHDEPT"}, crm.EINVALID, "departmentId"},
		{"a user and a department", admin, crm.CaseQueueRequest{DepartmentID: desk.ID, AssigneeID: sales1.ID}, crm.EINVALID, "assigneeId"},
		{"unassigned without a department", manager, crm.CaseQueueRequest{Unassigned: true}, crm.EINVALID, "unassigned"},
		{"a closed status", serviceUser, crm.CaseQueueRequest{DepartmentID: desk.ID, Status: crm.CaseClosed}, crm.EINVALID, "status"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.CaseQueue(as(tc.user), tc.q, crm.PageRequest{First: 10})
			if code(err) != tc.code {
				t.Fatalf("%v, want %q", err, tc.code)
			}
			if ce, ok := err.(*crm.Error); tc.field != "" && (!ok || ce.Field != tc.field) {
				t.Fatalf("%v does not name %s", err, tc.field)
			}
		})
	}
}

// Open cases given a department before department queues existed join
// its queue through the backfill, once.
func TestDepartmentQueueBackfillPlacesOlderCasesOnce(t *testing.T) {
	e, _ := poolEnv(t)
	desk, err := e.svc.CreateDepartment(as(admin), crm.DepartmentInput{Name: "Service Desk", Team: "north"})
	if err != nil {
		t.Fatal(err)
	}
	cust := mustCreate(t, e, admin, crm.CustomerInput{Name: "Old Desk Customer", Team: "north", Grade: "B"})
	routed := mustMoveCase(t, e, admin, mustOpenCase(t, e, admin, cust.ID, ""), crm.CaseMove{To: crm.CaseTriaged, Department: desk.ID})
	assigned := mustMoveCase(t, e, admin, mustOpenCase(t, e, admin, cust.ID, ""), crm.CaseMove{To: crm.CaseTriaged})
	assigned = mustMoveCase(t, e, admin, assigned, crm.CaseMove{To: crm.CaseAssigned, AssignTo: sales1.ID, Department: desk.ID})
	// Stored as the release before stored them: without the entries.
	for _, c := range []*crm.Case{routed, assigned} {
		if _, err := e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table,
			Key: dynamo.KeyOf("CUST#"+c.CustomerID, "D#"+c.ID), UpdateExpression: aws.String("REMOVE gName, gNameSort, gTeam, gSort")}); err != nil {
			t.Fatal(err)
		}
	}
	if ids, n := deskQueue(t, e, admin, crm.CaseQueueRequest{DepartmentID: desk.ID}); len(ids) != 0 || n != 0 {
		t.Fatalf("before the backfill: %v (%d)", ids, n)
	}
	for range 2 {
		status, err := e.store.Migrate(as(admin), func() bool { return true })
		if m := migrationNamed(status, "2026-12-department-queues"); err != nil || !m.Done || m.Changed != 2 {
			t.Fatalf("backfill: %+v %v", m, err)
		}
	}
	if ids, n := deskQueue(t, e, admin, crm.CaseQueueRequest{DepartmentID: desk.ID}); !slices.Equal(ids, []string{routed.ID, assigned.ID}) || n != 2 {
		t.Fatalf("after the backfill: %v (%d)", ids, n)
	}
	if ids, n := deskQueue(t, e, admin, crm.CaseQueueRequest{DepartmentID: desk.ID, Unassigned: true}); !slices.Equal(ids, []string{routed.ID}) || n != 1 {
		t.Fatalf("unassigned after the backfill: %v (%d)", ids, n)
	}
	mustHoldInvariants(t, e)
}
