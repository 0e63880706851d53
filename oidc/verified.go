package oidc

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// maxVerified bounds the tokens a Verifier remembers: a client sends the
// same token for its whole lifetime (an hour for Cognito's by default),
// and a process serves a bounded set of clients at a time.
const maxVerified = 4096

// verifiedTokens remembers the users of tokens verified lately, so that a
// client's next request with the same token skips the signature check (an
// RS256 verification is most of what authenticating a request costs). A
// token is remembered by its SHA-256, until its expiry, and only while the
// key set it was verified with stands: a JWKS fetch that withdraws or
// changes a key (retired keys must stop verifying tokens) starts a new
// generation of the key set, and every token remembered under the one
// before is forgotten. What is remembered is what a full check would answer: the
// checks that depend on time (nbf, iat) only pass more surely as time goes
// on, and exp ends the entry.
type verifiedTokens struct {
	mu     sync.Mutex
	tokens map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	user    crm.User
	expires time.Time
	keys    uint64 // the key set's generation (keyCache.gen)
}

// get returns a copy of the user of token, if it was verified with the
// key set of generation keys and has not expired at now.
func (v *verifiedTokens) get(token string, keys uint64, now time.Time) (*crm.User, bool) {
	sum := sha256.Sum256([]byte(token))
	v.mu.Lock()
	t, ok := v.tokens[sum]
	v.mu.Unlock()
	if !ok || t.keys != keys || !now.Before(t.expires) {
		return nil, false
	}
	return cloneUser(&t.user), true
}

// put remembers the user of token, verified with the key set of
// generation keys, until expires. When full, it drops the expired
// entries, or all of them if none has expired.
func (v *verifiedTokens) put(token string, u *crm.User, expires time.Time, keys uint64, now time.Time) {
	sum := sha256.Sum256([]byte(token))
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tokens == nil {
		v.tokens = make(map[[sha256.Size]byte]verifiedToken)
	}
	if len(v.tokens) >= maxVerified {
		for k, t := range v.tokens {
			if !now.Before(t.expires) || t.keys != keys {
				delete(v.tokens, k)
			}
		}
		if len(v.tokens) >= maxVerified {
			clear(v.tokens)
		}
	}
	v.tokens[sum] = verifiedToken{user: *cloneUser(u), expires: expires, keys: keys}
}

// cloneUser copies u with its own slices, so that no two requests share
// what either might change.
func cloneUser(u *crm.User) *crm.User {
	c := *u
	c.Roles, c.Teams, c.Masked = slices.Clone(u.Roles), slices.Clone(u.Teams), slices.Clone(u.Masked)
	return &c
}
