package server_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/server"
)

// FuzzGraphQLDocument sends whole documents, with variables, through the
// HTTP handler over a real table. Plain `go test` runs the seeds; `make
// fuzz FUZZ=FuzzGraphQLDocument PKG=./server` explores. Whatever arrives,
// the answer is JSON, never a 5xx, never INTERNAL (an INTERNAL here is a
// bug: the input was the caller's to get wrong), never a suggestion, and
// nothing panics.
func FuzzGraphQLDocument(f *testing.F) {
	table := ddbtest.NewTable(f, "CrmTable")
	svc := crm.NewService(dynamo.New(ddbtest.Client(f), table, []byte(strings.Repeat("s", 32))))
	mustDirectory(f, svc)
	h := server.New(svc, headerAuth{}, slog.New(slog.DiscardHandler), testOptions)
	c, err := svc.CreateCustomer(crm.NewContextWithUser(f.Context(), users["admin"]), crm.CustomerInput{
		Kind: crm.KindOrganization, Name: "Fuzz Ltd", Region: "north", Team: "north", Grade: "B", Tags: []string{"vip"}})
	if err != nil {
		f.Fatal(err)
	}
	seeds := []struct{ query, variables string }{
		{`{ me { id roles } }`, ``},
		{`{ customers(first: 5) { totalCount edges { cursor node { id name grade { level { code } } latestInteraction { subject } } } pageInfo { hasNextPage endCursor } } }`, ``},
		{`query($id: ID!) { customer360(id: $id, recentInteractions: 3) { customer { name } contacts { name } recentInteractions { subject } } }`, `{"id":"` + c.ID + `"}`},
		{`query($id: ID!) { customer(id: $id) { id contacts { name } interactions(first: 2) { totalCount } } }`, `{"id":"not-an-id#"}`},
		{`query($f: CustomerFilter) { customers(filter: $f) { totalCount } }`, `{"f":{"grade":"Z","tag":"v i p","pool":true,"ownerId":"x"}}`},
		{`query($f: DateTime) { interactions(customerId: "x", from: $f) { totalCount } }`, `{"f":"yesterday"}`},
		{`mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`, `{"in":{"kind":"PERSON","name":"","emails":["nope"]}}`},
		{`mutation($in: LogInteractionInput!) { logInteraction(input: $in) { id } }`, `{"in":{"customerId":"` + c.ID + `","channel":"PHONE","type":"CALL","occurredAt":"1969-12-31T23:59:59Z"}}`},
		{`mutation { updateCustomer(id: "` + c.ID + `", expectedVersion: 99, input: {name: "x"}) { id } }`, ``},
		{`{ customers(after: "forged", first: 1000) { totalCount } }`, ``},
		{`{ customers { `, ``},
		{`{ __schema { types { name } } }`, ``},
		{`{ __typename }`, ``},
		{`{ custmers(frist: 1) { totalCount } }`, ``},
		{`query($in: CreateCustomerInput!) { createCustomer(input: {knd: PERSN}) { id } }`, `{"in":{"kind":"PERSN"}}`},
		{`fragment A on Viewer { id ...B } fragment B on Viewer { ...A } { me { ...A } }`, ``},
		{`query A { me { id } } query B { me { id } }`, ``},
		{`{ me { id } }`, `[1,2]`},
		{`{ me { id } }`, `{"x":`},
		{`subscription { me { id } }`, ``},
		{`{ me @skip(if: $nope) { id } }`, ``},
		{"{ me { id } } \x00\xff", ``},
		{`{ customer(id: "` + strings.Repeat("9", 70) + `") { id } }`, ``},
		{`{ customers(filter: {region: "north", team: "north", tag: "VIP", grade: "b"}) { edges { node { tags } } } }`, ``},
		{`{ a: me { id } b: me { id } me { id: roles } }`, ``},
		{strings.Repeat("{", 2000), ``},
		{`{ me { ` + strings.Repeat("id ", 600) + `} }`, ``},
		{`query($n: Int) { customers(first: $n) { totalCount } }`, `{"n": 1e40}`},
		{`query($n: Int) { customers(first: $n) { totalCount } }`, `{"n": -1}`},
		{`query($id: ID!) { caseList: customer(id: $id) { cases(first: 100) { edges { node { id status dueAt } } } } }`, `{"id":"` + c.ID + `"}`},
	}
	for _, s := range seeds {
		f.Add(s.query, s.variables)
	}
	f.Fuzz(func(t *testing.T, query, variables string) {
		body := fmt.Sprintf(`{"query":%s`, mustJSON(query))
		if variables != "" {
			body += `,"variables":` + variables
		}
		body += "}"
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-User", "admin")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		var out response
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("response is not JSON (%v): %s", err, rec.Body)
		}
		for _, e := range out.Errors {
			if e.Extensions["code"] == crm.EINTERNAL || e.Extensions["code"] == nil {
				t.Fatalf("error without a caller's code for %q: %+v", body, out.Errors)
			}
			// Production mode: no error suggests a name (withhold.go).
			if strings.Contains(e.Message, "Did you mean") {
				t.Fatalf("a suggestion in production for %q: %+v", body, e)
			}
		}
	})
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
