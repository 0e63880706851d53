package main

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// API Gateway caches none of this authorizer's answers (template.yaml:
// ReauthorizeEvery 0), so that it sees every partner request and can count
// each key's. Two wrappers around the key check do what its cache did and
// what HTTP APIs cannot do by themselves (they have no usage plans):
//
//   - cachedVerify keeps each key's answer for a minute in the instance,
//     so a request costs no reads and a revocation, a suspension or a new
//     masking policy still takes effect within a minute;
//   - limitPerKey counts the requests of each key per minute in the table
//     (dynamo.Store.CountAPIKeyUse) and refuses those over the limit, as
//     a refused key is refused: 403 from API Gateway.

// verifyFunc checks a partner API key: crm.Service.VerifyAPIKey.
type verifyFunc func(ctx context.Context, key string) (*crm.User, error)

// cacheSize bounds the cached answers; past it the cache starts afresh.
const cacheSize = 10000

type cachedAnswer struct {
	user    *crm.User
	err     error
	expires time.Time
}

// cachedVerify answers a key from the instance's cache for ttl after it was
// checked. Allowed and refused keys are both kept; a failure to check (the
// table unavailable) is not, so it is retried on the next request. Keys are
// held by their SHA-256, never as they are.
func cachedVerify(verify verifyFunc, ttl time.Duration, now func() time.Time) verifyFunc {
	var mu sync.Mutex
	cache := map[[sha256.Size]byte]cachedAnswer{}
	return func(ctx context.Context, key string) (*crm.User, error) {
		h := sha256.Sum256([]byte(key))
		mu.Lock()
		a, ok := cache[h]
		mu.Unlock()
		if ok && now().Before(a.expires) {
			return a.user, a.err
		}
		u, err := verify(ctx, key)
		if err != nil && crm.ErrorCode(err) != crm.EUNAUTHORIZED {
			return u, err
		}
		mu.Lock()
		if len(cache) >= cacheSize {
			clear(cache)
		}
		cache[h] = cachedAnswer{user: u, err: err, expires: now().Add(ttl)}
		mu.Unlock()
		return u, err
	}
}

// countFunc counts one request of a key in a minute and reports whether the
// key is still within limit: dynamo.Store.CountAPIKeyUse.
type countFunc func(ctx context.Context, keyID string, minute time.Time, limit int) (bool, error)

// limitPerKey refuses a verified key's requests beyond perMinute in a
// minute, with an UNAUTHORIZED error the authorizer answers as a refusal.
// perMinute 0 counts nothing. A failure to count lets the request through
// (and is logged): the route's own throttle still bounds all partners
// together, and a counting fault should not lock every partner out.
func limitPerKey(verify verifyFunc, count countFunc, perMinute int, now func() time.Time, log *slog.Logger) verifyFunc {
	if perMinute <= 0 {
		return verify
	}
	return func(ctx context.Context, key string) (*crm.User, error) {
		u, err := verify(ctx, key)
		if err != nil {
			return u, err
		}
		keyID, ok := strings.CutPrefix(u.ID, crm.PartnerUserID(""))
		if !ok {
			return u, nil
		}
		within, err := count(ctx, keyID, now(), perMinute)
		switch {
		case err != nil:
			log.ErrorContext(ctx, "partner key use not counted", "principal", u.ID, "code", crm.ErrorCode(err), "err", err)
		case !within:
			return nil, crm.Errorf(crm.EUNAUTHORIZED, "API key over its limit of %d requests a minute", perMinute)
		}
		return u, nil
	}
}
