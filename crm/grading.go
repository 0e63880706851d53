package crm

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GradingPolicy is the configurable grading scheme: the levels
// with the service they earn, the ordered rules that grade customers from
// their metrics, the company's strong industries, the value-score formula
// and the value-tier cutoffs. ADMIN edits it; version 0 is the built-in
// default, in force until the first edit is stored.
type GradingPolicy struct {
	Version int
	Levels  []GradeLevel
	// Rules are tried in order; the first whose conditions all hold sets
	// the level. When none holds, the grade stays as it is.
	Rules []GradingRule
	// StrongIndustries are the industries the company sells best to (seed
	// 000's 「公司软件的优势行业」), compared with a customer's industry
	// without regard to case or spacing; they give the strongIndustry
	// metric. Empty: no customer's industry is judged.
	StrongIndustries []string
	Value            ValueFormula
	Tiers            TierCutoffs
	// ManualHoldDays keeps a grade set by hand from automatic regrading for
	// that many days; 0 keeps it until someone grades the customer by hand
	// again or forces a regrade.
	ManualHoldDays int
	UpdatedAt      time.Time
	UpdatedBy      string
}

// GradingRule sets Level when all its conditions hold.
type GradingRule struct {
	Name        string
	Level       string
	Description string
	Conditions  []Condition
}

// Comparison is how a condition compares a metric with its value.
type Comparison string

const (
	CmpGT  Comparison = "GT"
	CmpGTE Comparison = "GTE"
	CmpLT  Comparison = "LT"
	CmpLTE Comparison = "LTE"
	CmpEQ  Comparison = "EQ"
	CmpNE  Comparison = "NE"
)

// Comparisons lists every comparison.
var Comparisons = []Comparison{CmpGT, CmpGTE, CmpLT, CmpLTE, CmpEQ, CmpNE}

var comparisonSymbols = map[Comparison]string{CmpGT: ">", CmpGTE: "≥", CmpLT: "<", CmpLTE: "≤", CmpEQ: "=", CmpNE: "≠"}

// Condition compares one metric with a value.
type Condition struct {
	Metric string
	Op     Comparison
	Value  float64
}

// Holds reports whether the condition holds for the metrics m. A metric
// the customer lacks (no transaction yet, never evaluated) holds nothing.
func (c Condition) Holds(m map[string]float64) bool {
	v, ok := m[c.Metric]
	if !ok {
		return false
	}
	switch c.Op {
	case CmpGT:
		return v > c.Value
	case CmpGTE:
		return v >= c.Value
	case CmpLT:
		return v < c.Value
	case CmpLTE:
		return v <= c.Value
	case CmpEQ:
		return v == c.Value
	case CmpNE:
		return v != c.Value
	}
	return false
}

func (c Condition) String() string {
	return c.Metric + " " + comparisonSymbols[c.Op] + " " + FormatNumber(c.Value)
}

// FormatNumber writes a number as people write it: digits grouped by
// thousands with commas, no exponent, no trailing zeros
// (10000000 → "10,000,000", 0.5 → "0.5", -1234.25 → "-1,234.25").
func FormatNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// Explain says in words why the rule applies, e.g.
// "rule key-target: interactionCount ≥ 1 and strongIndustry = 1 and
// annualRevenue ≥ 300,000,000".
func (r *GradingRule) Explain() string {
	if len(r.Conditions) == 0 {
		return "rule " + r.Name + ": always"
	}
	parts := make([]string, len(r.Conditions))
	for i, c := range r.Conditions {
		parts[i] = c.String()
	}
	return "rule " + r.Name + ": " + strings.Join(parts, " and ")
}

