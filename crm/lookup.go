package crm

import (
	"cmp"
	"context"
	"slices"

	"github.com/rapportcrm/rapport/phone"
)

// The screen pop: when a call comes in, whoever takes it sees the caller's
// whole profile at once (customerByPhone, customerByEmail). The caller
// lookup is an index kept by the stream consumer from the profiles' and
// contacts' phones and emails (docs/access-patterns.md, "Caller lookup");
// who may pop whom is in docs/security.md ("The screen pop").

// LookupKind is what a caller lookup looks up.
type LookupKind string

const (
	// LookupPhone: a phone number, by its E.164 form (phone.Number.E164:
	// without an extension, as a caller ID arrives).
	LookupPhone LookupKind = "PHONE"
	// LookupEmail: an email address, normalized (NormalizeEmail).
	LookupEmail LookupKind = "EMAIL"
)

// Holder is a customer holding a phone number or an email address: as its
// own (ContactID empty) or through one of its contact persons.
type Holder struct {
	CustomerID string
	ContactID  string
}

// Lookup is a screen pop of a customer outside the caller's usual reach,
// as the audit log records it: who (the context's user), which value, which
// customer (and contact) it found.
type Lookup struct {
	Kind       LookupKind
	Value      string
	CustomerID string
	ContactID  string
}

// LookupStore is the storage of the caller lookup.
type LookupStore interface {
	// Holders returns who holds value (at most MaxHolders of them, in
	// no particular order), as the lookup index has them: a change is
	// there within seconds (the stream), and an entry may be stale, so
	// the caller checks what it reads.
	Holders(ctx context.Context, kind LookupKind, value string) ([]Holder, error)
	// RecordLookup writes a screen pop outside the caller's reach to the
	// audit log (action READ).
	RecordLookup(ctx context.Context, l Lookup) error
}

// MaxHolders is how many holders of one value a lookup reads. A number
// held by more (a switchboard shared by many companies' contacts) pops
// one of the first MaxHolders read.
const MaxHolders = 25

// popReads bounds the 360 reads of one screen pop: the first holder's,
// and more only when an index entry turns out stale (the number was just
// removed, or its customer merged).
const popReads = 3

// CustomerByPhone is the screen pop: the 360 view of the customer holding
// the number written in any form phone.Parse reads, as its own or a
// contact person's; nil when no one does. Every staff role may pop any
// customer; a pop outside the caller's usual reach (canRead) is written to
// the audit log. Errors: UNAUTHENTICATED, FORBIDDEN (partners),
// BAD_USER_INPUT (phone, recentInteractions).
func (s *Service) CustomerByPhone(ctx context.Context, number string, recent int) (*Customer360, error) {
	n, err := phone.Parse(number)
	if err != nil {
		return s.refusePop(ctx, Invalid("phone", "%s", err.Error()))
	}
	return s.screenPop(ctx, "customerByPhone", LookupPhone, n.E164(), recent)
}

// CustomerByEmail is CustomerByPhone for an email address.
func (s *Service) CustomerByEmail(ctx context.Context, email string, recent int) (*Customer360, error) {
	v, ok := NormalizeEmail(email)
	if !ok {
		return s.refusePop(ctx, Invalid("email", "must be an email address such as name@example.com"))
	}
	return s.screenPop(ctx, "customerByEmail", LookupEmail, v, recent)
}

// refusePop answers bad input, after the checks of who is asking: a
// partner learns nothing of the rules.
func (s *Service) refusePop(ctx context.Context, bad error) (*Customer360, error) {
	if _, err := popper(ctx); err != nil {
		return nil, err
	}
	return nil, bad
}

// popper is the caller of a screen pop: any staff role; partners never.
func popper(ctx context.Context) (*User, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.IsPartner() || !slices.ContainsFunc(u.Roles, staffRole) {
		return nil, Errorf(EFORBIDDEN, "only staff may look customers up by phone or email")
	}
	return u, nil
}

func staffRole(r Role) bool {
	return r == RoleAdmin || r == RoleManager || r == RoleSales || r == RoleService || r == RoleAuditor
}

// screenPop pops the customer holding value. A pop outside the caller's
// reach is audited as the operation op (a query has no audit scope of its
// own).
func (s *Service) screenPop(ctx context.Context, op string, kind LookupKind, value string, recent int) (*Customer360, error) {
	u, err := popper(ctx)
	if err != nil {
		return nil, err
	}
	scope := AuditScopeFrom(ctx)
	scope.Operation = op
	ctx = WithAuditScope(ctx, scope)
	if recent < 0 || recent > MaxPageSize {
		return nil, Invalid("recentInteractions", "must be between 0 and %d", MaxPageSize)
	}
	holders, err := s.Store.Holders(ctx, kind, value)
	if err != nil {
		return nil, err
	}
	SortHolders(holders)
	for i, h := range holders {
		if i == popReads {
			break
		}
		v, err := s.Store.Customer360(ctx, h.CustomerID, recent)
		if ErrorCode(err) == ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		if v.Customer.Status == StatusMerged || !holds(v, kind, value, h) {
			continue // a stale entry: the stream removes it within seconds
		}
		if !canRead(u, v.Customer) {
			if err := s.Store.RecordLookup(ctx, Lookup{Kind: kind, Value: value, CustomerID: h.CustomerID, ContactID: h.ContactID}); err != nil {
				return nil, err
			}
		}
		return viewCustomer360(u, v), nil
	}
	return nil, nil
}

// SortHolders orders the holders of one value as a screen pop tries them:
// customers holding it as their own first, then through a contact; newest
// customer first within each (ids are ULIDs).
func SortHolders(hs []Holder) {
	slices.SortFunc(hs, func(a, b Holder) int {
		if (a.ContactID == "") != (b.ContactID == "") {
			if a.ContactID == "" {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.CustomerID, a.CustomerID), cmp.Compare(a.ContactID, b.ContactID))
	})
}

// holds reports whether what was read still holds the value where the
// index entry said.
func holds(v *Customer360, kind LookupKind, value string, h Holder) bool {
	if h.ContactID == "" {
		return slices.Contains(LookupValues(kind, v.Customer.Phones, v.Customer.Emails), value)
	}
	for _, c := range v.Contacts {
		if c.ID == h.ContactID {
			return slices.Contains(LookupValues(kind, c.Phones, c.Emails), value)
		}
	}
	return false
}

// LookupValues are the values under which stored phones or emails are
// looked up: E.164 numbers (a stored number that does not read as one is
// left out) or normalized addresses, without repeats.
func LookupValues(kind LookupKind, phones, emails []string) []string {
	var out []string
	add := func(v string) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if kind == LookupPhone {
		for _, p := range phones {
			if n, err := phone.Parse(p); err == nil {
				add(n.E164())
			}
		}
		return out
	}
	for _, e := range emails {
		if v, ok := NormalizeEmail(e); ok {
			add(v)
		}
	}
	return out
}
