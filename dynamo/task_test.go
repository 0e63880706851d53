package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

func mustTask(t *testing.T, e *env, u *crm.User, in crm.TaskInput) *crm.Task {
	t.Helper()
	if in.Type == "" {
		in.Type = crm.TaskCallBack
	}
	k, err := e.svc.CreateTask(as(u), in)
	if err != nil {
		t.Fatalf("create task %q: %v", in.Title, err)
	}
	return k
}

func TestCreateTaskChecksTheAssigneeAndTheCallersRights(t *testing.T) {
	e := mustEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Power", OwnerID: &owner, Team: "north"})
	other := mustCreate(t, e, admin, crm.CustomerInput{Name: "Southern Grid", OwnerID: &sales3.ID, Team: "south"})
	due := time.Now().Add(24 * time.Hour)
	cases := []struct {
		name  string
		user  *crm.User
		in    crm.TaskInput
		code  string
		field string
	}{
		{"OwnerPlansForThemselves", sales1, crm.TaskInput{CustomerID: c.ID, DueAt: due}, "", ""},
		{"ManagerAssignsATeamMember", manager, crm.TaskInput{CustomerID: c.ID, DueAt: due, AssigneeID: sales2.ID}, "", ""},
		{"SalesCannotAssignSomeoneElse", sales1, crm.TaskInput{CustomerID: c.ID, DueAt: due, AssigneeID: sales2.ID}, crm.EFORBIDDEN, "input.assigneeId"},
		{"UnknownAssigneeIsBadInput", manager, crm.TaskInput{CustomerID: c.ID, DueAt: due, AssigneeID: "sales-typo"}, crm.EINVALID, "input.assigneeId"},
		{"DeactivatedAssigneeIsBadInput", admin, crm.TaskInput{CustomerID: c.ID, DueAt: due, AssigneeID: "sales-leaver"}, crm.EINVALID, "input.assigneeId"},
		{"NoDueTimeIsBadInput", sales1, crm.TaskInput{CustomerID: c.ID}, crm.EINVALID, "input.dueAt"},
		{"UnknownTypeIsBadInput", sales1, crm.TaskInput{CustomerID: c.ID, DueAt: due, Type: "LUNCH"}, crm.EINVALID, "input.type"},
		{"AnotherSalespersonsCustomerIsHidden", sales1, crm.TaskInput{CustomerID: other.ID, DueAt: due}, crm.ENOTFOUND, ""},
		{"PartnersNever", partnerUser, crm.TaskInput{CustomerID: c.ID, DueAt: due}, crm.ENOTFOUND, ""},
	}
	leaver, err := e.svc.User(as(admin), "sales-leaver")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DeactivateUser(as(admin), leaver.ID, leaver.Version); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.Type == "" {
				tc.in.Type = crm.TaskCallBack
			}
			_, err := e.svc.CreateTask(as(tc.user), tc.in)
			var ce *crm.Error
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.code != "" && code(err) != tc.code:
				t.Fatalf("got %v, want %s", err, tc.code)
			case tc.field != "" && (!asErr(err, &ce) || ce.Field != tc.field):
				t.Fatalf("error %v names the wrong field, want %s", err, tc.field)
			}
		})
	}
}

func TestCreateTaskIsIdempotentAndAudited(t *testing.T) {
	e := mustEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Power", OwnerID: &owner, Team: "north"})
	in := crm.TaskInput{IdempotencyKey: "task-key-0001", CustomerID: c.ID, Type: crm.TaskSendQuote, Title: "Quote for 2 turbines",
		DueAt: time.Now().Add(48 * time.Hour)}
	first := mustTask(t, e, sales1, in)
	again := mustTask(t, e, sales1, in)
	if again.ID != first.ID {
		t.Fatalf("a retry created task %s besides %s", again.ID, first.ID)
	}
	in.Title = "Another quote"
	if _, err := e.svc.CreateTask(as(sales1), in); code(err) != crm.ECONFLICT {
		t.Fatalf("a key reused for another request: %v, want CONFLICT", err)
	}
	page, err := e.svc.Tasks(as(sales1), c.ID, crm.PageRequest{First: 10})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("tasks %v %v, want one", page, err)
	}
	log, err := e.svc.AuditLog(as(admin), crm.AuditFilter{CustomerID: c.ID}, crm.PageRequest{First: 50})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(log.Items, func(a *crm.AuditEntry) bool {
		return slices.ContainsFunc(a.Changes, func(ch crm.AuditChange) bool {
			return ch.Entity == "task" && ch.ID == first.ID && ch.Action == crm.AuditCreate
		})
	}) {
		t.Fatal("the task's creation is not audited")
	}
}