// The metrics grading rules can test. Metrics a customer lacks are absent.
const (
	MetricValueScore           = "valueScore"
	MetricTransactionCount     = "transactionCount"
	MetricTransactionTotal     = "transactionTotal"
	MetricDaysSinceTransaction = "daysSinceLastTransaction"
	MetricInteractionCount     = "interactionCount"
	MetricDaysSinceInteraction = "daysSinceLastInteraction"
	MetricAnnualRevenue        = "annualRevenue"
	MetricSatisfaction         = "satisfactionIndex"
	MetricLoyalty              = "loyaltyIndex"
	MetricTrust                = "trustIndex"
	MetricAcceptance           = "acceptanceIndex"
	MetricCredit               = "creditIndex"
	MetricNPS                  = "nps"
	MetricAgeDays              = "customerAgeDays"
	MetricStrongIndustry       = "strongIndustry"
	MetricBankrupt             = "companyBankrupt"
	MetricCeased               = "companyCeased"
	MetricInvalidRecord        = "invalidRecord"
)

// MetricInfo documents one metric.
type MetricInfo struct {
	Name        string
	Description string
}

// GradeMetrics lists every metric a rule may test.
var GradeMetrics = []MetricInfo{
	{MetricValueScore, "Value score 0–100 (the policy's value formula)."},
	{MetricTransactionCount, "Number of TRANSACTION interactions."},
	{MetricTransactionTotal, "Sum of the transactions' amounts."},
	{MetricDaysSinceTransaction, "Days since the latest transaction; absent before the first."},
	{MetricInteractionCount, "Number of interactions of any type."},
	{MetricDaysSinceInteraction, "Days since the latest interaction; absent before the first."},
	{MetricAnnualRevenue, "Annual revenue or asset size; absent when unknown."},
	{MetricSatisfaction, "Satisfaction index 0–100; absent until evaluated."},
	{MetricLoyalty, "Loyalty index 0–100; absent until evaluated."},
	{MetricTrust, "Trust index 0–100; absent until evaluated."},
	{MetricAcceptance, "Acceptance index 0–100 (how readily the customer takes up the company's offers); absent until evaluated."},
	{MetricCredit, "Credit index 0–100 (the customer's standing as a payer, as evaluated); absent until evaluated."},
	{MetricNPS, "Net Promoter Score -100 to 100; absent until an NPS question is answered."},
	{MetricAgeDays, "Days since the customer was created."},
	{MetricStrongIndustry, "1 when the customer's industry is one of the policy's strong industries, 0 when it is another; absent when the industry is unknown or the policy lists none."},
	{MetricBankrupt, "1 when the company status is BANKRUPT, 0 for any other status; absent when the status is unknown."},
	{MetricCeased, "1 when the company status is REVOKED or DEREGISTERED (no longer trading), 0 for any other status; absent when unknown."},
	{MetricInvalidRecord, "1 when the company status is INVALID (the record names no real customer), 0 for any other status; absent when unknown."},
}

func isMetric(name string) bool {
	return slices.ContainsFunc(GradeMetrics, func(m MetricInfo) bool { return m.Name == name })
}

func days(d time.Duration) float64 { return round2(max(0, d.Hours()/24)) }

// Metrics returns what the rules see of c at now.
func (p *GradingPolicy) Metrics(c *Customer, now time.Time) map[string]float64 {
	m := map[string]float64{
		MetricValueScore:       p.Value.Score(c, now),
		MetricTransactionCount: float64(c.Transactions.Count),
		MetricTransactionTotal: c.Transactions.Total,
		MetricInteractionCount: float64(c.InteractionCount),
		MetricAgeDays:          days(now.Sub(c.CreatedAt)),
	}
	if t := c.Transactions.LastAt; t != nil {
		m[MetricDaysSinceTransaction] = days(now.Sub(*t))
	}
	if t := c.LastInteractionAt; t != nil {
		m[MetricDaysSinceInteraction] = days(now.Sub(*t))
	}
	for name, v := range map[string]*float64{MetricAnnualRevenue: c.AnnualRevenue, MetricSatisfaction: c.SatisfactionIndex,
		MetricLoyalty: c.LoyaltyIndex, MetricTrust: c.TrustIndex, MetricAcceptance: c.AcceptanceIndex,
		MetricCredit: c.CreditIndex, MetricNPS: c.NPS} {
		if v != nil {
			m[name] = *v
		}
	}
	if c.Industry != "" && len(p.StrongIndustries) > 0 {
		m[MetricStrongIndustry] = flag(p.IsStrongIndustry(c.Industry))
	}
	if st := c.CompanyStatus; st != "" {
		m[MetricBankrupt] = flag(st == CompanyBankrupt)
		m[MetricCeased] = flag(st == CompanyRevoked || st == CompanyDeregistered)
		m[MetricInvalidRecord] = flag(st == CompanyInvalid)
	}
	return m
}

