package crm

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// DefaultPolicyTTL is how long a service instance uses the grading policy
// it read before reading it again: an edit reaches every running instance
// within this time.
const DefaultPolicyTTL = 30 * time.Second

// policyCache holds the grading policy a service instance last read.
type policyCache struct {
	mu     sync.Mutex
	policy *GradingPolicy
	readAt time.Time
	// loading serializes reloads, so the many resolvers of one request
	// that find the policy stale wait for one read instead of each making
	// their own.
	loading sync.Mutex
}

func (c *policyCache) get(ttl time.Duration) *GradingPolicy {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.policy != nil && time.Since(c.readAt) < ttl {
		return c.policy
	}
	return nil
}

// policy returns the grading policy in force, read from the store at most
// every PolicyTTL (wall-clock time, whatever the service's clock says).
// Callers must not modify it.
func (s *Service) policy(ctx context.Context) (*GradingPolicy, error) {
	if p := s.policies.get(s.PolicyTTL); p != nil {
		return p, nil
	}
	s.policies.loading.Lock()
	defer s.policies.loading.Unlock()
	if p := s.policies.get(s.PolicyTTL); p != nil {
		return p, nil // another caller read it meanwhile
	}
	return s.loadPolicy(ctx)
}

// loadPolicy reads the policy from the store (the default when none is
// stored) and caches it.
func (s *Service) loadPolicy(ctx context.Context) (*GradingPolicy, error) {
	p, err := s.Store.GradingPolicy(ctx)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		p = DefaultGradingPolicy()
	case err != nil:
		return nil, err
	}
	s.cachePolicy(p)
	return p, nil
}

func (s *Service) cachePolicy(p *GradingPolicy) {
	s.policies.mu.Lock()
	s.policies.policy, s.policies.readAt = p, time.Now()
	s.policies.mu.Unlock()
}

// GradingPolicy returns the grading policy in force.
// Errors: UNAUTHENTICATED, FORBIDDEN (no staff role).
func (s *Service) GradingPolicy(ctx context.Context) (*GradingPolicy, error) {
	if err := staff(ctx); err != nil {
		return nil, err
	}
	return s.policy(ctx)
}

// GradeLevels returns the levels of the policy in force, most important
// first.
// Errors: UNAUTHENTICATED.
func (s *Service) GradeLevels(ctx context.Context) ([]GradeLevel, error) {
	if _, err := currentUser(ctx); err != nil {
		return nil, err
	}
	p, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	levels := slices.Clone(p.Levels)
	slices.SortStableFunc(levels, func(a, b GradeLevel) int { return a.Rank - b.Rank })
	return levels, nil
}

// GradeLevel returns one level of the policy in force; a code the policy
// does not list (a grade stored before the policy changed) shows as itself.
// Errors: UNAUTHENTICATED.
func (s *Service) GradeLevel(ctx context.Context, code string) (GradeLevel, error) {
	if _, err := currentUser(ctx); err != nil {
		return GradeLevel{}, err
	}
	p, err := s.policy(ctx)
	if err != nil {
		return GradeLevel{}, err
	}
	// Every grade a list or a 360 shows asks for its level: look it up in
	// the policy, not in a sorted copy of all its levels (GradeLevels).
	if l, ok := p.Level(code); ok {
		return l, nil
	}
	return GradeLevel{Code: code, Label: code}, nil
}

// UpdateGradingPolicy replaces the grading policy. expectedVersion is the
// version the caller read (0 for the built-in default); a stale one is a
// CONFLICT. Customers are regraded under the new policy when their data
// next changes and by the next scheduled run. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) UpdateGradingPolicy(ctx context.Context, in GradingPolicyInput, expectedVersion int) (*GradingPolicy, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !u.HasRole(RoleAdmin) {
		return nil, Errorf(EFORBIDDEN, "only an admin may change the grading policy")
	}
	in.Levels, in.Rules, in.StrongIndustries = slices.Clone(in.Levels), cloneRules(in.Rules), slices.Clone(in.StrongIndustries)
	if err := validatePolicy(&in); err != nil {
		return nil, err
	}
	cur, err := s.loadPolicy(ctx)
	if err != nil {
		return nil, err
	}
	if cur.Version != expectedVersion {
		return nil, Errorf(ECONFLICT, "the grading policy was changed by someone else: expected version %d, current version %d; reload and retry",
			expectedVersion, cur.Version)
	}
	if in.StrongIndustries == nil {
		in.StrongIndustries = slices.Clone(cur.StrongIndustries)
	}
	p := &GradingPolicy{Version: cur.Version + 1, Levels: in.Levels, Rules: in.Rules, StrongIndustries: in.StrongIndustries,
		Value: in.Value, Tiers: in.Tiers, ManualHoldDays: in.ManualHoldDays, UpdatedAt: s.now(), UpdatedBy: u.ID}
	if err := s.Store.PutGradingPolicy(ctx, p); err != nil {
		return nil, err
	}
	s.cachePolicy(p)
	return p, nil
}

