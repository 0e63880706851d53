package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PoolPolicy governs the public pool: how long a claim holds a
// customer, how many claims a salesperson may hold and make per day, and
// how long a returned customer is barred from its last holder.
type PoolPolicy struct {
	// ClaimPeriods by grade level; DefaultClaimPeriod for the others.
	ClaimPeriods       map[string]time.Duration
	DefaultClaimPeriod time.Duration
	// MaxActiveClaims caps the claims a salesperson holds that still await
	// their qualifying follow-up.
	MaxActiveClaims int
	// DailyClaims caps the claims a salesperson makes per UTC day.
	DailyClaims int
	// Cooldown bars the last holder of a returned customer from claiming it.
	Cooldown time.Duration
	// WarnBefore is how long before expiry the holder is warned.
	WarnBefore time.Duration
	// TakeBackNotice is how long before a take-back by rule the owner is
	// warned (the rules themselves are the grade levels').
	TakeBackNotice time.Duration
	// ClaimWithinTeam keeps a salesperson's claims to the pool of their
	// own teams: telesales groups each work one region (seed 000), and
	// teams are those groups. A pool customer without a team may be
	// claimed by any salesperson, and joins the claimer's team.
	ClaimWithinTeam bool
}

// DefaultPoolPolicy follows seed 000: a 7-day claim, longer for the most
// important grades.
var DefaultPoolPolicy = PoolPolicy{
	ClaimPeriods:       map[string]time.Duration{"A": 30 * day, "B": 15 * day, "C": 7 * day},
	DefaultClaimPeriod: 7 * day,
	MaxActiveClaims:    20,
	DailyClaims:        10,
	Cooldown:           3 * day,
	WarnBefore:         day,
	TakeBackNotice:     3 * day,
	ClaimWithinTeam:    true,
}

// ClaimPeriod returns how long a claim on a customer of grade level lasts.
func (p PoolPolicy) ClaimPeriod(level string) time.Duration {
	if d, ok := p.ClaimPeriods[level]; ok {
		return d
	}
	return p.DefaultClaimPeriod
}

// Claim is a salesperson's time-limited hold on a customer taken from the
// pool. A qualifying follow-up by the holder within the period turns it into
// ordinary ownership; otherwise the job returns the customer to the pool.
type Claim struct {
	By           string
	At           time.Time
	ExpiresAt    time.Time
	FollowedUpAt *time.Time
	WarnedAt     *time.Time
}

// Active reports whether the claim still awaits its qualifying follow-up.
func (c *Claim) Active() bool { return c != nil && c.FollowedUpAt == nil }

// ClaimQuota asks the store to count a claim against its holder's limits in
// the same write, so that concurrent claims cannot exceed them.
type ClaimQuota struct {
	UserID string
	// Delta is +1 for a new claim, -1 when an active claim ends.
	Delta int
	// MaxActive and DailyMax bound a new claim; Day is its UTC date.
	MaxActive int
	DailyMax  int
	Day       string
}

// qualifies reports whether an interaction counts as the follow-up a claim
// requires: real contact by the holder after the claim, not a note.
func qualifies(cl *Claim, it *Interaction) bool {
	return cl.Active() && it.Type != TypeNote && it.HandledBy == cl.By && !it.OccurredAt.Before(cl.At)
}