func TestTaskChangesAreVersionedAndEndWithTheTask(t *testing.T) {
	e := mustEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Power", OwnerID: &owner, Team: "north"})
	k := mustTask(t, e, sales1, crm.TaskInput{CustomerID: c.ID, DueAt: time.Now().Add(time.Hour)})
	later := time.Now().Add(5 * time.Hour)
	moved, err := e.svc.UpdateTask(as(sales1), c.ID, k.ID, k.Version, crm.TaskUpdate{DueAt: &later, Notes: ptr("after lunch")})
	if err != nil || moved.Version != 2 || moved.Notes != "after lunch" {
		t.Fatalf("update: %+v %v", moved, err)
	}
	if _, err := e.svc.UpdateTask(as(sales1), c.ID, k.ID, k.Version, crm.TaskUpdate{Notes: ptr("stale")}); code(err) != crm.ECONFLICT {
		t.Fatalf("stale update: %v, want CONFLICT", err)
	}
	if _, err := e.svc.UpdateTask(as(sales1), c.ID, k.ID, moved.Version, crm.TaskUpdate{AssigneeID: ptr(sales2.ID)}); code(err) != crm.EFORBIDDEN {
		t.Fatalf("sales reassigning: %v, want FORBIDDEN", err)
	}
	gone, err := e.svc.CancelTask(as(sales1), c.ID, k.ID, moved.Version, "customer asked us not to call")
	if err != nil || gone.Status != crm.TaskCancelled || gone.ClosedBy != sales1.ID {
		t.Fatalf("cancel: %+v %v", gone, err)
	}
	if _, _, err := e.svc.CompleteTask(as(sales1), c.ID, k.ID, gone.Version, crm.TaskCompletion{Outcome: "called"}); code(err) != crm.ECONFLICT {
		t.Fatalf("completing a cancelled task: %v, want CONFLICT", err)
	}
}

// Completing a callback logs the call in the same write: the interaction
// is on the timeline, the task names it, and the follow-up moves.
func TestCompletingACallbackLogsTheCall(t *testing.T) {
	e := mustEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Power", OwnerID: &owner, Team: "north", Grade: "A"})
	k := mustTask(t, e, sales1, crm.TaskInput{CustomerID: c.ID, Title: "Confirm the delivery date", DueAt: time.Now().Add(time.Hour)})
	if _, _, err := e.svc.CompleteTask(as(sales1), c.ID, k.ID, k.Version, crm.TaskCompletion{}); code(err) != crm.EINVALID {
		t.Fatalf("no outcome: %v, want BAD_USER_INPUT", err)
	}
	if _, _, err := e.svc.CompleteTask(as(sales1), c.ID, k.ID, k.Version, crm.TaskCompletion{Outcome: "x", Type: crm.TypeComplaint}); code(err) != crm.EINVALID {
		t.Fatalf("a case type: %v, want BAD_USER_INPUT", err)
	}
	done, it, err := e.svc.CompleteTask(as(sales1), c.ID, k.ID, k.Version, crm.TaskCompletion{Outcome: "delivery on the 12th"})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != crm.TaskDone || done.InteractionID != it.ID || it.Type != crm.TypeCall || it.Channel != crm.ChannelPhone ||
		it.Subject != "Confirm the delivery date" || it.HandledBy != sales1.ID {
		t.Fatalf("completed %+v with %+v", done, it)
	}
	stored, err := e.store.Interaction(context.Background(), crm.InteractionKey{CustomerID: c.ID, ID: it.ID})
	if err != nil || stored.Outcome != "delivery on the 12th" {
		t.Fatalf("the call is not on the timeline: %v %v", stored, err)
	}
	if got := mustCustomer(t, e, c.ID).NextFollowUpAt; got == nil || !got.Equal(it.OccurredAt.Add(7*24*time.Hour)) {
		t.Fatalf("next follow-up %v, want a week after the call", got)
	}
	if _, _, err := e.svc.CompleteTask(as(sales1), c.ID, k.ID, k.Version, crm.TaskCompletion{Outcome: "again"}); code(err) != crm.ECONFLICT {
		t.Fatalf("completing twice: %v, want CONFLICT", err)
	}
}

