package dynamo_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// A week of a salesperson's follow-ups, on the default grading policy (A
// every 7 days, C every 21): each contact logged moves the next follow-up
// to the contact plus the grade's interval, a note does not, a date asked
// for sets it sooner (never later) until the next contact, a regrade
// re-plans it, and the pool has none. A follow-up that is due stays on the
// owner's list of follow-ups due until a contact happens.
func TestAWeekOfFollowUpsMovesWithEachContactByTheGradesInterval(t *testing.T) {
	e := mustEnv(t)
	clk := &tickingClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)} // a Monday
	e.svc.Now = clk.Now
	owner := sales1.ID
	acme := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Power", OwnerID: &owner, Team: "north", Region: "north", Grade: "A"})
	boreal := mustCreate(t, e, admin, crm.CustomerInput{Name: "Borealis Grid", OwnerID: &owner, Team: "north", Region: "north", Grade: "C"})
	pool := mustCreate(t, e, admin, crm.CustomerInput{Name: "Cathay Pool", Team: "north", Region: "north"})
	const week = 7 * 24 * time.Hour

	next := func(id string) *time.Time { return mustCustomer(t, e, id).NextFollowUpAt }
	wantNext := func(step, id string, want *time.Time) {
		t.Helper()
		if got := next(id); (got == nil) != (want == nil) || (got != nil && !got.Equal(*want)) {
			t.Fatalf("%s: next follow-up %v, want %v", step, got, want)
		}
	}
	due := func(until time.Time) []string {
		t.Helper()
		e.drain(t)
		page, err := e.svc.FollowUpsDue(as(sales1), crm.Scope{}, &until, crm.PageRequest{First: 50})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range page.Items {
			names = append(names, c.Name)
		}
		return names
	}
	endOf := func(day time.Time) time.Time { return day.Truncate(24 * time.Hour).Add(24 * time.Hour) }

	// Never contacted: planned from the customer's creation.
	wantNext("created A", acme.ID, ptr(acme.CreatedAt.Add(week)))

	// Monday: a call with each.
	call := mustLog(t, e, sales1, crm.InteractionInput{CustomerID: acme.ID, Type: crm.TypeCall})
	wantNext("A called", acme.ID, ptr(call.OccurredAt.Add(week)))
	bCall := mustLog(t, e, sales1, crm.InteractionInput{CustomerID: boreal.ID, Type: crm.TypeCall})
	wantNext("C called", boreal.ID, ptr(bCall.OccurredAt.Add(3*week)))

	// A note is not a contact.
	clk.Advance(time.Hour)
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: acme.ID, Type: crm.TypeNote})
	wantNext("A noted", acme.ID, ptr(call.OccurredAt.Add(week)))

	// The customer 360 shows a contact's new follow-up before the stream
	// has applied it.
	clk.Advance(time.Hour)
	call = mustLog(t, e, sales1, crm.InteractionInput{CustomerID: acme.ID, Type: crm.TypeCall})
	v, err := e.svc.Customer360(as(sales1), acme.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Customer.NextFollowUpAt; got == nil || !got.Equal(call.OccurredAt.Add(week)) {
		t.Fatalf("360 right after the call: next follow-up %v, want %v", got, call.OccurredAt.Add(week))
	}

	// A date asked for: sooner wins, later does not postpone the schedule.
	wednesday := time.Date(2026, 11, 4, 10, 0, 0, 0, time.UTC)
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: boreal.ID, Type: crm.TypeCall, NextFollowUpAt: &wednesday})
	wantNext("C asked for Wednesday", boreal.ID, &wednesday)
	if _, err := e.svc.UpdateCustomer(as(sales1), acme.ID, mustCustomer(t, e, acme.ID).Version,
		crm.CustomerUpdate{NextFollowUpAt: ptr(call.OccurredAt.Add(4 * week))}); err != nil {
		t.Fatal(err)
	}
	wantNext("A asked for a month later", acme.ID, ptr(call.OccurredAt.Add(week)))

	// Monday's list holds nothing due; Wednesday's holds Borealis, and so
	// does Thursday's until it is called.
	if got := due(endOf(clk.Now())); len(got) != 0 {
		t.Fatalf("due on Monday: %v", got)
	}
	clk.Advance(wednesday.Sub(clk.Now()) + time.Hour)
	if got := due(endOf(clk.Now())); !slices.Equal(got, []string{"Borealis Grid"}) {
		t.Fatalf("due on Wednesday: %v", got)
	}
	clk.Advance(24 * time.Hour)
	if got := due(endOf(clk.Now())); !slices.Equal(got, []string{"Borealis Grid"}) {
		t.Fatalf("overdue on Thursday: %v", got)
	}
	visit := mustLog(t, e, sales1, crm.InteractionInput{CustomerID: boreal.ID, Type: crm.TypeVisit, Channel: crm.ChannelVisit})
	wantNext("C visited: the date asked for is done with", boreal.ID, ptr(visit.OccurredAt.Add(3*week)))
	if got := due(endOf(clk.Now())); len(got) != 0 {
		t.Fatalf("due on Thursday after the visit: %v", got)
	}

	// A regrade re-plans from the last contact with the new interval.
	if _, err := e.svc.SetGrade(as(manager), boreal.ID, "A", "won a tender", nil); err != nil {
		t.Fatal(err)
	}
	wantNext("C regraded A", boreal.ID, ptr(visit.OccurredAt.Add(week)))

	// The pool has no follow-ups, asked for or planned; a customer
	// returned to it loses its own.
	mustLog(t, e, admin, crm.InteractionInput{CustomerID: pool.ID, Type: crm.TypeCall, NextFollowUpAt: &wednesday})
	wantNext("pool called", pool.ID, nil)
	empty := ""
	if _, err := e.svc.UpdateCustomer(as(admin), acme.ID, mustCustomer(t, e, acme.ID).Version, crm.CustomerUpdate{OwnerID: &empty}); err != nil {
		t.Fatal(err)
	}
	wantNext("A returned to the pool", acme.ID, nil)
	if got := due(endOf(clk.Now().Add(8 * week))); !slices.Equal(got, []string{"Borealis Grid"}) {
		t.Fatalf("sales-1's follow-ups after the return: %v", got)
	}
}

