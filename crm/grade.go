package crm

import (
	"slices"
	"time"
)

// GradeLevel is one level of the grading scheme of seed 000 with the service
// it earns.
type GradeLevel struct {
	Code        string
	Label       string
	Rank        int // 1 is the most important
	Description string
	// ResponseSLA is how fast the customer's cases must be answered.
	ResponseSLA time.Duration
	// FollowUpInterval is how often the owner should be in touch.
	FollowUpInterval time.Duration
	// KeepOutOfPool keeps the level's customers out of the public pool:
	// they are not given back, assigned to the pool or taken back by
	// rule; they change hands by handover.
	KeepOutOfPool bool
	// TakeBackWithoutContact returns an owned customer to the pool when
	// nobody has been in touch for that long since the later of the last
	// contact and the owner taking it on; 0: never.
	TakeBackWithoutContact time.Duration
	// TakeBackWithoutDeal returns an owned customer to the pool when no
	// deal was made for that long since the later of the last deal and
	// the owner taking it on; 0: never.
	TakeBackWithoutDeal time.Duration
}

const day = 24 * time.Hour

// DefaultGradeLevels is the level scheme of the telesales system of seed
// 000 (000:42), ranked by importance: 「AB级最重要,CD级较为重要,E级是破产企业,
// G级是未联系过的客户……F级是联系过无法确定级别的客户,V级是无效客户,O级是老客户」.
// The seed gives no hours or days: the response SLAs, follow-up
// intervals and take-back periods are ours. They follow what the seed asks
// of each level: the targets (A, B) most often; D and E, the potential
// customers, with priority (「重点跟进」), so more often than C; O
// maintained steadily; F until it can be classified; G (the pool) and V
// (「不需跟进」) not at all.
//
// The pool: the seed's pool is G, the customers telesales may pick
// freely; prospects a salesperson neglects (C to G) go back to it by rule,
// so that a colleague may try. A and B are targets the company decided to
// win and O customers belong to the account staff (「O级是老客户」): they
// change hands by handover, never through the pool; V needs no follow-up
// and is not for anyone to claim.
var DefaultGradeLevels = []GradeLevel{
	{"A", "Key target", 1, "Most important target: a company worth winning for its size and industry, not yet a buyer (a buyer is O).", 4 * time.Hour, 7 * day, true, 0, 0},
	{"B", "Important target", 2, "Important target: a large company, or a sizeable one in a strong industry, not yet a buyer.", 8 * time.Hour, 14 * day, true, 0, 0},
	{"C", "Fairly important", 3, "Fairly important prospect, by its size.", 24 * time.Hour, 21 * day, false, 45 * day, 180 * day},
	{"D", "Potential", 4, "Fairly important potential customer, graded once information was collected; followed up with priority.", 48 * time.Hour, 14 * day, false, 30 * day, 120 * day},
	{"E", "Potential or bankrupt", 5, "Potential customer graded once information was collected, followed up with priority; also a bankrupt company.", 72 * time.Hour, 14 * day, false, 30 * day, 120 * day},
	{"O", "Existing customer", 6, "Customer since its first deal, maintained by account managers (the largest by assets first).", 24 * time.Hour, 30 * day, true, 0, 0},
	{"F", "Unclassified", 7, "Contacted, but not yet classifiable.", 72 * time.Hour, 21 * day, false, 45 * day, 90 * day},
	{"G", "Never contacted", 8, "Never contacted; free to claim from the pool.", 120 * time.Hour, 0, false, 30 * day, 0},
	{"V", "Invalid", 9, "Invalid: no real or no longer a trading company, or outside our strong industries; no follow-up.", 120 * time.Hour, 0, true, 0, 0},
}

// GradeLevelByCode returns the default level with the given code. The
// codes are fixed; their labels and service policies come from the grading
// policy in force (Service.GradeLevels).
func GradeLevelByCode(code string) (GradeLevel, bool) {
	i := slices.IndexFunc(DefaultGradeLevels, func(l GradeLevel) bool { return l.Code == code })
	if i < 0 {
		return GradeLevel{}, false
	}
	return DefaultGradeLevels[i], true
}

// GradeSource says what set a grade.
type GradeSource string

const (
	GradeManual     GradeSource = "MANUAL"
	GradeRule       GradeSource = "RULE"
	GradeEvaluation GradeSource = "EVALUATION"
	GradeSchedule   GradeSource = "SCHEDULE"
	GradeImport     GradeSource = "IMPORT"
)

// GradeState is a customer's current grade and why it has it: for a grade
// set by a rule, the rule, the policy version and the metric values it
// saw, so "why is this customer a B?" is answered from the profile alone.
type GradeState struct {
	Level         string
	Source        GradeSource
	Reason        string
	Rule          string
	PolicyVersion int
	Metrics       map[string]float64
	By            string
	At            time.Time
}

// GradeChange is one entry of a customer's grade history.
type GradeChange struct {
	ID         string // ULID, time part = At
	CustomerID string
	From       string // empty for the first grade
	// FromSource, FromRule and FromAt say how and when the grade changed
	// from was set: for the first change, how the customer started
	// (GradeAt).
	FromSource GradeSource
	FromRule   string
	FromAt     time.Time
	To         string
	Source     GradeSource
	Reason     string
	Rule       string
	// PolicyVersion is the grading policy the rule belongs to (0: the
	// built-in default).
	PolicyVersion int
	// Metrics are the values the rule looked at, so the change explains itself.
	Metrics map[string]float64
	By      string
	At      time.Time
	// MergedFrom, on an entry moved by a merge, names the merged customer
	// whose grade it was.
	MergedFrom string
}

// State is the grade a change leaves the customer with.
func (g *GradeChange) State() GradeState {
	return GradeState{Level: g.To, Source: g.Source, Reason: g.Reason, Rule: g.Rule, PolicyVersion: g.PolicyVersion,
		Metrics: g.Metrics, By: g.By, At: g.At}
}
