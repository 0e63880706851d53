package server_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbfault"
	"github.com/rapportcrm/rapport/infra/ddbtest"
)

// Concurrent appends to one customer never conflict: each is written as
// an item of its own, conditioned on nothing another writer touches. Of
// 50 or 200 concurrent logInteraction calls on one customer none ends
// CONFLICT; a call the server could not finish within its request limit
// (10 s) answers UNAVAILABLE, and sent again with its idempotency key it
// is acknowledged, never stored twice. Once the stream has applied them,
// the customer's interaction count is the interactions stored, exactly one
// per call. How many were acknowledged the first time depends on the
// machine's load: the figures are printed, not asserted.
func TestConcurrentCallsOnOneCustomerAreAcknowledged(t *testing.T) {
	for _, c := range []struct{ calls int }{{50}, {200}} {
		t.Run(fmt.Sprint(c.calls), func(t *testing.T) {
			e := mustEnv(t)
			id := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": "Busy Hotline Ltd", "team": "north"})
			e.drain(t)
			logCall := func(i int) string {
				return e.do(t, "admin", `mutation($in: LogInteractionInput!) { logInteraction(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"customerId": id, "channel": "PHONE", "type": "CALL",
						"subject": fmt.Sprint("call ", i), "idempotencyKey": fmt.Sprintf("hot-%d-%04d", c.calls, i)}}).outcome()
			}
			burstOfAppends(t, "logInteraction", c.calls, logCall)

			e.drain(t)
			var out struct {
				Customer struct {
					InteractionCount int
					Interactions     struct {
						Edges    []struct{ Node struct{ ID string } }
						PageInfo struct {
							HasNextPage bool
							EndCursor   string
						}
					}
				}
			}
			stored := 0
			for after := ""; ; {
				vars := map[string]any{"id": id}
				if after != "" {
					vars["after"] = after
				}
				e.mustDo(t, "admin", `query($id: ID!, $after: String) { customer(id: $id) { interactionCount
					interactions(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`, vars, &out)
				stored += len(out.Customer.Interactions.Edges)
				if !out.Customer.Interactions.PageInfo.HasNextPage {
					break
				}
				after = out.Customer.Interactions.PageInfo.EndCursor
			}
			if out.Customer.InteractionCount != stored || stored != c.calls {
				t.Errorf("interaction count %d, %d interactions stored, want one per call: %d", out.Customer.InteractionCount, stored, c.calls)
			}
		})
	}
}

// Concurrent tasks and evaluations on one customer are acknowledged as
// interactions are (above): a task's transaction also counts it on its
// assignee's open tasks, an item every task of that assignee writes, and
// a transaction that meets another on it is replayed, not refused. Once
// the stream has applied them, the assignee's queue and the customer's
// evaluations hold exactly one per call.
func TestConcurrentTasksAndEvaluationsOnOneCustomerAreAcknowledged(t *testing.T) {
	const calls = 50
	e := mustEnv(t)
	id := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": "Busy Hotline Ltd", "team": "north"})
	var tpl struct{ CreateTemplate struct{ ID string } }
	e.mustDo(t, "admin", `mutation { createTemplate(input: {name: "Review", indicators: [
		{key: "satisfaction", name: "Satisfaction", dimension: SATISFACTION, weight: 1, scaleMin: 1, scaleMax: 5}]}) { id } }`, nil, &tpl)
	e.drain(t)
	burstOfAppends(t, "createTask", calls, func(i int) string {
		return e.do(t, "admin", `mutation($c: ID!, $k: String) { createTask(input: {customerId: $c, type: CALL_BACK,
			dueAt: "2027-06-01T00:00:00Z", idempotencyKey: $k}) { id } }`,
			map[string]any{"c": id, "k": fmt.Sprintf("task-%04d", i)}).outcome()
	})
	burstOfAppends(t, "submitEvaluation", calls, func(i int) string {
		return e.do(t, "admin", `mutation($c: ID!, $t: ID!, $k: String) { submitEvaluation(input: {customerId: $c, templateId: $t,
			kind: CUSTOMER_SURVEY, idempotencyKey: $k, scores: [{key: "satisfaction", value: 4}]}) { id } }`,
			map[string]any{"c": id, "t": tpl.CreateTemplate.ID, "k": fmt.Sprintf("eval-%04d", i)}).outcome()
	})

	e.drain(t)
	var out struct {
		TaskQueue struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
		Customer struct {
			Evaluations struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	e.mustDo(t, "admin", `query($id: ID!) { taskQueue(first: 100) { totalCount edges { node { id } } }
		customer(id: $id) { evaluations(first: 100) { edges { node { id } } } } }`, map[string]any{"id": id}, &out)
	if q := out.TaskQueue; q.TotalCount != calls || len(q.Edges) != calls {
		t.Errorf("the assignee's queue: totalCount %d, %d tasks, want one per call: %d", q.TotalCount, len(q.Edges), calls)
	}
	if n := len(out.Customer.Evaluations.Edges); n != calls {
		t.Errorf("%d evaluations stored, want one per call: %d", n, calls)
	}
}

// burstOfAppends sends calls appends at once, send(i) answering each one's
// outcome (outcome: "" when acknowledged), and prints what they got and
// how long they took. None may end CONFLICT; one that ends UNAVAILABLE is
// sent again, as a client does, one at a time, and must be acknowledged.
func burstOfAppends(t *testing.T, name string, calls int, send func(i int) string) {
	t.Helper()
	codes, took := make([]string, calls), make([]time.Duration, calls)
	var wg sync.WaitGroup
	began := time.Now()
	for i := range calls {
		wg.Go(func() {
			start := time.Now()
			codes[i] = send(i)
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	wall := time.Since(began)
	count := map[string]int{}
	for _, c := range codes {
		count[c]++
	}
	slices.Sort(took)
	t.Logf("%d concurrent %s on one customer: %d acknowledged, outcomes %v; p50 %v, p90 %v, max %v, all in %v",
		calls, name, count[""], count, took[calls/2].Round(time.Millisecond), took[calls*9/10].Round(time.Millisecond),
		took[calls-1].Round(time.Millisecond), wall.Round(time.Millisecond))
	if count[crm.ECONFLICT] > 0 {
		t.Errorf("%d of %s ended CONFLICT", count[crm.ECONFLICT], name)
	}
	for i, c := range codes {
		switch c {
		case "":
		case crm.EUNAVAILABLE:
			if again := send(i); again != "" {
				t.Errorf("%s %d sent again after UNAVAILABLE: %s", name, i, again)
			}
		default:
			t.Errorf("%s %d: %s, want acknowledged or UNAVAILABLE", name, i, c)
		}
	}
}

// A mutation that ends UNAVAILABLE says in extensions.applied whether its
// write may have been applied: NO when it never reached DynamoDB,
// UNKNOWN when no answer came, even to the same transaction sent again.
func TestUnavailableWritesSayWhetherTheyMayHaveApplied(t *testing.T) {
	logCall := `mutation($id: ID!) { logInteraction(input: {customerId: $id, channel: PHONE, type: CALL, idempotencyKey: "unlucky-0001"}) { id } }`
	addContact := `mutation($id: ID!) { addContact(customerId: $id, input: {name: "Unlucky", idempotencyKey: "unlucky-0002"}) { id } }`
	for _, c := range []struct {
		name     string
		mutation string
		faults   ddbfault.Faults
		want     string
	}{
		// A logged interaction is written as single puts (dynamo/appends.go),
		// a contact in a transaction.
		{"NeverSent", logCall, ddbfault.Faults{Before: ddbfault.Only("PutItem", ddbfault.Throttle)}, crm.AppliedNo},
		{"ATransactionNeverSent", addContact, ddbfault.Faults{Before: ddbfault.Only("TransactWriteItems", ddbfault.Throttle)}, crm.AppliedNo},
		{"NeverAnswered", addContact, ddbfault.Faults{After: ddbfault.Only("TransactWriteItems", ddbfault.InternalServerError)}, crm.AppliedUnknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			sw := ddbfault.NewSwitch(c.faults.Before)
			after := ddbfault.NewSwitch(c.faults.After)
			faults := ddbfault.Faults{}
			if c.faults.Before != nil {
				faults.Before = sw.Fault
			}
			if c.faults.After != nil {
				faults.After = after.Fault
			}
			e := mustEnvOnTable(t, ddbtest.NewTable(t, "CrmTable"), dynamo.Retries, faults.Option)
			id := e.mustCreate(t, "admin", map[string]any{"kind": "PERSON", "name": "Unlucky"})
			sw.Set(true)
			after.Set(true)
			r := e.do(t, "admin", c.mutation, map[string]any{"id": id})
			if r.code() != crm.EUNAVAILABLE || r.Errors[0].Extensions["applied"] != c.want {
				t.Fatalf("errors %+v, want UNAVAILABLE with applied %s", r.Errors, c.want)
			}
			// A query says nothing of the kind: it writes nothing.
			q := e.do(t, "admin", `query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": id})
			for _, qe := range q.Errors {
				if _, has := qe.Extensions["applied"]; has {
					t.Errorf("a query's error says applied: %+v", q.Errors)
				}
			}
		})
	}
}