// flag is 1 for true and 0 for false, for metrics that are facts.
func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// IsStrongIndustry reports whether industry is one of the policy's strong
// industries, ignoring case and spacing.
func (p *GradingPolicy) IsStrongIndustry(industry string) bool {
	k := NormalizeName(industry)
	return slices.ContainsFunc(p.StrongIndustries, func(s string) bool { return NormalizeName(s) == k })
}

// Match returns the first rule whose conditions hold for m, or nil.
func (p *GradingPolicy) Match(m map[string]float64) *GradingRule {
	for i := range p.Rules {
		r := &p.Rules[i]
		if !slices.ContainsFunc(r.Conditions, func(c Condition) bool { return !c.Holds(m) }) {
			return r
		}
	}
	return nil
}

// Level returns the policy's level with the given code.
func (p *GradingPolicy) Level(code string) (GradeLevel, bool) {
	i := slices.IndexFunc(p.Levels, func(l GradeLevel) bool { return l.Code == code })
	if i < 0 {
		return GradeLevel{}, false
	}
	return p.Levels[i], true
}

// Held reports whether c's grade is out of the rules' reach: a manual grade
// is kept for ManualHoldDays, and a V set by hand (seed 000: telesales put
// a non-customer in V 「直接」, directly) is kept until someone grades the
// customer by hand again or forces a regrade. A V set by a rule is not
// held: it follows the data that made it.
func (p *GradingPolicy) Held(c *Customer, now time.Time) bool {
	if c.Grade.Source != GradeManual {
		return false
	}
	if c.Grade.Level == "V" || p.ManualHoldDays == 0 {
		return true
	}
	return now.Before(c.Grade.At.Add(time.Duration(p.ManualHoldDays) * day))
}

// ValueFormula computes the value score: five components, each
// 0–100, combined as their weighted mean (weights are normalized by their
// sum, so only their ratios matter):
//
//   - recency: 100 on the day of the latest transaction, falling linearly
//     to 0 after RecencyHorizonDays; 0 without transactions;
//   - frequency: 100·ln(1+count)/ln(1+FrequencyReference), capped at 100;
//   - monetary: 100·ln(1+total)/ln(1+MonetaryReference), capped at 100;
//   - asset: 100·ln(1+annual revenue)/ln(1+AssetReference), capped at
//     100; 0 when unknown;
//   - evaluation: the mean of the satisfaction, loyalty and trust indexes
//     the customer has; 0 before any evaluation.
//
// A customer the company knows nothing about is worth 0 until it does.
type ValueFormula struct {
	RecencyWeight      float64
	FrequencyWeight    float64
	MonetaryWeight     float64
	AssetWeight        float64
	EvaluationWeight   float64
	RecencyHorizonDays int
	FrequencyReference float64
	MonetaryReference  float64
	AssetReference     float64
}

// ValueComponents are the five parts of a value score, each 0–100.
type ValueComponents struct {
	Recency, Frequency, Monetary, Asset, Evaluation float64
	// Evaluated says whether the customer has any evaluation index: one
	// never evaluated is unknown, not 0, so its evaluation weight is left
	// out of the mean rather than counted as the worst score (else a first,
	// dissatisfied evaluation would raise the value score).
	Evaluated bool
}

