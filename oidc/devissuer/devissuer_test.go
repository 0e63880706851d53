package devissuer_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/oidc/devissuer"
)

func TestThumbprintMatchesRFC7638Example(t *testing.T) {
	// RFC 7638 §3.1.
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	if err != nil {
		t.Fatal(err)
	}
	got := devissuer.Thumbprint(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537})
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("Thumbprint = %q, want %q", got, want)
	}
}

func TestLoadOrCreateCreatesPrivateKeyFileOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev-issuer")
	a, err := devissuer.LoadOrCreate(dir, "http://localhost:8080/dev-issuer")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, devissuer.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %v, want 0600", perm)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("dir mode = %v, want 0700", perm)
	}
	b, err := devissuer.LoadOrCreate(dir, "http://localhost:8080/dev-issuer")
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != b.KeyID() {
		t.Errorf("second load has kid %q, first %q: key was regenerated", b.KeyID(), a.KeyID())
	}
}

func TestLoadOrCreateConcurrentFirstCallsAgreeOnOneKey(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	kids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			iss, err := devissuer.LoadOrCreate(dir, "http://x")
			errs[i] = err
			if err == nil {
				kids[i] = iss.KeyID()
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if kids[i] != kids[0] {
			t.Fatalf("caller %d got kid %q, caller 0 got %q", i, kids[i], kids[0])
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != devissuer.KeyFile {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dir holds %v, want only %s (temp files left behind?)", names, devissuer.KeyFile)
	}
}

func TestLoadOrCreateRejectsCorruptKeyFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, devissuer.KeyFile), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := devissuer.LoadOrCreate(dir, "http://x"); err == nil {
		t.Fatal("LoadOrCreate accepted a corrupt key file")
	}
}

func TestHandlerServesDiscoveryAndJWKSUnderStripPrefix(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuerURL := srv.URL + "/dev-issuer"
	iss, err := devissuer.LoadOrCreate(t.TempDir(), issuerURL)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/dev-issuer/", http.StripPrefix("/dev-issuer", iss.Handler()))

	var disc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	getJSON(t, issuerURL+"/.well-known/openid-configuration", &disc)
	if disc.Issuer != issuerURL || disc.JWKSURI != issuerURL+"/.well-known/jwks.json" || len(disc.Algs) != 1 || disc.Algs[0] != "RS256" {
		t.Errorf("discovery = %+v", disc)
	}

	var set struct {
		Keys []struct{ Kty, Kid, Alg, Use, N, E string } `json:"keys"`
	}
	getJSON(t, disc.JWKSURI, &set)
	if len(set.Keys) != 1 {
		t.Fatalf("jwks has %d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	if k.Kty != "RSA" || k.Kid != iss.KeyID() || k.Alg != "RS256" || k.Use != "sig" || k.E != "AQAB" || k.N == "" {
		t.Errorf("jwk = %+v", k)
	}

	resp, err := http.Post(issuerURL+"/.well-known/jwks.json", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST jwks: status %d, want 405", resp.StatusCode)
	}
}

func TestMintSignsCognitoShapedClaims(t *testing.T) {
	iss, err := devissuer.LoadOrCreate(t.TempDir(), "http://localhost:8080/dev-issuer/")
	if err != nil {
		t.Fatal(err)
	}
	u := crm.User{ID: "u1", Name: "Ann", Email: "ann@example.test", Roles: []crm.Role{crm.RoleSales, crm.RoleManager}, Teams: []string{"north", "south"}}
	tok, err := iss.Mint(u, "rapport-local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return iss.PublicKey(), nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer("http://localhost:8080/dev-issuer"), jwt.WithAudience("rapport-local"), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatal(err)
	}
	if kid := parsed.Header["kid"]; kid != iss.KeyID() {
		t.Errorf("kid = %v, want %v", kid, iss.KeyID())
	}
	want := map[string]any{"sub": "u1", "name": "Ann", "email": "ann@example.test", "custom:teams": "north,south"}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	groups, _ := claims["cognito:groups"].([]any)
	if len(groups) != 2 || groups[0] != "SALES" || groups[1] != "MANAGER" {
		t.Errorf("cognito:groups = %v", claims["cognito:groups"])
	}
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	if exp == nil || iat == nil || exp.Sub(iat.Time) != time.Hour {
		t.Errorf("exp-iat = %v, want 1h", exp.Sub(iat.Time))
	}
}

func TestMintRejectsMissingSubjectOrTTL(t *testing.T) {
	iss, err := devissuer.LoadOrCreate(t.TempDir(), "http://x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Mint(crm.User{}, "a", time.Hour); err == nil {
		t.Error("Mint accepted a user without ID")
	}
	if _, err := iss.Mint(crm.User{ID: "u"}, "a", 0); err == nil {
		t.Error("Mint accepted ttl 0")
	}
}

func getJSON(t *testing.T, url string, dst any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", url, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(dst); err != nil {
		t.Fatal(err)
	}
}