// ClaimCustomer takes a customer from the pool for the caller, a
// salesperson, for the claim period of its grade. A customer the caller
// cannot read (someone else's) is NOT_FOUND like a missing one, so that
// claims cannot probe ids; only a claim that saw the customer in the pool
// and then lost the race for it hears CONFLICT.
// Errors: UNAUTHENTICATED, FORBIDDEN (not SALES, another team's pool,
// cooldown, limits), NOT_FOUND, CONFLICT (not in the pool, or claimed by
// someone else first).
func (s *Service) ClaimCustomer(ctx context.Context, id string) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !u.HasRole(RoleSales) {
		return nil, Errorf(EFORBIDDEN, "only salespeople claim customers from the pool")
	}
	var next *Customer
	seen := false // an earlier attempt of this claim could read the customer
	err = s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.readable(ctx, u, id)
		switch {
		case ErrorCode(err) == ENOTFOUND && seen:
			// Claimed by someone else between our read and our write:
			// the caller saw it in the pool during this very claim.
			return nil, Errorf(ECONFLICT, "customer %s was claimed by someone else first", id)
		case err != nil:
			return nil, err
		}
		seen = true
		now := s.now()
		switch {
		case !prev.InPool() && prev.OwnerID == u.ID:
			return nil, Errorf(ECONFLICT, "you already hold customer %s", id)
		case !prev.InPool():
			// Readable through another role (a manager of its team).
			return nil, Errorf(ECONFLICT, "customer %s is not in the pool (claimed by someone else)", id)
		case prev.Status == StatusArchived:
			return nil, Errorf(ECONFLICT, "customer %s is archived", id)
		case Writable(prev) != nil:
			return nil, Writable(prev)
		case s.Pool.ClaimWithinTeam && prev.Team != "" && !u.InTeam(prev.Team):
			return nil, &Error{Code: EFORBIDDEN, Field: "customerId", Message: fmt.Sprintf(
				"customer %s is in the pool of team %s; salespeople claim in their own teams' pools", id, prev.Team)}
		case prev.LastHolder == u.ID && prev.ReturnedAt != nil && now.Before(prev.ReturnedAt.Add(s.Pool.Cooldown)):
			return nil, Errorf(EFORBIDDEN, "you released customer %s recently; you may claim it again after %s",
				id, prev.ReturnedAt.Add(s.Pool.Cooldown).Format(time.RFC3339))
		}
		next = prev.Clone()
		next.OwnerID = u.ID
		if next.Team == "" && len(u.Teams) > 0 {
			next.Team = u.Teams[0]
		}
		next.Claim = &Claim{By: u.ID, At: now, ExpiresAt: now.Add(s.Pool.ClaimPeriod(prev.Grade.Level))}
		s.touch(next, u)
		return &Change{CustomerPrev: prev, Customer: next, ClaimQuota: &ClaimQuota{
			UserID: u.ID, Delta: 1, MaxActive: s.Pool.MaxActiveClaims, DailyMax: s.Pool.DailyClaims,
			Day: now.Format(time.DateOnly),
		}}, nil
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// toPool returns a customer to the pool, remembering its last holder for the
// cooldown and ending an active claim.
func (s *Service) toPool(prev *Customer, by *User, reason string) *Change {
	next := prev.Clone()
	next.LastHolder, next.ReturnedAt = prev.OwnerID, ptr(s.now())
	next.OwnerID, next.Claim = "", nil
	s.touch(next, by)
	handedOver(prev, next, by, reason)
	return &Change{CustomerPrev: prev, Customer: next, ClaimQuota: endClaim(prev)}
}

// endClaim releases the holder's claim count when an active claim ends.
func endClaim(prev *Customer) *ClaimQuota {
	if !prev.Claim.Active() {
		return nil
	}
	return &ClaimQuota{UserID: prev.Claim.By, Delta: -1}
}

// OwnerChange is a customer changing hands by someone's decision: given
// back to the pool, assigned, or handed to a colleague, with why.
type OwnerChange struct {
	From, To string // "" is the pool
	Reason   string
	By       string
	At       time.Time
}

// handedOver records on next that it changed hands from prev's owner, by u.
// The new holder starts with a clean slate: a take-back warning was the
// previous holder's.
func handedOver(prev, next *Customer, u *User, reason string) {
	next.PoolWarning = nil
	next.LastHandover = &OwnerChange{From: prev.OwnerID, To: next.OwnerID, Reason: reason, By: u.ID, At: next.UpdatedAt}
}

func checkHandoverReason(field, reason string, required bool) (string, error) {
	reason = strings.TrimSpace(reason)
	least := 0
	if required {
		least = 1
	}
	var c checker
	c.text(field, reason, least, MaxReasonLen)
	return reason, c.result()
}

