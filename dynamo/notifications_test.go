package dynamo_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// inbox reads a user's whole inbox (newest first) as "KIND customer/case/task".
func inbox(t *testing.T, e *env, u *crm.User, unreadOnly bool) []*crm.Notification {
	t.Helper()
	var out []*crm.Notification
	for p := (crm.PageRequest{First: 2}); ; {
		page, err := e.svc.Notifications(as(u), unreadOnly, p)
		if err != nil {
			t.Fatalf("%s's inbox: %v", u.ID, err)
		}
		out = append(out, page.Items...)
		if !page.HasNext {
			return out
		}
		p.After = page.EndCursor
	}
}

func kinds(ns []*crm.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n.Kind)
	}
	return out
}

func sorted(s []string) []string { slices.Sort(s); return s }

func unread(t *testing.T, e *env, u *crm.User) int {
	t.Helper()
	n, err := e.svc.UnreadNotificationCount(as(u))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// runJob runs the quarter-hourly job and applies the stream, as the stack
// does within seconds.
func runJob(t *testing.T, e *env) *crm.JobRun {
	t.Helper()
	run, err := e.svc.RunFrequent(as(&crm.User{ID: crm.SystemUserID}))
	if err != nil {
		t.Fatalf("job: %v", err)
	}
	e.drain(t)
	return run
}

// mustAssignedCase opens a complaint on a customer, triaged and assigned to
// assignee by by.
func mustAssignedCase(t *testing.T, e *env, by *crm.User, customerID, assignee string) *crm.Case {
	t.Helper()
	c := mustOpenCase(t, e, admin, customerID, crm.PriorityNormal)
	k, err := e.svc.MoveCase(as(by), customerID, c.ID, c.Version, crm.CaseMove{To: crm.CaseTriaged})
	if err != nil {
		t.Fatal(err)
	}
	if k, err = e.svc.MoveCase(as(by), customerID, k.ID, k.Version, crm.CaseMove{To: crm.CaseAssigned, AssignTo: assignee}); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestServiceDeskCaseEscalatesToTheManagerAndEveryoneIsTold(t *testing.T) {
	e, clk := poolEnv(t)
	owner := sales1.ID
	cust := mustCreate(t, e, admin, crm.CustomerInput{Name: "Harbin Boilers", OwnerID: &owner, Team: "north", Grade: "C"})
	// C answers in 24 hours and resolves in 72.
	assigned := mustAssignedCase(t, e, admin, cust.ID, sales2.ID)
	// Nobody ever answers this one: the service desk's inbox.
	untouched := mustOpenCase(t, e, admin, cust.ID, crm.PriorityNormal)
	e.drain(t)
	if got := kinds(inbox(t, e, sales2, false)); !slices.Equal(got, []string{"CASE_ASSIGNED"}) {
		t.Fatalf("sales-2 after the assignment: %v", got)
	}

	// A day and an hour later: the untouched case missed its response.
	clk.Advance(25 * time.Hour)
	run := runJob(t, e)
	if !slices.Equal(run.Escalated, []string{untouched.ID}) {
		t.Fatalf("escalated %v, want the untouched case", run.Escalated)
	}
	got, err := e.store.Case(as(admin), cust.ID, untouched.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := got.Transitions[len(got.Transitions)-1]
	if got.AssignedTo != manager.ID || got.Priority != crm.PriorityUrgent || !strings.Contains(last.Note, "reassigned to "+manager.ID) {
		t.Fatalf("the untouched case after escalation: assigned %q, priority %s, last step %+v", got.AssignedTo, got.Priority, last)
	}
	mgr := inbox(t, e, manager, false)
	if len(mgr) != 1 || mgr[0].Kind != crm.NoticeCaseEscalated || mgr[0].CaseID != untouched.ID || !strings.Contains(mgr[0].Message, "reassigned to you") {
		t.Fatalf("the manager's inbox: %+v", mgr)
	}

	// Three days on: the assigned case missed its resolution, and sales-2
	// never acted on it: it goes to the manager too, and both are told.
	clk.Advance(48 * time.Hour)
	run = runJob(t, e)
	if !slices.Equal(run.Escalated, []string{assigned.ID}) {
		t.Fatalf("escalated %v, want the assigned case (the other is escalated for its deadline already)", run.Escalated)
	}
	got, err = e.store.Case(as(admin), cust.ID, assigned.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := got.Transitions[len(got.Transitions)-1]; got.AssignedTo != manager.ID ||
		!strings.Contains(last.Note, "since "+sales2.ID+" had not acted on it") || last.By != crm.SystemUserID {
		t.Fatalf("the assigned case after escalation: assigned %q, last step %+v", got.AssignedTo, last)
	}
	if got := kinds(inbox(t, e, sales2, false)); !slices.Equal(got, []string{"CASE_ESCALATED", "CASE_ASSIGNED"}) {
		t.Fatalf("sales-2's inbox: %v", got)
	}
	if got := kinds(inbox(t, e, manager, false)); !slices.Equal(got, []string{"CASE_ESCALATED", "CASE_ESCALATED"}) {
		t.Fatalf("the manager's inbox: %v", got)
	}
	queue, err := e.svc.CaseQueue(as(manager), crm.CaseQueueRequest{}, crm.PageRequest{First: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(queue.Items) != 2 {
		t.Fatalf("the manager's queue holds %d cases, want both escalated ones", len(queue.Items))
	}

	// The job again, and again: nothing new, nobody told twice.
	clk.Advance(15 * time.Minute)
	if run := runJob(t, e); len(run.Escalated) != 0 {
		t.Fatalf("a rerun escalated %v", run.Escalated)
	}
	if n := unread(t, e, manager); n != 2 {
		t.Fatalf("the manager has %d unread after a rerun, want 2", n)
	}
}

func TestCaseOfAnAssigneeWhoActedIsEscalatedWithoutReassignment(t *testing.T) {
	e, clk := poolEnv(t)
	owner := sales1.ID
	cust := mustCreate(t, e, admin, crm.CustomerInput{Name: "Jilin Chemicals", OwnerID: &owner, Team: "north", Grade: "C"})
	c := mustAssignedCase(t, e, sales1, cust.ID, sales1.ID)
	clk.Advance(73 * time.Hour)
	runJob(t, e)
	got, err := e.store.Case(as(admin), cust.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AssignedTo != sales1.ID || got.EscalatedAt == nil {
		t.Fatalf("escalated case: assigned %q, escalated %v; want it escalated and kept by sales-1, who acted", got.AssignedTo, got.EscalatedAt)
	}
	// Assigning themselves told them nothing; the escalation does.
	if got := kinds(inbox(t, e, sales1, false)); !slices.Equal(got, []string{"CASE_ESCALATED"}) {
		t.Fatalf("sales-1's inbox: %v", got)
	}
	if got := inbox(t, e, manager, false); len(got) != 0 {
		t.Fatalf("the manager was told of a case still held: %v", kinds(got))
	}
}

func TestClaimWarningsAndTaskDueNoticesComeOnceWhateverTheJobRuns(t *testing.T) {
	e, clk := poolEnv(t)
	pooled := mustPooled(t, e, "Dalian Ports", "G")
	if _, err := e.svc.ClaimCustomer(as(sales1), pooled.ID); err != nil {
		t.Fatal(err)
	}
	owner := sales1.ID
	cust := mustCreate(t, e, admin, crm.CustomerInput{Name: "Anshan Steel", OwnerID: &owner, Team: "north", Grade: "C"})
	task := mustTask(t, e, sales1, crm.TaskInput{CustomerID: cust.ID, Title: "Call about the renewal", DueAt: clk.Now().Add(30 * time.Minute)})
	later := mustTask(t, e, sales1, crm.TaskInput{CustomerID: cust.ID, Title: "Send the brochure", DueAt: clk.Now().Add(3 * time.Hour)})
	e.drain(t)
	if n := unread(t, e, sales1); n != 0 {
		t.Fatalf("sales-1 has %d unread before the job", n)
	}

	run := runJob(t, e)
	if !slices.Equal(run.TasksDue, []string{task.ID}) {
		t.Fatalf("tasks noticed %v, want only the one due within the hour", run.TasksDue)
	}
	runJob(t, e)
	if got := kinds(inbox(t, e, sales1, false)); !slices.Equal(got, []string{"TASK_DUE"}) {
		t.Fatalf("sales-1's inbox after two runs: %v", got)
	}

	// The claim (G: 7 days) is warned a day before it lapses: once.
	clk.Advance(6*24*time.Hour + time.Hour)
	run = runJob(t, e)
	if !slices.Contains(run.Pool.Warned, pooled.ID) || !slices.Equal(run.TasksDue, []string{later.ID}) {
		t.Fatalf("warned %v, tasks noticed %v", run.Pool.Warned, run.TasksDue)
	}
	for range 2 {
		clk.Advance(15 * time.Minute)
		runJob(t, e)
	}
	ns := inbox(t, e, sales1, false)
	// The test's clock stands still within a run: notifications of one
	// instant come in no particular order.
	if got := sorted(kinds(ns)); !slices.Equal(got, []string{"CLAIM_EXPIRING", "TASK_DUE", "TASK_DUE"}) {
		t.Fatalf("sales-1's inbox after three more runs: %v", got)
	}
	if i := slices.IndexFunc(ns, func(n *crm.Notification) bool { return n.Kind == crm.NoticeClaimExpiring }); ns[i].CustomerID != pooled.ID ||
		ns[i].DueAt == nil || ns[i].Actor != crm.SystemUserID {
		t.Fatalf("the claim warning: %+v", ns[i])
	}

	// Moving a task's due time owes a new notice: told again, once.
	k, err := e.store.Task(as(sales1), cust.ID, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	due := clk.Now().Add(20 * time.Minute)
	if _, err := e.svc.UpdateTask(as(sales1), cust.ID, k.ID, k.Version, crm.TaskUpdate{DueAt: &due}); err != nil {
		t.Fatal(err)
	}
	runJob(t, e)
	runJob(t, e)
	if n := unread(t, e, sales1); n != 4 {
		t.Fatalf("sales-1 has %d unread, want 4 (two tasks, one moved, and the claim)", n)
	}

	// A batch delivered again writes the same notifications: a read one
	// stays read.
	first := inbox(t, e, sales1, false)[0]
	if _, err := e.svc.MarkNotificationRead(as(sales1), first.ID); err != nil {
		t.Fatal(err)
	}
	again := *first
	if err := e.store.PutNotifications(as(admin), []*crm.Notification{&again}); err != nil {
		t.Fatal(err)
	}
	if n := unread(t, e, sales1); n != 3 {
		t.Fatalf("after a notification was written again: %d unread, want 3", n)
	}
}

func TestHandoverAndRegradeTellTheOwner(t *testing.T) {
	e, _ := poolEnv(t)
	owner := sales1.ID
	var ids []string
	for i := range 3 {
		c := mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprint("Shenyang Works ", i), OwnerID: &owner, Team: "north", Grade: "C"})
		ids = append(ids, c.ID)
	}
	if _, err := e.svc.HandOver(as(manager), sales1.ID, "sales-typo"); code(err) != crm.EINVALID {
		t.Fatalf("handover to an unknown user: %v, want BAD_USER_INPUT", err)
	}
	h, err := e.svc.HandOver(as(manager), sales1.ID, sales2.ID)
	if err != nil || len(h.Moved) != 3 {
		t.Fatalf("handover: %+v, %v", h, err)
	}
	e.drain(t)
	ns := inbox(t, e, sales2, false)
	var got []string
	for _, n := range ns {
		if n.Kind != crm.NoticeCustomerHandedOver || n.From != sales1.ID || n.To != sales2.ID || n.Actor != manager.ID {
			t.Fatalf("a handover notification: %+v", n)
		}
		got = append(got, n.CustomerID)
	}
	slices.Sort(got)
	if !slices.Equal(got, ids) {
		t.Fatalf("sales-2 told of %v, want the three customers handed over %v", got, ids)
	}
	if n := inbox(t, e, sales1, false); len(n) != 0 {
		t.Fatalf("the previous owner was told: %v", kinds(n))
	}

	// A fall from C to F tells the owner; a rise does not, nor a first
	// deal's move to O.
	if _, err := e.svc.SetGrade(as(manager), ids[0], "F", "no budget this year", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetGrade(as(manager), ids[1], "A", "won the tender shortlist", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetGrade(as(manager), ids[2], "O", "signed the first contract", nil); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	ns = inbox(t, e, sales2, true)
	if got := sorted(kinds(ns)); !slices.Equal(got, []string{"CUSTOMER_HANDED_OVER", "CUSTOMER_HANDED_OVER", "CUSTOMER_HANDED_OVER", "CUSTOMER_REGRADED_DOWN"}) {
		t.Fatalf("sales-2's unread after the regrades: %v", got)
	}
	down := ns[slices.IndexFunc(ns, func(n *crm.Notification) bool { return n.Kind == crm.NoticeCustomerRegradedDown })]
	if down.CustomerID != ids[0] || down.From != "C" || down.To != "F" || down.Actor != manager.ID {
		t.Fatalf("the regrade notification: %+v", down)
	}
}

func TestInboxesAreTheirOwnersAlone(t *testing.T) {
	e, _ := poolEnv(t)
	owner := sales1.ID
	for i := range 3 {
		c := mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprint("Changchun Motors ", i), OwnerID: &owner, Team: "north"})
		if _, err := e.svc.AssignCustomer(as(manager), c.ID, sales2.ID, "rebalancing"); err != nil {
			t.Fatal(err)
		}
	}
	e.drain(t)
	mine := inbox(t, e, sales2, false)
	if len(mine) != 3 || unread(t, e, sales2) != 3 {
		t.Fatalf("sales-2's inbox: %v", kinds(mine))
	}
	if !strings.Contains(mine[0].Message, "Reason: rebalancing") {
		t.Fatalf("the message does not say why: %q", mine[0].Message)
	}
	// Pages are honest: one a page, each once, newest first.
	page, err := e.svc.Notifications(as(sales2), false, crm.PageRequest{First: 1})
	if err != nil || len(page.Items) != 1 || !page.HasNext || page.Items[0].ID != mine[0].ID {
		t.Fatalf("first page: %+v, %v", page, err)
	}

	cases := []struct {
		name string
		user *crm.User
		want string
	}{
		{"AnotherSalesperson", sales1, crm.ENOTFOUND},
		{"TheirManager", manager, crm.ENOTFOUND},
		{"AnAdmin", admin, crm.ENOTFOUND},
		{"APartner", partnerUser, crm.EFORBIDDEN},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.svc.MarkNotificationRead(as(tc.user), mine[0].ID); code(err) != tc.want {
				t.Fatalf("marking sales-2's notification read: %v, want %s", err, tc.want)
			}
			if tc.want == crm.EFORBIDDEN {
				if _, err := e.svc.Notifications(as(tc.user), false, crm.PageRequest{First: 10}); code(err) != crm.EFORBIDDEN {
					t.Fatalf("a partner's inbox: %v", err)
				}
				return
			}
			if got := inbox(t, e, tc.user, false); slices.ContainsFunc(got, func(n *crm.Notification) bool { return n.UserID == sales2.ID }) {
				t.Fatalf("%s reads sales-2's notifications", tc.user.ID)
			}
		})
	}

	// Mark one read, then all: the counts and the unread list follow.
	n, err := e.svc.MarkNotificationRead(as(sales2), mine[1].ID)
	if err != nil || n.ReadAt == nil {
		t.Fatalf("mark read: %+v, %v", n, err)
	}
	if again, err := e.svc.MarkNotificationRead(as(sales2), mine[1].ID); err != nil || !again.ReadAt.Equal(*n.ReadAt) {
		t.Fatalf("marking it again: %+v, %v; want the first read time kept", again, err)
	}
	if got := unread(t, e, sales2); got != 2 {
		t.Fatalf("unread after one read: %d", got)
	}
	if got := inbox(t, e, sales2, true); len(got) != 2 || slices.ContainsFunc(got, func(x *crm.Notification) bool { return x.ID == mine[1].ID }) {
		t.Fatalf("the unread list: %v", got)
	}
	marked, err := e.svc.MarkAllNotificationsRead(as(sales2))
	if err != nil || marked != 2 {
		t.Fatalf("mark all read: %d, %v", marked, err)
	}
	if got := unread(t, e, sales2); got != 0 {
		t.Fatalf("unread after marking all: %d", got)
	}
	if got := inbox(t, e, sales2, false); len(got) != 3 {
		t.Fatalf("the inbox keeps read notifications: %d", len(got))
	}
	if _, err := e.svc.MarkNotificationRead(as(sales2), "not-an-id"); code(err) != crm.ENOTFOUND {
		t.Fatalf("an id that is no notification's: %v", err)
	}
}

func TestQueuesLeaveOutWorkOnCustomersTheCallerMayNotRead(t *testing.T) {
	e, _ := poolEnv(t)
	mateOwner := sales2.ID
	mates := mustCreate(t, e, admin, crm.CustomerInput{Name: "Qiqihar Rail", OwnerID: &mateOwner, Team: "north", Grade: "C"})
	// The manager gives sales-1 a case and a task on sales-2's customer,
	// which sales-1 may not read.
	mustAssignedCase(t, e, manager, mates.ID, sales1.ID)
	mustTask(t, e, manager, crm.TaskInput{CustomerID: mates.ID, AssigneeID: sales1.ID, DueAt: time.Now().Add(time.Hour)})
	cases := []struct {
		name string
		user *crm.User
		want int
	}{
		{"TheAssigneeWhoCannotReadTheCustomer", sales1, 0},
		{"TheirManager", manager, 1},
		{"AnAdmin", admin, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cq, err := e.svc.CaseQueue(as(tc.user), crm.CaseQueueRequest{AssigneeID: sales1.ID}, crm.PageRequest{First: 10})
			if err != nil {
				t.Fatal(err)
			}
			tq, err := e.svc.TaskQueue(as(tc.user), sales1.ID, nil, crm.PageRequest{First: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(cq.Items) != tc.want || len(tq.Items) != tc.want {
				t.Fatalf("%s sees %d cases and %d tasks of sales-1's queues, want %d each", tc.user.ID, len(cq.Items), len(tq.Items), tc.want)
			}
		})
	}
}

// TestAContractAwaitingApprovalTellsWhoMayApproveAndItsDecisionTheOwner:
// a contract over its customer's limit tells the team's manager (not its
// owner, not another team's manager); its approval tells the owner; a
// contract the team's only manager recorded, who may not approve it,
// tells the admins instead.
func TestAContractAwaitingApprovalTellsWhoMayApproveAndItsDecisionTheOwner(t *testing.T) {
	e, _ := poolEnv(t) // 2026-03-01
	owner := sales1.ID
	cu := mustCreate(t, e, admin, crm.CustomerInput{Name: "Mudanjiang Pumps", OwnerID: &owner, Team: "north", Industry: "Manufacturing"})
	over := func(by *crm.User, title string) *crm.Contract {
		t.Helper()
		k, err := e.svc.CreateContract(as(by), crm.ContractInput{CustomerID: cu.ID, Title: title, Amount: "1200000", OwnerID: owner,
			SignedOn: day(2026, 3, 1), EndsOn: day(2026, 12, 31), Instalments: []crm.InstalmentInput{{DueOn: day(2026, 3, 31), Amount: "1200000"}}})
		if err != nil || k.Approval == nil || k.Approval.Status != crm.ApprovalPending {
			t.Fatalf("a contract over BBB's limit: %+v, %v; want it awaiting approval", k, err)
		}
		return k
	}
	k := over(sales1, "Pumps")
	e.drain(t)
	told := inbox(t, e, manager, false)
	if len(told) != 1 || told[0].Kind != crm.NoticeContractApproval || told[0].ContractID != k.ID || told[0].CustomerID != cu.ID ||
		!strings.Contains(told[0].Message, "credit level BBB") || !strings.Contains(told[0].Message, "limit:") {
		t.Fatalf("the north manager's inbox %+v; want one CONTRACT_APPROVAL_REQUESTED for %s naming the level and the limit", told, k.ID)
	}
	for _, u := range []*crm.User{sales1, managerSouth, admin} {
		if got := inbox(t, e, u, false); len(got) != 0 {
			t.Errorf("%s was told %v; only the team's manager may approve", u.ID, kinds(got))
		}
	}
	if _, err := e.svc.ApproveContract(as(manager), crm.ContractKey{CustomerID: cu.ID, ID: k.ID}, 1, "order secured"); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	mine := inbox(t, e, sales1, false)
	if len(mine) != 1 || mine[0].Kind != crm.NoticeContractDecided || mine[0].ContractID != k.ID || mine[0].Actor != manager.ID ||
		!strings.Contains(mine[0].Message, "approved") || !strings.Contains(mine[0].Message, "order secured") {
		t.Fatalf("the owner's inbox %+v; want one CONTRACT_DECIDED saying approved, with the reason", mine)
	}
	if got := kinds(inbox(t, e, manager, false)); len(got) != 1 {
		t.Errorf("the manager who decided was told %v, want only the request", got)
	}

	// Recorded by the team's only manager, who may not approve it: the
	// admins are told.
	k2 := over(manager, "More pumps")
	e.drain(t)
	if got := inbox(t, e, admin, false); len(got) != 1 || got[0].Kind != crm.NoticeContractApproval || got[0].ContractID != k2.ID {
		t.Fatalf("the admin's inbox %+v; want the request for %s, the team's manager having recorded it", got, k2.ID)
	}
	if got := kinds(inbox(t, e, manager, false)); len(got) != 1 {
		t.Errorf("the manager who recorded it was told %v, want nothing new", got)
	}
}
