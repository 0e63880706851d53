package crm

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Analytics are answered from counters kept up to date from
// every write, never by reading the history on request. AggregateDeltas
// says what a change adds to which counter; the stream consumer applies
// them exactly once and the store buckets them by UTC day (and month);
// FiguresFrom reads counters back into figures.

// Granularity is the size of an analytics bucket.
type Granularity string

const (
	GranularityDay   Granularity = "DAY"
	GranularityMonth Granularity = "MONTH"
)

// Granularities lists every granularity.
var Granularities = []Granularity{GranularityDay, GranularityMonth}

// A period query spans at most this many buckets, so that it stays one
// bounded read: a year of days, three years of months.
const (
	MaxDayBuckets   = 366
	MaxMonthBuckets = 36
)

// BucketKey names the UTC day ("2006-01-02") or month ("2006-01") that t
// falls in. Keys sort as their periods do.
func BucketKey(t time.Time, g Granularity) string {
	if g == GranularityMonth {
		return t.UTC().Format("2006-01")
	}
	return t.UTC().Format(time.DateOnly)
}

// Bucket is one period of a series.
type Bucket struct {
	Key   string
	Start time.Time
}

// Period asks for the buckets from the one holding From to the one holding
// To, both included.
type Period struct {
	From, To    time.Time
	Granularity Granularity
}

