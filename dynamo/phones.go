package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// canonicalPhones rewrites the phone numbers stored before numbers were
// canonical ("13812345678", "+86 10 6552 1234" normalized to
// "+861065521234" or left as "01065521234") in their canonical form
// (crm.NormalizePhone), and moves each profile's unique claims with them
// (issue #11).
const canonicalPhones = "2026-12-canonical-phones"

// migrationScope is the audit scope of a migration's writes.
func migrationScope(ctx context.Context, name string) context.Context {
	return crm.WithAuditScope(ctx, crm.AuditScope{Operation: "migration:" + name, RequestID: crm.AuditScopeFrom(ctx).RequestID})
}

// canonical returns phones in canonical form, without repeats; a number
// that has none stays as it is. It reports whether anything changed.
func canonical(phones []string) ([]string, bool) {
	out := make([]string, 0, len(phones))
	for _, p := range phones {
		if n, err := crm.NormalizePhone(p); err == nil {
			p = n
		}
		out = append(out, p)
	}
	out = dedupe(out)
	return out, !slices.Equal(out, phones)
}

// phonesPage rewrites one page's profiles and contacts whose numbers are
// not canonical, each in a transaction of its own conditioned on the
// version read (a profile's moves its unique claims too, and each is
// audited). An item already canonical is left alone, so a second run
// changes nothing. A number another customer already claims in canonical
// form (the same number stored twice in two forms) stays in its old form on
// this one, where duplicateCandidates and a merge find it.
func phonesPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	ctx = migrationScope(ctx, canonicalPhones)
	changed := 0
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		if !strings.HasPrefix(pk, "CUST#") || (sk != skProfile && !strings.HasPrefix(sk, skContactPrefix)) {
			continue
		}
		var phones []string
		if l, ok := raw["phones"].(*types.AttributeValueMemberL); ok {
			for _, v := range l.Value {
				phones = append(phones, strAttr(v))
			}
		}
		if _, differ := canonical(phones); !differ {
			continue
		}
		var did bool
		var err error
		for attempt := 0; ; attempt++ {
			if sk == skProfile {
				did, err = s.canonicalProfile(ctx, customerIDOf(pk))
			} else {
				did, err = s.canonicalContact(ctx, customerIDOf(pk), strings.TrimPrefix(sk, skContactPrefix))
			}
			if crm.ErrorCode(err) != crm.ECONFLICT || attempt == txRetries {
				break // a conflict: a request changed the item meanwhile; read it again
			}
		}
		if err != nil {
			return changed, fmt.Errorf("%s %s: %w", pk, sk, err)
		}
		if did {
			changed++
		}
	}
	return changed, nil
}

// canonicalProfile rewrites one customer's numbers, keeping in their old
// form those another customer claims.
func (s *Store) canonicalProfile(ctx context.Context, id string) (bool, error) {
	prev, err := s.Customer(ctx, id)
	if err != nil || prev.Status == crm.StatusMerged {
		return false, err
	}
	keep := map[int]bool{} // numbers left in their old form
	for {
		phones := make([]string, 0, len(prev.Phones))
		for i, p := range prev.Phones {
			if n, err := crm.NormalizePhone(p); err == nil && !keep[i] {
				p = n
			}
			phones = append(phones, p)
		}
		next := prev.Clone()
		next.Version++
		next.Phones = dedupe(phones)
		if slices.Equal(next.Phones, prev.Phones) {
			return false, nil
		}
		t := &tx{s: s}
		t.customer(prev, next)
		err := t.commit(ctx)
		var ce *crm.Error
		if !errors.As(err, &ce) || ce.Code != crm.EDUPLICATE {
			return err == nil, err
		}
		var i int
		if _, serr := fmt.Sscanf(ce.Field, "input.phones[%d]", &i); serr != nil || i >= len(next.Phones) {
			return false, err
		}
		more := false
		for j, p := range prev.Phones {
			if n, nerr := crm.NormalizePhone(p); nerr == nil && n == next.Phones[i] && p != n && !keep[j] {
				keep[j], more = true, true
			}
		}
		if !more {
			return false, err
		}
	}
}

// canonicalContact rewrites one contact person's numbers.
func (s *Store) canonicalContact(ctx context.Context, customerID, id string) (bool, error) {
	prev, err := s.Contact(ctx, customerID, id)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return false, nil // moved by a merge meanwhile: its new place is on a later page or done
	}
	if err != nil {
		return false, err
	}
	phones, differ := canonical(prev.Phones)
	if !differ {
		return false, nil
	}
	next := prev.Clone()
	next.Phones, next.Version = phones, prev.Version+1
	t := &tx{s: s}
	t.entity("contact", id, customerID, toContactItem(prev), toContactItem(next))
	return true, t.commit(ctx)
}

// dedupe drops repeated values, keeping the first.
func dedupe(vals []string) []string {
	var out []string
	for _, v := range vals {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
