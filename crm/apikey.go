package crm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// API keys sign partner principals in. A key is APIKeyPrefix and
// 43 base64url characters of 32 random bytes; it is shown once, when
// issued, and stored only as its SHA-256. The first 96 bits of the hash are
// the key's id, so checking a key is one read by id and a constant-time
// comparison of the whole hash.

// APIKeyPrefix starts every key, so that a leaked key is recognizable (by
// secret scanners, in logs) for what it is.
const APIKeyPrefix = "rpk_"

const (
	apiKeyRandomBytes = 32
	apiKeyLen         = len(APIKeyPrefix) + 43 // base64url, unpadded, of 32 bytes
	apiKeyIDLen       = 24                     // hex digits of the hash: 96 bits
)

// APIKeyTouchEvery is how often a key's last use is written at most: a busy
// key costs one conditional write per interval.
const APIKeyTouchEvery = time.Minute

// APIKey is an issued key's metadata; the key itself is never stored.
type APIKey struct {
	ID    string
	OrgID string
	// Name says what the key is for, e.g. "portal production".
	Name string
	// Hash is the hex SHA-256 of the key.
	Hash string
	// Last4 are the key's last four characters, to tell keys apart.
	Last4      string
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	RevokedBy  string
}

// Hint shows which key this is without revealing it: "rpk_…x9Qa".
func (k *APIKey) Hint() string { return APIKeyPrefix + "…" + k.Last4 }

// IssuedAPIKey is a new key: Secret is the key itself, shown this once.
type IssuedAPIKey struct {
	Key    *APIKey
	Secret string
}

// hashAPIKey returns the hex SHA-256 of a well-formed key and its id.
func hashAPIKey(key string) (id, hash string, ok bool) {
	if len(key) != apiKeyLen || !strings.HasPrefix(key, APIKeyPrefix) ||
		strings.ContainsFunc(key[len(APIKeyPrefix):], func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
		return "", "", false
	}
	sum := sha256.Sum256([]byte(key))
	hash = hex.EncodeToString(sum[:])
	return hash[:apiKeyIDLen], hash, true
}

func newAPIKeySecret() string {
	b := make([]byte, apiKeyRandomBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// IssueAPIKey makes a key for an active partner organization. The result's
// Secret is the key: it is not stored and cannot be shown again. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT
// (the organization is suspended).
func (s *Service) IssueAPIKey(ctx context.Context, orgID, name string) (*IssuedAPIKey, error) {
	u, err := partnerAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("partnerId", orgID); err != nil {
		return nil, err
	}
	var c checker
	name = strings.TrimSpace(name)
	c.text("name", name, 1, MaxShortText)
	if err := c.result(); err != nil {
		return nil, err
	}
	org, err := s.Store.PartnerOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if org.Status != PartnerActive {
		return nil, Errorf(ECONFLICT, "partner organization %s is %s; reactivate it first", orgID, org.Status)
	}
	secret := newAPIKeySecret()
	id, hash, _ := hashAPIKey(secret)
	k := &APIKey{ID: id, OrgID: orgID, Name: name, Hash: hash, Last4: secret[len(secret)-4:],
		CreatedBy: u.ID, CreatedAt: s.now()}
	if err := s.Store.CreateAPIKey(ctx, k); err != nil {
		return nil, err
	}
	return &IssuedAPIKey{Key: k, Secret: secret}, nil
}

// RevokeAPIKey refuses a key from now on (in the stack, once the
// authorizer's cached answer expires: docs/partners.md). Revoking a revoked
// key changes nothing. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) (*APIKey, error) {
	u, err := partnerAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	k, err := s.Store.APIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.RevokedAt != nil {
		return k, nil
	}
	next := *k
	next.RevokedAt, next.RevokedBy = ptr(s.now()), u.ID
	switch err := s.Store.RevokeAPIKey(ctx, &next); {
	case ErrorCode(err) == ECONFLICT:
		return s.Store.APIKey(ctx, id) // revoked by someone else meanwhile
	case err != nil:
		return nil, err
	}
	return &next, nil
}

// APIKeys lists a partner organization's keys, newest first, revoked ones
// too. ADMIN and AUDITOR.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) APIKeys(ctx context.Context, orgID string, p PageRequest) (*Page[*APIKey], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.IsPartner() || !(u.HasRole(RoleAdmin) || u.HasRole(RoleAuditor)) {
		return nil, Errorf(EFORBIDDEN, "only an admin or an auditor may list API keys")
	}
	if err := checkID("partnerId", orgID); err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	return s.Store.ListAPIKeys(ctx, orgID, p)
}

// badAPIKey is the one answer to every key that does not sign in:
// malformed, unknown, revoked, or of an organization that is gone or
// suspended. Its holder learns only that the key is not valid; why is in
// Err, for the logs (ADMIN reads keys and organizations through the API).
func badAPIKey(format string, args ...any) error {
	return &Error{Code: EUNAUTHORIZED, Message: "invalid API key", Err: fmt.Errorf(format, args...)}
}

// VerifyAPIKey turns a partner's API key into its principal: a PARTNER
// user of the key's organization carrying the organization's masking
// policy. It is the one check of a key, made by the local server's
// authenticator and by the stack's Lambda authorizer alike. It records the
// key's use at most once per APIKeyTouchEvery (best effort: a failed write
// does not refuse the key).
// Errors: UNAUTHENTICATED (malformed, unknown or revoked key, suspended
// organization: all with the same message), UNAVAILABLE.
func (s *Service) VerifyAPIKey(ctx context.Context, key string) (*User, error) {
	id, hash, ok := hashAPIKey(key)
	if !ok {
		return nil, badAPIKey("malformed key")
	}
	k, err := s.Store.APIKey(ctx, id)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil, badAPIKey("no key %s", id)
	case err != nil:
		return nil, err
	case subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1:
		return nil, badAPIKey("key %s does not match its hash", id)
	case k.RevokedAt != nil:
		return nil, badAPIKey("key %s (%s) of organization %s was revoked at %s by %s",
			k.ID, k.Hint(), k.OrgID, k.RevokedAt.Format(time.RFC3339), k.RevokedBy)
	}
	org, err := s.Store.PartnerOrg(ctx, k.OrgID)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil, badAPIKey("key %s: organization %s does not exist", k.ID, k.OrgID)
	case err != nil:
		return nil, err
	case org.Status != PartnerActive:
		return nil, badAPIKey("key %s: organization %s (%s) is %s", k.ID, org.ID, org.Name, org.Status)
	}
	if now := s.now(); k.LastUsedAt == nil || !k.LastUsedAt.After(now.Add(-APIKeyTouchEvery)) {
		_ = s.Store.TouchAPIKey(ctx, k.ID, now, now.Add(-APIKeyTouchEvery))
	}
	return &User{ID: PartnerUserID(k.ID), Name: org.Name, Roles: []Role{RolePartner},
		PartnerOrgID: org.ID, Masked: append([]MaskField{}, org.Masked...), ShowAmounts: org.ShowAmounts}, nil
}

// PartnerUserID is the user id of the principal signed in with key id: it
// names the key, so that logs say which key made a request.
func PartnerUserID(keyID string) string { return "apikey:" + keyID }
