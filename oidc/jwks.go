package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

const (
	// refreshInterval is the least time between JWKS fetches after a
	// successful one. Tokens with unknown kids are attacker-controlled, so
	// without it every forged token would cost a request to the issuer.
	refreshInterval = 30 * time.Second
	// retryInterval is the least time between attempts after a failed
	// fetch: short, so one blip does not lock everyone out for long, but
	// enough that an outage is not amplified by our traffic.
	retryInterval = 5 * time.Second
	// maxDocBytes bounds discovery and JWKS response bodies.
	maxDocBytes = 1 << 20
	// minRSABits rejects keys too weak to trust.
	minRSABits = 2048
)

// publicKey is one usable key from a JWKS.
type publicKey struct {
	kty string // "RSA" or "EC"
	alg string // the JWK's alg, "" if unpublished
	pub any    // *rsa.PublicKey or *ecdsa.PublicKey
}

// fetchCall is one in-flight JWKS fetch that concurrent callers wait on;
// done is closed when its outcome is in the cache.
type fetchCall struct {
	done chan struct{}
}

// keyCache holds an issuer's keys by kid and refetches them, single-flight
// and rate limited, when a token names a kid it does not know (rotation).
type keyCache struct {
	issuer string
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	jwksURL  string // configured or discovered; "" until discovered
	keys     map[string]publicKey
	gen      uint64    // bumped each time a fetch withdraws or changes a key
	lastTry  time.Time // start of the latest fetch attempt
	lastErr  error     // outcome of the latest attempt
	inflight *fetchCall
}

func newKeyCache(issuer, jwksURL string, client *http.Client, now func() time.Time) *keyCache {
	return &keyCache{issuer: issuer, jwksURL: jwksURL, client: client, now: now}
}

// get returns the key named kid, fetching the JWKS if kid is unknown and the
// rate limit allows. Concurrent callers share one fetch, and a caller waits
// for at most one fetch.
// The generation it returns is the key set's the key came from.
func (c *keyCache) get(ctx context.Context, kid string) (publicKey, uint64, error) {
	c.mu.Lock()
	if k, ok := c.keys[kid]; ok {
		gen := c.gen
		c.mu.Unlock()
		return k, gen, nil
	}
	call := c.inflight
	if call == nil {
		if !c.mayFetchLocked() {
			defer c.mu.Unlock()
			return publicKey{}, 0, c.missLocked(kid)
		}
		call = &fetchCall{done: make(chan struct{})}
		c.inflight = call
		c.lastTry = c.now()
		go c.fetch(call)
	}
	c.mu.Unlock()

	select {
	case <-call.done:
	case <-ctx.Done():
		return publicKey{}, 0, unavailable(ctx.Err())
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.keys[kid]; ok {
		return k, c.gen, nil
	}
	return publicKey{}, 0, c.missLocked(kid)
}

// generation is the current key set's generation.
func (c *keyCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// mayFetchLocked reports whether the rate limit allows a fetch now.
func (c *keyCache) mayFetchLocked() bool {
	if c.lastTry.IsZero() {
		return true
	}
	wait := refreshInterval
	if c.lastErr != nil {
		wait = retryInterval
	}
	return c.now().Sub(c.lastTry) >= wait
}

// missLocked is the error for a kid the cache cannot supply: the issuer's
// fault if the latest fetch failed, otherwise the token's.
func (c *keyCache) missLocked(kid string) error {
	if c.lastErr != nil {
		return unavailable(c.lastErr)
	}
	return unauthorized("invalid token", fmt.Errorf("unknown kid %q", kid))
}

// fetch runs one discovery+JWKS fetch for call and publishes the result.
// It is detached from any request's context: other requests wait on it, and
// one caller hanging up must not fail them all.
func (c *keyCache) fetch(call *fetchCall) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*httpTimeout)
	defer cancel()

	c.mu.Lock()
	jwksURL := c.jwksURL
	c.mu.Unlock()

	var keys map[string]publicKey
	err := func() error {
		if jwksURL == "" {
			u, err := c.discover(ctx)
			if err != nil {
				return err
			}
			jwksURL = u
		}
		var err error
		keys, err = c.fetchJWKS(ctx, jwksURL)
		return err
	}()

	c.mu.Lock()
	if err == nil {
		c.jwksURL = jwksURL
		// Replace rather than merge: keys the issuer has retired must stop
		// verifying tokens, remembered ones too (verifiedTokens); a fetch
		// that keeps every key, as one for a made-up kid does, forgets
		// nothing.
		if !keepsEvery(c.keys, keys) {
			c.gen++
		}
		c.keys = keys
	}
	c.lastErr = err
	c.inflight = nil
	c.mu.Unlock()
	close(call.done)
}

