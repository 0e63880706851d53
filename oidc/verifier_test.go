package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/oidc"
	"github.com/rapportcrm/rapport/oidc/devissuer"
)

const testAudience = "rapport-test"

// testIssuer is an httptest server publishing a devissuer's discovery and
// JWKS documents, with a swappable key (rotation) and hit counters.
type testIssuer struct {
	t         testing.TB
	srv       *httptest.Server
	url       string
	cur       atomic.Pointer[devissuer.Issuer]
	jwksHits  atomic.Int64
	discHits  atomic.Int64
	jwksDelay atomic.Int64 // nanoseconds
	fail      atomic.Bool
}

func newTestIssuer(t testing.TB) *testIssuer {
	t.Helper()
	ti := &testIssuer{t: t}
	ti.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/jwks.json":
			ti.jwksHits.Add(1)
			time.Sleep(time.Duration(ti.jwksDelay.Load()))
		case "/.well-known/openid-configuration":
			ti.discHits.Add(1)
		}
		if ti.fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		ti.cur.Load().Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(ti.srv.Close)
	ti.url = ti.srv.URL
	ti.cur.Store(ti.newKey())
	return ti
}

// newKey returns a fresh dev issuer (new key) for this issuer URL.
func (ti *testIssuer) newKey() *devissuer.Issuer {
	ti.t.Helper()
	iss, err := devissuer.LoadOrCreate(ti.t.TempDir(), ti.url)
	if err != nil {
		ti.t.Fatal(err)
	}
	return iss
}

// claims returns valid ID-token claims for sub, overridden by extra (a nil
// value deletes the claim).
func (ti *testIssuer) claims(now time.Time, extra map[string]any) map[string]any {
	c := map[string]any{
		"iss":            ti.url,
		"sub":            "user-1",
		"aud":            testAudience,
		"iat":            now.Unix(),
		"exp":            now.Add(time.Hour).Unix(),
		"name":           "Ann Example",
		"email":          "ann@example.test",
		"cognito:groups": []string{"SALES"},
		"custom:teams":   "north",
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func (ti *testIssuer) sign(iss *devissuer.Issuer, c map[string]any) string {
	ti.t.Helper()
	tok, err := iss.Sign(c)
	if err != nil {
		ti.t.Fatal(err)
	}
	return tok
}

// fakeClock is a settable clock shared by a Verifier and its test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newVerifier(t testing.TB, ti *testIssuer, clk *fakeClock, mutate func(*oidc.Config)) *oidc.Verifier {
	t.Helper()
	cfg := oidc.Config{Issuer: ti.url, Audience: testAudience, Now: clk.Now, HTTPClient: ti.srv.Client()}
	if mutate != nil {
		mutate(&cfg)
	}
	v, err := oidc.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := crm.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %s, want %s", err, got, code)
	}
}

func TestNewVerifierDoesNoNetworkIO(t *testing.T) {
	ti := newTestIssuer(t)
	newVerifier(t, ti, newFakeClock(), nil)
	if d, j := ti.discHits.Load(), ti.jwksHits.Load(); d+j != 0 {
		t.Errorf("construction made %d discovery and %d JWKS requests, want none", d, j)
	}
}

func TestNewVerifierRequiresIssuer(t *testing.T) {
	if _, err := oidc.NewVerifier(oidc.Config{}); err == nil {
		t.Fatal("NewVerifier accepted an empty issuer")
	}
}

func TestVerifyValidTokenYieldsUserWithRolesAndTeams(t *testing.T) {
	ti := newTestIssuer(t)
	v := newVerifier(t, ti, newFakeClock(), nil)
	want := crm.User{ID: "dev-sales", Name: "Dev Sales", Email: "s@example.test",
		Roles: []crm.Role{crm.RoleSales, crm.RoleManager}, Teams: []string{"north", "south"}}
	tok, err := ti.cur.Load().Mint(want, testAudience, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("user = %+v, want %+v", *got, want)
	}
	if d, j := ti.discHits.Load(), ti.jwksHits.Load(); d != 1 || j != 1 {
		t.Errorf("discovery hits %d, JWKS hits %d; want 1 and 1", d, j)
	}
	// Cached: a second verification fetches nothing.
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if j := ti.jwksHits.Load(); j != 1 {
		t.Errorf("JWKS hits after second verify = %d, want 1", j)
	}
}