func cloneRules(rules []GradingRule) []GradingRule {
	out := slices.Clone(rules)
	for i := range out {
		out[i].Conditions = slices.Clone(out[i].Conditions)
	}
	return out
}

// levelOf returns the policy's level for code, or a level with the
// default's service when the policy lacks it.
func levelOf(p *GradingPolicy, code string) GradeLevel {
	if l, ok := p.Level(code); ok {
		return l
	}
	l, _ := GradeLevelByCode(code)
	return l
}

// regrade applies policy p to next, a customer about to be written because
// its data changed (src says how), and returns the grade change to record,
// or nil when the grade stays. It refreshes next's value score either way.
// force regrades a customer whose grade was set by hand.
func (s *Service) regrade(p *GradingPolicy, next *Customer, src GradeSource, by string, force bool) *GradeChange {
	now := s.now()
	m := p.Metrics(next, now)
	next.ValueScore = ptr(m[MetricValueScore])
	if !force && p.Held(next, now) {
		return nil
	}
	r := p.Match(m)
	if r == nil {
		return nil
	}
	endsOverride := force && next.Grade.Source == GradeManual
	if r.Level == next.Grade.Level && !endsOverride {
		return nil
	}
	gc := &GradeChange{ID: s.newID(now), CustomerID: next.ID, From: next.Grade.Level, To: r.Level, Source: src,
		FromSource: next.Grade.Source, FromRule: next.Grade.Rule, FromAt: next.Grade.At,
		Reason: r.Explain(), Rule: r.Name, PolicyVersion: p.Version, Metrics: m, By: by, At: now}
	next.Grade = gc.State()
	return gc
}

// RegradeCustomer applies the grading policy to a customer now. force also
// ends a manual override (recorded even when the level stays). ADMIN or the
// team's MANAGER.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, CONFLICT.
func (s *Service) RegradeCustomer(ctx context.Context, id string, force bool) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("customerId", id); err != nil {
		return nil, err
	}
	p, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	var out *Customer
	err = s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.editable(ctx, u, id, canAssign, "regrade")
		if err != nil {
			return nil, err
		}
		next := prev.Clone()
		gc := s.regrade(p, next, GradeRule, u.ID, force)
		if gc == nil && sameScore(prev.ValueScore, next.ValueScore) {
			out = prev
			return nil, errNothingToDo
		}
		s.touch(next, u)
		planFollowUp(p, next) // as the stream will, once it applies the regrade
		out = next
		return &Change{CustomerPrev: prev, Customer: next, GradeChange: gc}, nil
	})
	if err != nil && err != errNothingToDo {
		return nil, err
	}
	return out, nil
}

func sameScore(a, b *float64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// GradeAt returns the entry of a customer's grade history in force at the
// instant at: the grade it had then, with why. nil when at precedes the
// customer's first grade.
// Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) GradeAt(ctx context.Context, customerID string, at time.Time) (*GradeChange, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if at.Before(epoch) {
		return nil, Invalid("at", "must be after 1970")
	}
	c, err := s.visible(ctx, u, customerID)
	if err != nil {
		return nil, err
	}
	g, err := s.Store.GradeAt(ctx, customerID, at)
	if ErrorCode(err) == ENOTFOUND {
		if at.Before(c.CreatedAt) {
			return nil, nil
		}
		g, err = s.startingGrade(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	return viewGradeChange(u, g), nil
}

// startingGrade is the grade a customer was created with, which its grade
// history does not record: the profile's grade when it never changed,
// else what the first change changed from.
func (s *Service) startingGrade(ctx context.Context, c *Customer) (*GradeChange, error) {
	first, err := s.Store.FirstGradeChange(ctx, c.ID)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		g := c.Grade
		return &GradeChange{CustomerID: c.ID, To: g.Level, Source: g.Source, Reason: g.Reason, Rule: g.Rule,
			PolicyVersion: g.PolicyVersion, Metrics: g.Metrics, By: g.By, At: g.At}, nil
	case err != nil:
		return nil, err
	}
	return &GradeChange{CustomerID: c.ID, To: first.From, Source: first.FromSource, Rule: first.FromRule,
		Reason: "initial grade", By: c.CreatedBy, At: first.FromAt}, nil
}

