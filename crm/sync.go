package crm

import (
	"context"
	"slices"
	"time"
)

// Incremental sync (docs/sync.md): the change feed an offline-first client
// reads to keep its copy of the customers it may read in step, with small
// reads.
//
// Who may read a customer (authz.go) comes down to a few units of
// visibility, its audiences: everyone who reads every customer (ADMIN,
// AUDITOR), its owner, the pool (SALES read it), its team (MANAGER,
// SERVICE) and each partner organization it is shared with. The stream
// consumer writes, for every profile write, an entry in the log of each
// audience the write concerns: an upsert in those that read the customer
// after it, a removal in those that read it before and no longer do. A
// caller's feed is the logs of their own audiences, merged in time order.

// ChangeKind says whether a change brings a customer into a copy or takes
// it out.
type ChangeKind string

const (
	// ChangeUpsert: the customer is readable at this version or later.
	ChangeUpsert ChangeKind = "UPSERT"
	// ChangeRemove: the customer left what the audience reads (archived,
	// merged away, handed to someone else, moved to another team, no
	// longer shared).
	ChangeRemove ChangeKind = "REMOVE"
)

// ChangeKinds lists every kind.
var ChangeKinds = []ChangeKind{ChangeUpsert, ChangeRemove}

// The audiences of the change logs.
const (
	// AudienceAll reads every customer: ADMIN and AUDITOR.
	AudienceAll = "ALL"
	// AudiencePool reads the customers nobody owns: SALES.
	AudiencePool = "POOL"
)

func ownerAudience(user string) string  { return "OWNER#" + user }
func teamAudience(team string) string   { return "TEAM#" + team }
func partnerAudience(org string) string { return "PARTNER#" + org }

// ChangeWindow is how far back a change feed reaches: a cursor stays
// valid this long after the last page read with it, and a feed read
// without one starts this long ago. The logs keep entries a day longer
// (ChangeTTL), so nothing inside the window is gone.
const ChangeWindow = 7 * 24 * time.Hour

// ChangeTTL is how long a change log keeps an entry (the table's TTL).
const ChangeTTL = ChangeWindow + 24*time.Hour

// DefaultChangeSettle is how far behind now a feed reads
// (Service.ChangeSettle). The stream consumer stamps an entry with its
// clock when it writes it, in one attempt of one call bounded well below
// this: an entry becomes readable before the feed's readers pass its
// stamp, so none is skipped by a reader that passed while the write was
// under way.
const DefaultChangeSettle = 20 * time.Second

