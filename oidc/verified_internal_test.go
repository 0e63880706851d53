package oidc

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/oidc/devissuer"
)

// The memory of verified tokens stays within maxVerified, dropping the
// expired entries first, and answers for a token only with the key set's
// generation it was verified with.
func TestVerifiedTokensStayBoundedAndFollowTheKeySet(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var v verifiedTokens
	u := &crm.User{ID: "u1", Roles: []crm.Role{crm.RoleSales}}
	v.put("old", u, now.Add(time.Minute), 1, now)
	for i := range maxVerified - 1 {
		v.put(fmt.Sprint("tok", i), u, now.Add(time.Hour), 1, now)
	}
	later := now.Add(2 * time.Minute)
	v.put("new", u, later.Add(time.Hour), 1, later)
	if n := len(v.tokens); n != maxVerified {
		t.Fatalf("%d tokens remembered; want %d (the expired one dropped)", n, maxVerified)
	}
	if _, ok := v.get("tok0", 1, later); !ok {
		t.Fatal("a token still valid was forgotten while an expired one could go")
	}
	v.put("newer", u, later.Add(time.Hour), 1, later)
	if n := len(v.tokens); n != 1 {
		t.Fatalf("%d tokens remembered after a put into a full memory with none expired; want 1", n)
	}
	if got, ok := v.get("newer", 1, later); !ok || got.ID != "u1" {
		t.Fatalf("get = %+v, %v; want u1", got, ok)
	}
	if _, ok := v.get("newer", 2, later); ok {
		t.Fatal("a token verified with another key set was answered")
	}
}

// verifierOf serves iss's JWKS and returns a verifier of its tokens on the
// clock now.
func verifierOf(t *testing.T, iss *devissuer.Issuer, srv *httptest.Server, now func() time.Time) *Verifier {
	t.Helper()
	v, err := NewVerifier(Config{Issuer: iss.URL(), Audience: "rapport-test", JWKSURL: iss.JWKSURL(), HTTPClient: srv.Client(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A key set replaced while a token is checked (its key withdrawn between
// the key's lookup and the end of the check) has the check answered, as
// it began with a key that stood, but not remembered: the token's next
// request finds the key gone.
func TestATokenCheckedWhileItsKeyIsWithdrawnIsNotRemembered(t *testing.T) {
	var iss *devissuer.Issuer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { iss.Handler().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	var err error
	if iss, err = devissuer.LoadOrCreate(t.TempDir(), srv.URL); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var v *Verifier
	var calls atomic.Int64
	withdraw := atomic.Bool{}
	v = verifierOf(t, iss, srv, func() time.Time {
		// Verify reads the clock once before the check and the parser
		// once after the key's lookup: the key goes then.
		if withdraw.Load() && calls.Add(1) == 2 {
			v.keys.mu.Lock()
			v.keys.keys, v.keys.gen = map[string]publicKey{}, v.keys.gen+1
			v.keys.mu.Unlock()
		}
		return start
	})
	tok, err := iss.Mint(crm.User{ID: "u1", Roles: []crm.Role{crm.RoleSales}}, "rapport-test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := v.keys.get(ctx, iss.KeyID()); err != nil { // the keys, fetched
		t.Fatal(err)
	}
	withdraw.Store(true)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("the check that began with the key: %v", err)
	}
	if n := len(v.verified.tokens); n != 0 {
		t.Fatalf("%d tokens remembered; want none", n)
	}
	if _, err := v.Verify(ctx, tok); crm.ErrorCode(err) != crm.EUNAUTHORIZED {
		t.Fatalf("the token's next check: %v; want UNAUTHENTICATED, its key gone", err)
	}
}

// A fetch of the JWKS that keeps every key (one a token with a made-up
// kid asks for, at most every refreshInterval) forgets no remembered
// token; one that withdraws a key forgets them all.
func TestAFetchForgetsRememberedTokensOnlyWhenItWithdrawsAKey(t *testing.T) {
	var current atomic.Pointer[devissuer.Issuer]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().Handler().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	iss, err := devissuer.LoadOrCreate(t.TempDir(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	current.Store(iss)
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	v := verifierOf(t, iss, srv, clock)
	ctx := context.Background()
	tok, err := iss.Mint(crm.User{ID: "u1"}, "rapport-test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	later := func() { mu.Lock(); now = now.Add(refreshInterval + time.Second); mu.Unlock() }
	later()
	if _, _, err := v.keys.get(ctx, "made-up"); crm.ErrorCode(err) != crm.EUNAUTHORIZED {
		t.Fatalf("a made-up kid: %v; want UNAUTHENTICATED", err)
	}
	if _, ok := v.verified.get(tok, v.keys.generation(), clock()); !ok {
		t.Fatal("a fetch that kept every key forgot the remembered token")
	}
	rotated, err := devissuer.LoadOrCreate(t.TempDir(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	current.Store(rotated)
	later()
	if _, _, err := v.keys.get(ctx, rotated.KeyID()); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.verified.get(tok, v.keys.generation(), clock()); ok {
		t.Fatal("a fetch that withdrew the token's key left it remembered")
	}
	if _, err := v.Verify(ctx, tok); crm.ErrorCode(err) != crm.EUNAUTHORIZED {
		t.Fatalf("the withdrawn key's token: %v; want UNAUTHENTICATED", err)
	}
}