// agendaOf reads u's agenda (of userID) on day and checks that it took at
// most three DynamoDB calls.
func agendaOf(t *testing.T, e *env, u *crm.User, day time.Time, userID string) []string {
	t.Helper()
	e.drain(t)
	e.calls.Store(0)
	a, err := e.svc.Agenda(as(u), day, userID)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.calls.Load(); n > 3 {
		t.Fatalf("the agenda made %d DynamoDB calls, want at most 3", n)
	}
	var out []string
	for _, it := range a.Items {
		s := string(it.Kind) + " " + it.Customer.Name
		if it.Overdue {
			s += " (overdue)"
		}
		out = append(out, s)
	}
	return out
}

// A salesperson's week through the agenda: follow-ups move with each
// contact by the grade's interval, tasks and an assigned case appear on
// their day and leave when done, and a claim about to lapse warns.
func TestASalespersonsWeekThroughTheAgenda(t *testing.T) {
	e := mustEnv(t)
	monday := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clk := &tickingClock{t: monday.Add(-7 * 24 * time.Hour)}
	e.svc.Now = clk.Now
	owner := sales1.ID
	acme := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Power", OwnerID: &owner, Team: "north", Region: "north", Grade: "A"})
	boreal := mustCreate(t, e, admin, crm.CustomerInput{Name: "Borealis Grid", OwnerID: &owner, Team: "north", Region: "north", Grade: "C"})
	nobody := ""
	cathay := mustCreate(t, e, admin, crm.CustomerInput{Name: "Cathay Cables", OwnerID: &nobody, Team: "north", Region: "north", Grade: "C"})
	// Last Monday, 8 o'clock: a call with Acme (A: every 7 days).
	clk.Advance(-time.Hour)
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: acme.ID, Type: crm.TypeCall})
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: boreal.ID, Type: crm.TypeCall})
	clk.Advance(monday.Sub(clk.Now()))

	// Monday: Acme's follow-up is an hour overdue.
	if got := agendaOf(t, e, sales1, time.Time{}, ""); !slices.Equal(got, []string{"FOLLOW_UP Acme Power (overdue)"}) {
		t.Fatalf("Monday's agenda: %v", got)
	}
	tuesday, wednesday := monday.Add(24*time.Hour), monday.Add(48*time.Hour)
	mustTask(t, e, manager, crm.TaskInput{CustomerID: boreal.ID, Type: crm.TaskVisit, Title: "Site visit", AssigneeID: sales1.ID,
		DueAt: tuesday.Add(5 * time.Hour), Priority: crm.PriorityHigh})
	mustTask(t, e, sales1, crm.TaskInput{CustomerID: acme.ID, Title: "Call about the tender", DueAt: wednesday.Add(time.Hour)})
	if _, err := e.svc.ClaimCustomer(as(sales1), cathay.ID); err != nil { // C: 7 days, until next Monday 9:00
		t.Fatal(err)
	}
	// C answers in 24 hours and resolves in 72: triage is the first
	// response, so the case is due for resolution on Thursday at 9:00.
	complaint := mustOpenCase(t, e, admin, boreal.ID, crm.PriorityNormal)
	k, err := e.svc.MoveCase(as(admin), boreal.ID, complaint.ID, complaint.Version, crm.CaseMove{To: crm.CaseTriaged})
	if err != nil {
		t.Fatal(err)
	}
	if k, err = e.svc.MoveCase(as(admin), boreal.ID, k.ID, k.Version, crm.CaseMove{To: crm.CaseAssigned, AssignTo: sales1.ID}); err != nil {
		t.Fatal(err)
	}
	// The call clears Acme's follow-up until next Monday.
	clk.Advance(time.Hour)
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: acme.ID, Type: crm.TypeCall})
	if got := agendaOf(t, e, sales1, time.Time{}, ""); len(got) != 0 {
		t.Fatalf("Monday after the call: %v", got)
	}
	// A look at Tuesday and Thursday ahead of time.
	if got := agendaOf(t, e, sales1, tuesday, ""); !slices.Equal(got, []string{"TASK Borealis Grid"}) {
		t.Fatalf("Tuesday's agenda: %v", got)
	}
	thursday := monday.Add(72 * time.Hour)
	if got := agendaOf(t, e, sales1, thursday, ""); !slices.Equal(got, []string{"TASK Borealis Grid", "TASK Acme Power", "CASE Borealis Grid"}) {
		t.Fatalf("Thursday's agenda, seen on Monday: %v", got)
	}

	// Tuesday: the visit is done; completing it logs the visit, which
	// moves Borealis's follow-up three weeks on.
	clk.Advance(tuesday.Add(6 * time.Hour).Sub(clk.Now()))
	if got := agendaOf(t, e, sales1, time.Time{}, ""); !slices.Equal(got, []string{"TASK Borealis Grid (overdue)"}) {
		t.Fatalf("Tuesday's agenda: %v", got)
	}
	visit := taskOn(t, e, boreal.ID)
	_, it, err := e.svc.CompleteTask(as(sales1), boreal.ID, visit.ID, visit.Version, crm.TaskCompletion{Outcome: "met the plant manager"})
	if err != nil {
		t.Fatal(err)
	}
	if it.Type != crm.TypeVisit {
		t.Fatalf("a completed visit logged a %s", it.Type)
	}
	if got := agendaOf(t, e, sales1, time.Time{}, ""); len(got) != 0 {
		t.Fatalf("Tuesday after the visit: %v", got)
	}
	if got := mustCustomer(t, e, boreal.ID).NextFollowUpAt; got == nil || !got.Equal(it.OccurredAt.Add(21*24*time.Hour)) {
		t.Fatalf("Borealis's next follow-up %v, want three weeks after the visit", got)
	}

	// Thursday: the complaint and the tender call are overdue.
	clk.Advance(thursday.Add(time.Hour).Sub(clk.Now()))
	if got := agendaOf(t, e, sales1, time.Time{}, ""); !slices.Equal(got, []string{"TASK Acme Power (overdue)", "CASE Borealis Grid (overdue)"}) {
		t.Fatalf("Thursday's agenda: %v", got)
	}
	// Their manager sees it too; a manager of another team and a
	// colleague do not.
	if got := agendaOf(t, e, manager, time.Time{}, sales1.ID); len(got) != 2 {
		t.Fatalf("the manager's view of Thursday: %v", got)
	}
	for _, u := range []*crm.User{managerSouth, sales2, partnerUser} {
		if _, err := e.svc.Agenda(as(u), time.Time{}, sales1.ID); code(err) != crm.EFORBIDDEN {
			t.Fatalf("%s reading sales-1's agenda: %v, want FORBIDDEN", u.ID, err)
		}
	}
	if _, err := e.svc.Agenda(as(manager), time.Time{}, "nobody-at-all"); code(err) != crm.EFORBIDDEN {
		t.Fatalf("a manager asking for an unknown user: %v, want FORBIDDEN", err)
	}

	// The complaint is resolved: it leaves the agenda.
	for _, m := range []crm.CaseMove{{To: crm.CaseProposed, Plan: "credit note"}, {To: crm.CaseApproved}, {To: crm.CaseResolved}} {
		by := admin
		if m.To == crm.CaseApproved {
			by = admin2 // not the proposer
		}
		if k, err = e.svc.MoveCase(as(by), boreal.ID, k.ID, k.Version, m); err != nil {
			t.Fatal(err)
		}
	}

	// Saturday: the claim on Cathay lapses on Monday at 9, within 48
	// hours; Acme comes due again on Monday, not yet.
	saturday := monday.Add(5*24*time.Hour + 10*time.Hour)
	clk.Advance(saturday.Sub(clk.Now()))
	got := agendaOf(t, e, sales1, time.Time{}, "")
	if !slices.Equal(got, []string{"TASK Acme Power (overdue)", "CLAIM Cathay Cables"}) {
		t.Fatalf("Saturday's agenda: %v", got)
	}
	// A call with Cathay makes the claim ownership: the warning goes.
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: cathay.ID, Type: crm.TypeCall})
	got = agendaOf(t, e, sales1, time.Time{}, "")
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "CLAIM") }) {
		t.Fatalf("Saturday after the call with Cathay: %v", got)
	}
}

