package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/server"
)

// send makes a raw request to /graphql as the admin and decodes the
// response, failing the test if it is not JSON.
func send(tb testing.TB, srv *httptest.Server, method, query, contentType, body string) *response {
	tb.Helper()
	req, _ := http.NewRequest(method, srv.URL+"/graphql"+query, strings.NewReader(body))
	req.Header = as("admin")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out response
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("status %d, body is not JSON: %s", res.StatusCode, raw)
	}
	out.status = res.StatusCode
	return &out
}

func hashOf(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}

func persisted(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

func postJSON(tb testing.TB, srv *httptest.Server, body map[string]any) *response {
	tb.Helper()
	b, _ := json.Marshal(body)
	return send(tb, srv, http.MethodPost, "", "application/json", string(b))
}

func getQuery(tb testing.TB, srv *httptest.Server, params map[string]any) *response {
	tb.Helper()
	v := url.Values{}
	for k, p := range params {
		if s, ok := p.(string); ok {
			v.Set(k, s)
			continue
		}
		b, _ := json.Marshal(p)
		v.Set(k, string(b))
	}
	return send(tb, srv, http.MethodGet, "?"+v.Encode(), "", "")
}

func TestPersistedQueries(t *testing.T) {
	const query = `query Me { me { id } }`
	hash := hashOf(query)
	for _, transport := range []string{"POST", "GET"} {
		t.Run(transport, func(t *testing.T) {
			srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
			do := postJSON
			if transport == "GET" {
				do = getQuery
			}
			if r := do(t, srv, map[string]any{"extensions": persisted(hash)}); r.code() != "PERSISTED_QUERY_NOT_FOUND" || r.Errors[0].Message != "PersistedQueryNotFound" {
				t.Fatalf("unknown hash: %+v", r.Errors)
			}
			if r := do(t, srv, map[string]any{"query": query, "extensions": persisted(hash)}); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"admin"`) {
				t.Fatalf("registration: %+v %s", r.Errors, r.Data)
			}
			if r := do(t, srv, map[string]any{"extensions": persisted(hash)}); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"admin"`) {
				t.Fatalf("hash alone after registration: %+v %s", r.Errors, r.Data)
			}
		})
	}
	t.Run("ErrHashNotOfTheQuery", func(t *testing.T) {
		srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
		other := `{ me { id roles } }`
		r := postJSON(t, srv, map[string]any{"query": other, "extensions": persisted(hash)})
		if r.code() != crm.EINVALID || r.field() != "extensions.persistedQuery.sha256Hash" {
			t.Fatalf("mismatched hash: %+v", r.Errors)
		}
		// Nothing was registered under the hash.
		if r := postJSON(t, srv, map[string]any{"extensions": persisted(hash)}); r.code() != "PERSISTED_QUERY_NOT_FOUND" {
			t.Fatalf("a refused registration was kept: %+v %s", r.Errors, r.Data)
		}
	})
	t.Run("ErrUnsupportedVersion", func(t *testing.T) {
		srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
		ext := map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": hash}}
		if r := postJSON(t, srv, map[string]any{"query": query, "extensions": ext}); r.code() != crm.EINVALID || r.field() != "extensions.persistedQuery.version" {
			t.Fatalf("version 2: %+v", r.Errors)
		}
	})
	t.Run("InvalidQueriesAreNotRegistered", func(t *testing.T) {
		srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
		for _, bad := range []string{`{ me { nope } }`, `{ me { `, `{ ` + strings.Repeat("a: me { id } ", 60) + `}`} {
			if r := postJSON(t, srv, map[string]any{"query": bad, "extensions": persisted(hashOf(bad))}); len(r.Errors) == 0 {
				t.Fatalf("%s ran", bad)
			}
			if r := postJSON(t, srv, map[string]any{"extensions": persisted(hashOf(bad))}); r.code() != "PERSISTED_QUERY_NOT_FOUND" {
				t.Fatalf("invalid query %q was registered: %+v", bad, r.Errors)
			}
		}
	})
}