// Customers the stream has not touched since schedules came kept the date
// asked for as their next follow-up: the migration plans their schedule
// once, and the follow-up lists show it.
func TestTheMigrationPlansTheFollowUpsOfCustomersLeftUntouched(t *testing.T) {
	e := mustEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Power", OwnerID: &owner, Team: "north", Region: "north", Grade: "A"})
	call := mustLog(t, e, sales1, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeCall})
	e.drain(t)
	// The activity as the release before wrote it: a date asked for a
	// quarter ahead as its next follow-up, no schedule.
	asked := call.OccurredAt.Add(90 * 24 * time.Hour).UTC()
	if _, err := e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table,
		Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "CUST#" + c.ID}, "sk": &types.AttributeValueMemberS{Value: "~S"}},
		UpdateExpression: aws.String("SET nextFollowUpAt = :at, gDue = :due, gDueAt = :pos REMOVE planned, followUpAsked, contactedAt, followUpEvery"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": &types.AttributeValueMemberS{Value: asked.Format(time.RFC3339Nano)},
			":due": &types.AttributeValueMemberS{Value: "FOLLOWUP#OWNER#" + owner},
			":pos": &types.AttributeValueMemberS{Value: asked.Format("2006-01-02T15:04:05.000Z") + "#" + c.ID}},
	}); err != nil {
		t.Fatal(err)
	}
	weekOn := call.OccurredAt.Add(8 * 24 * time.Hour)
	listed := func() int {
		t.Helper()
		page, err := e.svc.FollowUpsDue(as(sales1), crm.Scope{}, &weekOn, crm.PageRequest{First: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Items)
	}
	if got := mustCustomer(t, e, c.ID).NextFollowUpAt; got == nil || !got.Equal(asked) || listed() != 0 {
		t.Fatalf("before the migration: next follow-up %v, want the date asked for %v, and none due within a week", got, asked)
	}
	status, err := e.store.Migrate(as(admin), func() bool { return true })
	if m := migrationNamed(status, "2026-12-follow-up-schedules"); err != nil || !m.Done || m.Changed != 1 {
		t.Fatalf("migrated: %+v %v; want the one customer planned", status, err)
	}
	if got := mustCustomer(t, e, c.ID).NextFollowUpAt; got == nil || !got.Equal(call.OccurredAt.Add(7*24*time.Hour)) || listed() != 1 {
		t.Fatalf("after the migration: next follow-up %v, want a week after the call, listed as due", got)
	}
}
