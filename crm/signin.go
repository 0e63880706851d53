package crm

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"
)

// Staff sign-in to the directory. A token's claims stay authoritative for
// authorization: the caller's roles and teams are the token's. The
// directory adds what tokens do not carry (the department) and can refuse
// a deactivated user. A user is registered from their claims the first
// time they are seen, and their entry is rewritten only when their claims
// change; a service instance remembers what it read for DirectoryTTL, so a
// busy user costs one read per instance per DirectoryTTL and no write.

// DefaultDirectoryTTL is how long an instance trusts what it last read of
// a signed-in user: a deactivation made on another instance refuses the
// user's requests within this time (at once on the instance that made it).
const DefaultDirectoryTTL = time.Minute

// maxSignInCache bounds the users an instance remembers; past it, it
// starts over.
const maxSignInCache = 10000

type signInEntry struct {
	hash       string
	active     bool
	department string
	readAt     time.Time
}

// signInCache holds, per user id, what an instance last read or wrote of
// a signed-in user.
type signInCache struct {
	mu sync.Mutex
	m  map[string]signInEntry
}

func (c *signInCache) get(id string, ttl time.Duration) (signInEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	return e, ok && time.Since(e.readAt) < ttl
}

func (c *signInCache) put(id string, e signInEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxSignInCache {
		c.m = map[string]signInEntry{}
	}
	c.m[id] = e
}

func (c *signInCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// claimsHash fingerprints what a sign-in mirrors into the directory.
func claimsHash(u *User) string {
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	slices.Sort(roles)
	teams := slices.Sorted(slices.Values(u.Teams))
	sum := sha256.Sum256([]byte(strings.Join([]string{u.Name, u.Email, strings.Join(roles, ","), strings.Join(teams, "\x1f")}, "\x1e")))
	return hex.EncodeToString(sum[:16])
}

// SignIn admits a staff caller whose credentials were verified: it
// registers them in the directory on first use, mirrors their claims when
// they changed, and refuses them when the directory deactivated them. It
// returns the caller with the directory's department; roles and teams stay
// the token's. Partner principals pass through: they are not users of the
// directory.
// Errors: FORBIDDEN (deactivated, or claims the directory cannot hold),
// UNAVAILABLE, INTERNAL.
func (s *Service) SignIn(ctx context.Context, u *User) (*User, error) {
	if u == nil || u.IsPartner() {
		return u, nil
	}
	hash := claimsHash(u)
	e, ok := s.signIns.get(u.ID, s.DirectoryTTL)
	if !ok || e.hash != hash {
		var err error
		if e, err = s.register(ctx, u, hash); err != nil {
			return nil, err
		}
		s.signIns.put(u.ID, e)
	}
	if !e.active {
		return nil, Errorf(EFORBIDDEN, "user %s is deactivated in Rapport's directory; an admin can reactivate them", u.ID)
	}
	in := *u
	in.Department = e.department
	return &in, nil
}

// register reads the caller's directory entry and writes it when it is
// missing or holds other claims; a racing sign-in of the same user is met
// by reading again.
func (s *Service) register(ctx context.Context, u *User, hash string) (signInEntry, error) {
	if AuditScopeFrom(ctx).Operation == "" {
		ctx = WithAuditScope(ctx, AuditScope{Operation: "signIn"})
	}
	ctx = NewContextWithUser(ctx, u) // the audit's actor: the user signing in
	var err error
	for range maxRetries {
		var d *DirectoryUser
		d, err = s.Store.User(ctx, u.ID)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			if d, err = s.fromClaims(nil, u, hash); err != nil {
				return signInEntry{}, err
			}
			err = s.Store.CreateUser(ctx, d, nil)
		case err != nil:
			return signInEntry{}, err
		case !d.Active || d.ClaimsHash == hash:
		default:
			var next *DirectoryUser
			if next, err = s.fromClaims(d, u, hash); err != nil {
				return signInEntry{}, err
			}
			if err = s.Store.UpdateUser(ctx, d, next); err == nil {
				d = next
			}
		}
		switch ErrorCode(err) {
		case "":
			return signInEntry{hash: d.ClaimsHash, active: d.Active, department: d.DepartmentID, readAt: time.Now()}, nil
		case ECONFLICT, EDUPLICATE:
			continue // another sign-in of the same user wrote first
		}
		return signInEntry{}, err
	}
	return signInEntry{}, err
}

// fromClaims builds the entry of a user from their token: a new one when
// prev is nil, else prev with the claims mirrored. A name or email the
// token lacks keeps what the directory has (the id for a new user's name).
func (s *Service) fromClaims(prev *DirectoryUser, u *User, hash string) (*DirectoryUser, error) {
	now := s.now()
	d := &DirectoryUser{ID: u.ID, Active: true, Version: 1, CreatedAt: now, CreatedBy: u.ID}
	if prev != nil {
		d = prev.Clone()
		d.Version++
	}
	if d.FirstSignInAt == nil {
		d.FirstSignInAt = ptr(now)
	}
	d.Name = cmp.Or(strings.TrimSpace(u.Name), d.Name, u.ID)
	if e, ok := NormalizeEmail(u.Email); ok {
		d.Email = e
	}
	d.Roles, d.Teams = slices.Clone(u.Roles), slices.Clone(u.Teams)
	d.ClaimsHash, d.UpdatedAt, d.UpdatedBy = hash, now, u.ID
	if err := checkUserID("sub", u.ID); err != nil {
		return nil, Errorf(EFORBIDDEN, "your token's subject cannot be a user of Rapport's directory: %s", ErrorMessage(err))
	}
	if err := validateUser(d); err != nil {
		return nil, Errorf(EFORBIDDEN, "your token's claims cannot be kept in Rapport's directory: %s", ErrorMessage(err))
	}
	return d, nil
}
