// Package devissuer is a minimal OpenID Connect issuer for local development:
// it keeps an RSA signing key on disk, publishes discovery and JWKS documents
// so the production verifier (package oidc) can be used unchanged, and mints
// tokens shaped like Amazon Cognito ID tokens.
//
// It has no login flow and must never be mounted in a deployed stack: anyone
// who can read the key file can mint any identity.
package devissuer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rapportcrm/rapport/crm"
)

// KeyFile is the name of the private key file inside the issuer directory.
const KeyFile = "key.pem"

const keyBits = 2048

// Issuer signs development tokens and serves the documents verifiers need.
// It is immutable after LoadOrCreate and safe for concurrent use.
type Issuer struct {
	url string
	key *rsa.PrivateKey
	kid string
}

// LoadOrCreate loads the issuer key from <dir>/key.pem, creating the
// directory (0700) and a fresh RSA-2048 key (0600) if missing. issuerURL is
// the iss of minted tokens and the base of the published jwks_uri.
//
// Creation is safe against concurrent first calls (say, the server and
// cmd/devtoken starting together): the key is written to a temporary file and
// hard-linked into place, which fails rather than overwrites if another
// process won, and the file on disk is always re-read, so every caller ends
// up with the same key.
func LoadOrCreate(dir, issuerURL string) (*Issuer, error) {
	if issuerURL == "" {
		return nil, errors.New("devissuer: issuer URL is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devissuer: %w", err)
	}
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := createKey(dir, path); err != nil {
			return nil, fmt.Errorf("devissuer: create key: %w", err)
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("devissuer: %w", err)
	}
	key, err := parseKey(data)
	if err != nil {
		return nil, fmt.Errorf("devissuer: %s: %w", path, err)
	}
	return &Issuer{
		url: strings.TrimSuffix(issuerURL, "/"),
		key: key,
		kid: Thumbprint(&key.PublicKey),
	}, nil
}

// createKey writes a new key to path unless one appears there first.
func createKey(dir, path string) error {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".key-*.pem") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	err = os.Link(tmp.Name(), path)
	switch {
	case err == nil, errors.Is(err, os.ErrExist):
		// Ours is in place, or another process's is; either way the caller
		// reads whatever is on disk.
		return nil
	default:
		// Hard links unsupported here: fall back to rename, which is atomic
		// but last-writer-wins. Only if nobody got there first.
		if _, statErr := os.Stat(path); statErr == nil {
			return nil
		}
		return os.Rename(tmp.Name(), path)
	}
}

func parseKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var k any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unexpected PEM type %q", block.Type)
	}
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, want RSA", k)
	}
	if rk.N.BitLen() < keyBits {
		return nil, fmt.Errorf("RSA key has %d bits, want at least %d", rk.N.BitLen(), keyBits)
	}
	return rk, nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint of pub (SHA-256,
// base64url): a kid that changes exactly when the key does.
func Thumbprint(pub *rsa.PublicKey) string {
	// RFC 7638 §3.2: required members only, lexicographic order, no spaces.
	canon := `{"e":"` + b64(big.NewInt(int64(pub.E)).Bytes()) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// URL returns the issuer identifier (the iss of minted tokens).
func (i *Issuer) URL() string { return i.url }

// JWKSURL returns where the Handler's JWKS is published.
func (i *Issuer) JWKSURL() string { return i.url + "/.well-known/jwks.json" }

// KeyID returns the kid of the signing key.
func (i *Issuer) KeyID() string { return i.kid }

// PublicKey returns the verification key.
func (i *Issuer) PublicKey() crypto.PublicKey { return &i.key.PublicKey }

// Handler serves GET /.well-known/openid-configuration and
// GET /.well-known/jwks.json. Paths are relative to the issuer URL: mount it
// with http.StripPrefix, e.g. under "/dev-issuer" for issuer
// "http://localhost:8080/dev-issuer".
func (i *Issuer) Handler() http.Handler {
	discovery := map[string]any{
		"issuer":                                i.url,
		"jwks_uri":                              i.JWKSURL(),
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
	}
	jwks := map[string]any{"keys": []map[string]string{{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": i.kid,
		"n":   b64(i.key.N.Bytes()),
		"e":   b64(big.NewInt(int64(i.key.E)).Bytes()),
	}}}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/openid-configuration", jsonHandler(discovery))
	mux.Handle("GET /.well-known/jwks.json", jsonHandler(jwks))
	return mux
}

// jsonHandler serves v, encoded once up front since it never changes.
func jsonHandler(v any) http.Handler {
	body, err := json.Marshal(v)
	if err != nil {
		// Only maps of strings are passed in; this cannot happen.
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// The key only changes when the file is deleted and the server
		// restarted; a short max-age keeps that case painless.
		w.Header().Set("Cache-Control", "public, max-age=60")
		_, _ = w.Write(body)
	})
}

// Mint returns an RS256 token for u valid for ttl, shaped like a Cognito ID
// token: iss, sub, aud, exp, iat, name, email, cognito:groups (roles) and
// custom:teams (comma-joined, as Cognito custom attributes are strings).
func (i *Issuer) Mint(u crm.User, audience string, ttl time.Duration) (string, error) {
	if u.ID == "" {
		return "", errors.New("devissuer: user ID is required")
	}
	if ttl <= 0 {
		return "", errors.New("devissuer: ttl must be positive")
	}
	now := time.Now()
	groups := make([]string, len(u.Roles))
	for n, r := range u.Roles {
		groups[n] = string(r)
	}
	claims := map[string]any{
		"iss":            i.url,
		"sub":            u.ID,
		"iat":            now.Unix(),
		"exp":            now.Add(ttl).Unix(),
		"token_use":      "id",
		"cognito:groups": groups,
	}
	if audience != "" {
		claims["aud"] = audience
	}
	if u.Name != "" {
		claims["name"] = u.Name
	}
	if u.Email != "" {
		claims["email"] = u.Email
	}
	if len(u.Teams) > 0 {
		claims["custom:teams"] = strings.Join(u.Teams, ",")
	}
	return i.Sign(claims)
}

// Sign returns an RS256 token carrying exactly claims, for tests that need
// tokens Mint would not make (expired, other issuers, access tokens).
func (i *Issuer) Sign(claims map[string]any) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	t.Header["kid"] = i.kid
	s, err := t.SignedString(i.key)
	if err != nil {
		return "", fmt.Errorf("devissuer: sign: %w", err)
	}
	return s, nil
}
