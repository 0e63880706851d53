package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// A mutation's audit entry names the mutation and the request id the
// client got back, so a support ticket leads to the write.
func TestAuditLogThroughGraphQLNamesTheMutationAndRequest(t *testing.T) {
	e := mustEnv(t)
	body, _ := json.Marshal(map[string]any{"query": createCustomer,
		"variables": map[string]any{"in": map[string]any{"kind": "PERSON", "name": "Traced", "idempotencyKey": "trace-0001"}}})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Test-User", "admin")
	req.Header.Set("X-Request-Id", "support-ticket-42")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Data struct{ CreateCustomer struct{ ID string } }
	}
	_ = json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	id := created.Data.CreateCustomer.ID

	// The retry with the same key is answered with the same customer.
	var again struct{ CreateCustomer struct{ ID string } }
	e.mustDo(t, "admin", createCustomer, map[string]any{"in": map[string]any{"kind": "PERSON", "name": "Traced",
		"idempotencyKey": "trace-0001"}}, &again)
	if again.CreateCustomer.ID != id || id == "" {
		t.Fatalf("retry created %q, first %q", again.CreateCustomer.ID, id)
	}

	const q = `query($c: ID!) { auditLog(filter: {customerId: $c}) { edges { node {
		actor operation requestId roles changes { entity action fields { name before after } } } } } }`
	if r := e.do(t, "manager", q, map[string]any{"c": id}); r.code() != "FORBIDDEN" {
		t.Fatalf("a manager read the audit log: %+v", r.Errors)
	}
	var out struct {
		AuditLog struct {
			Edges []struct {
				Node struct {
					Actor, Operation, RequestID string
					Changes                     []struct{ Entity, Action string }
				}
			}
		}
	}
	e.mustDo(t, "auditor", q, map[string]any{"c": id}, &out)
	if len(out.AuditLog.Edges) != 1 {
		t.Fatalf("%d audit entries, want the one create", len(out.AuditLog.Edges))
	}
	n := out.AuditLog.Edges[0].Node
	if n.Actor != "admin" || n.Operation != "createCustomer" || n.RequestID != "support-ticket-42" || n.Changes[0].Entity != "customer" {
		t.Fatalf("audit entry: %+v", n)
	}
}

// What the table's stream writes after a logged call (the value score,
// the grade the call earns) is audited as stream:settle, by the system:
// no entry of a customer's log leaves its operation blank.
func TestAuditLogNamesWhatTheStreamSettles(t *testing.T) {
	e := mustEnv(t)
	var created struct{ CreateCustomer struct{ ID string } }
	e.mustDo(t, "admin", createCustomer, map[string]any{"in": map[string]any{"kind": "PERSON", "name": "Settled"}}, &created)
	id := created.CreateCustomer.ID
	e.mustDo(t, "admin", `mutation($c: ID!) { logInteraction(input: {customerId: $c, channel: PHONE, type: CALL, subject: "intro"}) { id } }`,
		map[string]any{"c": id}, nil)
	e.drain(t)

	var out struct {
		AuditLog struct {
			Edges []struct {
				Node struct {
					Actor, Operation string
					Changes          []struct {
						Entity, Action string
						Fields         []struct{ Name string }
					}
				}
			}
		}
	}
	e.mustDo(t, "auditor", `query($c: ID!) { auditLog(filter: {customerId: $c}) { edges { node {
		actor operation changes { entity action fields { name } } } } } }`, map[string]any{"c": id}, &out)
	settled := false
	for _, edge := range out.AuditLog.Edges {
		n := edge.Node
		if n.Operation == "" {
			t.Errorf("an audit entry names no operation: %+v", n)
		}
		if n.Operation == "stream:settle" {
			settled = true
			if n.Actor != "system" || len(n.Changes) == 0 || n.Changes[0].Entity != "customer" || n.Changes[0].Action != "UPDATE" {
				t.Errorf("the stream's entry: %+v", n)
			}
		}
	}
	if !settled {
		t.Fatalf("no stream:settle entry among %+v", out.AuditLog.Edges)
	}
}