func TestVerifyClaimChecks(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newFakeClock()
	now := clk.Now()
	noAudience := func(c *oidc.Config) { c.Audience = "" }
	tests := []struct {
		name    string
		claims  map[string]any
		cfg     func(*oidc.Config)
		wantErr string // caller-facing message; "" means accepted
	}{
		{name: "valid", claims: nil},
		{name: "expired", claims: map[string]any{"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()}, wantErr: "token expired"},
		{name: "expired within leeway is accepted", claims: map[string]any{"exp": now.Add(-30 * time.Second).Unix(), "iat": now.Add(-time.Hour).Unix()}},
		{name: "expired just beyond custom leeway", claims: map[string]any{"exp": now.Add(-30 * time.Second).Unix(), "iat": now.Add(-time.Hour).Unix()},
			cfg: func(c *oidc.Config) { c.Leeway = 10 * time.Second }, wantErr: "token expired"},
		{name: "missing exp", claims: map[string]any{"exp": nil}, wantErr: "invalid token"},
		{name: "not yet valid (nbf)", claims: map[string]any{"nbf": now.Add(10 * time.Minute).Unix()}, wantErr: "invalid token"},
		{name: "nbf within leeway is accepted", claims: map[string]any{"nbf": now.Add(30 * time.Second).Unix()}},
		{name: "issued in the future (iat)", claims: map[string]any{"iat": now.Add(10 * time.Minute).Unix()}, wantErr: "invalid token"},
		{name: "wrong issuer", claims: map[string]any{"iss": "https://evil.example"}, wantErr: "invalid token"},
		{name: "issuer with trailing slash is a different issuer", claims: map[string]any{"iss": ti.url + "/"}, wantErr: "invalid token"},
		{name: "missing issuer", claims: map[string]any{"iss": nil}, wantErr: "invalid token"},
		{name: "wrong audience", claims: map[string]any{"aud": "someone-else"}, wantErr: "invalid token"},
		{name: "audience array containing ours", claims: map[string]any{"aud": []string{"other", testAudience}}},
		{name: "audience array without ours", claims: map[string]any{"aud": []string{"other", "more"}}, wantErr: "invalid token"},
		{name: "no aud and no client_id", claims: map[string]any{"aud": nil}, wantErr: "invalid token"},
		{name: "cognito access token with client_id", claims: map[string]any{"aud": nil, "client_id": testAudience, "token_use": "access", "username": "ann"}},
		{name: "cognito access token for another client", claims: map[string]any{"aud": nil, "client_id": "other-client", "token_use": "access"}, wantErr: "invalid token"},
		{name: "client_id does not rescue a wrong aud unless it matches", claims: map[string]any{"aud": "other", "client_id": "other"}, wantErr: "invalid token"},
		{name: "empty configured audience skips the check", claims: map[string]any{"aud": "anything"}, cfg: noAudience},
		{name: "missing subject", claims: map[string]any{"sub": nil}, wantErr: "invalid token"},
		{name: "empty subject", claims: map[string]any{"sub": ""}, wantErr: "invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, ti, clk, tt.cfg)
			tok := ti.sign(ti.cur.Load(), ti.claims(now, tt.claims))
			u, err := v.Verify(context.Background(), tok)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v (cause: %v)", err, errorsUnwrap(err))
				}
				if u.ID != "user-1" {
					t.Errorf("user ID = %q", u.ID)
				}
				return
			}
			wantCode(t, err, crm.EUNAUTHORIZED)
			if msg := crm.ErrorMessage(err); msg != tt.wantErr {
				t.Errorf("message = %q, want %q", msg, tt.wantErr)
			}
		})
	}
}

func readPrivateKey(t *testing.T, path string) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func errorsUnwrap(err error) error {
	if e, ok := err.(interface{ Unwrap() error }); ok {
		return e.Unwrap()
	}
	return nil
}

