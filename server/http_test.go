package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/server"
)

// A service without a store: the tests here exercise the HTTP edge, and
// any resolver that reaches the store panics, which is what the recovery
// test wants.
func mustBareServer(tb testing.TB, auth server.Authenticator, opts server.Options) (*httptest.Server, *bytes.Buffer) {
	tb.Helper()
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil))
	opts.WithoutDirectory = true
	srv := httptest.NewServer(server.New(&crm.Service{Now: time.Now}, auth, log, opts))
	tb.Cleanup(srv.Close)
	return srv, logs
}

func post(tb testing.TB, srv *httptest.Server, header http.Header, query string) (*http.Response, *response) {
	tb.Helper()
	return postTo(tb, srv.URL+"/graphql", header, query, nil)
}

// postTo posts a GraphQL operation to url with the given headers.
func postTo(tb testing.TB, url string, header http.Header, query string, vars map[string]any) (*http.Response, *response) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var out response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		tb.Fatal(err)
	}
	out.status = res.StatusCode
	return res, &out
}

func as(user string) http.Header { return http.Header{"X-Test-User": {user}} }

type authFunc func(*http.Request) (*crm.User, error)

func (f authFunc) Authenticate(r *http.Request) (*crm.User, error) { return f(r) }

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name    string
		auth    authFunc
		status  int
		code    string
		message string
	}{
		{"ErrNoCredentials", func(*http.Request) (*crm.User, error) {
			return nil, crm.Errorf(crm.EUNAUTHORIZED, "missing bearer token")
		}, http.StatusUnauthorized, crm.EUNAUTHORIZED, "missing bearer token"},
		{"ErrVerifierFaultIsUnauthenticatedAndHidden", func(*http.Request) (*crm.User, error) {
			return nil, errors.New("jwks: parse https://idp.internal/keys: unexpected EOF")
		}, http.StatusUnauthorized, crm.EUNAUTHORIZED, "sign-in required"},
		{"ErrNoUserIsUnauthenticated", func(*http.Request) (*crm.User, error) {
			return nil, nil
		}, http.StatusUnauthorized, crm.EUNAUTHORIZED, "sign-in required"},
		{"ErrIdentityProviderDownIsRetryable", func(*http.Request) (*crm.User, error) {
			return nil, crm.Errorf(crm.EUNAVAILABLE, "identity provider unavailable")
		}, http.StatusServiceUnavailable, crm.EUNAVAILABLE, "identity provider unavailable"},
		{"OK", func(*http.Request) (*crm.User, error) {
			return &crm.User{ID: "u1", Roles: []crm.Role{crm.RoleAuditor}}, nil
		}, http.StatusOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := mustBareServer(t, tt.auth, server.Options{})
			_, r := post(t, srv, nil, `{ me { id roles } }`)
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("status %d, errors %+v; want %d %s", r.status, r.Errors, tt.status, tt.code)
			}
			if tt.code != "" && r.Errors[0].Message != tt.message {
				t.Fatalf("message %q, want %q", r.Errors[0].Message, tt.message)
			}
		})
	}
}

