package crm

import (
	"context"
	"math"
	"time"
)

// Who reads analytics is an allowlist; any role not named here
// is FORBIDDEN:
//
//   - ADMIN and AUDITOR read every scope;
//   - MANAGER reads their teams: the team, an owner or the pool within it;
//     without a team, figures sum over all their teams;
//   - SALES read their own customers' figures and lists (and the pool's
//     lists, which they may claim from), not their colleagues';
//   - SERVICE read the case figures of their teams, and nothing else.
//
// A user with several roles is judged by the first of ADMIN, AUDITOR,
// MANAGER, SALES, SERVICE they hold.

// ActivityReport is a series of figures, one per bucket, and their total.
type ActivityReport struct {
	Scope   Scope
	Period  Period
	Buckets []BucketFigures
	Total   Figures
}

// BucketFigures are the figures of one bucket.
type BucketFigures struct {
	Bucket
	Figures
}

// activityView is what a caller reads for an asked-for scope: the stored
// scopes summed, and whether they see case figures only.
type activityView struct {
	scopes    []Scope
	casesOnly bool
}

func (v activityView) figures(c Counters) Figures {
	f := FiguresFrom(c)
	if v.casesOnly {
		return Figures{Cases: f.Cases}
	}
	return f
}

func checkScope(sc Scope) error {
	var c checker
	c.text("scope.team", sc.Team, 0, MaxShortText)
	c.text("scope.ownerId", sc.OwnerID, 0, MaxShortText)
	if sc.Pool && sc.OwnerID != "" {
		c.fail("scope.pool", "cannot be combined with ownerId")
	}
	return c.result()
}

// teamsOf returns the teams of u a team-bound caller reads: team if it is
// one of theirs, else all of them.
func teamsOf(u *User, team string) ([]string, error) {
	switch {
	case len(u.Teams) == 0:
		return nil, Errorf(EFORBIDDEN, "no team is assigned to you")
	case team == "":
		return u.Teams, nil
	case !u.InTeam(team):
		return nil, &Error{Code: EFORBIDDEN, Field: "scope.team", Message: "not one of your teams"}
	}
	return []string{team}, nil
}

func inTeams(sc Scope, teams []string) []Scope {
	out := make([]Scope, len(teams))
	for i, t := range teams {
		out[i] = sc
		out[i].Team = t
	}
	return out
}

// ownOnly narrows a salesperson's scope to their own customers.
func ownOnly(u *User, sc Scope) (Scope, error) {
	switch {
	case sc.Pool:
		return sc, &Error{Code: EFORBIDDEN, Field: "scope.pool", Message: "salespeople read their own figures"}
	case sc.OwnerID != "" && sc.OwnerID != u.ID:
		return sc, &Error{Code: EFORBIDDEN, Field: "scope.ownerId", Message: "salespeople read only their own figures"}
	}
	sc.OwnerID = u.ID
	return sc, nil
}

func activityAccess(u *User, sc Scope) (activityView, error) {
	switch {
	case u.HasRole(RoleAdmin), u.HasRole(RoleAuditor):
		return activityView{scopes: []Scope{sc}}, nil
	case u.HasRole(RoleManager), u.HasRole(RoleService):
		teams, err := teamsOf(u, sc.Team)
		if err != nil {
			return activityView{}, err
		}
		return activityView{scopes: inTeams(sc, teams), casesOnly: !u.HasRole(RoleManager)}, nil
	case u.HasRole(RoleSales):
		own, err := ownOnly(u, sc)
		return activityView{scopes: []Scope{own}}, err
	}
	return activityView{}, Errorf(EFORBIDDEN, "your role may not read analytics")
}

// Activity reports, per bucket of the period and in total, the customers
// gained, won back and lost, the interactions per channel and owner, the
// cases' volume, resolution time and SLA breaches, and the evaluation
// averages and NPS of scope, read from counters kept on write: one Query
// per stored scope.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) Activity(ctx context.Context, sc Scope, p Period) (*ActivityReport, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkScope(sc); err != nil {
		return nil, err
	}
	buckets, err := p.Buckets()
	if err != nil {
		return nil, err
	}
	view, err := activityAccess(u, sc)
	if err != nil {
		return nil, err
	}
	per := map[string]Counters{}
	for _, stored := range view.scopes {
		got, err := s.Store.Aggregates(ctx, stored, p.Granularity, buckets[0].Key, buckets[len(buckets)-1].Key)
		if err != nil {
			return nil, err
		}
		for k, c := range got {
			if per[k] == nil {
				per[k] = Counters{}
			}
			per[k].Add(c)
		}
	}
	r := &ActivityReport{Scope: sc, Period: p}
	total := Counters{}
	for _, b := range buckets {
		c := per[b.Key]
		total.Add(c)
		r.Buckets = append(r.Buckets, BucketFigures{Bucket: b, Figures: view.figures(c)})
	}
	r.Total = view.figures(total)
	return r, nil
}

