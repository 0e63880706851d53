package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/server"
)

const graphQLResponse = "application/graphql-response+json"

// GraphQL over HTTP: a request that fails before execution (parsing,
// validation, variables, limits) has no data entry, since execution never
// began, and is answered 400 to a client that accepts
// application/graphql-response+json and 200 to one that takes
// application/json (whose clients read errors from the body whatever the
// status); a request that executes is answered 200 with its data, even
// when a field failed.
func TestGraphQLOverHTTPStatusAndDataEntry(t *testing.T) {
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
	tests := []struct {
		name, query string
		vars        map[string]any
		code        string
		executes    bool
	}{
		{"ErrParse", `{ me { id `, nil, "GRAPHQL_PARSE_FAILED", false},
		{"ErrValidation", `{ me { nope } }`, nil, "GRAPHQL_VALIDATION_FAILED", false},
		{"ErrShapeLimit", oversizedDocuments()["Depth"], nil, "GRAPHQL_VALIDATION_FAILED", false},
		{"ErrVariableCoercion", `query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": []int{1}}, crm.EINVALID, false},
		{"ErrComplexity", `{ customers(first: 100) { edges { node { contacts { name } interactions(first: 100) { edges { node { subject } } } } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED", false},
		{"ErrPersistedQueryNotFound", "", nil, "PERSISTED_QUERY_NOT_FOUND", false},
		{"OK", `{ me { id } }`, nil, "", true},
		// The bare server has no store: resolving a customer panics, which
		// is a field error during execution.
		{"FieldErrorDuringExecution", `{ customer(id: "01HZZZZZZZZZZZZZZZZZZZZZZZ") { id } }`, nil, crm.EINTERNAL, true},
	}
	for _, tt := range tests {
		for _, accept := range []string{"", "application/json", "*/*", graphQLResponse, graphQLResponse + ", application/json;q=0.9"} {
			t.Run(tt.name+"/"+accept, func(t *testing.T) {
				body := map[string]any{"query": tt.query, "variables": tt.vars}
				if tt.query == "" {
					body["extensions"] = persisted(hashOf("{ never sent }"))
				}
				b, _ := json.Marshal(body)
				h := as("admin")
				if accept != "" {
					h.Set("Accept", accept)
				}
				r := sendTo(t, http.MethodPost, srv.URL+"/graphql", h, string(b))
				media, status := "application/json", http.StatusOK
				if strings.HasPrefix(accept, graphQLResponse) {
					media = graphQLResponse
					if !tt.executes {
						status = http.StatusBadRequest
					}
				}
				if r.status != status || r.code() != tt.code || (r.Data != nil) != tt.executes {
					t.Fatalf("status %d, errors %+v, data %s; want %d %q, data entry %v", r.status, r.Errors, r.Data, status, tt.code, tt.executes)
				}
				if ct := r.header.Get("Content-Type"); ct != media+"; charset=utf-8" {
					t.Fatalf("Content-Type %q, want %s", ct, media)
				}
			})
		}
	}
}

// GET serves queries only: a mutation sent by GET is answered 405 with
// Allow: POST, as GraphQL over HTTP requires, for either media type, and
// is not executed.
func TestMutationByGETIsMethodNotAllowed(t *testing.T) {
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
	for _, accept := range []string{"application/json", graphQLResponse} {
		t.Run(accept, func(t *testing.T) {
			h := as("admin")
			h.Set("Accept", accept)
			q := url.Values{"query": {`mutation { createCustomer(input: {kind: PERSON, name: "x"}) { id } }`}}
			r := sendTo(t, http.MethodGet, srv.URL+"/graphql?"+q.Encode(), h, "")
			if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" || r.code() != crm.EINVALID ||
				r.Errors[0].Message != "a mutation must be sent with POST; GET serves queries only" || r.Data != nil {
				t.Fatalf("status %d, Allow %q, errors %+v, data %s", r.status, r.header.Get("Allow"), r.Errors, r.Data)
			}
		})
	}
	t.Run("OKQueryByGET", func(t *testing.T) {
		r := getQuery(t, srv, map[string]any{"query": `{ me { id } }`})
		if r.status != http.StatusOK || len(r.Errors) > 0 || string(r.Data) != `{"me":{"id":"admin"}}` {
			t.Fatalf("status %d, errors %+v, data %s", r.status, r.Errors, r.Data)
		}
	})
}