func taskOn(t *testing.T, e *env, customerID string) *crm.Task {
	t.Helper()
	page, err := e.svc.Tasks(as(admin), customerID, crm.PageRequest{First: 1})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("no task on %s: %v", customerID, err)
	}
	return page.Items[0]
}

// Cases assigned and claims made before agendas existed get their agenda
// pointers from a migration, once.
func TestAgendaPointersMigrationPutsOldCasesAndClaimsOnTheAgenda(t *testing.T) {
	e, clk := poolEnv(t)
	cathay := mustPooled(t, e, "Cathay Cables", "C")
	if _, err := e.svc.ClaimCustomer(as(sales1), cathay.ID); err != nil {
		t.Fatal(err)
	}
	owner := sales1.ID
	boreal := mustCreate(t, e, admin, crm.CustomerInput{Name: "Borealis Grid", OwnerID: &owner, Team: "north", Grade: "C"})
	c := mustOpenCase(t, e, admin, boreal.ID, crm.PriorityNormal)
	c, err := e.svc.MoveCase(as(admin), boreal.ID, c.ID, c.Version, crm.CaseMove{To: crm.CaseTriaged})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.MoveCase(as(admin), boreal.ID, c.ID, c.Version, crm.CaseMove{To: crm.CaseAssigned, AssignTo: sales1.ID}); err != nil {
		t.Fatal(err)
	}
	// The data as the release before agendas left it: no pointers.
	res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table, FilterExpression: aws.String("#t = :a"),
		ExpressionAttributeNames: map[string]string{"#t": "type"}, ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: "agenda"}}})
	if err != nil || len(res.Items) != 2 {
		t.Fatalf("%d pointers before, want 2 (%v)", len(res.Items), err)
	}
	for _, it := range res.Items {
		if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table,
			Key: dynamo.KeyOf(it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberS).Value)}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(6 * 24 * time.Hour) // the claim lapses within 48 hours, the case is overdue
	if got := agendaOf(t, e, sales1, time.Time{}, ""); len(got) != 0 {
		t.Fatalf("before the migration: %v", got)
	}
	e.store.SetMigrationPage(3)
	status, err := e.store.Migrate(as(admin), func() bool { return true })
	if m := migrationNamed(status, "2026-12-agenda-pointers"); err != nil || !m.Done || m.Changed != 2 {
		t.Fatalf("migration: %+v %v", status, err)
	}
	want := []string{"CASE Borealis Grid (overdue)", "CLAIM Cathay Cables"}
	if got := agendaOf(t, e, sales1, time.Time{}, ""); !slices.Equal(got, want) {
		t.Fatalf("after the migration: %v, want %v", got, want)
	}
	// A page applied again changes nothing.
	all, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.store.AgendaPage(as(admin), all.Items); err != nil || n != 0 {
		t.Fatalf("a page applied again changed %d: %v", n, err)
	}
}

