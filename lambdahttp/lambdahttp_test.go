package lambdahttp_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/lambdahttp"
)

// MustServe runs ev through Handler(h) and returns the response.
func MustServe(tb testing.TB, ctx context.Context, h http.Handler, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	res, err := lambdahttp.Handler(h, lambdahttp.Options{})(ctx, ev)
	if err != nil {
		tb.Fatalf("handler returned error: %v", err)
	}
	return res
}

func event(method, rawPath, rawQuery, body string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RawPath:        rawPath,
		RawQueryString: rawQuery,
		Headers:        map[string]string{"host": "api.example.com", "content-type": "application/json"},
		Body:           body,
	}
	ev.RequestContext.DomainName = "api.example.com"
	ev.RequestContext.HTTP = events.APIGatewayV2HTTPRequestContextHTTPDescription{
		Method: method, Path: rawPath, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7",
	}
	return ev
}

func TestRequest(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		ev := event("POST", "/graphql", "a=1&b=x%20y", `{"query":"{ me { id } }"}`)
		ev.Headers["accept"] = "application/json, text/plain"
		ev.Cookies = []string{"s=1", "t=2"}
		var got *http.Request
		var body string
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r
			b, _ := io.ReadAll(r.Body)
			body = string(b)
		})
		MustServe(t, context.Background(), h, ev)
		if got.Method != "POST" || got.URL.Path != "/graphql" || got.URL.Query().Get("b") != "x y" {
			t.Errorf("method %s path %s query %v", got.Method, got.URL.Path, got.URL.Query())
		}
		if got.RequestURI != "/graphql?a=1&b=x%20y" {
			t.Errorf("RequestURI = %q", got.RequestURI)
		}
		if got.Host != "api.example.com" || got.RemoteAddr != "203.0.113.7" || got.ProtoMajor != 1 || got.ProtoMinor != 1 {
			t.Errorf("host %q remote %q proto %s", got.Host, got.RemoteAddr, got.Proto)
		}
		if got.Header.Get("Accept") != "application/json, text/plain" || got.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", got.Header)
		}
		if c, err := got.Cookie("t"); err != nil || c.Value != "2" {
			t.Errorf("cookie t = %v, %v", c, err)
		}
		if body != `{"query":"{ me { id } }"}` || got.ContentLength != int64(len(body)) {
			t.Errorf("body %q, length %d", body, got.ContentLength)
		}
	})
	t.Run("Base64Body", func(t *testing.T) {
		raw := []byte{0, 1, 2, 0xff, 'x'}
		ev := event("PUT", "/upload", "", base64.StdEncoding.EncodeToString(raw))
		ev.IsBase64Encoded = true
		var body []byte
		MustServe(t, context.Background(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ = io.ReadAll(r.Body)
		}), ev)
		if !slices.Equal(body, raw) {
			t.Errorf("body = %v, want %v", body, raw)
		}
	})
	t.Run("PathStaysPath", func(t *testing.T) {
		ev := event("GET", "//evil.example/a%2Fb", "", "")
		var got *http.Request
		MustServe(t, context.Background(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }), ev)
		if got.URL.Host != "" || got.URL.Path != "//evil.example/a/b" || got.URL.EscapedPath() != "//evil.example/a%2Fb" || got.Host != "api.example.com" {
			t.Errorf("URL %#v host %q", got.URL, got.Host)
		}
	})
	t.Run("ErrBadEvent", func(t *testing.T) {
		ev := event("", "/graphql", "", "")
		called := false
		res := MustServe(t, context.Background(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }), ev)
		if called || res.StatusCode != http.StatusBadRequest {
			t.Errorf("called %v, status %d", called, res.StatusCode)
		}
	})
	t.Run("RequestID", func(t *testing.T) {
		ev := event("POST", "/graphql", "", "{}")
		ev.Headers["x-request-id"] = "spoofed"
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-123"})
		var id []string
		MustServe(t, ctx, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { id = r.Header.Values("X-Request-Id") }), ev)
		if !slices.Equal(id, []string{"req-123"}) {
			t.Errorf("X-Request-Id = %q", id)
		}
	})
}

