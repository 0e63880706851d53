package crm

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Service carries out Rapport's use cases: it authorizes the caller, checks
// input, applies the rules and hands the resulting change to the Store.
type Service struct {
	Store Store
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Pool governs claims from the public pool.
	Pool PoolPolicy
	// ForbidOwnReview refuses any evaluation of a customer by its own
	// owner: the conflict of interest rule.
	ForbidOwnReview bool
	// SeparateApproval refuses the approval of a case's plan by the user
	// who proposed it: separation of duties, which one-person teams turn
	// off.
	SeparateApproval bool
	// DeclineAfter is how long without contact suggests that a
	// relationship declines (SuggestStage).
	DeclineAfter time.Duration
	// PolicyTTL is how long the grading policy read from the store is used
	// before it is read again.
	PolicyTTL time.Duration
	// DirectoryTTL is how long a signed-in user's directory entry is
	// trusted before it is read again (signin.go).
	DirectoryTTL time.Duration
	// Import bounds what imports take of this instance.
	Import ImportLimits
	// Pipeline is the sales pipeline's stages (opportunity.go).
	Pipeline PipelinePolicy
	// Leads says who receives leads (lead.go).
	Leads LeadPolicy
	// Credit is the credit policy (credit.go); empty: the default.
	Credit CreditPolicy
	// Accounts says who takes a customer its first deal makes an O
	// (handover_win.go).
	Accounts AccountPolicy
	// ChangeSettle is how far behind now the change feed reads
	// (DefaultChangeSettle; sync.go).
	ChangeSettle time.Duration

	policies  policyCache
	signIns   signInCache
	imports   importGate
	entropyMu sync.Mutex
	entropy   *ulid.MonotonicEntropy
}

// NewService returns a service over store with the wall clock.
func NewService(store Store) *Service {
	return &Service{Store: store, Now: time.Now, Pool: DefaultPoolPolicy, ForbidOwnReview: true, SeparateApproval: true, DeclineAfter: DefaultDeclineAfter,
		PolicyTTL: DefaultPolicyTTL, DirectoryTTL: DefaultDirectoryTTL, Import: DefaultImportLimits, Pipeline: DefaultPipelinePolicy,
		ChangeSettle: DefaultChangeSettle, entropy: ulid.Monotonic(rand.Reader, 0)}
}

// newID returns a ULID whose time part is t, so ids sort by t.
func (s *Service) newID(t time.Time) string {
	s.entropyMu.Lock()
	defer s.entropyMu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), s.entropy).String()
}

// TimeOfID is the time an id (a ULID, as newID makes) was made for, to
// the millisecond; zero for another string.
func TimeOfID(id string) time.Time {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return time.Time{}
	}
	return ulid.Time(u.Time()).UTC()
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// maxRetries bounds how often a derived write (counters, timestamps on the
// profile) is recomputed after losing a race to another writer.
const maxRetries = 8

// applyFresh builds a change from freshly read state and applies it; when
// another writer got in between (the store answers a version conflict) it
// pauses (retryPause), reads and builds again, so nothing the other writer
// did is overwritten. Errors from build itself, such as a stale version the
// caller gave, and conflicts on a field are returned as is.
func (s *Service) applyFresh(ctx context.Context, build func() (*Change, error)) error {
	for attempt := 1; ; attempt++ {
		ch, err := build()
		if err != nil {
			return err
		}
		// A conflict on a field (an idempotency key used for another
		// request, a deal already converted) stays what it is.
		if err = s.Store.Apply(ctx, ch); !versionConflict(err) || attempt >= maxRetries {
			return err
		}
		if err := retryPause(ctx, attempt-1); err != nil {
			return err
		}
	}
}