// keepsEvery reports whether next holds every key of prev, under the
// same kid, alg and type.
func keepsEvery(prev, next map[string]publicKey) bool {
	for kid, k := range prev {
		n, ok := next[kid]
		if !ok || n.alg != k.alg || n.kty != k.kty {
			return false
		}
		pub, ok := k.pub.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(n.pub) {
			return false
		}
	}
	return true
}

// discover reads jwks_uri from the issuer's OpenID configuration.
func (c *keyCache) discover(ctx context.Context) (string, error) {
	u := strings.TrimSuffix(c.issuer, "/") + "/.well-known/openid-configuration"
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := c.getJSON(ctx, u, &doc); err != nil {
		return "", fmt.Errorf("oidc discovery: %w", err)
	}
	// OpenID Connect Discovery §4.3: the document must be for this issuer,
	// or we would trust another issuer's keys.
	if doc.Issuer != c.issuer {
		return "", fmt.Errorf("oidc discovery: issuer %q does not match %q", doc.Issuer, c.issuer)
	}
	if doc.JWKSURI == "" {
		return "", errors.New("oidc discovery: no jwks_uri")
	}
	return doc.JWKSURI, nil
}

// jwk is the subset of RFC 7517 / 7518 members we use.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// fetchJWKS fetches and parses a JWK set. Keys that are not signature keys
// or that we cannot use are skipped, so one exotic key does not break the
// rest; a set with no usable key is an error.
func (c *keyCache) fetchJWKS(ctx context.Context, u string) (map[string]publicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := c.getJSON(ctx, u, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := make(map[string]publicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pk, err := parseJWK(k)
		if err != nil {
			continue
		}
		keys[k.Kid] = pk
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks: no usable signing keys")
	}
	return keys, nil
}

func parseJWK(k jwk) (publicKey, error) {
	switch k.Kty {
	case "RSA":
		if k.Alg != "" && k.Alg != "RS256" {
			return publicKey{}, fmt.Errorf("unsupported alg %q", k.Alg)
		}
		n, err := b64Int(k.N)
		if err != nil {
			return publicKey{}, err
		}
		e, err := b64Int(k.E)
		if err != nil {
			return publicKey{}, err
		}
		if n.BitLen() < minRSABits {
			return publicKey{}, errors.New("rsa key too small")
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
			return publicKey{}, errors.New("bad rsa exponent")
		}
		return publicKey{kty: "RSA", alg: k.Alg, pub: &rsa.PublicKey{N: n, E: int(e.Int64())}}, nil
	case "EC":
		if k.Crv != "P-256" || (k.Alg != "" && k.Alg != "ES256") {
			return publicKey{}, fmt.Errorf("unsupported curve %q / alg %q", k.Crv, k.Alg)
		}
		x, err := b64Int(k.X)
		if err != nil {
			return publicKey{}, err
		}
		y, err := b64Int(k.Y)
		if err != nil {
			return publicKey{}, err
		}
		// Reject off-curve points (invalid-curve attacks); ecdsa.PublicKey
		// itself does not check.
		buf := make([]byte, 65)
		buf[0] = 4
		if len(x.Bytes()) > 32 || len(y.Bytes()) > 32 {
			return publicKey{}, errors.New("bad ec point")
		}
		x.FillBytes(buf[1:33])
		y.FillBytes(buf[33:])
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), buf)
		if err != nil {
			return publicKey{}, err
		}
		return publicKey{kty: "EC", alg: k.Alg, pub: pub}, nil
	default:
		return publicKey{}, fmt.Errorf("unsupported kty %q", k.Kty)
	}
}

// algKty is the JWK key type an algorithm needs.
func algKty(alg string) string {
	switch alg {
	case "RS256":
		return "RSA"
	case "ES256":
		return "EC"
	default:
		return ""
	}
}

func b64Int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("bad base64url integer")
	}
	return new(big.Int).SetBytes(b), nil
}

// getJSON GETs u and decodes its JSON body, bounded in time and size.
func (c *keyCache) getJSON(ctx context.Context, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > maxDocBytes {
		return fmt.Errorf("GET %s: response larger than %d bytes", u, maxDocBytes)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

func unavailable(cause error) *crm.Error {
	return &crm.Error{Code: crm.EUNAVAILABLE, Message: "authentication is temporarily unavailable", Err: cause}
}