// ReleaseCustomer gives a customer back to the pool, with why if the
// caller says. Its owner or the team's manager may release it.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) ReleaseCustomer(ctx context.Context, id, reason string) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if reason, err = checkHandoverReason("reason", reason, false); err != nil {
		return nil, err
	}
	var ch *Change
	err = s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.editable(ctx, u, id, canEdit, "release")
		if err != nil {
			return nil, err
		}
		if prev.InPool() {
			return nil, Errorf(ECONFLICT, "customer %s is already in the pool", id)
		}
		if err := s.mayEnterPool(ctx, prev); err != nil {
			return nil, err
		}
		ch = s.toPool(prev, u, reason)
		return ch, nil
	})
	if err != nil {
		return nil, err
	}
	return ch.Customer, nil
}

// AssignCustomer gives a customer to an owner ("" returns it to the pool),
// who must be an active SALES or MANAGER user of the directory, with why
// if the caller says. An assignment is ordinary ownership: it ends any
// claim. ADMIN, or the team's MANAGER.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) AssignCustomer(ctx context.Context, id, ownerID, reason string) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var c checker
	c.text("ownerId", ownerID, 0, MaxShortText)
	if err := c.result(); err != nil {
		return nil, err
	}
	if reason, err = checkHandoverReason("reason", reason, false); err != nil {
		return nil, err
	}
	var next *Customer
	checked := false
	err = s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.editable(ctx, u, id, canAssign, "assign")
		if err != nil {
			return nil, err
		}
		if ownerID != "" && !checked {
			if err := s.CheckAssignee(ctx, "ownerId", ownerID, OwnerRoles...); err != nil {
				return nil, err
			}
			checked = true
		}
		if ownerID == "" {
			if err := s.mayEnterPool(ctx, prev); err != nil {
				return nil, err
			}
			ch := s.toPool(prev, u, reason)
			next = ch.Customer
			return ch, nil
		}
		next = prev.Clone()
		next.OwnerID, next.Claim = ownerID, nil
		s.touch(next, u)
		handedOver(prev, next, u, reason)
		return &Change{CustomerPrev: prev, Customer: next, ClaimQuota: endClaim(prev)}, nil
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// Handover is the outcome of handing a portfolio over.
type Handover struct {
	Moved  []string
	Failed []string
}

// HandOver gives every customer owned by from to to, archived ones
// included, for example when from leaves the company; each customer keeps
// its whole history, and its open cases that from was handling go to to,
// who must be an active SALES or MANAGER user of the directory (from may
// be deactivated: that is when handovers happen). A MANAGER hands over
// only the customers of their teams. Customers are moved
// one atomic write each, so a failure leaves the others moved and can be
// retried: running it again moves what is left.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) HandOver(ctx context.Context, from, to string) (*Handover, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !u.HasRole(RoleAdmin) && !u.HasRole(RoleManager) {
		return nil, Errorf(EFORBIDDEN, "only an admin or a manager may hand a portfolio over")
	}
	var c checker
	c.text("fromUserId", from, 1, MaxShortText)
	c.text("toUserId", to, 1, MaxShortText)
	if from == to {
		c.fail("toUserId", "must differ from fromUserId")
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	// Before anything moves: a mistyped successor gets nothing.
	if err := s.CheckAssignee(ctx, "toUserId", to, OwnerRoles...); err != nil {
		return nil, err
	}
	f := CustomerFilter{OwnerID: from, IncludeArchived: true}
	if err := visibility(u, &f); err != nil {
		return nil, err
	}
	// Collect first: moving customers changes the very list being read.
	var ids []string
	for p := (PageRequest{First: MaxPageSize}); ; {
		page, err := s.Store.ListCustomers(ctx, f, p)
		if err != nil {
			return nil, err
		}
		for _, c := range page.Items {
			ids = append(ids, c.ID)
		}
		if !page.HasNext {
			break
		}
		p.After = page.EndCursor
	}
	h := &Handover{}
	for _, id := range ids {
		err := s.handOverCustomer(ctx, u, id, from, to)
		switch {
		case ErrorCode(err) == EINTERNAL || ErrorCode(err) == EUNAVAILABLE:
			// The customers moved before stay moved: calling again moves
			// the rest.
			return nil, fmt.Errorf("hand over customer %s: %w", id, partly(err, len(h.Moved) > 0))
		case err != nil:
			h.Failed = append(h.Failed, id)
		default:
			h.Moved = append(h.Moved, id)
		}
	}
	return h, nil
}

