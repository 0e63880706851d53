package crm

import (
	"cmp"
	"context"
	"fmt"
	"time"
)

// The pool takes back customers their owners neglect, by rules of the
// customer's grade level (GradeLevel.TakeBackWithoutContact and
// TakeBackWithoutDeal), as Chinese CRMs run their public pool (公海): not
// followed up for N days, or no deal within M days, and the customer goes
// back for a colleague to try. The owner is warned PoolPolicy.TakeBackNotice
// ahead. The daily job applies the rules (RunTakeBack); a customer's
// poolReturn shows where it stands at any time.

// Take-back rules, as PoolReturn.Rule names them.
const (
	RuleNoContact = "NO_CONTACT"
	RuleNoDeal    = "NO_DEAL"
)

// PoolReturn is when the pool takes an owned customer back, and by which
// rule: the earlier of the two deadlines of its grade level.
type PoolReturn struct {
	Rule string
	// Since is when the rule's clock started: the later of the owner
	// taking the customer on and the last contact (or deal).
	Since  time.Time
	Period time.Duration
	DueAt  time.Time
	// WarnedAt is when the owner was warned of this deadline; nil until
	// the job has.
	WarnedAt *time.Time
}

// Explain says the rule in words, for the owner's warning and the
// handover's reason.
func (r *PoolReturn) Explain(level string) string {
	what := "nobody in touch"
	if r.Rule == RuleNoDeal {
		what = "no deal"
	}
	return fmt.Sprintf("grade %s take-back rule: %s for %d days (since %s)", level, what,
		int(r.Period/day), r.Since.Format(time.DateOnly))
}

// PoolWarning is the notice the owner was given of a take-back.
type PoolWarning struct {
	Rule  string
	DueAt time.Time
	At    time.Time
}

// NewPoolWarning is the take-back warning a profile write gives the owner:
// next's warning when prev did not carry it (the job warns once per
// deadline); nil otherwise.
func NewPoolWarning(prev, next *Customer) *PoolWarning {
	w := next.PoolWarning
	if w == nil || next.OwnerID == "" || next.Status != StatusActive {
		return nil
	}
	if p := prev.PoolWarning; p != nil && p.Rule == w.Rule && p.DueAt.Equal(w.DueAt) {
		return nil
	}
	return w
}

// OwnedSince is when the owner took the customer on: by a claim, a
// handover or assignment, or at its creation.
func (c *Customer) OwnedSince() time.Time {
	since := c.CreatedAt
	if cl := c.Claim; cl != nil && cl.By == c.OwnerID && cl.At.After(since) {
		since = cl.At
	}
	if h := c.LastHandover; h != nil && h.To == c.OwnerID && h.At.After(since) {
		since = h.At
	}
	return since
}

// PoolReturnOf says when level's rules return c to the pool; nil when none
// applies: the customer is in the pool, archived or merged, held by a claim
// still awaiting its follow-up (the claim's expiry rules it), or its level
// takes nothing back.
func PoolReturnOf(c *Customer, level GradeLevel) *PoolReturn {
	if c.InPool() || c.Status != StatusActive || c.MergedInto != "" || c.Claim.Active() || level.KeepOutOfPool {
		return nil
	}
	owned := c.OwnedSince()
	later := func(t *time.Time) time.Time {
		if t != nil && t.After(owned) {
			return *t
		}
		return owned
	}
	var r *PoolReturn
	consider := func(rule string, period time.Duration, since time.Time) {
		if period <= 0 {
			return
		}
		if due := since.Add(period); r == nil || due.Before(r.DueAt) {
			r = &PoolReturn{Rule: rule, Since: since, Period: period, DueAt: due}
		}
	}
	consider(RuleNoContact, level.TakeBackWithoutContact, later(c.ContactedAt))
	consider(RuleNoDeal, level.TakeBackWithoutDeal, later(c.Transactions.LastAt))
	if r != nil {
		if w := c.PoolWarning; w != nil && w.Rule == r.Rule && w.DueAt.Equal(r.DueAt) {
			r.WarnedAt = ptr(w.At)
		}
	}
	return r
}

// PoolReturnOf says when the pool takes customer c back under the grading
// policy in force (nil: never, as things stand). Partners are not told:
// the pool is the staff's business.
func (s *Service) PoolReturnOf(ctx context.Context, c *Customer) (*PoolReturn, error) {
	u, err := currentUser(ctx)
	if err != nil || u.IsPartner() {
		return nil, err
	}
	p, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	return PoolReturnOf(c, levelOf(p, c.Grade.Level)), nil
}