// Requests gqlgen would answer without a code, or by echoing the body, are
// refused up front as BAD_USER_INPUT with a message naming the rule.
func TestMalformedRequestsAreBadUserInput(t *testing.T) {
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
	tests := []struct {
		name, method, query, contentType, body string
		status                                 int
		message, field                         string
	}{
		{"Batch", "POST", "", "application/json", `[{"query":"{ me { id } }"},{"query":"{ me { id } }"}]`, 400, "batched requests are not supported: send one operation per request", ""},
		{"NotAnObject", "POST", "", "application/json", `"{ me { id } }"`, 400, "request body must be a JSON object with a query", ""},
		{"NullBody", "POST", "", "application/json", `null`, 400, "request body must be a JSON object with a query", ""},
		{"QueryNotAString", "POST", "", "application/json", `{"query": {"q": 1}}`, 400, "query: must be a string", "query"},
		{"VariablesNotAnObject", "POST", "", "application/json", `{"query":"{ me { id } }","variables":[1]}`, 400, "variables: must be a JSON object", "variables"},
		{"ExtensionsNotAnObject", "POST", "", "application/json", `{"query":"{ me { id } }","extensions":"x"}`, 400, "extensions: must be a JSON object", "extensions"},
		{"NotJSON", "POST", "", "text/plain", `{ me { id } }`, 415, "send operations as Content-Type application/json", ""},
		{"Method", "PUT", "", "application/json", `{"query":"{ me { id } }"}`, 405, "method PUT is not allowed: use GET for queries or POST", ""},
		{"GETVariablesNotJSON", "GET", "?query=%7B+me+%7B+id+%7D+%7D&variables=%7Bnope", "", "", 400, "variables: is not valid JSON", "variables"},
		{"GETExtensionsNotAnObject", "GET", "?query=%7B+me+%7B+id+%7D+%7D&extensions=%5B%5D", "", "", 400, "extensions: must be a JSON object", "extensions"},
		{"GETBadEscape", "GET", "?query=%zz", "", "", 400, "the URL query could not be parsed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, srv, tt.method, tt.query, tt.contentType, tt.body)
			if r.status != tt.status || r.code() != crm.EINVALID || r.Errors[0].Message != tt.message || r.field() != tt.field {
				t.Fatalf("status %d %+v; want %d %q", r.status, r.Errors, tt.status, tt.message)
			}
		})
	}
	t.Run("MutationOverGET", func(t *testing.T) {
		r := getQuery(t, srv, map[string]any{"query": `mutation { createCustomer(input: {kind: PERSON, name: "x"}) { id } }`})
		if r.code() != crm.EINVALID || !strings.Contains(r.Errors[0].Message, "POST") {
			t.Fatalf("%+v", r.Errors)
		}
	})
}

// oversized documents of every kind that made validation slow or the
// response long; each is within the body and token limits unless named so.
func oversizedDocuments() map[string]string {
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := range 2000 {
		fmt.Fprintf(&aliases, " a%d: me { id }", i)
	}
	aliases.WriteString(" }")
	bomb := "fragment F0 on Viewer { id name email roles teams }\n"
	for i := 1; i <= 30; i++ {
		bomb += fmt.Sprintf("fragment F%d on Viewer { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	spreads := "fragment S0 on Viewer { ...Missing }\n"
	for i := 1; i <= 30; i++ {
		spreads += fmt.Sprintf("fragment S%d on Viewer { ...S%d ...S%d }\n", i, i-1, i-1)
	}
	return map[string]string{
		"Aliases":          aliases.String(),
		"DuplicatedFields": "{ me { " + strings.Repeat("id ", 7000) + "} }",
		"RepeatedRoots":    "{ " + strings.Repeat("me { id } ", 3000) + "}",
		"UnusedFragment":   "fragment U on Viewer { " + strings.Repeat("id ", 7000) + "} { me { id } }",
		"ManyOperations":   strings.Repeat("query { me { id } } ", 600),
		"Depth":            "{ customers { edges { node { latestInteraction { customer { latestInteraction { customer { latestInteraction { customer { latestInteraction { customer { latestInteraction { id } } } } } } } } } } } } }",
		"FragmentBomb":     bomb + "{ me { ...F30 } }",
		"SpreadBomb":       spreads + "{ me { id ...S30 } }",
		"Tokens":           "{ me { " + strings.Repeat("id ", 20000) + "} }",
	}
}

func TestOversizedDocumentsAreRefusedNamingTheLimit(t *testing.T) {
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
	want := map[string]string{
		"Aliases":          "query uses more than the limit of 50 aliases",
		"DuplicatedFields": "query selects more than the limit of 500 fields (fragments expanded)",
		"RepeatedRoots":    "query selects more than the limit of 500 fields (fragments expanded)",
		"UnusedFragment":   "query selects more than the limit of 500 fields (fragments expanded)",
		"ManyOperations":   "query selects more than the limit of 500 fields (fragments expanded)",
		"Depth":            "query is nested deeper than the limit of 12 levels",
		"FragmentBomb":     "query selects more than the limit of 500 fields (fragments expanded)",
		"SpreadBomb":       "query expands more than the limit of 500 fragments",
		"Tokens":           "exceeded token limit of 15000",
	}
	for name, q := range oversizedDocuments() {
		t.Run(name, func(t *testing.T) {
			r := postJSON(t, srv, map[string]any{"query": q})
			code := "GRAPHQL_VALIDATION_FAILED"
			if name == "Tokens" {
				code = "GRAPHQL_PARSE_FAILED"
			}
			if r.code() != code || len(r.Errors) != 1 || r.Errors[0].Message != want[name] {
				t.Fatalf("got %+v, want %s %q", r.Errors, code, want[name])
			}
		})
	}
	t.Run("ErrFragmentCycleIsLeftToValidation", func(t *testing.T) {
		r := postJSON(t, srv, map[string]any{"query": "fragment A on Viewer { id ...B } fragment B on Viewer { ...A } { me { ...A } }"})
		if r.code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, "Cannot spread fragment") {
			t.Fatalf("%+v", r.Errors)
		}
	})
}

func TestResponsesListAtMost20Errors(t *testing.T) {
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
	r := postJSON(t, srv, map[string]any{"query": "{ me(" + strings.Repeat("a: 1 ", 100) + ") { id } }"})
	if len(r.Errors) != 21 || r.code() != "GRAPHQL_VALIDATION_FAILED" || !strings.HasSuffix(r.Errors[20].Message, " more errors not shown (a response lists at most 20)") {
		t.Fatalf("%d errors, last %+v", len(r.Errors), r.Errors[len(r.Errors)-1])
	}
}
