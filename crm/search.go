package crm

import (
	"context"

	"github.com/rapportcrm/rapport/search"
)

// SearchCustomers lists the customers the caller may read that match a
// search string (search.ParseQuery: the start of a word of the name, its
// core, its pinyin or initials, a contact person's name, the last 4 or
// more digits of a phone) and f, best match first (exact, prefix, core,
// contact, phone; then by name). Visibility and f compose as for
// Customers: a salesperson searches their own customers unless f asks for
// the pool; a partner the customers shared with it, masked.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT (query, filter, page
// size or cursor).
func (s *Service) SearchCustomers(ctx context.Context, query string, f CustomerFilter, p PageRequest) (*Page[*Customer], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	q, err := search.ParseQuery(query)
	if err != nil {
		return nil, Invalid("query", "%s", err.Error())
	}
	// A partner that sees phone numbers masked to their last 4 digits
	// searches by no more of them than it sees.
	if l := q.Lookups[0]; l.Phone && len(l.Prefix) > 4 && (u.masks(MaskPhones) || u.masks(MaskContactPhones)) {
		return nil, Invalid("query", "may hold at most the last 4 digits of a phone number: your organization sees numbers masked to them")
	}
	if err := normalizeFilter(&f); err != nil {
		return nil, err
	}
	if err := visibility(u, &f); err != nil {
		return nil, err
	}
	page, err := s.Store.SearchCustomers(ctx, q, f, p)
	if err != nil {
		return nil, err
	}
	for _, c := range page.Items {
		if !canRead(u, c) {
			return nil, Errorf(EINTERNAL, "search returned a customer the caller may not read")
		}
	}
	return viewPage(u, page, viewCustomer), nil
}