// readable loads a customer the caller may read; others are NOT_FOUND.
// The read is consistent: it usually precedes a conditional write.
func (s *Service) readable(ctx context.Context, u *User, id string) (*Customer, error) {
	if err := checkID("customerId", id); err != nil {
		return nil, err
	}
	c, err := s.Store.Customer(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canRead(u, c) {
		return nil, notVisible(id)
	}
	return c, nil
}

type lookupKey struct{}

// CustomerLookup loads a customer the request may already hold.
type CustomerLookup func(ctx context.Context, id string) (*Customer, error)

// WithCustomerLookup lets the read-only paths of a request (a customer's
// contacts, interactions, histories) find the customer through lookup, a
// request's batch loader that already holds the customers it listed,
// instead of reading each customer again.
func WithCustomerLookup(ctx context.Context, lookup CustomerLookup) context.Context {
	return context.WithValue(ctx, lookupKey{}, lookup)
}

// visible is readable for paths that only read: it may use the request's
// customer lookup. Writes use readable, which reads consistently.
func (s *Service) visible(ctx context.Context, u *User, id string) (*Customer, error) {
	lookup, ok := ctx.Value(lookupKey{}).(CustomerLookup)
	if !ok {
		return s.readable(ctx, u, id)
	}
	if err := checkID("customerId", id); err != nil {
		return nil, err
	}
	c, err := lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canRead(u, c) {
		return nil, notVisible(id)
	}
	return c, nil
}

// Customer returns a customer the caller may read.
// Errors: UNAUTHENTICATED, NOT_FOUND.
func (s *Service) Customer(ctx context.Context, id string) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	c, err := s.readable(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return viewCustomer(u, c), nil
}

// CustomersByID loads many customers for a batch loader; each result is the
// customer or the error the caller gets for it (NOT_FOUND when missing or
// not readable).
func (s *Service) CustomersByID(ctx context.Context, ids []string) ([]*Customer, []error) {
	out, errs := make([]*Customer, len(ids)), make([]error, len(ids))
	u, err := currentUser(ctx)
	if err == nil {
		var found map[string]*Customer
		if found, err = s.Store.Customers(ctx, ids); err == nil {
			for i, id := range ids {
				if c, ok := found[id]; ok && canRead(u, c) {
					out[i] = viewCustomer(u, c)
				} else {
					errs[i] = notVisible(id)
				}
			}
			return out, errs
		}
	}
	for i := range errs {
		errs[i] = err
	}
	return out, errs
}

// Customer360 returns what a screen pop shows: profile, contacts, current
// grade, latest evaluations and the recent interactions, from one read.
// Errors: UNAUTHENTICATED, NOT_FOUND.
func (s *Service) Customer360(ctx context.Context, id string, recent int) (*Customer360, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if recent < 0 || recent > MaxPageSize {
		return nil, Invalid("recentInteractions", "must be between 0 and %d", MaxPageSize)
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	v, err := s.Store.Customer360(ctx, id, recent)
	if err != nil {
		return nil, err
	}
	if !canRead(u, v.Customer) {
		return nil, notVisible(id)
	}
	return viewCustomer360(u, v), nil
}

// checkPage validates a page request. A page of nothing is refused like
// any other size out of range: no size means DefaultPageSize only where
// the caller sent none (the schema's default).
func checkPage(p *PageRequest) error {
	if p.First < 1 || p.First > MaxPageSize {
		return Invalid("first", "must be between 1 and %d", MaxPageSize)
	}
	if len(p.After) > 2048 {
		return Invalid("after", "invalid cursor")
	}
	return nil
}

// Customers lists the customers the caller may read that match f.
// Errors: UNAUTHENTICATED, FORBIDDEN (asking for others' customers),
// BAD_USER_INPUT (filter, page size or cursor).
func (s *Service) Customers(ctx context.Context, f CustomerFilter, p PageRequest) (*Page[*Customer], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	if err := normalizeFilter(&f); err != nil {
		return nil, err
	}
	if err := visibility(u, &f); err != nil {
		return nil, err
	}
	page, err := s.Store.ListCustomers(ctx, f, p)
	if err != nil {
		return nil, err
	}
	// The store filters by visibility already; this is the last line of
	// defence should an index ever disagree.
	for _, c := range page.Items {
		if !canRead(u, c) {
			return nil, Errorf(EINTERNAL, "list returned a customer the caller may not read")
		}
	}
	return viewPage(u, page, viewCustomer), nil
}

func normalizeFilter(f *CustomerFilter) error {
	var c checker
	if f.Grade != "" {
		if _, ok := GradeLevelByCode(f.Grade); !ok {
			c.fail("filter.grade", "must be one of the grade levels A, B, C, D, E, F, G, O, V")
		}
	}
	if f.Stage != "" {
		checkEnum(&c, "filter.stage", f.Stage, Stages)
	}
	if f.ValueTier != "" {
		checkEnum(&c, "filter.valueTier", f.ValueTier, ValueTiers)
	}
	if f.Kind != "" {
		checkEnum(&c, "filter.kind", f.Kind, []CustomerKind{KindPerson, KindOrganization})
	}
	if f.Source != "" {
		checkEnum(&c, "filter.source", f.Source, Sources)
	}
	if f.Order.Field != "" {
		checkEnum(&c, "orderBy.field", f.Order.Field, OrderFields)
	}
	f.Industry = strings.TrimSpace(f.Industry)
	if f.Tag != "" {
		t, ok := NormalizeTag(f.Tag)
		if !ok {
			c.fail("filter.tag", "must be 1 to 40 letters, digits, '-' or '_'")
		}
		f.Tag = t
	}
	if f.Pool && f.OwnerID != "" {
		c.fail("filter.pool", "cannot be combined with ownerId")
	}
	for _, p := range [][2]string{{"filter.ownerId", f.OwnerID}, {"filter.region", f.Region}, {"filter.team", f.Team}, {"filter.industry", f.Industry}} {
		c.text(p[0], p[1], 0, MaxShortText)
	}
	f.VisibleTeams, f.VisibleOwner, f.VisiblePartner = nil, "", ""
	return c.result()
}

// CreateCustomer adds a customer. SALES create customers they own; MANAGER
// for their teams; ADMIN anywhere. An owner given must be an active SALES or
// MANAGER user of the directory. Only ADMIN and the team's MANAGER give
// an initial grade, which is a manual one.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, DUPLICATE, CONFLICT.
func (s *Service) CreateCustomer(ctx context.Context, in CustomerInput) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c := newCustomer(in, u, s.newID(now), now)
	if err := validateCustomer(c); err != nil {
		return nil, err
	}
	if err := checkInitialStage(c.Stage, in.StageReason, in.imported != nil); err != nil {
		return nil, err
	}
	if !canCreate(u, c) {
		return nil, Errorf(EFORBIDDEN, "not allowed to create a customer owned by %q in team %q", c.OwnerID, c.Team)
	}
	// An import checked its rows' owners already, once per owner and call.
	if in.OwnerID != nil && c.OwnerID != "" && in.imported == nil {
		if err := s.CheckAssignee(ctx, "input.ownerId", c.OwnerID, OwnerRoles...); err != nil {
			return nil, err
		}
	}
	// A grade given at creation is set by hand, as with SetGrade.
	if in.Grade != "" && !canAssign(u, c) {
		return nil, &Error{Code: EFORBIDDEN, Field: "input.grade",
			Message: "only an admin or the team's manager may set a grade by hand; without one the grading rules grade the customer"}
	}
	p, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	// The grade a customer starts with is on its profile, with its source
	// and time; the grade history records changes from it (GradeAt reads
	// the starting grade from the profile).
	ch := &Change{Customer: c, StageChange: s.stageChange(nil, c, in.StageReason, u)}
	if in.Grade == "" {
		c.Grade.Level = "" // graded from nothing
		s.regrade(p, c, in.imported.ruleSource(), u.ID, false)
	}
	c.Grade.Level = cmp.Or(c.Grade.Level, "G")
	c.ValueScore = ptr(p.Value.Score(c, now))
	if ch.Idempotency, err = s.idempotency(u, "createCustomer", in.IdempotencyKey, in, c.ID); err != nil {
		return nil, err
	}
	if in.imported != nil && ch.Idempotency != nil {
		ch.Idempotency.Expires = now.Add(ImportKeyWindow)
	}
	if in.imported.dryRun() {
		return c, nil
	}
	if err := s.applyClaiming(ctx, u, c, ch); err != nil {
		// The first result is read as the caller reads any customer: it may
		// have been reassigned since.
		if first, err, ok := replay(ctx, err, func(ctx context.Context, id string) (*Customer, error) {
			return s.readable(ctx, u, id)
		}); ok {
			return first, err
		}
		return nil, err
	}
	return c, nil
}

// newCustomer is the customer CreateCustomer makes of in for u, before
// it is checked.
func newCustomer(in CustomerInput, u *User, id string, now time.Time) *Customer {
	c := &Customer{
		ID: id, Kind: in.Kind, Name: in.Name,
		Phones: slices.Clone(in.Phones), Emails: slices.Clone(in.Emails), Addresses: slices.Clone(in.Addresses),
		Industry: in.Industry, Region: in.Region, Source: in.Source, AnnualRevenue: in.AnnualRevenue,
		CreditRating: in.CreditRating, CreditCode: in.CreditCode, CompanyStatus: in.CompanyStatus, Tags: slices.Clone(in.Tags),
		Attributes: slices.Clone(in.Attributes), Stage: in.Stage, Status: StatusActive, Team: in.Team, Verification: Unverified,
		Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID,
	}
	if c.Stage == "" {
		c.Stage = StageExploration
	}
	if c.Source == "" {
		c.Source = SourceOther
	}
	switch {
	case in.OwnerID != nil:
		c.OwnerID = *in.OwnerID
	case u.HasRole(RoleSales):
		c.OwnerID = u.ID
	}
	if c.Team == "" && len(u.Teams) > 0 {
		c.Team = u.Teams[0]
	}
	// A grade given at creation is a manual one; otherwise the policy's
	// rules grade the new customer (G, never contacted, by default).
	c.Grade = GradeState{Level: in.Grade, Source: GradeManual, Reason: in.imported.gradeReason(), By: u.ID, At: now}
	if in.Grade == "" {
		c.Grade = GradeState{Level: "G", Source: in.imported.ruleSource(), Reason: "initial grade", By: u.ID, At: now}
	}
	return c
}

func canCreate(u *User, c *Customer) bool {
	switch {
	case u.HasRole(RoleAdmin):
		return true
	case u.HasRole(RoleManager) && u.InTeam(c.Team):
		return true
	case u.HasRole(RoleSales) && c.OwnerID == u.ID && (c.Team == "" || u.InTeam(c.Team)):
		return true
	}
	return false
}

// UpdateCustomer changes a customer's profile. expectedVersion must be the
// version the caller read; a stale one is a CONFLICT and nothing is written.
// Changing owner or team needs ADMIN or the team's MANAGER; a new owner
// must be an active SALES or MANAGER user of the directory.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT,
// DUPLICATE.
func (s *Service) UpdateCustomer(ctx context.Context, id string, expectedVersion int, upd CustomerUpdate) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	prev, err := s.readable(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if !canEdit(u, prev) {
		return nil, forbidden("update", id)
	}
	// A merged customer takes no change whatever version is sent: the
	// caller learns where its history went rather than to reload it.
	if err := Writable(prev); err != nil {
		return nil, err
	}
	if prev.Version != expectedVersion {
		return nil, staleVersion("customer", id, expectedVersion, prev.Version)
	}
	if prev.Status == StatusArchived {
		return nil, &Error{Code: ECONFLICT, Message: "customer " + id + " is archived; restore it first"}
	}
	next := prev.Clone()
	applyCustomerUpdate(next, upd)
	if (next.OwnerID != prev.OwnerID || next.Team != prev.Team) && !canAssign(u, prev) {
		return nil, &Error{Code: EFORBIDDEN, Field: "input.ownerId", Message: "only an admin or the team's manager may change owner or team"}
	}
	if next.Team != prev.Team && u.HasRole(RoleManager) && !u.HasRole(RoleAdmin) && !u.InTeam(next.Team) {
		return nil, &Error{Code: EFORBIDDEN, Field: "input.team", Message: "not one of your teams"}
	}
	if next.OwnerID != prev.OwnerID && next.OwnerID != "" {
		if err := s.CheckAssignee(ctx, "input.ownerId", next.OwnerID, OwnerRoles...); err != nil {
			return nil, err
		}
	}
	if err := validateCustomer(next); err != nil {
		return nil, err
	}
	if err := s.reviewEdit(u, prev, next, upd.Verification); err != nil {
		return nil, err
	}
	if next.Stage != prev.Stage {
		if next.Stage == StageLost {
			return nil, Invalid("input.stage", "mark a customer LOST with changeStage, which records why")
		}
		if err := checkStageMove(prev.Stage, next.Stage, "", "input.reason"); err != nil {
			return nil, err
		}
	}
	p, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	ch := &Change{CustomerPrev: prev, Customer: next}
	// Edited data (annual revenue, say) can change what the rules make of
	// the customer.
	ch.GradeChange = s.regrade(p, next, GradeRule, u.ID, false)
	if next.OwnerID != prev.OwnerID {
		// A change of owner is an assignment: it ends any claim.
		next.Claim, ch.ClaimQuota = nil, endClaim(prev)
		if next.InPool() {
			next.LastHolder, next.ReturnedAt = prev.OwnerID, ptr(s.now())
		}
	}
	s.touch(next, u)
	ch.StageChange = s.stageChange(prev, next, "profile edit", u)
	if upd.NextFollowUpAt != nil {
		next.FollowUpSet.SetAt, next.FollowUpSet.By = next.UpdatedAt, u.ID
		next.SetFollowUp(next.FollowUpSet.At, next.UpdatedAt)
	}
	planFollowUp(p, next) // as the stream will, once it applies the edit
	if err := s.applyClaiming(ctx, u, next, ch); err != nil {
		return nil, err
	}
	return next, nil
}

// applyClaiming applies a change that claims c's phones, emails and credit
// code. A value refused as another customer's that this customer no
// longer holds is a claim left behind (a request that stopped between its
// transaction and the release, or a claim of the release before): it is
// released, if that customer has not moved since it was read without the
// value, and the change applied once more; as many times as the change
// has values to claim, and once more for a holder that moved meanwhile,
// after which it is a CONFLICT to retry. The transaction that failed wrote
// nothing, so applying it again is safe. A DUPLICATE still standing does
// not name a customer the caller may not read: the value is still
// refused, but whose it is stays as hidden as the customer itself.
func (s *Service) applyClaiming(ctx context.Context, u *User, c *Customer, ch *Change) error {
	err := s.Store.Apply(ctx, ch)
	rounds := len(c.Phones) + len(c.Emails) + 2
	for round := 0; ; round++ {
		var e *Error
		if !errors.As(err, &e) || e.Code != EDUPLICATE || e.ExistingID == "" {
			return err
		}
		field := strings.TrimPrefix(e.Field, "input.")
		value := listValue(c, field)
		holder, rerr := s.Store.Customer(ctx, e.ExistingID)
		leftBehind := rerr == nil && value != "" && !holdsField(holder, field, value)
		switch {
		case !leftBehind && rerr == nil && canRead(u, holder):
			return err
		case !leftBehind:
			return &Error{Code: EDUPLICATE, Field: e.Field, Message: "is already used by another customer", Err: err}
		case round == rounds:
			return &Error{Code: ECONFLICT, Field: e.Field, Err: err,
				Message: "another customer gave this value up and was changed again meanwhile; retry"}
		}
		// A CONFLICT: the claim is gone, or the holder moved; the next
		// attempt tells which.
		if rerr := s.Store.ReleaseClaim(ctx, field, value, holder.ID, holder.Version); rerr != nil && ErrorCode(rerr) != ECONFLICT {
			return err
		}
		err = s.Store.Apply(ctx, ch)
	}
}

// holdsField reports whether c holds value as the input field names it
// (phones[i], emails[i], creditCode; true for another field).
func holdsField(c *Customer, field, value string) bool {
	list, ok := fieldValues(c, field)
	return !ok || slices.Contains(list, value)
}

func staleVersion(what, id string, expected, actual int) error {
	return Errorf(ECONFLICT, "%s %s was changed by someone else: expected version %d, current version %d; reload and retry", what, id, expected, actual)
}

func ptr[T any](v T) *T { return &v }

// touch stamps a profile about to be written.
func (s *Service) touch(c *Customer, u *User) {
	c.Version++
	c.UpdatedAt, c.UpdatedBy = s.now(), u.ID
}

func applyCustomerUpdate(c *Customer, u CustomerUpdate) {
	set(&c.Kind, u.Kind)
	set(&c.Name, u.Name)
	set(&c.Industry, u.Industry)
	set(&c.Region, u.Region)
	set(&c.Source, u.Source)
	set(&c.CreditRating, u.CreditRating)
	set(&c.CreditCode, u.CreditCode)
	set(&c.CompanyStatus, u.CompanyStatus)
	set(&c.Stage, u.Stage)
	set(&c.OwnerID, u.OwnerID)
	set(&c.Team, u.Team)
	set(&c.Verification, u.Verification)
	if u.AnnualRevenue != nil {
		c.AnnualRevenue = ptr(*u.AnnualRevenue)
	}
	if u.NextFollowUpAt != nil {
		c.FollowUpSet = &FollowUpSetting{At: u.NextFollowUpAt.UTC()}
	}
	if u.Phones != nil {
		c.Phones = slices.Clone(u.Phones)
	}
	if u.Emails != nil {
		c.Emails = slices.Clone(u.Emails)
	}
	if u.Addresses != nil {
		c.Addresses = slices.Clone(u.Addresses)
	}
	if u.Tags != nil {
		c.Tags = slices.Clone(u.Tags)
	}
	if u.Attributes != nil {
		c.Attributes = slices.Clone(u.Attributes)
	}
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// ArchiveCustomer hides a customer from lists, keeping its history.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, CONFLICT.
func (s *Service) ArchiveCustomer(ctx context.Context, id string, expectedVersion int) (*Customer, error) {
	return s.setStatus(ctx, id, expectedVersion, StatusArchived)
}

// RestoreCustomer brings an archived customer back.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, CONFLICT.
func (s *Service) RestoreCustomer(ctx context.Context, id string, expectedVersion int) (*Customer, error) {
	return s.setStatus(ctx, id, expectedVersion, StatusActive)
}

func (s *Service) setStatus(ctx context.Context, id string, expectedVersion int, st Status) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	prev, err := s.readable(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if !canAssign(u, prev) && !(st == StatusArchived && canEdit(u, prev)) {
		return nil, forbidden("archive or restore", id)
	}
	if err := Writable(prev); err != nil {
		return nil, err
	}
	if prev.Version != expectedVersion {
		return nil, staleVersion("customer", id, expectedVersion, prev.Version)
	}
	if prev.Status == st {
		return nil, Errorf(ECONFLICT, "customer %s is already %s", id, st)
	}
	next := prev.Clone()
	next.Status = st
	next.ArchivedAt = nil
	if st == StatusArchived {
		next.ArchivedAt = ptr(s.now())
	}
	s.touch(next, u)
	if err := s.Store.Apply(ctx, &Change{CustomerPrev: prev, Customer: next}); err != nil {
		return nil, err
	}
	return next, nil
}

// editable loads an active customer the caller may edit.
func (s *Service) editable(ctx context.Context, u *User, id string, allowed func(*User, *Customer) bool, action string) (*Customer, error) {
	c, err := s.readable(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if !allowed(u, c) {
		return nil, forbidden(action, id)
	}
	if err := Writable(c); err != nil {
		return nil, err
	}
	if c.Status == StatusArchived {
		return nil, Errorf(ECONFLICT, "customer %s is archived; restore it first", id)
	}
	return c, nil
}

// Me returns the signed-in caller.
// Errors: UNAUTHENTICATED.
func (s *Service) Me(ctx context.Context) (*User, error) { return currentUser(ctx) }

// customerList reads one of a customer's lists after checking the page
// request and the caller's right to read the customer.
func customerList[T any](ctx context.Context, s *Service, customerID string, p PageRequest,
	list func(context.Context, string, PageRequest) (*Page[T], error)) (*Page[T], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	if _, err := s.visible(ctx, u, customerID); err != nil {
		return nil, err
	}
	return list(ctx, customerID, p)
}