// HandOverCustomer hands one customer to a colleague of its team, with
// why (seed 001: the person responsible can hand the records over at any
// time, 「负责人可以随时移交」), together with its open cases the old owner
// was handling. Its owner may, or an ADMIN or the team's MANAGER. The
// colleague must be an active SALES or MANAGER user of the directory in
// the customer's team; another team's user is assignCustomer's, a
// manager's decision. A claim not yet followed up is not handed on:
// follow it up, or give the customer back to the pool.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) HandOverCustomer(ctx context.Context, id, to, reason string, expectedVersion *int) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if reason, err = checkHandoverReason("input.reason", reason, true); err != nil {
		return nil, err
	}
	var next *Customer
	var from string
	var colleague *DirectoryUser
	err = s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.editable(ctx, u, id, canEdit, "hand over")
		if err != nil {
			return nil, err
		}
		// Only a caller who may hand the customer over learns whether
		// the colleague exists.
		if colleague == nil {
			if colleague, err = s.assignee(ctx, "input.toUserId", to, OwnerRoles...); err != nil {
				return nil, err
			}
		}
		switch {
		case expectedVersion != nil && *expectedVersion != prev.Version:
			return nil, staleVersion("customer", id, *expectedVersion, prev.Version)
		case prev.InPool():
			return nil, Errorf(ECONFLICT, "customer %s is in the pool: it is claimed or assigned, not handed over", id)
		case prev.OwnerID == to:
			return nil, Errorf(ECONFLICT, "customer %s is already %s's", id, to)
		case prev.Claim.Active():
			return nil, Errorf(ECONFLICT, "customer %s is held by a claim not yet followed up: follow it up, or give it back to the pool", id)
		case prev.Team != "" && !slices.Contains(colleague.Teams, prev.Team):
			return nil, Invalid("input.toUserId", "user %s is not in team %s, the customer's; handing a customer to another team is a manager's assignment (assignCustomer)", to, prev.Team)
		}
		from = prev.OwnerID
		next = prev.Clone()
		next.OwnerID, next.Claim = to, nil
		s.touch(next, u)
		handedOver(prev, next, u, reason)
		return &Change{CustomerPrev: prev, Customer: next, ClaimQuota: endClaim(prev)}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.handOverCases(ctx, u, id, from, to); err != nil {
		// The customer moved; calling again finds it moved (CONFLICT) and
		// its cases are handed over by handOverPortfolio.
		return nil, partly(err, true)
	}
	return next, nil
}

// handOverCustomer gives one customer of from to to, archived ones too, and
// the customer's open cases that from was handling.
func (s *Service) handOverCustomer(ctx context.Context, u *User, id, from, to string) error {
	err := s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.readable(ctx, u, id)
		if err != nil {
			return nil, err
		}
		if !canAssign(u, prev) {
			return nil, forbidden("hand over", id)
		}
		if err := Writable(prev); err != nil {
			return nil, err
		}
		if prev.OwnerID != from {
			return nil, errNothingToDo // moved meanwhile
		}
		next := prev.Clone()
		next.OwnerID, next.Claim = to, nil
		s.touch(next, u)
		handedOver(prev, next, u, fmt.Sprintf("portfolio of %s handed over to %s", from, to))
		return &Change{CustomerPrev: prev, Customer: next, ClaimQuota: endClaim(prev)}, nil
	})
	if err != nil && err != errNothingToDo {
		return err
	}
	return s.handOverCases(ctx, u, id, from, to)
}

// handOverCases gives to the open cases of customer id that from was
// handling.
func (s *Service) handOverCases(ctx context.Context, u *User, id, from, to string) error {
	for p := (PageRequest{First: MaxPageSize}); ; {
		page, err := s.Store.ListCases(ctx, id, p)
		if err != nil {
			return err
		}
		for _, c := range page.Items {
			if !c.Status.IsOpen() || c.AssignedTo != from {
				continue
			}
			next := c.Clone()
			next.AssignedTo = to
			next.Transitions = append(next.Transitions, CaseTransition{From: c.Status, To: c.Status, By: u.ID, At: s.now(),
				Note: fmt.Sprintf("handed over from %s to %s", from, to)})
			next.Version++
			next.UpdatedAt = s.now()
			if err := s.Store.Apply(ctx, &Change{CasePrev: c, Case: next}); err != nil {
				return fmt.Errorf("hand over case %s: %w", c.ID, err)
			}
		}
		if !page.HasNext {
			return nil
		}
		p.After = page.EndCursor
	}
}