// Buckets lists the period's buckets, or EINVALID when the period is
// malformed or longer than the granularity's cap.
func (p Period) Buckets() ([]Bucket, error) {
	var c checker
	checkEnum(&c, "period.granularity", p.Granularity, Granularities)
	switch {
	case p.From.IsZero() || p.From.Before(epoch):
		c.fail("period.from", "must be a time after 1970")
	case p.To.IsZero() || p.To.Before(epoch):
		c.fail("period.to", "must be a time after 1970")
	case p.To.Before(p.From):
		c.fail("period.to", "must not be before from")
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	limit := MaxDayBuckets
	if p.Granularity == GranularityMonth {
		limit = MaxMonthBuckets
	}
	var out []Bucket
	for t := bucketStart(p.From, p.Granularity); !t.After(p.To); t = nextBucket(t, p.Granularity) {
		if len(out) == limit {
			return nil, Invalid("period", "spans more than %d buckets of a %s; ask for a shorter period or a coarser granularity",
				limit, strings.ToLower(string(p.Granularity)))
		}
		out = append(out, Bucket{Key: BucketKey(t, p.Granularity), Start: t})
	}
	return out, nil
}

func bucketStart(t time.Time, g Granularity) time.Time {
	t = t.UTC()
	if g == GranularityMonth {
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func nextBucket(t time.Time, g Granularity) time.Time {
	if g == GranularityMonth {
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 1)
}

// Scope is whose customers analytics count: everything (the zero Scope),
// a team, an owner's customers or the pool, or an owner's (or the pool's)
// customers within a team.
type Scope struct {
	Team    string
	OwnerID string
	// Pool counts unowned customers; it excludes OwnerID.
	Pool bool
}

// Key names the scope in storage keys. Distinct scopes have distinct keys:
// the team is escaped, so it holds no '#', and the owner id comes last.
func (s Scope) Key() string {
	var parts []string
	if s.Team != "" {
		parts = append(parts, "TEAM#"+url.PathEscape(s.Team))
	}
	switch {
	case s.Pool:
		parts = append(parts, "POOL")
	case s.OwnerID != "":
		parts = append(parts, "OWNER#"+s.OwnerID)
	}
	if len(parts) == 0 {
		return "ALL"
	}
	return strings.Join(parts, "#")
}

// hasOwner reports whether the scope narrows to one owner or the pool.
func (s Scope) hasOwner() bool { return s.Pool || s.OwnerID != "" }

// ownerScope is the owner part of c's scopes: its owner, or the pool.
func ownerScope(c *Customer, team string) Scope {
	return Scope{Team: team, OwnerID: c.OwnerID, Pool: c.InPool()}
}

// Counter names. Evaluation counters are also kept per grade of the
// customer, prefixed by "grade.<level>.".
const (
	cntGained  = "gained"
	cntLost    = "lost"
	cntWonBack = "wonBack"

	cntInteractions = "interactions"
	cntChannel      = "channel."            // + channel
	cntByOwner      = "interactions.owner." // + owner id; only in scopes without an owner
	cntByPool       = "interactions.pool"   // pool customers' interactions, beside cntByOwner

	cntCaseOpened       = "cases.opened"
	cntCaseResolved     = "cases.resolved"
	cntCaseResolutionMs = "cases.resolutionMs"
	cntCaseLate         = "cases.resolvedLate"
	cntCaseEscalated    = "cases.escalated"
	cntCaseClosed       = "cases.closed"
	cntCaseRejected     = "cases.rejected"
	cntCasePlanRejected = "cases.planRejected"
	cntCaseWithdrawn    = "cases.withdrawn"
	cntCaseReopened     = "cases.reopened"
	cntCaseResponded    = "cases.responded"
	cntCaseResponseMs   = "cases.responseMs"
	cntCaseRespLate     = "cases.respondedLate"
	cntCaseSatN         = "cases.satisfaction.n"
	cntCaseSatSum       = "cases.satisfaction.sum"

	cntEvals      = "evals.n"
	cntEvalSum    = "evals.overall"
	cntEvalDim    = "evals.dim." // + dimension + ".n" / ".sum"
	cntPromoters  = "evals.nps.promoters"
	cntPassives   = "evals.nps.passives"
	cntDetractors = "evals.nps.detractors"
	cntGrade      = "grade." // + level + "." + an evaluation counter
)

// AggregateDelta adds N to one counter, in the buckets that hold At, for
// the customer's team and its owner (or the pool) as they were when the
// event happened. The store keeps a team's figures and an owner's (per
// team), and sums them for wider scopes: everything is the sum of the
// teams, an owner across teams the sum of their teams.
type AggregateDelta struct {
	Team    string
	OwnerID string
	Pool    bool
	At      time.Time
	Counter string
	N       float64
	// TeamOnly deltas (the per-owner interaction counts) count in the
	// team's figures only: scopes that name an owner do not break their
	// interactions down by owner.
	TeamOnly bool
}

// AggregateDeltas derives what a change adds to the analytics counters.
// The stream consumer applies them once per change, from the items the
// change wrote. Each event counts once, whatever else the change carries:
//
//   - a customer created (CustomerPrev nil) is gained, at its creation;
//   - a stage change to LOST or WON_BACK is lost or won back, at its time;
//   - an interaction created (InteractionPrev nil) counts in total, per
//     channel and per owner, at its occurrence; corrections do not move it;
//   - a case opened counts at its opening; its first step out of OPEN
//     counts the first response and its time since opening, and a late one
//     (after the response deadline) as a response breach; a move into
//     RESOLVED counts the resolution and its time since opening, and a late
//     one (after the deadline in force, or escalated since it passed) as an
//     SLA breach; moves into CLOSED (with the satisfaction given),
//     PLAN_REJECTED, WITHDRAWN, REJECTED and REOPENED, and an escalation,
//     count when they happen;
//   - an evaluation counts its overall and dimension scores and its NPS
//     answer (promoter 9–10, passive 7–8, detractor 0–6), at its time,
//     also per grade of the customer.
//
// Events count for the customer's owner (or the pool), team and grade as
// they were before the change: Scope for appends, else CustomerPrev, else
// the customer created.
func AggregateDeltas(ch *Change) []AggregateDelta {
	who := ch.Scope
	if who == nil {
		who = ch.CustomerPrev
	}
	if who == nil {
		who = ch.Customer
	}
	// Without a customer an event counts in the figures of everything
	// only (those of no team).
	nobody := who == nil
	if nobody {
		who = &Customer{}
	}
	var out []AggregateDelta
	add := func(at time.Time, counters map[string]float64, evaluation bool) {
		base := AggregateDelta{Team: who.Team, OwnerID: who.OwnerID, Pool: who.InPool(), At: at, TeamOnly: nobody}
		for _, name := range slices.Sorted(maps.Keys(counters)) {
			d := base
			d.Counter, d.N = name, counters[name]
			out = append(out, d)
			if evaluation {
				d.Counter = cntGrade + who.Grade.Level + "." + name
				out = append(out, d)
			}
		}
		if n := counters[cntInteractions]; n != 0 && !nobody {
			d := base
			d.Counter, d.N, d.TeamOnly = byOwnerCounter(who), n, true
			out = append(out, d)
		}
	}
	if ch.CustomerPrev == nil && ch.Customer != nil {
		add(ch.Customer.CreatedAt, one(cntGained), false)
	}
	if sc := ch.StageChange; sc != nil && sc.From != sc.To {
		switch sc.To {
		case StageLost:
			add(sc.At, one(cntLost), false)
		case StageWonBack:
			// An import can bring a customer the old CRM won back: that
			// was no win of this period.
			if sc.From == StageLost {
				add(sc.At, one(cntWonBack), false)
			}
		}
	}
	if it := ch.Interaction; it != nil && ch.InteractionPrev == nil {
		add(it.OccurredAt, one(cntInteractions, cntChannel+string(it.Channel)), false)
	}
	if c := ch.Case; c != nil {
		caseDeltas(ch.CasePrev, c, add)
	}
	if e := ch.Evaluation; e != nil {
		add(e.EvaluatedAt, evaluationCounters(e), true)
	}
	return out
}

// byOwnerCounter is the per-owner interaction counter of c's owner.
func byOwnerCounter(c *Customer) string {
	switch {
	case c.InPool():
		return cntByPool
	}
	return cntByOwner + c.OwnerID
}

// one counts one of each named counter.
func one(names ...string) map[string]float64 {
	m := make(map[string]float64, len(names))
	for _, n := range names {
		m[n] = 1
	}
	return m
}

func caseDeltas(prev, next *Case, add func(time.Time, map[string]float64, bool)) {
	if prev == nil {
		add(next.OpenedAt, one(cntCaseOpened), false)
		return
	}
	if NewlyEscalated(prev, next) {
		add(*next.EscalatedAt, one(cntCaseEscalated), false)
	}
	if prev.Status == next.Status {
		return
	}
	at := next.UpdatedAt
	if prev.Status == CaseOpen {
		m := one(cntCaseResponded)
		m[cntCaseResponseMs] = float64(at.Sub(next.OpenedAt).Milliseconds())
		if at.After(prev.DueAt) {
			m[cntCaseRespLate] = 1
		}
		add(at, m, false)
	}
	switch next.Status {
	case CaseResolved:
		m := one(cntCaseResolved)
		m[cntCaseResolutionMs] = float64(at.Sub(next.OpenedAt).Milliseconds())
		if at.After(next.DueAt) || next.EscalatedForDeadline() {
			m[cntCaseLate] = 1
		}
		add(at, m, false)
	case CaseClosed:
		m := one(cntCaseClosed)
		if next.Satisfaction != nil {
			m[cntCaseSatN], m[cntCaseSatSum] = 1, float64(*next.Satisfaction)
		}
		add(at, m, false)
	case CaseRejected:
		add(at, one(cntCaseRejected), false)
	case CasePlanRejected:
		add(at, one(cntCasePlanRejected), false)
	case CaseWithdrawn:
		add(at, one(cntCaseWithdrawn), false)
	case CaseReopened:
		add(at, one(cntCaseReopened), false)
	}
}

func evaluationCounters(e *Evaluation) map[string]float64 {
	m := map[string]float64{cntEvals: 1, cntEvalSum: e.Overall}
	for _, d := range e.Dimensions {
		m[cntEvalDim+string(d.Dimension)+".n"] = 1
		m[cntEvalDim+string(d.Dimension)+".sum"] = d.Score
	}
	if e.NPS != nil {
		switch n := *e.NPS; {
		case n >= 9:
			m[cntPromoters] = 1
		case n >= 7:
			m[cntPassives] = 1
		default:
			m[cntDetractors] = 1
		}
	}
	return m
}

// Counters are the summed counters of one scope and bucket, by name.
type Counters map[string]float64

// Add adds o into c.
func (c Counters) Add(o Counters) {
	for k, v := range o {
		c[k] += v
	}
}

// Figures are what analytics report for one scope and period. A section is
// nil when the caller's role may not see it.
type Figures struct {
	Customers    *CustomerFlow
	Interactions *InteractionFigures
	Cases        *CaseFigures
	Evaluations  *EvaluationFigures
}

// CustomerFlow counts customers gained, won back and lost.
type CustomerFlow struct {
	Gained, WonBack, Lost int
}

// InteractionFigures count interactions logged.
type InteractionFigures struct {
	Total     int
	ByChannel map[Channel]int
	// ByOwner counts per owner of the customer ("" for the pool); it is
	// kept in scopes that do not narrow to one owner.
	ByOwner map[string]int
}

// CaseFigures count the cases' workflow events.
type CaseFigures struct {
	Opened, Resolved, Closed, Rejected, Reopened, Escalated int
	PlansRejected, Withdrawn                                int
	// Responded counts first responses (a case's first step out of OPEN),
	// RespondedLate those after the response deadline, ResponseTime their
	// total time from opening.
	Responded, RespondedLate int
	ResponseTime             time.Duration
	// ResolvedLate counts resolutions after the deadline in force, or of
	// cases escalated since it passed: the SLA breaches.
	ResolvedLate int
	// ResolutionTime is the total time from opening to resolution.
	ResolutionTime time.Duration
	// Satisfaction given on closing (1–5): how many and their sum.
	SatisfactionCount int
	SatisfactionSum   float64
}

// AverageFirstResponse is the mean time to the first response, nil
// without responses.
func (c *CaseFigures) AverageFirstResponse() *time.Duration {
	if c.Responded == 0 {
		return nil
	}
	return ptr(c.ResponseTime / time.Duration(c.Responded))
}

// AverageResolution is the mean time to resolve, nil without resolutions.
func (c *CaseFigures) AverageResolution() *time.Duration {
	if c.Resolved == 0 {
		return nil
	}
	return ptr(c.ResolutionTime / time.Duration(c.Resolved))
}

// AverageSatisfaction is the mean satisfaction on closing (1–5).
func (c *CaseFigures) AverageSatisfaction() *float64 {
	return mean(c.SatisfactionSum, c.SatisfactionCount)
}

// Mean is a sum over a count.
type Mean struct {
	Count int
	Sum   float64
}

// Value is the mean, nil when nothing was counted.
func (m Mean) Value() *float64 { return mean(m.Sum, m.Count) }

func mean(sum float64, n int) *float64 {
	if n == 0 {
		return nil
	}
	return ptr(round2(sum / float64(n)))
}

// EvaluationFigures summarize evaluations.
type EvaluationFigures struct {
	Overall    Mean
	Dimensions map[Dimension]Mean
	// NPS answers: promoters 9–10, passives 7–8, detractors 0–6.
	Promoters, Passives, Detractors int
	// ByGrade holds the same figures per grade level of the customer.
	ByGrade map[string]*EvaluationFigures
}

// NPS is the Net Promoter Score, -100 to 100, nil without answers.
func (e *EvaluationFigures) NPS() *float64 {
	n := e.Promoters + e.Passives + e.Detractors
	if n == 0 {
		return nil
	}
	return ptr(round2(float64(e.Promoters-e.Detractors) * 100 / float64(n)))
}

// FiguresFrom reads counters back into figures.
func FiguresFrom(c Counters) Figures {
	f := Figures{
		Customers: &CustomerFlow{Gained: c.int(cntGained), WonBack: c.int(cntWonBack), Lost: c.int(cntLost)},
		Interactions: &InteractionFigures{Total: c.int(cntInteractions),
			ByChannel: map[Channel]int{}, ByOwner: map[string]int{}},
		Cases: &CaseFigures{
			Opened: c.int(cntCaseOpened), Resolved: c.int(cntCaseResolved), Closed: c.int(cntCaseClosed),
			Rejected: c.int(cntCaseRejected), Reopened: c.int(cntCaseReopened), Escalated: c.int(cntCaseEscalated),
			ResolvedLate: c.int(cntCaseLate), ResolutionTime: time.Duration(c[cntCaseResolutionMs]) * time.Millisecond,
			PlansRejected: c.int(cntCasePlanRejected), Withdrawn: c.int(cntCaseWithdrawn),
			Responded: c.int(cntCaseResponded), RespondedLate: c.int(cntCaseRespLate),
			ResponseTime:      time.Duration(c[cntCaseResponseMs]) * time.Millisecond,
			SatisfactionCount: c.int(cntCaseSatN), SatisfactionSum: c[cntCaseSatSum],
		},
		Evaluations: evaluationFigures(c, ""),
	}
	f.Evaluations.ByGrade = map[string]*EvaluationFigures{}
	for name, v := range c {
		switch {
		case v == 0:
		case strings.HasPrefix(name, cntChannel):
			f.Interactions.ByChannel[Channel(strings.TrimPrefix(name, cntChannel))] = int(v)
		case strings.HasPrefix(name, cntByOwner):
			f.Interactions.ByOwner[strings.TrimPrefix(name, cntByOwner)] = int(v)
		case name == cntByPool:
			f.Interactions.ByOwner[""] = int(v)
		case strings.HasPrefix(name, cntGrade):
			level, _, _ := strings.Cut(strings.TrimPrefix(name, cntGrade), ".")
			if _, ok := f.Evaluations.ByGrade[level]; !ok {
				f.Evaluations.ByGrade[level] = evaluationFigures(c, cntGrade+level+".")
			}
		}
	}
	return f
}

func evaluationFigures(c Counters, prefix string) *EvaluationFigures {
	e := &EvaluationFigures{
		Overall:    Mean{Count: c.int(prefix + cntEvals), Sum: c[prefix+cntEvalSum]},
		Dimensions: map[Dimension]Mean{},
		Promoters:  c.int(prefix + cntPromoters), Passives: c.int(prefix + cntPassives), Detractors: c.int(prefix + cntDetractors),
	}
	for _, d := range Dimensions {
		if m := (Mean{Count: c.int(prefix + cntEvalDim + string(d) + ".n"), Sum: c[prefix+cntEvalDim+string(d)+".sum"]}); m.Count > 0 {
			e.Dimensions[d] = m
		}
	}
	return e
}

// int reads a counting counter; counts are whole numbers.
func (c Counters) int(name string) int { return int(c[name]) }

// WatchList names an index-served list of customers to act on:
// those not contacted for a while, those with a follow-up due, those whose
// scores fall.
type WatchList string

const (
	// WatchNoContact orders customers by their last contact (their creation
	// when never contacted), longest silence first.
	WatchNoContact WatchList = "QUIET"
	// WatchFollowUp orders customers with a next follow-up by its time,
	// soonest (most overdue) first.
	WatchFollowUp WatchList = "FOLLOWUP"
	// WatchFalling holds customers whose newest evaluation scored lower
	// overall than the one before, largest drop first.
	WatchFalling WatchList = "FALLING"
)

// WatchLists lists every watch list.
var WatchLists = []WatchList{WatchNoContact, WatchFollowUp, WatchFalling}

// WatchEntry is a customer's place on a watch list: At on the time-ordered
// lists, Drop (points, 0–100) on WatchFalling.
type WatchEntry struct {
	List WatchList
	At   time.Time
	Drop float64
}

// WatchEntries says which watch lists c is on and where. Archived and
// merged customers are on none.
func WatchEntries(c *Customer) []WatchEntry {
	if c == nil || c.Status == StatusArchived || c.Status == StatusMerged {
		return nil
	}
	out := []WatchEntry{{List: WatchNoContact, At: c.LastContactAt()}}
	if c.NextFollowUpAt != nil {
		out = append(out, WatchEntry{List: WatchFollowUp, At: *c.NextFollowUpAt})
	}
	if d, ok := c.ScoreDrop(); ok {
		out = append(out, WatchEntry{List: WatchFalling, Drop: d})
	}
	return out
}

// WatchScopes are the scopes whose watch lists c is on: everything, its
// team (if any) and its owner (or the pool).
func WatchScopes(c *Customer) []Scope {
	s := []Scope{{}, ownerScope(c, "")}
	if c.Team != "" {
		s = append(s, Scope{Team: c.Team})
	}
	return s
}

// LastContactAt is when the customer was last in touch, or its creation
// when it never was: a customer created long ago and never contacted is as
// quiet as one whose last contact was then.
func (c *Customer) LastContactAt() time.Time {
	if c.LastInteractionAt != nil {
		return *c.LastInteractionAt
	}
	return c.CreatedAt
}

// ScoreDrop is by how many points the overall score of the customer's
// newest evaluation fell below the one before it (the two newest kept on
// the profile); ok is false unless it fell.
func (c *Customer) ScoreDrop() (drop float64, ok bool) {
	if len(c.RecentEvaluations) < 2 {
		return 0, false
	}
	d := round2(c.RecentEvaluations[1].Overall - c.RecentEvaluations[0].Overall)
	return d, d > 0
}

// WatchQuery reads one watch list of one scope. The store returns active
// customers for which Keep (set by the service) holds, checked on the
// profile as read, since an index can lag behind it.
type WatchQuery struct {
	List  WatchList
	Scope Scope
	// Before bounds WatchNoContact (last contact strictly before) and
	// WatchFollowUp (follow-up strictly before).
	Before time.Time
	// MinDrop bounds WatchFalling (drop at least).
	MinDrop float64
	Keep    func(*Customer) bool
}

// Distribution counts active customers by grade and value tier.
type Distribution struct {
	Total int
	// Levels are the grading policy's level codes, most important first.
	Levels []string
	Grades map[string]int
	Tiers  map[ValueTier]int
}

// Unranked counts the customers that the job has not placed in a value
// tier yet.
func (d *Distribution) Unranked() int {
	n := d.Total
	for _, v := range d.Tiers {
		n -= v
	}
	return max(n, 0)
}

// AnalyticsStore is what analytics read. Every read is bounded: one Query
// per scope for a period, one BatchGetItem of counters, a page of an index.
type AnalyticsStore interface {
	// Aggregates reads the counters of scope for the buckets from..to
	// (keys, both included) of granularity g, by bucket key.
	Aggregates(ctx context.Context, scope Scope, g Granularity, from, to string) (map[string]Counters, error)
	// Distribution reads the grade and tier counters of everything
	// (team "") or of a team.
	Distribution(ctx context.Context, team string, grades []string) (*Distribution, error)
	// WatchList reads a page of a watch list.
	WatchList(ctx context.Context, q WatchQuery, p PageRequest) (*Page[*Customer], error)
	// RollUpMonths sums the days of every finished month (two days after
	// it ended) that has no rolled-up figures yet into one item per
	// team, so that month periods read a dozen items, not a year of days;
	// it returns how many it rolled up. The scheduled job runs it.
	RollUpMonths(ctx context.Context, now time.Time) (int, error)
}