// logShare is 100·ln(1+v)/ln(1+ref), within 0–100.
func logShare(v, ref float64) float64 {
	if v <= 0 || ref <= 0 {
		return 0
	}
	return clamp(100*math.Log1p(v)/math.Log1p(ref), 0, 100)
}

// Components computes the parts of c's value score at now.
func (f ValueFormula) Components(c *Customer, now time.Time) ValueComponents {
	var vc ValueComponents
	if t := c.Transactions.LastAt; t != nil && f.RecencyHorizonDays > 0 {
		vc.Recency = clamp(100*(1-days(now.Sub(*t))/float64(f.RecencyHorizonDays)), 0, 100)
	}
	vc.Frequency = logShare(float64(c.Transactions.Count), f.FrequencyReference)
	vc.Monetary = logShare(c.Transactions.Total, f.MonetaryReference)
	if c.AnnualRevenue != nil {
		vc.Asset = logShare(*c.AnnualRevenue, f.AssetReference)
	}
	sum, n := 0.0, 0
	for _, v := range []*float64{c.SatisfactionIndex, c.LoyaltyIndex, c.TrustIndex, c.AcceptanceIndex, c.CreditIndex} {
		if v != nil {
			sum += clamp(*v, 0, 100)
			n++
		}
	}
	if n > 0 {
		vc.Evaluation, vc.Evaluated = sum/float64(n), true
	}
	return vc
}

// Combine is the weighted mean of the components, 0–100, to two decimals.
func (f ValueFormula) Combine(vc ValueComponents) float64 {
	ew := f.EvaluationWeight
	if !vc.Evaluated {
		ew = 0
	}
	w := f.RecencyWeight + f.FrequencyWeight + f.MonetaryWeight + f.AssetWeight + ew
	if !(w > 0) {
		return 0
	}
	s := f.RecencyWeight*vc.Recency + f.FrequencyWeight*vc.Frequency + f.MonetaryWeight*vc.Monetary +
		f.AssetWeight*vc.Asset + ew*vc.Evaluation
	return round2(clamp(s/w, 0, 100))
}

// Score is c's value score at now.
func (f ValueFormula) Score(c *Customer, now time.Time) float64 {
	return f.Combine(f.Components(c, now))
}

// TierCutoffs are the shares of the value pyramid, in percent, from the
// top: KEY, then MAJOR, then ORDINARY; SMALL is the rest.
type TierCutoffs struct {
	KeyPercent      float64
	MajorPercent    float64
	OrdinaryPercent float64
}

// RankedScore is one customer's value score, for tiering.
type RankedScore struct {
	ID    string
	Score float64
}

