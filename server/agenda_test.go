package server_test

import (
	"slices"
	"testing"
	"time"
)

// The agenda is the caller's day in one request of three DynamoDB calls,
// whatever it holds: one Query of the user's agenda partition (tasks,
// cases, claims), one of their follow-ups, and one BatchGetItem of the
// entries and their customers, which the customer fields read from.
func TestAgendaIsThreeDynamoDBCalls(t *testing.T) {
	e := mustEnv(t)
	var ids []string
	for _, name := range []string{"Agenda Power", "Agenda Grid"} {
		ids = append(ids, e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": name, "ownerId": "sales1", "team": "north", "grade": "B"}))
	}
	due := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	for i, id := range ids {
		e.mustDo(t, "sales1", `mutation($c: ID!, $d: DateTime!, $k: String!) { createTask(input: {customerId: $c, type: CALL_BACK,
			title: "call back", dueAt: $d, idempotencyKey: $k}) { id } }`, map[string]any{"c": id, "d": due, "k": "agenda-task-" + ids[i]}, nil)
	}
	var opened struct{ LogInteraction struct{ ID string } }
	e.mustDo(t, "admin", `mutation($c: ID!) { logInteraction(input: {customerId: $c, channel: PHONE, type: COMPLAINT, subject: "late delivery"}) { id } }`,
		map[string]any{"c": ids[1]}, &opened)
	for v, move := range []string{`to: TRIAGED`, `to: ASSIGNED, assignTo: "sales1"`} {
		e.mustDo(t, "admin", `mutation($c: ID!, $case: ID!, $v: Int!) { moveCase(input: {customerId: $c, caseId: $case, expectedVersion: $v, `+move+`}) { id } }`,
			map[string]any{"c": ids[1], "case": opened.LogInteraction.ID, "v": v + 1}, nil)
	}
	e.drain(t)
	e.resetOps()
	var out struct {
		Agenda struct {
			Items []struct {
				Kind     string
				Overdue  bool
				Customer struct {
					Name  string
					Grade struct{ Level struct{ Code string } }
				}
				Task *struct{ Title string }
				Case *struct{ Subject string }
			}
			Complete bool
		}
	}
	// The agenda of the day after tomorrow, so that the case is on it
	// whatever the time of day: triaged, it is due for resolution within
	// grade B's 48 hours.
	tomorrow := map[string]any{"d": time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339)}
	e.mustDo(t, "sales1", `query($d: DateTime) { agenda(date: $d) { items { kind at overdue priority customer { name grade { level { code label } } nextFollowUpAt }
		task { title dueAt } case { subject dueAt } } complete } }`, tomorrow, &out)
	if ops := e.takeOps(); !slices.Equal(ops, []string{"Query", "Query", "BatchGetItem"}) {
		t.Fatalf("the agenda made DynamoDB calls %v, want two Queries and one BatchGetItem", ops)
	}
	var kinds []string
	for _, it := range out.Agenda.Items {
		kinds = append(kinds, it.Kind)
		if it.Customer.Name == "" || it.Customer.Grade.Level.Code != "B" || (it.Kind == "TASK") != (it.Task != nil) || (it.Kind == "CASE") != (it.Case != nil) {
			t.Fatalf("incomplete entry %+v", it)
		}
	}
	if !slices.Equal(kinds, []string{"TASK", "TASK", "CASE"}) || !out.Agenda.Complete || !out.Agenda.Items[0].Overdue {
		t.Fatalf("agenda %+v", out.Agenda)
	}
}
