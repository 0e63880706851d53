package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/server"
)

// graphiQLIntrospection is the query GraphiQL 4.1.2 (the version
// `make run` serves, see server/graphiql) sends to read the schema, with
// the options our page gives it; cmd/local's browser test checks that the
// page sends exactly this. Regenerate it from graphiql.min.js when the
// version changes.
func graphiQLIntrospection(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("testdata/graphiql-4.1.2-introspection.graphql")
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// partnerKeys signs in any X-Api-Key on the partner route as a partner of
// organization "org-1", and staff as headerAuth does.
func partnerKeys() server.Authenticator {
	return server.WithAPIKeys(func(_ context.Context, key string) (*crm.User, error) {
		return &crm.User{ID: "key-" + key, Roles: []crm.Role{crm.RolePartner}, PartnerOrgID: "org-1"}, nil
	}, headerAuth{})
}

// introspect posts GraphiQL's introspection query to path as the caller
// the header names.
func introspect(t *testing.T, url string, h http.Header, query string) *response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "operationName": "IntrospectionQuery"})
	return sendTo(t, http.MethodPost, url, h, string(body))
}

// The shape limits guard operations, not the schema's own introspection:
// the query GraphiQL (and codegen, Apollo, Insomnia…) sends to read the
// schema is 15 levels deep and passes, for staff and for partners, when
// introspection is on; when it is off it is refused as introspection, not
// as too deep.
func TestGraphiQLsIntrospectionQuery(t *testing.T) {
	query := graphiQLIntrospection(t)
	routes := []struct {
		name, path string
		header     http.Header
	}{
		{"Staff", "/graphql", as("admin")},
		{"Partner", server.PartnerPath, http.Header{server.APIKeyHeader: {"k1"}}},
	}
	on, _ := mustBareServer(t, partnerKeys(), server.Options{Introspection: true})
	off, _ := mustBareServer(t, partnerKeys(), server.Options{})
	for _, rt := range routes {
		t.Run(rt.name+"OK", func(t *testing.T) {
			r := introspect(t, on.URL+rt.path, rt.header, query)
			if r.status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("status %d, errors %+v", r.status, r.Errors)
			}
			var data struct {
				Schema struct {
					QueryType struct{ Name string }
					Types     []struct {
						Name   string
						Fields []struct{ Name string }
					}
				} `json:"__schema"`
			}
			if err := json.Unmarshal(r.Data, &data); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, ty := range data.Schema.Types {
				found = found || ty.Name == "Customer" && len(ty.Fields) > 10
			}
			if data.Schema.QueryType.Name != "Query" || !found {
				t.Fatalf("the schema lacks Query or Customer: %d types", len(data.Schema.Types))
			}
		})
		t.Run(rt.name+"ErrIntrospectionOff", func(t *testing.T) {
			r := introspect(t, off.URL+rt.path, rt.header, query)
			if r.code() != "GRAPHQL_VALIDATION_FAILED" || r.Errors[0].Message != "introspection is disabled: field __schema" || r.Data != nil {
				t.Fatalf("status %d, errors %+v, data %s", r.status, r.Errors, r.Data)
			}
		})
	}
}

// Within introspection, depth gives way to graphql-js's bound on nested
// type lists (each level multiplies the answer by the schema's size);
// everywhere else the depth limit stands, and introspection's fields still
// count towards the field limit.
func TestIntrospectionIsBoundedByNestedTypeLists(t *testing.T) {
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{Introspection: true})
	tests := []struct {
		name, query, message string
	}{
		{"OKTwoNestedLists", `{ __type(name: "Customer") { fields { type { ofType { fields { name } } } } } }`, ""},
		{"OKDeepOfType", `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } } }`, ""},
		{"ErrThreeNestedLists", `{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }`,
			"introspection nests fields, inputFields, interfaces or possibleTypes more than 2 deep"},
		{"ErrThroughFragments", `{ __type(name: "Customer") { ...F } } fragment F on __Type { interfaces { possibleTypes { inputFields { name } } } }`,
			"introspection nests fields, inputFields, interfaces or possibleTypes more than 2 deep"},
		{"ErrDepthOutsideIntrospection", oversizedDocuments()["Depth"], "query is nested deeper than the limit of 12 levels"},
		{"ErrFieldsStillCount", `{ __schema { types { name ` + strings.Repeat("description ", 500) + `} } }`,
			"query selects more than the limit of 500 fields (fragments expanded)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postJSON(t, srv, map[string]any{"query": tt.query})
			switch {
			case tt.message == "" && len(r.Errors) > 0:
				t.Fatalf("%+v", r.Errors)
			case tt.message != "" && (r.code() != "GRAPHQL_VALIDATION_FAILED" || r.Errors[0].Message != tt.message):
				t.Fatalf("got %+v, want %q", r.Errors, tt.message)
			}
		})
	}
}