// AssignTiers ranks scores from highest to lowest (ties by id, so a run is
// repeatable) and cuts the ranking by percentile: with n customers, the
// one at position i (0-based) is KEY if i < ⌈n·KEY%⌉, MAJOR if
// i < ⌈n·(KEY+MAJOR)%⌉, ORDINARY if i < ⌈n·(KEY+MAJOR+ORDINARY)%⌉, else
// SMALL. Rounding up gives a small book at least one KEY customer.
func AssignTiers(scores []RankedScore, cut TierCutoffs) map[string]ValueTier {
	ranked := slices.Clone(scores)
	slices.SortFunc(ranked, func(a, b RankedScore) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	n := float64(len(ranked))
	bound := func(pct float64) int { return int(math.Ceil(n*pct/100 - 1e-9)) }
	key := bound(cut.KeyPercent)
	major := bound(cut.KeyPercent + cut.MajorPercent)
	ordinary := bound(cut.KeyPercent + cut.MajorPercent + cut.OrdinaryPercent)
	out := make(map[string]ValueTier, len(ranked))
	for i, r := range ranked {
		switch {
		case i < key:
			out[r.ID] = TierKey
		case i < major:
			out[r.ID] = TierMajor
		case i < ordinary:
			out[r.ID] = TierOrdinary
		default:
			out[r.ID] = TierSmall
		}
	}
	return out
}

func cond(metric string, op Comparison, v float64) Condition {
	return Condition{Metric: metric, Op: op, Value: v}
}

// DefaultStrongIndustries are the default policy's strong industries: seed
// 000's company sold to manufacturers (「企业的消费者(制造业企业)」), and
// the other seeds' big-customer chapters add power utilities (001),
// telecom (002) and transport (001). Each company sets its own.
var DefaultStrongIndustries = []string{"manufacturing", "utilities", "telecom", "logistics"}

// KeyTargetAssets is the size from which a company is important by size
// in the default rules: seed 000's old-customer staff give priority to
// companies with assets above 300 million (「资产在三个亿以上的客户」).
const KeyTargetAssets = 300_000_000

// DefaultGradingPolicy is the policy in force until an admin stores one:
// the levels of seed 000 and rules that read them from the customer's data
// as seed 000's staff did (000:42). The registry first: an invalid record
// or a company no longer trading is V, a bankrupt one E. A customer with a
// deal is O, and stays O whatever else changes but those facts (or a grade
// set by hand). A non-customer outside the strong industries is V
// (「不属于公司软件的优势行业,不需跟进」). The targets, A and B, are
// contacted companies important by size and industry; C and D are fairly
// important by size; D and E are potential customers, graded once their
// size is known (「在收集相关信息后,将其划入DE级」); F is contacted but
// not classifiable; G never contacted. The rules hold no time metric: a
// grade changes when the customer's data does, and the scheduled run
// refreshes value scores and tiers.
func DefaultGradingPolicy() *GradingPolicy {
	contacted := cond(MetricInteractionCount, CmpGTE, 1)
	return &GradingPolicy{
		Levels: slices.Clone(DefaultGradeLevels),
		Rules: []GradingRule{
			{"invalid-record", "V", "The record names no real customer (company status INVALID): an invalid customer, no follow-up.",
				[]Condition{cond(MetricInvalidRecord, CmpEQ, 1)}},
			{"company-ceased", "V", "The company may no longer trade (licence revoked or struck off): invalid, whatever its history.",
				[]Condition{cond(MetricCeased, CmpEQ, 1)}},
			{"bankrupt", "E", "A bankrupt company (seed 000: E is also used for bankrupt companies).",
				[]Condition{cond(MetricBankrupt, CmpEQ, 1)}},
			{"existing-customer", "O", "A customer since its first deal, maintained by account managers.",
				[]Condition{cond(MetricTransactionCount, CmpGTE, 1)}},
			{"outside-strong-industries", "V", "A company outside our strong industries that has not bought: no follow-up.",
				[]Condition{cond(MetricStrongIndustry, CmpEQ, 0)}},
			{"key-target", "A", "Contacted company in a strong industry with assets or revenue of 300 million or more.",
				[]Condition{contacted, cond(MetricStrongIndustry, CmpEQ, 1), cond(MetricAnnualRevenue, CmpGTE, KeyTargetAssets)}},
			{"large-target", "B", "Contacted company with assets or revenue of 300 million or more, its industry not yet known.",
				[]Condition{contacted, cond(MetricAnnualRevenue, CmpGTE, KeyTargetAssets)}},
			{"industry-target", "B", "Contacted company in a strong industry with assets or revenue of 50 million or more.",
				[]Condition{contacted, cond(MetricStrongIndustry, CmpEQ, 1), cond(MetricAnnualRevenue, CmpGTE, 50_000_000)}},
			{"fairly-important", "C", "Contacted prospect with assets or revenue of 10 million or more.",
				[]Condition{contacted, cond(MetricAnnualRevenue, CmpGTE, 10_000_000)}},
			{"potential", "D", "Contacted prospect with assets or revenue of 1 million or more: potential, followed up with priority.",
				[]Condition{contacted, cond(MetricAnnualRevenue, CmpGTE, 1_000_000)}},
			{"small-potential", "E", "Contacted prospect whose size is known, below 1 million: potential, followed up with priority.",
				[]Condition{contacted, cond(MetricAnnualRevenue, CmpGTE, 0)}},
			{"contacted", "F", "Contacted, but its size is not yet known: not classifiable.",
				[]Condition{contacted}},
			{"never-contacted", "G", "Never contacted: free to claim from the pool.",
				[]Condition{cond(MetricInteractionCount, CmpEQ, 0)}},
		},
		StrongIndustries: slices.Clone(DefaultStrongIndustries),
		Value: ValueFormula{
			RecencyWeight: 0.25, FrequencyWeight: 0.20, MonetaryWeight: 0.25, AssetWeight: 0.10, EvaluationWeight: 0.20,
			RecencyHorizonDays: 365, FrequencyReference: 12, MonetaryReference: 1_000_000, AssetReference: 100_000_000,
		},
		Tiers:          TierCutoffs{KeyPercent: 1, MajorPercent: 19, OrdinaryPercent: 30},
		ManualHoldDays: 90,
	}
}

// GradingPolicyInput is an edited policy; it replaces the whole policy.
type GradingPolicyInput struct {
	Levels []GradeLevel
	Rules  []GradingRule
	// StrongIndustries replaces the policy's list; nil keeps the list in
	// force, an empty list judges no industry.
	StrongIndustries []string
	Value            ValueFormula
	Tiers            TierCutoffs
	ManualHoldDays   int
}

// Policy size bounds.
const (
	MaxGradeRules       = 50
	MaxRuleConditions   = 10
	MaxStrongIndustries = 50
)

// validatePolicy checks an edited policy: every level code exactly once,
// rules on known levels and metrics, a usable value formula and tiers that
// fit in 100%, and strong industries named once each.
func validatePolicy(in *GradingPolicyInput) error {
	var c checker
	codes := make([]string, len(DefaultGradeLevels))
	for i, l := range DefaultGradeLevels {
		codes[i] = l.Code
	}
	if len(in.Levels) != len(codes) {
		c.fail("input.levels", "must list each of the levels %v exactly once (got %d levels)", codes, len(in.Levels))
	}
	for i, l := range in.Levels {
		f := fmt.Sprintf("input.levels[%d]", i)
		switch {
		case !slices.Contains(codes, l.Code):
			c.fail(f+".code", "must be one of %v (got %q)", codes, l.Code)
		case slices.ContainsFunc(in.Levels[:i], func(o GradeLevel) bool { return o.Code == l.Code }):
			c.fail(f+".code", "repeats %q", l.Code)
		}
		in.Levels[i].Label = strings.TrimSpace(l.Label)
		c.text(f+".label", in.Levels[i].Label, 1, MaxShortText)
		c.text(f+".description", l.Description, 0, MaxReasonLen)
		if l.Rank < 1 || l.Rank > 99 {
			c.fail(f+".rank", "must be between 1 and 99")
		}
		if l.ResponseSLA < time.Hour || l.ResponseSLA > 365*day {
			c.fail(f+".responseSlaHours", "must be between 1 and 8760 hours")
		}
		if l.FollowUpInterval < 0 || l.FollowUpInterval > 3650*day {
			c.fail(f+".followUpIntervalDays", "must be between 0 and 3650 days")
		}
		for _, tb := range []struct {
			field  string
			period time.Duration
		}{{".takeBackWithoutContactDays", l.TakeBackWithoutContact}, {".takeBackWithoutDealDays", l.TakeBackWithoutDeal}} {
			switch {
			case tb.period < 0 || tb.period > 3650*day:
				c.fail(f+tb.field, "must be between 0 and 3650 days")
			case tb.period > 0 && l.KeepOutOfPool:
				c.fail(f+tb.field, "must be 0 on a level kept out of the pool (poolAllowed false): its customers are never taken back")
			}
		}
	}
	switch n := len(in.Rules); {
	case n == 0:
		c.fail("input.rules", "must have at least one rule")
	case n > MaxGradeRules:
		c.fail("input.rules", "must have at most %d rules (got %d)", MaxGradeRules, n)
	}
	for i, r := range in.Rules {
		f := fmt.Sprintf("input.rules[%d]", i)
		if !isIndicatorKey(strings.ReplaceAll(r.Name, "-", "_")) {
			c.fail(f+".name", "must be 1 to 40 lower-case letters, digits, '-' or '_', starting with a letter (got %q)", r.Name)
		}
		if slices.ContainsFunc(in.Rules[:i], func(o GradingRule) bool { return o.Name == r.Name }) {
			c.fail(f+".name", "repeats %q", r.Name)
		}
		if !slices.Contains(codes, r.Level) {
			c.fail(f+".level", "must be one of %v (got %q)", codes, r.Level)
		}
		c.text(f+".description", r.Description, 0, MaxReasonLen)
		c.count(f+".conditions", len(r.Conditions), MaxRuleConditions)
		for j, cd := range r.Conditions {
			g := fmt.Sprintf("%s.conditions[%d]", f, j)
			if !isMetric(cd.Metric) {
				c.fail(g+".metric", "must be one of the grade metrics (see gradingPolicy.metrics), got %q", cd.Metric)
			}
			checkEnum(&c, g+".op", cd.Op, Comparisons)
			c.number(g+".value", &in.Rules[i].Conditions[j].Value, -MaxMoney, MaxMoney)
		}
	}
	c.count("input.strongIndustries", len(in.StrongIndustries), MaxStrongIndustries)
	for i, ind := range in.StrongIndustries {
		f := fmt.Sprintf("input.strongIndustries[%d]", i)
		in.StrongIndustries[i] = strings.TrimSpace(ind)
		c.text(f, in.StrongIndustries[i], 1, MaxShortText)
		if slices.ContainsFunc(in.StrongIndustries[:i], func(o string) bool { return NormalizeName(o) == NormalizeName(ind) }) {
			c.fail(f, "repeats %q", ind)
		}
	}
	v := &in.Value
	weights := []struct {
		field string
		w     *float64
	}{{"recencyWeight", &v.RecencyWeight}, {"frequencyWeight", &v.FrequencyWeight}, {"monetaryWeight", &v.MonetaryWeight},
		{"assetWeight", &v.AssetWeight}, {"evaluationWeight", &v.EvaluationWeight}}
	sum := 0.0
	for _, w := range weights {
		c.number("input.valueFormula."+w.field, w.w, 0, 1000)
		sum += *w.w
	}
	if !(sum > 0) {
		c.fail("input.valueFormula", "at least one weight must be greater than 0")
	}
	if v.RecencyHorizonDays < 1 || v.RecencyHorizonDays > 3650 {
		c.fail("input.valueFormula.recencyHorizonDays", "must be between 1 and 3650")
	}
	for _, r := range []struct {
		field string
		v     *float64
	}{{"frequencyReference", &v.FrequencyReference}, {"monetaryReference", &v.MonetaryReference}, {"assetReference", &v.AssetReference}} {
		c.number("input.valueFormula."+r.field, r.v, 1, MaxMoney)
	}
	t := &in.Tiers
	for _, p := range []struct {
		field string
		v     *float64
	}{{"keyPercent", &t.KeyPercent}, {"majorPercent", &t.MajorPercent}, {"ordinaryPercent", &t.OrdinaryPercent}} {
		c.number("input.tiers."+p.field, p.v, 0, 100)
	}
	if t.KeyPercent+t.MajorPercent+t.OrdinaryPercent > 100+weightTolerance {
		c.fail("input.tiers", "KEY, MAJOR and ORDINARY must together be at most 100%% (SMALL is the rest)")
	}
	if in.ManualHoldDays < 0 || in.ManualHoldDays > 3650 {
		c.fail("input.manualHoldDays", "must be between 0 and 3650")
	}
	return c.result()
}
