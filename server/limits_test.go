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
	h := as("admin")
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return sendTo(tb, method, srv.URL+"/graphql"+query, h, body)
}

// sendTo makes a raw request and decodes the response, failing the test if
// it is not JSON.
func sendTo(tb testing.TB, method, url string, h http.Header, body string) *response {
	tb.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header = h.Clone()
	if method == http.MethodPost && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
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
	out.status, out.header = res.StatusCode, res.Header
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
// refused up front as BAD_USER_INPUT with a message naming the rule. A
// well-formed HTTP request is answered, as GraphQL over HTTP asks, 200 for
// application/json and 400 for application/graphql-response+json; one
// that is not GraphQL over HTTP at all gets its HTTP status either way.
func TestMalformedRequestsAreBadUserInput(t *testing.T) {
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
	const request = 0 // a GraphQL request error: the status follows the media type
	tests := []struct {
		name, method, query, contentType, body string
		status                                 int
		message, field                         string
	}{
		{"Batch", "POST", "", "application/json", `[{"query":"{ me { id } }"},{"query":"{ me { id } }"}]`, request, "batched requests are not supported: send one operation per request", ""},
		{"NotAnObject", "POST", "", "application/json", `"{ me { id } }"`, request, "request body must be a JSON object with a query", ""},
		{"NullBody", "POST", "", "application/json", `null`, request, "request body must be a JSON object with a query", ""},
		{"NotJSONSyntax", "POST", "", "application/json", `{"query": "{ me { id } }"`, 400, "request body is not valid JSON", ""},
		{"EmptyBody", "POST", "", "application/json", ``, 400, "request body is not valid JSON", ""},
		{"QueryNotAString", "POST", "", "application/json", `{"query": {"q": 1}}`, request, "query: must be a string", "query"},
		{"VariablesNotAnObject", "POST", "", "application/json", `{"query":"{ me { id } }","variables":[1]}`, request, "variables: must be a JSON object", "variables"},
		{"ExtensionsNotAnObject", "POST", "", "application/json", `{"query":"{ me { id } }","extensions":"x"}`, request, "extensions: must be a JSON object", "extensions"},
		{"NotJSON", "POST", "", "text/plain", `{ me { id } }`, 415, "send operations as Content-Type application/json", ""},
		{"Method", "PUT", "", "application/json", `{"query":"{ me { id } }"}`, 405, "method PUT is not allowed: use GET for queries or POST", ""},
		{"GETVariablesNotJSON", "GET", "?query=%7B+me+%7B+id+%7D+%7D&variables=%7Bnope", "", "", request, "variables: is not valid JSON", "variables"},
		{"GETExtensionsNotAnObject", "GET", "?query=%7B+me+%7B+id+%7D+%7D&extensions=%5B%5D", "", "", request, "extensions: must be a JSON object", "extensions"},
		{"GETBadEscape", "GET", "?query=%zz", "", "", request, "the URL query could not be parsed", ""},
	}
	for _, tt := range tests {
		for accept, status := range map[string]int{"application/json": http.StatusOK, "application/graphql-response+json": http.StatusBadRequest} {
			t.Run(tt.name+"/"+accept, func(t *testing.T) {
				h := as("admin")
				h.Set("Accept", accept)
				if tt.contentType != "" {
					h.Set("Content-Type", tt.contentType)
				}
				if tt.status != request {
					status = tt.status
				}
				r := sendTo(t, tt.method, srv.URL+"/graphql"+tt.query, h, tt.body)
				if r.status != status || r.code() != crm.EINVALID || r.Errors[0].Message != tt.message || r.field() != tt.field || r.Data != nil {
					t.Fatalf("status %d %+v data %s; want %d %q", r.status, r.Errors, r.Data, status, tt.message)
				}
				if ct := r.header.Get("Content-Type"); ct != accept+"; charset=utf-8" {
					t.Fatalf("Content-Type %q for Accept %s", ct, accept)
				}
			})
		}
	}
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

// The complexity of an operation is remembered per document only when no
// variable can change it: the same document is priced afresh whenever a
// variable feeds a priced argument, directly or through a fragment.
func TestComplexityFollowsVariables(t *testing.T) {
	const fanOut = `contacts { name } interactions(first: 100) { edges { node { subject } } }`
	tests := []struct {
		name, query string
	}{
		{"Argument", `query($n: Int) { customers(first: $n) { edges { node { ` + fanOut + ` } } } }`},
		{"InFragment", `query($n: Int) { ...page } fragment page on Query { customers(first: $n) { edges { node { ` + fanOut + ` } } } }`},
		{"InInlineFragment", `query($n: Int) { ... on Query { customers(first: $n) { edges { node { ` + fanOut + ` } } } } }`},
	}
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, step := range []struct {
				n       int
				refused bool
			}{{1, false}, {100, true}, {1, false}, {100, true}} {
				_, r := postTo(t, srv.URL+"/graphql", as("admin"), tt.query, map[string]any{"n": step.n})
				if refused := r.code() == "COMPLEXITY_LIMIT_EXCEEDED"; refused != step.refused {
					t.Fatalf("first: %d: refused %v (%+v), want %v", step.n, refused, r.Errors, step.refused)
				}
			}
		})
	}
	// A DateTime variable that does not decode leaves its priced field at
	// gqlgen's default price (the arguments fail to unmarshal), far under
	// the limit: that price must not be remembered for the same document
	// sent again with a good variable that prices it over the limit.
	t.Run("MalformedDateTimeFirst", func(t *testing.T) {
		q := `query($from: DateTime) { customers(first: 100) { edges { node { interactions(from: $from, first: 100) { edges { node { subject } } } } } } }`
		if _, r := postTo(t, srv.URL+"/graphql", as("admin"), q, map[string]any{"from": "not a time"}); r.code() == "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Fatalf("malformed variable: refused for complexity (%+v), want the default price, under the limit", r.Errors)
		}
		for range 2 {
			if _, r := postTo(t, srv.URL+"/graphql", as("admin"), q, map[string]any{"from": "2026-01-01T00:00:00Z"}); r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
				t.Fatalf("good variable after a malformed one: got %+v, want COMPLEXITY_LIMIT_EXCEEDED", r.Errors)
			}
		}
	})
	// A document of several operations is priced per operation: the
	// cheap one's price is not the expensive one's.
	t.Run("OperationsOfOneDocumentPricedApart", func(t *testing.T) {
		q := `query Big { customers(first: 100) { edges { node { ` + fanOut + ` } } } } query Small { me { id } }`
		for range 2 {
			for _, step := range []struct {
				op      string
				refused bool
			}{{"Small", false}, {"Big", true}} {
				r := postJSON(t, srv, map[string]any{"query": q, "operationName": step.op})
				if refused := r.code() == "COMPLEXITY_LIMIT_EXCEEDED"; refused != step.refused {
					t.Fatalf("%s: refused %v (%+v), want %v", step.op, refused, r.Errors, step.refused)
				}
			}
		}
	})
	t.Run("FixedDocumentRefusedEveryTime", func(t *testing.T) {
		q := `{ customers(first: 100) { edges { node { ` + fanOut + ` } } } }`
		for range 2 {
			if _, r := post(t, srv, as("admin"), q); r.code() != "COMPLEXITY_LIMIT_EXCEEDED" ||
				!strings.Contains(r.Errors[0].Message, "exceeds the limit of 5000") {
				t.Fatalf("got %+v", r.Errors)
			}
		}
	})
}