// The Lambda adapter puts the user from API Gateway's authorizer claims
// into the context; the server must not ask the verifier again.
func TestUserAlreadyInContextIsTrusted(t *testing.T) {
	refuse := authFunc(func(*http.Request) (*crm.User, error) {
		return nil, crm.Errorf(crm.EUNAUTHORIZED, "no token")
	})
	h := server.New(&crm.Service{Now: time.Now}, refuse, slog.New(slog.DiscardHandler), server.Options{WithoutDirectory: true})
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(crm.NewContextWithUser(req.Context(), &crm.User{ID: "from-claims", Roles: []crm.Role{crm.RoleSales}}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"from-claims"`) {
		t.Fatalf("status %d body %s", rec.Code, rec.Body)
	}
}

func TestPanicsAreMaskedAsInternalWithTheRequestID(t *testing.T) {
	srv, logs := mustBareServer(t, headerAuth{}, server.Options{})
	h := as("admin")
	h.Set("X-Request-Id", "req-123")
	res, r := post(t, srv, h, `{ customer(id: "01HZZZZZZZZZZZZZZZZZZZZZZZ") { id } }`)
	if r.code() != crm.EINTERNAL || r.Errors[0].Message != "internal error" || r.Errors[0].Extensions["requestId"] != "req-123" {
		t.Fatalf("got %+v", r.Errors)
	}
	if res.Header.Get("X-Request-Id") != "req-123" {
		t.Fatalf("X-Request-Id %q", res.Header.Get("X-Request-Id"))
	}
	if raw, _ := json.Marshal(r); strings.Contains(string(raw), "nil pointer") || strings.Contains(string(raw), "goroutine") {
		t.Fatalf("response leaks the panic: %s", raw)
	}
	if !strings.Contains(logs.String(), `"panic"`) || !strings.Contains(logs.String(), `"requestId":"req-123"`) {
		t.Fatalf("the panic was not logged with the request id: %s", logs)
	}
}

func TestRequestIDIsMadeWhenMissing(t *testing.T) {
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
	res, _ := post(t, srv, as("admin"), `{ gradeLevels { code } }`)
	if id := res.Header.Get("X-Request-Id"); len(id) < 16 {
		t.Fatalf("X-Request-Id %q", id)
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name, query string
		code        string
	}{
		{"ErrFanOutPerListedCustomer", `{ customers(first: 100) { edges { node {
			contacts { name } interactions(first: 100) { edges { node { subject } } } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
		{"ErrIntrospectionDisabled", `{ __schema { types { name } } }`, "GRAPHQL_VALIDATION_FAILED"},
		{"ErrParse", `{ customers { `, "GRAPHQL_PARSE_FAILED"},
		{"ErrUnknownField", `{ customers { nope } }`, "GRAPHQL_VALIDATION_FAILED"},
	}
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, r := post(t, srv, as("admin"), tt.query); r.code() != tt.code || r.Data != nil && string(r.Data) != "null" {
				t.Fatalf("got %+v data %s, want %s", r.Errors, r.Data, tt.code)
			}
		})
	}
	t.Run("OKIntrospectionEnabled", func(t *testing.T) {
		srv, _ := mustBareServer(t, headerAuth{}, server.Options{Introspection: true})
		if _, r := post(t, srv, as("admin"), `{ __schema { queryType { name } } }`); len(r.Errors) > 0 {
			t.Fatalf("%+v", r.Errors)
		}
	})
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		srv, _ := mustBareServer(t, headerAuth{}, server.Options{MaxBodyBytes: 64})
		if _, r := post(t, srv, as("admin"), `{ gradeLevels { code label description rank responseSlaHours } }`); r.status != http.StatusRequestEntityTooLarge || r.code() != crm.EINVALID {
			t.Fatalf("status %d, %+v", r.status, r.Errors)
		}
	})
	t.Run("ErrMalformedJSONIsNotEchoed", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(`{"query": "{ me { id } }", secret-ish`))
		req.Header = as("admin")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), crm.EINVALID) || strings.Contains(string(b), "secret-ish") {
			t.Fatalf("status %d body %s", res.StatusCode, b)
		}
	})
}

func TestHealth(t *testing.T) {
	refuse := authFunc(func(*http.Request) (*crm.User, error) { return nil, crm.Errorf(crm.EUNAUTHORIZED, "no") })
	srv, _ := mustBareServer(t, refuse, server.Options{})
	res, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != "ok" {
		t.Fatalf("healthz: %d %q", res.StatusCode, b)
	}
}

// Every request ends with one line under its id; lines logged on the way
// (here a resolver's panic) carry the id too, first of their attributes.
func TestRequestLogLinesCarryTheRequestID(t *testing.T) {
	srv, logs := mustBareServer(t, headerAuth{}, server.Options{})
	h := as("admin")
	h.Set("X-Request-Id", "req-log")
	post(t, srv, h, `{ __typename }`)
	post(t, srv, http.Header{"X-Request-Id": {"req-anon"}}, `{ __typename }`)
	h.Set("X-Request-Id", "req-panic")
	post(t, srv, h, `{ customer(id: "01HZZZZZZZZZZZZZZZZZZZZZZZ") { id } }`)
	want := map[string]bool{"request req-log 200": true, "request req-anon 401": true, "request req-panic 200": true, "panic req-panic": true}
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		key := fmt.Sprintf("%v %v", m["msg"], m["requestId"])
		if m["msg"] == "request" {
			key += fmt.Sprintf(" %v", m["status"])
		}
		if want[key] {
			delete(want, key)
			if !strings.Contains(line, fmt.Sprintf(`"msg":%q,"requestId"`, m["msg"])) {
				t.Errorf("the id is not the first attribute: %s", line)
			}
		}
	}
	if len(want) > 0 {
		t.Fatalf("no lines %v in %s", want, logs)
	}
}
