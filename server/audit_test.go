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