// GradeDistribution counts the active customers of every grade level of
// the grading policy and value tier (the value pyramid; customers the job has not ranked yet are
// Unranked), for everything or a team, from the list counters kept on
// write: one BatchGetItem per team.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) GradeDistribution(ctx context.Context, team string) (*Distribution, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkScope(Scope{Team: team}); err != nil {
		return nil, err
	}
	teams := []string{team}
	switch {
	case u.HasRole(RoleAdmin), u.HasRole(RoleAuditor):
	case u.HasRole(RoleManager):
		if teams, err = teamsOf(u, team); err != nil {
			return nil, err
		}
	default:
		return nil, Errorf(EFORBIDDEN, "only admins, auditors and managers read the grade distribution")
	}
	policy, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	grades := make([]string, len(policy.Levels))
	for i, l := range policy.Levels {
		grades[i] = l.Code
	}
	sum := &Distribution{Levels: grades, Grades: map[string]int{}, Tiers: map[ValueTier]int{}}
	for _, t := range teams {
		d, err := s.Store.Distribution(ctx, t, grades)
		if err != nil {
			return nil, err
		}
		sum.Total += d.Total
		for k, v := range d.Grades {
			sum.Grades[k] += v
		}
		for k, v := range d.Tiers {
			sum.Tiers[k] += v
		}
	}
	return sum, nil
}

// RiskReason is why a customer is at risk.
type RiskReason string

const (
	// RiskDecline: the relationship is in the DECLINE stage.
	RiskDecline RiskReason = "DECLINE"
	// RiskNoContact: no interaction for QuietDays (counted from creation
	// for customers never contacted).
	RiskNoContact RiskReason = "NO_CONTACT"
	// RiskFallingScores: the newest evaluation's overall score is at least
	// MinDrop points below the one before it.
	RiskFallingScores RiskReason = "FALLING_SCORES"
	// RiskDeclineSuggested: the data suggests decline (SuggestStage), for
	// the owner to confirm; the customer is not in DECLINE yet.
	RiskDeclineSuggested RiskReason = "DECLINE_SUGGESTED"
)

// RiskReasons lists every risk reason.
var RiskReasons = []RiskReason{RiskDecline, RiskNoContact, RiskFallingScores, RiskDeclineSuggested}

// RiskQuery asks for the customers at risk for one reason.
type RiskQuery struct {
	Reason RiskReason
	// QuietDays for RiskNoContact: default 30, 1 to 3650.
	QuietDays int
	// MinDrop for RiskFallingScores: default 10 points, above 0 and at
	// most 100.
	MinDrop float64
}

// Risk query defaults.
const (
	DefaultQuietDays = 30
	MaxQuietDays     = 3650
	DefaultMinDrop   = 10
)

// watchAccess checks a list request and resolves the list a caller reads
// for an asked-for scope: the scope narrowed to what they may read, the
// stored list's scope, and what each customer read from it must match.
func watchAccess(u *User, sc Scope, p *PageRequest) (narrowed, stored Scope, keep func(*Customer) bool, err error) {
	if err := checkScope(sc); err != nil {
		return sc, sc, nil, err
	}
	if err := checkPage(p); err != nil {
		return sc, sc, nil, err
	}
	switch {
	case u.HasRole(RoleAdmin), u.HasRole(RoleAuditor):
	case u.HasRole(RoleManager):
		if sc.Team == "" && len(u.Teams) > 1 {
			return sc, sc, nil, Invalid("scope.team", "is required: you manage several teams (%d)", len(u.Teams))
		}
		teams, err := teamsOf(u, sc.Team)
		if err != nil {
			return sc, sc, nil, err
		}
		sc.Team = teams[0]
	case u.HasRole(RoleSales):
		if !sc.Pool {
			if sc, err = ownOnly(u, sc); err != nil {
				return sc, sc, nil, err
			}
		}
	default:
		return sc, sc, nil, Errorf(EFORBIDDEN, "only admins, auditors, managers and salespeople read these lists")
	}
	stored = sc
	if sc.Team != "" && sc.hasOwner() {
		// Lists are kept per team and per owner; an owner within a team
		// reads the team's list and keeps their customers.
		stored = Scope{Team: sc.Team}
	}
	return sc, stored, func(c *Customer) bool { return sc.matches(c) && canRead(u, c) }, nil
}

