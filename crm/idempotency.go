package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Idempotency makes a create safe to retry (security issue, lossless
// writes): the client sends a key with the request; the store records the
// key with the id of what was created, in the same transaction (a logged
// interaction's just before it: LogInteraction), and a retry with the same
// key finds the record instead of creating twice.
type Idempotency struct {
	// Key is scoped to the caller and the operation.
	Key string
	// ResultID identifies what the first request created.
	ResultID string
	// RequestHash fingerprints the request, so that a key reused for a
	// different request is refused rather than answered with another
	// request's result.
	RequestHash string
	// Expires is when the record may be forgotten.
	Expires time.Time
	// Resume: the key's record names ResultID already (its first request
	// stopped before writing it); the store writes the record again with
	// the result, in one transaction, rather than refuse it.
	Resume bool
}

// IdempotencyWindow is how long a key is remembered.
const IdempotencyWindow = 24 * time.Hour

// EREPLAYED is the store's answer when a change carries an idempotency key
// that was already used for the same request: ExistingID names the first
// result. Services turn it into that result; it never reaches a client.
const EREPLAYED = "REPLAYED"

// idempotency prepares the record of a create with a client key, or nil
// without one. input is hashed as JSON.
func (s *Service) idempotency(u *User, op, key string, input any, resultID string) (*Idempotency, error) {
	if key == "" {
		return nil, nil
	}
	if !isIdempotencyKey(key) {
		return nil, Invalid("input.idempotencyKey", "must be 8 to 64 letters, digits, '-', '_', '.' or ':'")
	}
	b, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("hash %s request: %w", op, err)
	}
	sum := sha256.Sum256(b)
	return &Idempotency{Key: idempotencyKey(u, op, key), ResultID: resultID, RequestHash: hex.EncodeToString(sum[:]),
		Expires: s.now().Add(IdempotencyWindow)}, nil
}

// idempotencyKey scopes a client's key to the caller and the operation.
func idempotencyKey(u *User, op, key string) string { return u.ID + "#" + op + "#" + key }

func isIdempotencyKey(k string) bool {
	if len(k) < 8 || len(k) > 64 {
		return false
	}
	for _, r := range k {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':'
		if !ok {
			return false
		}
	}
	return true
}

// replayed reports whether err says the change was already made under its
// idempotency key, and returns the first result's id.
func replayed(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) && e.Code == EREPLAYED {
		return e.ExistingID, true
	}
	return "", false
}

// replay returns the result of the first request made with a key: load
// reads it by id. A result that can no longer be read (deleted since) is a
// CONFLICT: the key's request already happened.
func replay[T any](ctx context.Context, err error, load func(context.Context, string) (T, error)) (T, error, bool) {
	var zero T
	id, ok := replayed(err)
	if !ok {
		return zero, err, false
	}
	v, lerr := load(ctx, id)
	if ErrorCode(lerr) == ENOTFOUND {
		return zero, Errorf(ECONFLICT, "this idempotency key was already used; its result %s no longer exists", id), true
	}
	return v, lerr, true
}