func TestVerifyRejectsForgedTokens(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newFakeClock()
	// Use a key whose private half the test can read, to show that even the
	// right key does not make a disallowed algorithm acceptable.
	keyDir := t.TempDir()
	iss, err := devissuer.LoadOrCreate(keyDir, ti.url)
	if err != nil {
		t.Fatal(err)
	}
	ti.cur.Store(iss)
	issKey := readPrivateKey(t, filepath.Join(keyDir, devissuer.KeyFile))
	claims := ti.claims(clk.Now(), nil)

	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(iss.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	valid := ti.sign(iss, claims)
	parts := strings.Split(valid, ".")

	signWith := func(m jwt.SigningMethod, key any, kid string) string {
		t.Helper()
		tok := jwt.NewWithClaims(m, jwt.MapClaims(claims))
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b64json := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}

	tests := []struct {
		name  string
		token string
	}{
		{"signed by another key under the same kid", signWith(jwt.SigningMethodRS256, otherKey, iss.KeyID())},
		{"alg none", b64json(map[string]string{"alg": "none", "kid": iss.KeyID()}) + "." + parts[1] + "."},
		{"alg none with the real signature", b64json(map[string]string{"alg": "none", "kid": iss.KeyID()}) + "." + parts[1] + "." + parts[2]},
		{"HS256 keyed with the public key PEM (key confusion)", signWith(jwt.SigningMethodHS256, pubPEM, iss.KeyID())},
		{"HS256 keyed with the public key DER (key confusion)", signWith(jwt.SigningMethodHS256, pubDER, iss.KeyID())},
		{"ES256 under an RSA kid (key/alg mismatch)", signWith(jwt.SigningMethodES256, ecKey, iss.KeyID())},
		{"PS256 by the right key (alg not allowed)", signWith(jwt.SigningMethodPS256, issKey, iss.KeyID())},
		{"RS512 by the right key (alg not allowed)", signWith(jwt.SigningMethodRS512, issKey, iss.KeyID())},
		{"RS256 by the right key without kid", signWith(jwt.SigningMethodRS256, issKey, "")},
		{"no kid", signWith(jwt.SigningMethodRS256, otherKey, "")},
		{"payload swapped under a valid signature", parts[0] + "." + b64json(ti.claims(clk.Now(), map[string]any{"cognito:groups": []string{"ADMIN"}})) + "." + parts[2]},
		{"signature stripped", parts[0] + "." + parts[1] + "."},
		{"padded base64 segments", parts[0] + "==." + parts[1] + "." + parts[2]},
		{"garbage", "not-a-jwt"},
		{"two segments", parts[0] + "." + parts[1]},
		{"oversized", parts[0] + "." + strings.Repeat("A", 20<<10) + "." + parts[2]},
		{"empty", ""},
	}
	v := newVerifier(t, ti, clk, nil)
	// Sanity: the untampered token, and one the test signs RS256 with the
	// issuer's key, verify; so rejections below are about the forgery.
	if _, err := v.Verify(context.Background(), signWith(jwt.SigningMethodRS256, issKey, iss.KeyID())); err != nil {
		t.Fatalf("test-signed RS256 token rejected: %v", err)
	}
	if _, err := v.Verify(context.Background(), valid); err != nil {
		t.Fatalf("valid token rejected: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := v.Verify(context.Background(), tt.token)
			if u != nil {
				t.Fatalf("forged token accepted as %+v", u)
			}
			wantCode(t, err, crm.EUNAUTHORIZED)
		})
	}
	// None of the forgeries may have caused a refetch within the window.
	if j := ti.jwksHits.Load(); j != 1 {
		t.Errorf("JWKS hits = %d, want 1 (forged kids must not force refetches)", j)
	}
}