// CustomerAudiences returns the audiences that read c, sorted: none for
// a customer that is not ACTIVE (archived, merged) or absent.
func CustomerAudiences(c *Customer) []string {
	if c == nil || c.Status != StatusActive || c.MergedInto != "" {
		return nil
	}
	out := []string{AudienceAll}
	if c.InPool() {
		out = append(out, AudiencePool)
	} else {
		out = append(out, ownerAudience(c.OwnerID))
	}
	if c.Team != "" {
		out = append(out, teamAudience(c.Team))
	}
	for _, p := range c.Partners {
		out = append(out, partnerAudience(p.OrgID))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// userAudiences returns the audiences whose logs make up u's feed,
// sorted: the rules of canRead, unit by unit (a customer u may read is in
// at least one of them, and every customer in one of them u may read).
func userAudiences(u *User) ([]string, error) {
	if u.IsPartner() {
		if u.PartnerOrgID == "" {
			return nil, Errorf(EFORBIDDEN, "no partner organization is assigned to you")
		}
		return []string{partnerAudience(u.PartnerOrgID)}, nil
	}
	if u.HasRole(RoleAdmin) || u.HasRole(RoleAuditor) {
		return []string{AudienceAll}, nil
	}
	var out []string
	if u.HasRole(RoleSales) {
		out = append(out, ownerAudience(u.ID), AudiencePool)
	}
	if u.HasRole(RoleManager) || u.HasRole(RoleService) {
		for _, t := range u.Teams {
			out = append(out, teamAudience(t))
		}
	}
	if len(out) == 0 {
		return nil, Errorf(EFORBIDDEN, "your role may not read customers")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// FeedEntry is what a profile write adds to one audience's log.
type FeedEntry struct {
	Audience   string
	Kind       ChangeKind
	CustomerID string
	// Version is the profile's version after the write (before it, for a
	// profile deleted).
	Version int
}

// FeedEntries returns the entries of a profile write from prev to next
// (prev nil: created; next nil: deleted): an upsert in every audience that
// reads the customer after it, unless the write is a rewrite at the same
// version that the audience read before too; a removal in every audience
// that read it before and does not after. Removals come first, so that a
// caller in two audiences the customer moves between (a salesperson
// claiming from the pool) reads the removal before the upsert.
func FeedEntries(id string, prev, next *Customer) []FeedEntry {
	before, after := CustomerAudiences(prev), CustomerAudiences(next)
	version := 0
	switch {
	case next != nil:
		version = next.Version
	case prev != nil:
		version = prev.Version
	}
	rewrite := prev != nil && next != nil && prev.Version == next.Version
	var out []FeedEntry
	for _, a := range before {
		if !slices.Contains(after, a) {
			out = append(out, FeedEntry{Audience: a, Kind: ChangeRemove, CustomerID: id, Version: version})
		}
	}
	for _, a := range after {
		if !rewrite || !slices.Contains(before, a) {
			out = append(out, FeedEntry{Audience: a, Kind: ChangeUpsert, CustomerID: id, Version: version})
		}
	}
	return out
}

// CustomerChange is one entry of a caller's change feed.
type CustomerChange struct {
	Kind       ChangeKind
	CustomerID string
	Version    int
	// At is when the write happened.
	At time.Time
	// Customer is, for an upsert, the customer as the caller reads it now
	// (it may be newer than Version); nil for a removal, and for an upsert
	// of a customer the caller no longer reads or that was removed since
	// (a later entry of the feed says so).
	Customer *Customer
}

// ChangeQuery is a read of a caller's change feed.
type ChangeQuery struct {
	// Caller binds the cursors: one caller's cursor does not open for
	// another.
	Caller string
	// Audiences are the logs the feed merges; a cursor naming others is
	// refused (ERESYNC).
	Audiences []string
	// After is a cursor of this feed; "" starts at Since.
	After string
	// Since is the oldest point a feed may resume from; a cursor behind
	// it is refused (ERESYNC).
	Since time.Time
	// Until: entries stamped before it are read (now less Service.ChangeSettle).
	Until time.Time
	First int
}

// ChangeFeedStore reads the change logs the stream consumer writes
// (package stream, ChangeLog); the Store embeds it.
type ChangeFeedStore interface {
	// ReadChanges returns the next entries of the query's audiences, in
	// the order they were logged, with a cursor after each and at the
	// end; EINVALID for a cursor that does not open for the caller, and
	// ERESYNC for one that names other audiences or reaches back before
	// Since.
	ReadChanges(ctx context.Context, q ChangeQuery) (*Page[*CustomerChange], error)
	// StartChanges returns a cursor of the caller's feed at the time at.
	StartChanges(caller string, audiences []string, at time.Time) string
}

// maxChangeCursor bounds a change feed's cursor: a position per audience.
const maxChangeCursor = 8192

// feedCaller is the caller a feed's cursors are bound to: a partner
// organization's keys share its feed.
func feedCaller(u *User) string {
	if u.IsPartner() {
		return "partner:" + u.PartnerOrgID
	}
	return "user:" + u.ID
}

// Changes reads the caller's change feed after a cursor (from ChangeWindow
// ago without one): what changed among the customers the caller may read,
// in the order it was written, the latest entry per customer of the page.
// Errors: UNAUTHENTICATED, FORBIDDEN (a role that reads no customer),
// BAD_USER_INPUT (page size, a cursor not of this caller's feed), RESYNC_REQUIRED
// (a cursor too old, or of audiences the caller no longer has: read
// everything again, then the feed from ChangesCursor).
func (s *Service) Changes(ctx context.Context, p PageRequest) (*Page[*CustomerChange], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if p.First < 1 || p.First > MaxPageSize {
		return nil, Invalid("first", "must be between 1 and %d", MaxPageSize)
	}
	if len(p.After) > maxChangeCursor {
		return nil, Invalid("after", "invalid cursor: use the cursor of a page of this same list")
	}
	auds, err := userAudiences(u)
	if err != nil {
		return nil, err
	}
	now := s.now()
	page, err := s.Store.ReadChanges(ctx, ChangeQuery{Caller: feedCaller(u), Audiences: auds, After: p.After,
		Since: now.Add(-ChangeWindow), Until: now.Add(-s.ChangeSettle), First: p.First})
	if err != nil {
		return nil, err
	}
	page = latestPerCustomer(page)
	var ids []string
	for _, c := range page.Items {
		if c.Kind == ChangeUpsert && !slices.Contains(ids, c.CustomerID) {
			ids = append(ids, c.CustomerID)
		}
	}
	if len(ids) == 0 {
		return page, nil
	}
	found, err := s.Store.Customers(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, c := range page.Items {
		if cur, ok := found[c.CustomerID]; ok && c.Kind == ChangeUpsert && canRead(u, cur) && len(CustomerAudiences(cur)) > 0 {
			c.Customer = viewCustomer(u, cur)
		}
	}
	return page, nil
}

// latestPerCustomer keeps, of a page's entries about one customer, the
// last: the state the page leaves the customer in. The cursor after it
// covers the ones dropped.
func latestPerCustomer(p *Page[*CustomerChange]) *Page[*CustomerChange] {
	last := map[string]int{}
	for i, c := range p.Items {
		last[c.CustomerID] = i
	}
	out := &Page[*CustomerChange]{EndCursor: p.EndCursor, HasNext: p.HasNext, Items: []*CustomerChange{}, Cursors: []string{}}
	for i, c := range p.Items {
		if last[c.CustomerID] == i {
			out.Items = append(out.Items, c)
			out.Cursors = append(out.Cursors, p.Cursors[i])
		}
	}
	return out
}

// ChangesCursor returns a cursor of the caller's change feed at now: a
// new client takes it, reads everything it keeps (customers), then reads
// the feed after it, so that no change made during its full read is lost.
// Errors: UNAUTHENTICATED, FORBIDDEN (a role that reads no customer).
func (s *Service) ChangesCursor(ctx context.Context) (string, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return "", err
	}
	auds, err := userAudiences(u)
	if err != nil {
		return "", err
	}
	return s.Store.StartChanges(feedCaller(u), auds, s.now().Add(-s.ChangeSettle)), nil
}