// GradingRun is what one scheduled grading run did.
type GradingRun struct {
	// Customers counts the active customers ranked.
	Customers int
	// Regraded lists the customers whose grade changed.
	Regraded []string
	// Updated counts the profiles written (new grade, tier or score).
	Updated int
	// Incomplete says the run stopped before its deadline with writes
	// left for the next run.
	Incomplete bool
}

// rescoreStep is how far a value score may drift (as time passes) before
// the scheduled run writes it; grade and tier changes are always written.
const rescoreStep = 1.0

// gradingWriters bounds the scheduled run's concurrent profile writes.
const gradingWriters = 8

// gradingReserve is the time a run leaves itself before its context's
// deadline (the Lambda timeout): it stops starting writes then, and the
// next run carries on.
const gradingReserve = 15 * time.Second

// RunGrading is the scheduled regrading: it reads the policy
// afresh, computes every active customer's value score at now, ranks the
// scores into value tiers, and writes the customers whose tier or
// rule-made grade changed (source SCHEDULE), or whose score drifted by a
// point or more. It walks the whole book, so it runs in the job, never on
// a request. Only customers that need a write are read again (consistently)
// and written, a few at a time, each one conditional write; a customer
// changed meanwhile is graded again. When the context's deadline nears, it
// stops and says so: what it did not write is still due, and the next run
// writes it.
func (s *Service) RunGrading(ctx context.Context) (*GradingRun, error) {
	p, err := s.loadPolicy(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	type seen struct {
		stale bool
		tier  ValueTier
	}
	state := map[string]seen{}
	var scores []RankedScore
	err = s.Store.EachCustomer(ctx, func(c *Customer) error {
		if c.Status != StatusActive || c.MergedInto != "" {
			return nil // a customer being merged goes with its survivor
		}
		m := p.Metrics(c, now)
		score := m[MetricValueScore]
		scores = append(scores, RankedScore{ID: c.ID, Score: score})
		stale := c.ValueScore == nil || math.Abs(*c.ValueScore-score) >= rescoreStep
		if r := p.Match(m); r != nil && r.Level != c.Grade.Level && !p.Held(c, now) {
			stale = true
		}
		state[c.ID] = seen{stale: stale, tier: c.ValueTier}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("grading run: %w", err)
	}
	tiers := AssignTiers(scores, p.Tiers)
	run := &GradingRun{Customers: len(scores)}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
	)
	slots := make(chan struct{}, gradingWriters)
	deadline, bounded := ctx.Deadline()
	for _, sc := range scores {
		id := sc.ID
		if st := state[id]; !st.stale && st.tier == tiers[id] {
			continue
		}
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop || ctx.Err() != nil || (bounded && time.Until(deadline) < gradingReserve) {
			run.Incomplete = true
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			gc, err := s.gradeOnSchedule(ctx, p, id, tiers[id])
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == errNothingToDo, ErrorCode(err) == ENOTFOUND:
			case err != nil:
				if first == nil {
					first = fmt.Errorf("grading run, customer %s: %w", id, err)
				}
			default:
				run.Updated++
				if gc != nil {
					run.Regraded = append(run.Regraded, id)
				}
			}
		}()
	}
	wg.Wait()
	slices.Sort(run.Regraded)
	return run, first
}

// gradeOnSchedule writes one customer's scheduled grade, score and tier.
func (s *Service) gradeOnSchedule(ctx context.Context, p *GradingPolicy, id string, tier ValueTier) (*GradeChange, error) {
	var gc *GradeChange
	err := s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.Store.Customer(ctx, id)
		if err != nil {
			return nil, err
		}
		if prev.Status != StatusActive || prev.MergedInto != "" || prev.MergingFrom != "" {
			return nil, errNothingToDo // a merge in progress regrades the survivor when it finishes
		}
		next := prev.Clone()
		gc = s.regrade(p, next, GradeSchedule, SystemUserID, false)
		next.ValueTier = tier
		if gc == nil && next.ValueTier == prev.ValueTier && prev.ValueScore != nil &&
			math.Abs(*prev.ValueScore-*next.ValueScore) < rescoreStep {
			return nil, errNothingToDo
		}
		s.touch(next, &User{ID: SystemUserID})
		return &Change{CustomerPrev: prev, Customer: next, GradeChange: gc}, nil
	})
	return gc, err
}