// PoolRun is what one run of the pool job did.
type PoolRun struct {
	Returned []string
	Warned   []string
	// Converted lists claims whose qualifying follow-up the job found
	// logged before the stream had applied it.
	Converted []string
}

// RunPool returns to the pool every customer whose claim expired without a
// qualifying follow-up, and warns the holders of claims about to expire. It
// runs as the system in the scheduled job.
func (s *Service) RunPool(ctx context.Context) (*PoolRun, error) {
	sys := &User{ID: SystemUserID}
	now := s.now()
	run := &PoolRun{}
	due, err := s.Store.ClaimsDue(ctx, now.Add(s.Pool.WarnBefore))
	if err != nil {
		return nil, err
	}
	err = s.decideEach(ctx, "pool job", due, func(prev *Customer) (*Change, *[]string, error) {
		cl := prev.Claim
		if !cl.Active() || (cl.WarnedAt != nil && now.Before(cl.ExpiresAt)) {
			return nil, nil, errNothingToDo
		}
		// A qualifying follow-up may be logged and not yet applied
		// from the stream: it converts the claim, here as it would
		// there (whichever comes second finds nothing to do).
		it, err := s.followUpOf(ctx, prev)
		switch {
		case err != nil:
			return nil, nil, err
		case it != nil:
			next := prev.Clone()
			next.Claim.FollowedUpAt = ptr(it.OccurredAt)
			s.touch(next, sys)
			return &Change{CustomerPrev: prev, Customer: next, ClaimQuota: endClaim(prev)}, &run.Converted, nil
		case !now.Before(cl.ExpiresAt):
			return s.toPool(prev, sys, "claim expired without a qualifying follow-up"), &run.Returned, nil
		}
		next := prev.Clone()
		next.Claim.WarnedAt = ptr(now)
		s.touch(next, sys)
		return &Change{CustomerPrev: prev, Customer: next}, &run.Warned, nil
	})
	if err != nil {
		return run, err
	}
	slices.Sort(run.Returned)
	return run, nil
}

// followUpOf returns the first interaction logged on c that qualifies as
// its claim's follow-up, or nil: one Query of the interactions that
// occurred since the claim.
func (s *Service) followUpOf(ctx context.Context, c *Customer) (*Interaction, error) {
	for p := (PageRequest{First: MaxPageSize}); ; {
		page, err := s.Store.ListInteractions(ctx, c.ID, TimeRange{From: c.Claim.At}, p)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			if qualifies(c.Claim, it) {
				return it, nil
			}
		}
		if !page.HasNext {
			return nil, nil
		}
		p.After = page.EndCursor
	}
}

// decideEach reads each customer of ids afresh and applies what decide
// makes of it, as the system does in the scheduled job: decide answers
// errNothingToDo when nothing is due (as a customer gone meanwhile is
// skipped), or the change and the run's list the customer goes on.
func (s *Service) decideEach(ctx context.Context, what string, ids []string, decide func(prev *Customer) (*Change, *[]string, error)) error {
	for _, id := range ids {
		var outcome *[]string
		err := s.applyFresh(ctx, func() (*Change, error) {
			prev, err := s.Store.Customer(ctx, id)
			if err != nil {
				return nil, err
			}
			ch, out, err := decide(prev)
			outcome = out
			return ch, err
		})
		switch {
		case err == errNothingToDo, ErrorCode(err) == ENOTFOUND:
		case err != nil:
			return fmt.Errorf("%s, customer %s: %w", what, id, err)
		default:
			*outcome = append(*outcome, id)
		}
	}
	return nil
}

// SystemUserID is the "who" of changes made by scheduled jobs.
const SystemUserID = "system"

var errNothingToDo = &Error{Code: "NOOP", Message: "nothing to do"}