func TestVerifyAcceptsES256FromECJWKS(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := ecKey.PublicKey.Bytes() // uncompressed 0x04||X||Y
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	jwks := map[string]any{"keys": []map[string]string{
		{"kty": "EC", "crv": "P-256", "kid": "ec1", "use": "sig", "x": enc(pt[1:33]), "y": enc(pt[33:])},
		{"kty": "RSA", "kid": "rsa-es", "alg": "ES256", "n": "AQAB", "e": "AQAB"}, // unusable: skipped
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jwks)
	}))
	defer srv.Close()
	v, err := oidc.NewVerifier(oidc.Config{Issuer: "https://issuer.test", JWKSURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := jwt.MapClaims{"iss": "https://issuer.test", "sub": "s1", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	sign := func(m jwt.SigningMethod, key any, kid string) string {
		tok := jwt.NewWithClaims(m, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := v.Verify(context.Background(), sign(jwt.SigningMethodES256, ecKey, "ec1")); err != nil {
		t.Errorf("ES256 token rejected: %v (cause %v)", err, errorsUnwrap(err))
	}
	_, err = v.Verify(context.Background(), sign(jwt.SigningMethodRS256, rsaKey, "ec1"))
	wantCode(t, err, crm.EUNAUTHORIZED)
}

func TestVerifyUnknownKidRefetchesOnceThenAcceptsRotatedKey(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newFakeClock()
	v := newVerifier(t, ti, clk, nil)
	ctx := context.Background()
	oldIss := ti.cur.Load()
	oldTok := ti.sign(oldIss, ti.claims(clk.Now(), nil))
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatal(err)
	}

	newIss := ti.newKey()
	ti.cur.Store(newIss)
	clk.Advance(31 * time.Second)
	newTok := ti.sign(newIss, ti.claims(clk.Now(), nil))
	if _, err := v.Verify(ctx, newTok); err != nil {
		t.Fatalf("token signed with rotated key rejected: %v", err)
	}
	if j, d := ti.jwksHits.Load(), ti.discHits.Load(); j != 2 || d != 1 {
		t.Errorf("JWKS hits %d, discovery hits %d; want 2 and 1 (jwks_uri is cached)", j, d)
	}
	// The retired key is gone from the published set, so its tokens stop
	// verifying, and asking again does not refetch within the window.
	_, err := v.Verify(ctx, oldTok)
	wantCode(t, err, crm.EUNAUTHORIZED)
	if j := ti.jwksHits.Load(); j != 2 {
		t.Errorf("JWKS hits = %d, want 2", j)
	}
}

func TestVerifyUnknownKidRefetchIsRateLimited(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newFakeClock()
	v := newVerifier(t, ti, clk, nil)
	ctx := context.Background()
	if _, err := v.Verify(ctx, ti.sign(ti.cur.Load(), ti.claims(clk.Now(), nil))); err != nil {
		t.Fatal(err)
	}
	newIss := ti.newKey()
	ti.cur.Store(newIss)
	newTok := ti.sign(newIss, ti.claims(clk.Now(), nil))

	// Within 30s of the last fetch the new kid is unknown and no fetch is made.
	clk.Advance(10 * time.Second)
	_, err := v.Verify(ctx, newTok)
	wantCode(t, err, crm.EUNAUTHORIZED)
	if j := ti.jwksHits.Load(); j != 1 {
		t.Fatalf("JWKS hits = %d within the rate-limit window, want 1", j)
	}

	// Once the window has passed, many concurrent requests cause one fetch.
	clk.Advance(25 * time.Second)
	ti.jwksDelay.Store(int64(50 * time.Millisecond)) // let requests pile up behind the fetch
	const n = 64
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range n {
		wg.Go(func() {
			if _, err := v.Verify(ctx, newTok); err != nil {
				failures.Add(1)
			}
		})
	}
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Errorf("%d of %d concurrent verifications failed", f, n)
	}
	if j := ti.jwksHits.Load(); j != 2 {
		t.Errorf("JWKS hits = %d after concurrent refresh, want 2", j)
	}

	// Forged tokens with random kids cannot force further fetches.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		wg.Go(func() {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(ti.claims(clk.Now(), nil)))
			tok.Header["kid"] = fmt.Sprintf("forged-%d", i)
			s, _ := tok.SignedString(other)
			if _, err := v.Verify(ctx, s); err == nil {
				failures.Add(1)
			}
		})
	}
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Errorf("%d forged tokens accepted", f)
	}
	if j := ti.jwksHits.Load(); j != 2 {
		t.Errorf("JWKS hits = %d after forged kids, want 2", j)
	}
}

func TestVerifyColdStartUnderConcurrencyFetchesOnce(t *testing.T) {
	ti := newTestIssuer(t)
	ti.jwksDelay.Store(int64(50 * time.Millisecond)) // let requests pile up behind the fetch
	clk := newFakeClock()
	v := newVerifier(t, ti, clk, nil)
	tok := ti.sign(ti.cur.Load(), ti.claims(clk.Now(), nil))
	const n = 64
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range n {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				failures.Add(1)
			}
		})
	}
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Errorf("%d of %d verifications failed", f, n)
	}
	if j, d := ti.jwksHits.Load(), ti.discHits.Load(); j != 1 || d != 1 {
		t.Errorf("JWKS hits %d, discovery hits %d; want 1 and 1", j, d)
	}
}