func TestAuthorizerClaims(t *testing.T) {
	withClaims := func(claims map[string]string) events.APIGatewayV2HTTPRequest {
		ev := event("POST", "/graphql", "", "{}")
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
		return ev
	}
	userOf := func(ev events.APIGatewayV2HTTPRequest) *crm.User {
		var u *crm.User
		MustServe(t, context.Background(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u = crm.UserFromContext(r.Context())
		}), ev)
		return u
	}
	t.Run("OK", func(t *testing.T) {
		u := userOf(withClaims(map[string]string{
			"sub": "u-1", "email": "ada@example.com", "cognito:groups": "[ADMIN SALES]", "custom:teams": "north",
		}))
		if u == nil || u.ID != "u-1" || !u.HasRole(crm.RoleAdmin) || !u.HasRole(crm.RoleSales) || !u.InTeam("north") {
			t.Errorf("user = %+v", u)
		}
	})
	t.Run("NoAuthorizer", func(t *testing.T) {
		if u := userOf(event("GET", "/healthz", "", "")); u != nil {
			t.Errorf("user = %+v, want none", u)
		}
	})
	t.Run("NoSubject", func(t *testing.T) {
		if u := userOf(withClaims(map[string]string{"cognito:groups": "[ADMIN]"})); u != nil {
			t.Errorf("user = %+v, want none", u)
		}
	})
}

func TestResponse(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		res := MustServe(t, context.Background(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Add("Vary", "Origin")
			w.Header().Add("Vary", "Accept")
			http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
			http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusTeapot) // ignored, as in net/http
			_, _ = io.WriteString(w, `{"data":{}}`)
		}), event("POST", "/graphql", "", "{}"))
		if res.StatusCode != http.StatusCreated || res.Body != `{"data":{}}` || res.IsBase64Encoded {
			t.Errorf("status %d body %q base64 %v", res.StatusCode, res.Body, res.IsBase64Encoded)
		}
		if res.Headers["Content-Type"] != "application/json" || res.Headers["Vary"] != "Origin,Accept" {
			t.Errorf("headers %v", res.Headers)
		}
		if !slices.Equal(res.Cookies, []string{"a=1", "b=2"}) || res.Headers["Set-Cookie"] != "" {
			t.Errorf("cookies %q headers %v", res.Cookies, res.Headers)
		}
	})
	t.Run("DefaultStatus", func(t *testing.T) {
		res := MustServe(t, context.Background(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), event("GET", "/", "", ""))
		if res.StatusCode != http.StatusOK || res.Body != "" {
			t.Errorf("status %d body %q", res.StatusCode, res.Body)
		}
	})
	t.Run("Binary", func(t *testing.T) {
		raw := []byte{0x1f, 0x8b, 0, 0xff}
		res := MustServe(t, context.Background(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(raw)
		}), event("GET", "/x", "", ""))
		got, err := base64.StdEncoding.DecodeString(res.Body)
		if !res.IsBase64Encoded || err != nil || !slices.Equal(got, raw) {
			t.Errorf("base64 %v body %q (%v)", res.IsBase64Encoded, res.Body, err)
		}
	})
}

type stubAuth struct{ u *crm.User }

func (s stubAuth) Authenticate(*http.Request) (*crm.User, error) {
	if s.u == nil {
		return nil, errors.New("no token")
	}
	return s.u, nil
}

func TestAuthorizerFirst(t *testing.T) {
	fromToken := &crm.User{ID: "token"}
	fromClaims := &crm.User{ID: "claims"}
	auth := lambdahttp.AuthorizerFirst(stubAuth{fromToken})
	t.Run("Claims", func(t *testing.T) {
		r, _ := http.NewRequestWithContext(crm.NewContextWithUser(context.Background(), fromClaims), "POST", "/graphql", nil)
		if u, err := auth.Authenticate(r); err != nil || u != fromClaims {
			t.Errorf("got %v, %v", u, err)
		}
	})
	t.Run("Fallback", func(t *testing.T) {
		r, _ := http.NewRequest("POST", "/graphql", nil)
		if u, err := auth.Authenticate(r); err != nil || u != fromToken {
			t.Errorf("got %v, %v", u, err)
		}
	})
}