// poolReturnNow decides r again with the interactions logged since its
// clock started that c's activity has not counted yet.
func (s *Service) poolReturnNow(ctx context.Context, c *Customer, level GradeLevel, r *PoolReturn) (*PoolReturn, error) {
	page, err := s.Store.ListInteractions(ctx, c.ID, TimeRange{From: r.Since}, PageRequest{First: MaxPageSize})
	if err != nil || len(page.Items) == 0 {
		return r, err
	}
	folded := c.Clone()
	folded.Activity.FoldPending(page.Items)
	return PoolReturnOf(folded, level), nil
}

// mayEnterPool refuses to put a customer whose grade level is kept out of
// the pool there.
func (s *Service) mayEnterPool(ctx context.Context, c *Customer) error {
	p, err := s.policy(ctx)
	if err != nil {
		return err
	}
	if l := levelOf(p, c.Grade.Level); l.KeepOutOfPool {
		return Errorf(EFORBIDDEN, "customers of grade %s (%s) do not go to the pool under the grading policy; hand customer %s over to a colleague instead",
			l.Code, l.Label, c.ID)
	}
	return nil
}

// TakeBackRun is what one run of the take-back rules did.
type TakeBackRun struct {
	Returned []string
	Warned   []string
	// Placed are pool customers whose grade the policy keeps out of the
	// pool (a first deal made one an O, a registry fact a V), handed to
	// their team's manager.
	Placed []string
}

// RunTakeBack applies the take-back rules to every owned customer, as the
// system: customers past their deadline go back to the pool, with the rule
// as the handover's reason; owners of customers due within the notice
// period are warned once per deadline. Contact logged since the book was
// read moves the deadline, so each customer is decided again on a fresh
// read. The daily job runs it; it is safe to repeat.
func (s *Service) RunTakeBack(ctx context.Context) (*TakeBackRun, error) {
	p, err := s.loadPolicy(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	horizon := now.Add(s.Pool.TakeBackNotice)
	var due, keptOut []string
	err = s.Store.EachCustomer(ctx, func(c *Customer) error {
		if r := PoolReturnOf(c, levelOf(p, c.Grade.Level)); r != nil && !r.DueAt.After(horizon) && (r.WarnedAt == nil || !now.Before(r.DueAt)) {
			due = append(due, c.ID)
		}
		if keptOutOfPool(c, levelOf(p, c.Grade.Level)) {
			keptOut = append(keptOut, c.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take-back run: %w", err)
	}
	sys := &User{ID: SystemUserID}
	run := &TakeBackRun{}
	err = s.decideEach(ctx, "take-back", due, func(prev *Customer) (*Change, *[]string, error) {
		level := levelOf(p, prev.Grade.Level)
		r := PoolReturnOf(prev, level)
		if r != nil {
			// Contact logged a moment ago, not yet applied from the
			// stream, moves the deadline as it will there.
			var err error
			if r, err = s.poolReturnNow(ctx, prev, level, r); err != nil {
				return nil, nil, err
			}
		}
		switch {
		case r == nil || r.DueAt.After(horizon) || (r.WarnedAt != nil && now.Before(r.DueAt)):
			return nil, nil, errNothingToDo
		case !now.Before(r.DueAt):
			return s.toPool(prev, sys, r.Explain(level.Code)), &run.Returned, nil
		}
		next := prev.Clone()
		next.PoolWarning = &PoolWarning{Rule: r.Rule, DueAt: r.DueAt, At: now}
		s.touch(next, sys)
		return &Change{CustomerPrev: prev, Customer: next}, &run.Warned, nil
	})
	if err != nil {
		return run, err
	}
	err = s.decideEach(ctx, "pool placement", keptOut, func(prev *Customer) (*Change, *[]string, error) {
		level := levelOf(p, prev.Grade.Level)
		if !keptOutOfPool(prev, level) {
			return nil, nil, errNothingToDo
		}
		manager, err := s.teamManager(ctx, prev.Team)
		if err != nil || manager == "" {
			return nil, nil, cmp.Or[error](err, errNothingToDo) // no manager to hand it to: it waits in the pool
		}
		next := prev.Clone()
		next.OwnerID = manager
		s.touch(next, sys)
		handedOver(prev, next, sys, fmt.Sprintf("grade %s (%s) is kept out of the pool: handed to the team's manager", level.Code, level.Label))
		return &Change{CustomerPrev: prev, Customer: next}, &run.Placed, nil
	})
	return run, err
}

// keptOutOfPool reports whether c sits in the pool with a grade the policy
// keeps out of it: regraded there (a deal logged on a pool customer makes
// it an O), since release and assignment refuse to put it there.
func keptOutOfPool(c *Customer, level GradeLevel) bool {
	return c.InPool() && level.KeepOutOfPool && c.Status == StatusActive && c.MergedInto == "" && !c.Claim.Active()
}