func TestVerifyIssuerOutageIsUnavailableAndRetriedAfterBackoff(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newFakeClock()
	v := newVerifier(t, ti, clk, nil)
	tok := ti.sign(ti.cur.Load(), ti.claims(clk.Now(), nil))
	ti.fail.Store(true)
	_, err := v.Verify(context.Background(), tok)
	wantCode(t, err, crm.EUNAVAILABLE)
	_, err = v.Verify(context.Background(), tok)
	wantCode(t, err, crm.EUNAVAILABLE)
	if d := ti.discHits.Load(); d != 1 {
		t.Errorf("discovery hits = %d during backoff, want 1", d)
	}
	ti.fail.Store(false)
	clk.Advance(6 * time.Second)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestVerifyRejectsDiscoveryForAnotherIssuer(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newFakeClock()
	// The verifier trusts ti.url+"/x"; discovery there is served by a
	// handler claiming a different issuer.
	mux := http.NewServeMux()
	mux.HandleFunc("/x/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "https://other.test", "jwks_uri": ti.url + "/.well-known/jwks.json"})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	v, err := oidc.NewVerifier(oidc.Config{Issuer: srv.URL + "/x", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := ti.sign(ti.cur.Load(), ti.claims(clk.Now(), map[string]any{"iss": srv.URL + "/x"}))
	_, err = v.Verify(context.Background(), tok)
	wantCode(t, err, crm.EUNAVAILABLE)
}

func TestVerifyUsesConfiguredJWKSURLWithoutDiscovery(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newFakeClock()
	v := newVerifier(t, ti, clk, func(c *oidc.Config) { c.JWKSURL = ti.url + "/.well-known/jwks.json" })
	if _, err := v.Verify(context.Background(), ti.sign(ti.cur.Load(), ti.claims(clk.Now(), nil))); err != nil {
		t.Fatal(err)
	}
	if d := ti.discHits.Load(); d != 0 {
		t.Errorf("discovery hits = %d, want 0", d)
	}
}

func TestVerifyWaiterHonoursItsContext(t *testing.T) {
	ti := newTestIssuer(t)
	ti.jwksDelay.Store(int64(200 * time.Millisecond))
	clk := newFakeClock()
	v := newVerifier(t, ti, clk, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := v.Verify(ctx, ti.sign(ti.cur.Load(), ti.claims(clk.Now(), nil)))
	wantCode(t, err, crm.EUNAVAILABLE)
	// The detached fetch still completes and serves later requests.
	time.Sleep(300 * time.Millisecond)
	if _, err := v.Verify(context.Background(), ti.sign(ti.cur.Load(), ti.claims(clk.Now(), nil))); err != nil {
		t.Fatal(err)
	}
	if j := ti.jwksHits.Load(); j != 1 {
		t.Errorf("JWKS hits = %d, want 1", j)
	}
}

func TestAuthenticate(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newFakeClock()
	v := newVerifier(t, ti, clk, nil)
	tok := ti.sign(ti.cur.Load(), ti.claims(clk.Now(), nil))
	tests := []struct {
		name    string
		header  string
		wantErr string
	}{
		{"bearer token", "Bearer " + tok, ""},
		{"scheme is case-insensitive", "bearer " + tok, ""},
		{"missing header", "", "missing bearer token"},
		{"basic auth", "Basic dXNlcjpwYXNz", "missing bearer token"},
		{"bearer without token", "Bearer ", "missing bearer token"},
		{"token without scheme", tok, "missing bearer token"},
		{"bad token", "Bearer abc.def.ghi", "invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			u, err := v.Authenticate(r)
			if tt.wantErr == "" {
				if err != nil || u == nil || u.ID != "user-1" {
					t.Fatalf("Authenticate = %+v, %v", u, err)
				}
				return
			}
			wantCode(t, err, crm.EUNAUTHORIZED)
			if msg := crm.ErrorMessage(err); msg != tt.wantErr {
				t.Errorf("message = %q, want %q", msg, tt.wantErr)
			}
		})
	}
}

// FuzzVerify checks that arbitrary token strings never panic and never
// verify. The verifier's keys are loaded up front and its clock is frozen,
// so refetches are rate limited and the fuzzer exercises parsing and
// signature checks, not the network.
func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	f.Cleanup(srv.Close)
	iss, err := devissuer.LoadOrCreate(dir, srv.URL)
	if err != nil {
		f.Fatal(err)
	}
	mux.Handle("/", iss.Handler())
	now := time.Now()
	v, err := oidc.NewVerifier(oidc.Config{
		Issuer: srv.URL, Audience: testAudience, HTTPClient: srv.Client(),
		// Frozen well after every seed token's exp: even a perfectly signed
		// seed is expired, so success can only mean a real bug.
		Now: func() time.Time { return now.Add(48 * time.Hour) },
	})
	if err != nil {
		f.Fatal(err)
	}
	claims := map[string]any{"iss": srv.URL, "sub": "u", "aud": testAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "cognito:groups": []string{"ADMIN"}}
	signed, err := iss.Sign(claims)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(signed, ".")
	enc := base64.RawURLEncoding.EncodeToString
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
	hs.Header["kid"] = iss.KeyID()
	hsTok, _ := hs.SignedString([]byte("secret"))
	for _, seed := range []string{
		"", ".", "..", "a.b.c", signed, parts[0] + "." + parts[1] + ".",
		enc([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		enc([]byte(`{"alg":"RS256","kid":"`+iss.KeyID()+`"}`)) + "." + enc([]byte(`{"sub":1,"aud":[1,{}],"exp":"x"}`)) + "." + parts[2],
		enc([]byte(`{"alg":"ES256","kid":"`+iss.KeyID()+`"}`)) + "." + parts[1] + "." + parts[2],
		hsTok,
	} {
		f.Add(seed)
	}
	// Warm the key cache so the fuzz loop does no network I/O.
	_, _ = v.Verify(context.Background(), signed)

	f.Fuzz(func(t *testing.T, tok string) {
		u, err := v.Verify(context.Background(), tok)
		if err == nil || u != nil {
			t.Fatalf("Verify(%q) = %+v, %v; want an error", tok, u, err)
		}
		if code := crm.ErrorCode(err); code != crm.EUNAUTHORIZED && code != crm.EUNAVAILABLE {
			t.Fatalf("Verify(%q) error code %s", tok, code)
		}
	})
}

// A token verified once is answered from memory (verifiedTokens), but
// never past its expiry: the same token is refused as expired once the
// clock passes exp and the leeway, as a first verification would.
func TestVerifyRefusesATokenVerifiedBeforeOnceItExpires(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newFakeClock()
	v := newVerifier(t, ti, clk, nil)
	ctx := context.Background()
	tok := ti.sign(ti.cur.Load(), ti.claims(clk.Now(), map[string]any{"exp": clk.Now().Add(10 * time.Minute).Unix()}))
	for range 2 {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(10*time.Minute + oidc.DefaultLeeway + time.Second)
	_, err := v.Verify(ctx, tok)
	wantCode(t, err, crm.EUNAUTHORIZED)
}

// Each answer for a remembered token is a user of its own: what one
// request does to its user is not the next request's.
func TestVerifyAnswersARememberedTokenWithAUserOfItsOwn(t *testing.T) {
	ti := newTestIssuer(t)
	clk := newFakeClock()
	v := newVerifier(t, ti, clk, nil)
	ctx := context.Background()
	tok := ti.sign(ti.cur.Load(), ti.claims(clk.Now(), nil))
	first, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	want := *first
	want.Roles, want.Teams = slices.Clone(first.Roles), slices.Clone(first.Teams)
	first.Name, first.Roles[0], first.Teams[0] = "changed", crm.RoleAdmin, "south"
	for range 2 {
		got, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("user = %+v, want %+v", *got, want)
		}
		got.Teams[0] = "west"
	}
}

// BenchmarkVerify times a token's first verification (the signature
// checked) against the same token's next ones (answered from memory).
func BenchmarkVerify(b *testing.B) {
	ti := newTestIssuer(b)
	clk := newFakeClock()
	v := newVerifier(b, ti, clk, nil)
	ctx := context.Background()
	b.Run("First", func(b *testing.B) {
		const n = 512
		toks := make([]string, n)
		for i := range toks {
			toks[i] = ti.sign(ti.cur.Load(), ti.claims(clk.Now(), map[string]any{"sub": fmt.Sprint("user-", b.N, "-", i)}))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if i > 0 && i%n == 0 {
				b.StopTimer()
				v = newVerifier(b, ti, clk, nil)
				if _, err := v.Verify(ctx, toks[0]); err != nil { // the keys, fetched
					b.Fatal(err)
				}
				b.StartTimer()
			}
			if _, err := v.Verify(ctx, toks[i%n]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Remembered", func(b *testing.B) {
		tok := ti.sign(ti.cur.Load(), ti.claims(clk.Now(), nil))
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