// The work queues list a user's open tasks and cases across customers,
// soonest due first, page by page with counts from the counters.
func TestWorkQueuesListOpenTasksAndCasesAcrossCustomers(t *testing.T) {
	e := mustEnv(t)
	owner := sales1.ID
	now := time.Now().UTC()
	var customers []*crm.Customer
	for _, name := range []string{"Acme Power", "Borealis Grid", "Cathay Cables"} {
		customers = append(customers, mustCreate(t, e, admin, crm.CustomerInput{Name: name, OwnerID: &owner, Team: "north", Grade: "C"}))
	}
	var want []string
	for i := range 7 {
		c := customers[i%3]
		k := mustTask(t, e, manager, crm.TaskInput{CustomerID: c.ID, Title: fmt.Sprint("task ", i), AssigneeID: sales1.ID,
			DueAt: now.Add(time.Duration(7-i) * time.Hour)})
		want = append([]string{k.Title}, want...)
	}
	// Others' tasks, a closed one and a case are not in sales-1's task queue.
	mustTask(t, e, manager, crm.TaskInput{CustomerID: customers[0].ID, Title: "sales-2's", AssigneeID: sales2.ID, DueAt: now})
	done := mustTask(t, e, sales1, crm.TaskInput{CustomerID: customers[1].ID, Title: "done", DueAt: now})
	if _, err := e.svc.CancelTask(as(sales1), customers[1].ID, done.ID, done.Version, ""); err != nil {
		t.Fatal(err)
	}
	cs := mustOpenCase(t, e, admin, customers[2].ID, crm.PriorityNormal)
	cs, err := e.svc.MoveCase(as(admin), customers[2].ID, cs.ID, cs.Version, crm.CaseMove{To: crm.CaseTriaged})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.MoveCase(as(admin), customers[2].ID, cs.ID, cs.Version, crm.CaseMove{To: crm.CaseAssigned, AssignTo: sales1.ID}); err != nil {
		t.Fatal(err)
	}

	var got []string
	after := ""
	for range 10 {
		page, err := e.svc.TaskQueue(as(sales1), "", nil, crm.PageRequest{First: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Items {
			got = append(got, k.Title)
		}
		if n, err := page.Total(t.Context()); err != nil || n != 7 {
			t.Fatalf("total %d %v, want 7", n, err)
		}
		if !page.HasNext {
			break
		}
		after = page.EndCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("task queue %v, want %v", got, want)
	}
	soon := now.Add(3*time.Hour + time.Minute)
	page, err := e.svc.TaskQueue(as(manager), sales1.ID, &soon, crm.PageRequest{First: 10})
	if err != nil || len(page.Items) != 3 || page.Total != nil {
		t.Fatalf("the manager's view of what is due in 3 hours: %v %v", page, err)
	}
	for _, u := range []*crm.User{managerSouth, sales2} {
		if _, err := e.svc.TaskQueue(as(u), sales1.ID, nil, crm.PageRequest{First: 10}); code(err) != crm.EFORBIDDEN {
			t.Fatalf("%s reading sales-1's queue: %v, want FORBIDDEN", u.ID, err)
		}
	}

	cases, err := e.svc.CaseQueue(as(sales1), crm.CaseQueueRequest{}, crm.PageRequest{First: 10})
	if err != nil || len(cases.Items) != 1 || cases.Items[0].ID != cs.ID {
		t.Fatalf("case queue %v %v", cases, err)
	}
	if n, err := cases.Total(t.Context()); err != nil || n != 1 {
		t.Fatalf("open cases %d %v, want 1", n, err)
	}
	if overdue, err := e.svc.CaseQueue(as(sales1), crm.CaseQueueRequest{Overdue: true}, crm.PageRequest{First: 10}); err != nil || len(overdue.Items) != 0 {
		t.Fatalf("overdue cases %v %v, want none", overdue, err)
	}
	if _, err := e.svc.CaseQueue(as(sales1), crm.CaseQueueRequest{Status: crm.CaseClosed}, crm.PageRequest{First: 10}); code(err) != crm.EINVALID {
		t.Fatalf("a closed status: %v, want BAD_USER_INPUT", err)
	}
}