// matches reports whether c is in the scope now.
func (sc Scope) matches(c *Customer) bool {
	return (sc.Team == "" || c.Team == sc.Team) &&
		(!sc.Pool || c.InPool()) &&
		(sc.OwnerID == "" || c.OwnerID == sc.OwnerID)
}

// CustomersAtRisk lists the customers of scope at risk for q.Reason:
// DECLINE newest first (the stage index); NO_CONTACT longest silence first
// and FALLING_SCORES largest drop first (indexed watch lists);
// DECLINE_SUGGESTED, the owned customers whose data suggests decline (for
// their owners to confirm), longest silence first (the NO_CONTACT list read from DeclineAfter ago, kept to
// what SuggestStage says). Each page is one Query and one BatchGetItem of
// the profiles.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) CustomersAtRisk(ctx context.Context, sc Scope, q RiskQuery, p PageRequest) (*Page[*Customer], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var c checker
	checkEnum(&c, "reason", q.Reason, RiskReasons)
	if q.QuietDays == 0 {
		q.QuietDays = DefaultQuietDays
	}
	if q.QuietDays < 1 || q.QuietDays > MaxQuietDays {
		c.fail("quietDays", "must be between 1 and %d", MaxQuietDays)
	}
	if q.MinDrop == 0 {
		q.MinDrop = DefaultMinDrop
	}
	if math.IsNaN(q.MinDrop) || q.MinDrop <= 0 || q.MinDrop > 100 {
		c.fail("minScoreDrop", "must be above 0 and at most 100")
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	sc, stored, keep, err := watchAccess(u, sc, &p)
	if err != nil {
		return nil, err
	}
	switch q.Reason {
	case RiskDecline:
		return s.Customers(ctx, CustomerFilter{Stage: StageDecline, Team: sc.Team, OwnerID: sc.OwnerID, Pool: sc.Pool}, p)
	case RiskNoContact:
		before := s.now().Add(-time.Duration(q.QuietDays) * day)
		return s.Store.WatchList(ctx, WatchQuery{List: WatchNoContact, Scope: stored, Before: before,
			Keep: func(c *Customer) bool { return keep(c) && c.LastContactAt().Before(before) }}, p)
	case RiskDeclineSuggested:
		now := s.now()
		before := now.Add(-s.DeclineAfter)
		return s.Store.WatchList(ctx, WatchQuery{List: WatchNoContact, Scope: stored, Before: before,
			Keep: func(c *Customer) bool {
				sg := SuggestStage(c, now, s.DeclineAfter)
				return keep(c) && !c.InPool() && sg != nil && sg.Stage == StageDecline
			}}, p)
	default:
		return s.Store.WatchList(ctx, WatchQuery{List: WatchFalling, Scope: stored, MinDrop: q.MinDrop,
			Keep: func(c *Customer) bool {
				d, ok := c.ScoreDrop()
				return keep(c) && ok && d >= q.MinDrop
			}}, p)
	}
}

// FollowUpsDue lists the customers of scope whose next follow-up is before
// dueBefore (default: the start of the next UTC day, i.e. due today or
// overdue), soonest first: one Query and one BatchGetItem per page.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) FollowUpsDue(ctx context.Context, sc Scope, dueBefore *time.Time, p PageRequest) (*Page[*Customer], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	before := bucketStart(s.now(), GranularityDay).Add(day)
	if dueBefore != nil {
		if dueBefore.Before(epoch) {
			return nil, Invalid("dueBefore", "must be after 1970")
		}
		before = dueBefore.UTC()
	}
	_, stored, keep, err := watchAccess(u, sc, &p)
	if err != nil {
		return nil, err
	}
	return s.Store.WatchList(ctx, WatchQuery{List: WatchFollowUp, Scope: stored, Before: before,
		Keep: func(c *Customer) bool {
			return keep(c) && c.NextFollowUpAt != nil && c.NextFollowUpAt.Before(before)
		}}, p)
}
