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
			type result struct {
				code string
				took time.Duration
			}
			results := make([]result, c.calls)
			logCall := func(i int) string {
				r := e.do(t, "admin", `mutation($in: LogInteractionInput!) { logInteraction(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"customerId": id, "channel": "PHONE", "type": "CALL",
						"subject": fmt.Sprint("call ", i), "idempotencyKey": fmt.Sprintf("hot-%d-%04d", c.calls, i)}})
				code := r.code()
				if code == "" && r.status != 200 {
					code = fmt.Sprint("HTTP ", r.status)
				}
				return code
			}
			var wg sync.WaitGroup
			began := time.Now()
			for i := range c.calls {
				wg.Go(func() {
					start := time.Now()
					code := logCall(i)
					results[i] = result{code: code, took: time.Since(start)}
				})
			}
			wg.Wait()
			wall := time.Since(began)
			codes := map[string]int{}
			var took []time.Duration
			for _, r := range results {
				codes[r.code]++
				took = append(took, r.took)
			}
			slices.Sort(took)
			acked := codes[""]
			t.Logf("%d concurrent logInteraction on one customer: %d acknowledged, outcomes %v; p50 %v, p90 %v, max %v, all in %v",
				c.calls, acked, codes, took[len(took)/2].Round(time.Millisecond), took[len(took)*9/10].Round(time.Millisecond),
				took[len(took)-1].Round(time.Millisecond), wall.Round(time.Millisecond))
			if codes[crm.ECONFLICT] > 0 {
				t.Errorf("%d appends ended CONFLICT", codes[crm.ECONFLICT])
			}
			// What a client does with UNAVAILABLE: send the same call
			// again, one at a time now; each is acknowledged, once.
			for i, r := range results {
				switch r.code {
				case "":
				case crm.EUNAVAILABLE:
					if code := logCall(i); code != "" {
						t.Errorf("call %d sent again after UNAVAILABLE: %s", i, code)
					}
				default:
					t.Errorf("call %d: %s, want acknowledged or UNAVAILABLE", i, r.code)
				}
			}

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
