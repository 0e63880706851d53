package crm

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var gradingNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func daysAgo(n float64) *time.Time {
	t := gradingNow.Add(-time.Duration(n * float64(24*time.Hour)))
	return &t
}

func TestValueScoreHandComputed(t *testing.T) {
	// References chosen so each component is a round number:
	// recency 73 of 365 days → 100·(1-73/365) = 80; frequency ln2/ln4 = 50;
	// monetary ln10/ln100 = 50; asset ln100/ln10000 = 50; evaluation
	// (80+60)/2 = 70.
	f := ValueFormula{RecencyWeight: 1, FrequencyWeight: 1, MonetaryWeight: 2, AssetWeight: 0, EvaluationWeight: 1,
		RecencyHorizonDays: 365, FrequencyReference: 3, MonetaryReference: 99, AssetReference: 9999}
	c := &Customer{
		AnnualRevenue: ptr(99.0), Activity: Activity{Transactions: TransactionStats{Count: 1, Total: 9, LastAt: daysAgo(73)}, SatisfactionIndex: ptr(80.0), LoyaltyIndex: ptr(60.0)}}
	vc := f.Components(c, gradingNow)
	want := ValueComponents{Recency: 80, Frequency: 50, Monetary: 50, Asset: 50, Evaluation: 70}
	for _, p := range []struct {
		name      string
		got, want float64
	}{{"recency", vc.Recency, want.Recency}, {"frequency", vc.Frequency, want.Frequency},
		{"monetary", vc.Monetary, want.Monetary}, {"asset", vc.Asset, want.Asset}, {"evaluation", vc.Evaluation, want.Evaluation}} {
		if math.Abs(p.got-p.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", p.name, p.got, p.want)
		}
	}
	// (80 + 50 + 2·50 + 0·50 + 70) / 5 = 60
	if got := f.Score(c, gradingNow); got != 60 {
		t.Fatalf("score = %v, want 60", got)
	}
}

func TestValueScoreEdges(t *testing.T) {
	f := DefaultGradingPolicy().Value
	tests := []struct {
		name string
		c    *Customer
		want float64
	}{
		{"NothingKnownIsZero", &Customer{}, 0},
		{"TransactionBeyondHorizonHasNoRecency",
			&Customer{Activity: Activity{Transactions: TransactionStats{Count: 12, Total: 1_000_000, LastAt: daysAgo(400)}}},
			// (frequency 100·0.20 + monetary 100·0.25) / 0.8 = 56.25: never
			// evaluated, the evaluation weight is left out
			56.25},
		{"ADissatisfiedEvaluationLowersTheScore",
			&Customer{Activity: Activity{Transactions: TransactionStats{Count: 12, Total: 1_000_000, LastAt: daysAgo(400)},
				SatisfactionIndex: ptr(25.0), AcceptanceIndex: ptr(15.0)}},
			// 45 + evaluation 20·0.20 = 49
			49},
		{"EverythingAtReferenceIsHundred", &Customer{
			AnnualRevenue: ptr(1e8), Activity: Activity{Transactions: TransactionStats{Count: 12, Total: 1_000_000, LastAt: daysAgo(0)}, SatisfactionIndex: ptr(100.0), LoyaltyIndex: ptr(100.0), TrustIndex: ptr(100.0)}}, 100},
		{"BeyondReferenceIsCapped", &Customer{
			AnnualRevenue: ptr(1e14), Activity: Activity{Transactions: TransactionStats{Count: 500, Total: 1e12, LastAt: daysAgo(0)}, SatisfactionIndex: ptr(100.0)}}, 100},
		{"NegativeRevenueCountsAsNone", &Customer{AnnualRevenue: ptr(-5.0)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.Score(tt.c, gradingNow); got != tt.want {
				t.Fatalf("score = %v, want %v", got, tt.want)
			}
		})
	}
}

func randomCustomer(r *rand.Rand) *Customer {
	c := &Customer{CreatedAt: *daysAgo(r.Float64() * 2000)}
	if r.IntN(4) > 0 {
		n := 1 + r.IntN(100)
		c.Transactions = TransactionStats{Count: n, Total: r.Float64() * 1e7, LastAt: daysAgo(r.Float64() * 800)}
	}
	if r.IntN(2) == 0 {
		c.AnnualRevenue = ptr(r.Float64() * 1e10)
	}
	for _, p := range []**float64{&c.SatisfactionIndex, &c.LoyaltyIndex, &c.TrustIndex} {
		if r.IntN(2) == 0 {
			*p = ptr(r.Float64() * 100)
		}
	}
	c.InteractionCount = r.IntN(50)
	return c
}

func randomFormula(r *rand.Rand) ValueFormula {
	return ValueFormula{RecencyWeight: r.Float64(), FrequencyWeight: r.Float64(), MonetaryWeight: r.Float64(),
		AssetWeight: r.Float64(), EvaluationWeight: r.Float64() + 0.01, RecencyHorizonDays: 1 + r.IntN(1000),
		FrequencyReference: 1 + r.Float64()*50, MonetaryReference: 1 + r.Float64()*1e7, AssetReference: 1 + r.Float64()*1e9}
}

// Property tests over random customers and formulas: the score stays in
// 0–100, only the weights' ratios matter, and a more recent transaction
// never lowers it.
func TestValueScoreProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 11))
	for i := range 5000 {
		f, c := randomFormula(r), randomCustomer(r)
		s := f.Score(c, gradingNow)
		if s < 0 || s > 100 || math.IsNaN(s) {
			t.Fatalf("case %d: score %v outside 0–100 for %+v", i, s, f)
		}
		k := 0.001 + r.Float64()*1000
		g := f
		g.RecencyWeight, g.FrequencyWeight, g.MonetaryWeight, g.AssetWeight, g.EvaluationWeight =
			k*f.RecencyWeight, k*f.FrequencyWeight, k*f.MonetaryWeight, k*f.AssetWeight, k*f.EvaluationWeight
		if d := math.Abs(g.Score(c, gradingNow) - s); d > 0.011 {
			t.Fatalf("case %d: scaling the weights by %v moved the score by %v", i, k, d)
		}
		if c.Transactions.LastAt != nil {
			recent := *c
			recent.Transactions.LastAt = ptr(c.Transactions.LastAt.Add(24 * time.Hour))
			if f.Score(&recent, gradingNow) < s {
				t.Fatalf("case %d: a more recent transaction lowered the score", i)
			}
		}
	}
}

func TestAssignTiers(t *testing.T) {
	cut := DefaultGradingPolicy().Tiers
	scores := func(n int) []RankedScore {
		out := make([]RankedScore, n)
		for i := range out {
			out[i] = RankedScore{ID: string(rune('a'+i%26)) + strings.Repeat("x", i/26), Score: float64(i % 37)}
		}
		return out
	}
	tests := []struct {
		n    int
		want map[ValueTier]int
	}{
		{0, map[ValueTier]int{}},
		{1, map[ValueTier]int{TierKey: 1}},
		{10, map[ValueTier]int{TierKey: 1, TierMajor: 1, TierOrdinary: 3, TierSmall: 5}},
		{200, map[ValueTier]int{TierKey: 2, TierMajor: 38, TierOrdinary: 60, TierSmall: 100}},
		{1000, map[ValueTier]int{TierKey: 10, TierMajor: 190, TierOrdinary: 300, TierSmall: 500}},
	}
	for _, tt := range tests {
		in := scores(tt.n)
		got := AssignTiers(in, cut)
		counts := map[ValueTier]int{}
		for _, tier := range got {
			counts[tier]++
		}
		for _, tier := range ValueTiers {
			if counts[tier] != tt.want[tier] {
				t.Errorf("n=%d: %d %s, want %d", tt.n, counts[tier], tier, tt.want[tier])
			}
		}
		// A higher score never sits in a lower tier.
		rank := map[ValueTier]int{TierKey: 0, TierMajor: 1, TierOrdinary: 2, TierSmall: 3}
		for _, a := range in {
			for _, b := range in {
				if a.Score > b.Score && rank[got[a.ID]] > rank[got[b.ID]] {
					t.Fatalf("n=%d: %s (%v) is %s below %s (%v) in %s", tt.n, a.ID, a.Score, got[a.ID], b.ID, b.Score, got[b.ID])
				}
			}
		}
	}
	// Ties are broken by id, so a run is repeatable.
	tie := AssignTiers([]RankedScore{{"b", 5}, {"a", 5}}, TierCutoffs{KeyPercent: 50})
	if tie["a"] != TierKey || tie["b"] != TierSmall {
		t.Fatalf("tie broken as %v", tie)
	}
}

// The default rules read seed 000's levels (000:42) from the customer's
// data; each case quotes the words it follows.
func TestDefaultRulesGradeAsSeed000Means(t *testing.T) {
	deal := func(n int) TransactionStats {
		return TransactionStats{Count: n, Total: float64(n) * 50_000, LastAt: daysAgo(10)}
	}
	noIndustries := func(p *GradingPolicy) { p.StrongIndustries = nil }
	tests := []struct {
		name   string
		policy func(*GradingPolicy)
		c      *Customer
		rule   string
		want   string
	}{
		// 「G级是未联系过的客户,即电销可以自行选择的客户」: never contacted, whatever its size.
		{"NeverContacted", nil, &Customer{}, "never-contacted", "G"},
		{"NeverContactedBigCompanyStaysG", nil, &Customer{Industry: "manufacturing", AnnualRevenue: ptr(5e8)}, "never-contacted", "G"},
		// 「F级是联系过无法确定级别的客户」: contacted, nothing known to grade by.
		{"ContactedSizeUnknownIsF", nil, &Customer{Activity: Activity{InteractionCount: 5}}, "contacted", "F"},
		{"ContactedIndustryOnlyIsF", nil, &Customer{Industry: "Manufacturing", Activity: Activity{InteractionCount: 1}}, "contacted", "F"},
		// 「针对潜在客户,电销会在收集相关信息后,将其划入DE级,重点跟进」: potential, once its size is known.
		{"SmallPotentialIsE", nil, &Customer{AnnualRevenue: ptr(5e5), Activity: Activity{InteractionCount: 1}}, "small-potential", "E"},
		{"ZeroRevenueKnownIsE", nil, &Customer{AnnualRevenue: ptr(0.0), Activity: Activity{InteractionCount: 1}}, "small-potential", "E"},
		{"PotentialIsD", nil, &Customer{AnnualRevenue: ptr(1e6), Activity: Activity{InteractionCount: 1}}, "potential", "D"},
		// 「CD级较为重要」: fairly important, by size.
		{"FairlyImportantIsC", nil, &Customer{AnnualRevenue: ptr(1e7), Activity: Activity{InteractionCount: 1}}, "fairly-important", "C"},
		{"StrongIndustryBelowTargetSizeIsC", nil, &Customer{Industry: "telecom", AnnualRevenue: ptr(49_999_999.0), Activity: Activity{InteractionCount: 1}},
			"fairly-important", "C"},
		// 「针对目标客户,电销会将其划入AB级」「AB级最重要」: targets, by size and industry, not buyers.
		{"IndustryTargetIsB", nil, &Customer{Industry: "telecom", AnnualRevenue: ptr(5e7), Activity: Activity{InteractionCount: 1}}, "industry-target", "B"},
		{"LargeCompanyIndustryUnknownIsB", nil, &Customer{AnnualRevenue: ptr(3e8), Activity: Activity{InteractionCount: 1}}, "large-target", "B"},
		{"JustBelowKeySizeIsB", nil, &Customer{Industry: "utilities", AnnualRevenue: ptr(299_999_999.0), Activity: Activity{InteractionCount: 1}},
			"industry-target", "B"},
		// 「资产在三个亿以上」: 300 million is the seed's line for the most important companies.
		{"KeyTargetIsA", nil, &Customer{Industry: "  Manufacturing ", AnnualRevenue: ptr(3e8), Activity: Activity{InteractionCount: 1}}, "key-target", "A"},
		// 「针对非客户,电销会直接将其划入V级,示意该企业不属于公司软件的优势行业,不需跟进」
		{"OutsideStrongIndustriesIsV", nil, &Customer{Industry: "retail", AnnualRevenue: ptr(5e8), Activity: Activity{InteractionCount: 2}},
			"outside-strong-industries", "V"},
		{"OutsideStrongIndustriesUncontactedIsV", nil, &Customer{Industry: "retail"}, "outside-strong-industries", "V"},
		{"NoStrongIndustriesJudgesNone", noIndustries, &Customer{Industry: "retail", AnnualRevenue: ptr(1e8), Activity: Activity{InteractionCount: 1}},
			"fairly-important", "C"},
		{"NoStrongIndustriesStillBigIsB", noIndustries, &Customer{Industry: "retail", AnnualRevenue: ptr(3e8), Activity: Activity{InteractionCount: 1}},
			"large-target", "B"},
		// 「针对现实客户,在达成第一笔交易后,会由业务划入O级」: a buyer is O, however big or well rated.
		{"FirstDealIsO", nil, &Customer{Activity: Activity{InteractionCount: 2, Transactions: deal(1)}}, "existing-customer", "O"},
		{"BigHappyBuyerStaysO", nil, &Customer{Industry: "manufacturing", AnnualRevenue: ptr(5e8), Activity: Activity{InteractionCount: 30, SatisfactionIndex: ptr(95.0), LoyaltyIndex: ptr(90.0), Transactions: deal(10)}}, "existing-customer", "O"},
		{"BuyerOutsideStrongIndustriesIsO", nil, &Customer{Industry: "retail", Activity: Activity{InteractionCount: 2, Transactions: deal(1)}},
			"existing-customer", "O"},
		// 「E级是破产企业」 and 「V级是无效客户」: the registry's facts come first.
		{"BankruptIsE", nil, &Customer{Industry: "manufacturing", AnnualRevenue: ptr(5e8), CompanyStatus: CompanyBankrupt, Activity: Activity{InteractionCount: 1}},
			"bankrupt", "E"},
		{"BankruptBuyerIsE", nil, &Customer{CompanyStatus: CompanyBankrupt, Activity: Activity{InteractionCount: 9, Transactions: deal(3)}}, "bankrupt", "E"},
		{"DeregisteredBuyerIsV", nil, &Customer{CompanyStatus: CompanyDeregistered, Activity: Activity{InteractionCount: 9, Transactions: deal(3)}},
			"company-ceased", "V"},
		{"RevokedIsV", nil, &Customer{AnnualRevenue: ptr(2e6), CompanyStatus: CompanyRevoked, Activity: Activity{InteractionCount: 1}}, "company-ceased", "V"},
		{"InvalidRecordIsV", nil, &Customer{CompanyStatus: CompanyInvalid}, "invalid-record", "V"},
		{"ActiveStatusChangesNothing", nil, &Customer{AnnualRevenue: ptr(2e6), CompanyStatus: CompanyActive, Activity: Activity{InteractionCount: 1}},
			"potential", "D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultGradingPolicy()
			if tt.policy != nil {
				tt.policy(p)
			}
			m := p.Metrics(tt.c, gradingNow)
			r := p.Match(m)
			if r == nil || r.Name != tt.rule || r.Level != tt.want {
				t.Fatalf("matched %+v for metrics %v, want rule %s → %s", r, m, tt.rule, tt.want)
			}
		})
	}
}

// No default rule sets A or B on a customer with a deal: the issue seen on
// a running server was the reverse (A and B needed transactionCount ≥ 1).
func TestDefaultTargetsAreNotBuyers(t *testing.T) {
	p := DefaultGradingPolicy()
	for _, r := range p.Rules {
		if r.Level != "A" && r.Level != "B" {
			continue
		}
		if slices.ContainsFunc(r.Conditions, func(c Condition) bool { return c.Metric == MetricTransactionCount }) {
			t.Errorf("rule %s grades %s by transactions: %s", r.Name, r.Level, r.Explain())
		}
		o := slices.IndexFunc(p.Rules, func(x GradingRule) bool { return x.Level == "O" })
		if i := slices.IndexFunc(p.Rules, func(x GradingRule) bool { return x.Name == r.Name }); i < o {
			t.Errorf("rule %s (%s) comes before the existing-customer rule, so a buyer could be a target", r.Name, r.Level)
		}
	}
}

// The seed names no days, but it orders the follow-up: D and E 「重点跟进」
// (with priority), V 「不需跟进」 (none), G waits in the pool.
func TestDefaultLevelsFollowUpAsSeed000Asks(t *testing.T) {
	l := func(code string) GradeLevel {
		v, ok := GradeLevelByCode(code)
		if !ok {
			t.Fatalf("no level %s", code)
		}
		return v
	}
	for _, code := range []string{"D", "E"} {
		if got, c := l(code).FollowUpInterval, l("C").FollowUpInterval; got <= 0 || got >= c {
			t.Errorf("%s is followed up every %v, C every %v: D and E are followed up with priority", code, got, c)
		}
	}
	for _, code := range []string{"B", "C", "D", "E", "F", "O"} {
		if l(code).FollowUpInterval < l("A").FollowUpInterval {
			t.Errorf("%s is followed up more often than A", code)
		}
	}
	for _, code := range []string{"G", "V"} {
		if l(code).FollowUpInterval != 0 {
			t.Errorf("%s has a routine follow-up of %v, want none", code, l(code).FollowUpInterval)
		}
	}
}

func TestFactMetrics(t *testing.T) {
	p := DefaultGradingPolicy()
	tests := []struct {
		name string
		c    *Customer
		want map[string]float64 // absent keys must be absent
	}{
		{"NothingKnown", &Customer{}, map[string]float64{}},
		{"StrongIndustryIgnoresCaseAndSpacing", &Customer{Industry: " TELECOM "}, map[string]float64{MetricStrongIndustry: 1}},
		{"OtherIndustry", &Customer{Industry: "retail"}, map[string]float64{MetricStrongIndustry: 0}},
		{"Active", &Customer{CompanyStatus: CompanyActive},
			map[string]float64{MetricBankrupt: 0, MetricCeased: 0, MetricInvalidRecord: 0}},
		{"Bankrupt", &Customer{CompanyStatus: CompanyBankrupt},
			map[string]float64{MetricBankrupt: 1, MetricCeased: 0, MetricInvalidRecord: 0}},
		{"Revoked", &Customer{CompanyStatus: CompanyRevoked},
			map[string]float64{MetricBankrupt: 0, MetricCeased: 1, MetricInvalidRecord: 0}},
		{"Deregistered", &Customer{CompanyStatus: CompanyDeregistered},
			map[string]float64{MetricBankrupt: 0, MetricCeased: 1, MetricInvalidRecord: 0}},
		{"Invalid", &Customer{CompanyStatus: CompanyInvalid},
			map[string]float64{MetricBankrupt: 0, MetricCeased: 0, MetricInvalidRecord: 1}},
	}
	facts := []string{MetricStrongIndustry, MetricBankrupt, MetricCeased, MetricInvalidRecord}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := p.Metrics(tt.c, gradingNow)
			for _, f := range facts {
				v, ok := m[f]
				w, want := tt.want[f]
				if ok != want || v != w {
					t.Errorf("%s = %v (present %v), want %v (present %v)", f, v, ok, w, want)
				}
			}
		})
	}
	p.StrongIndustries = nil
	if _, ok := p.Metrics(&Customer{Industry: "telecom"}, gradingNow)[MetricStrongIndustry]; ok {
		t.Error("strongIndustry judged with no strong industries in the policy")
	}
}

func TestConditionOnAbsentMetricNeverHolds(t *testing.T) {
	m := DefaultGradingPolicy().Metrics(&Customer{}, gradingNow)
	for _, op := range Comparisons {
		if (Condition{Metric: MetricSatisfaction, Op: op, Value: 50}).Holds(m) {
			t.Errorf("%s on an absent metric held", op)
		}
	}
	if _, ok := m[MetricDaysSinceTransaction]; ok {
		t.Error("daysSinceLastTransaction present without transactions")
	}
}

func TestManualGradeHold(t *testing.T) {
	p := DefaultGradingPolicy()
	manual := func(level string, age float64) *Customer {
		return &Customer{Grade: GradeState{Level: level, Source: GradeManual, At: *daysAgo(age)}}
	}
	tests := []struct {
		name     string
		holdDays int
		c        *Customer
		held     bool
	}{
		{"RecentManualIsHeld", 90, manual("B", 10), true},
		{"OldManualIsNot", 90, manual("B", 91), false},
		{"ZeroHoldKeepsManualForever", 0, manual("B", 5000), true},
		// 「电销会直接将其划入V级」: a V set by hand stays until graded by hand again.
		{"InvalidSetByHandIsHeldForever", 90, manual("V", 5000), true},
		{"InvalidSetByRuleFollowsTheData", 90, &Customer{Grade: GradeState{Level: "V", Source: GradeRule, At: *daysAgo(1)}}, false},
		{"RuleGradeIsNeverHeld", 90, &Customer{Grade: GradeState{Level: "B", Source: GradeRule, At: *daysAgo(1)}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.ManualHoldDays = tt.holdDays
			if got := p.Held(tt.c, gradingNow); got != tt.held {
				t.Fatalf("held = %v, want %v", got, tt.held)
			}
		})
	}
}

func policyInput() GradingPolicyInput {
	p := DefaultGradingPolicy()
	return GradingPolicyInput{Levels: p.Levels, Rules: cloneRules(p.Rules), StrongIndustries: p.StrongIndustries, Value: p.Value,
		Tiers: p.Tiers, ManualHoldDays: p.ManualHoldDays}
}

func TestValidatePolicy(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*GradingPolicyInput)
		field string
	}{
		{"OK", func(*GradingPolicyInput) {}, ""},
		{"ErrMissingLevel", func(in *GradingPolicyInput) { in.Levels = in.Levels[1:] }, "input.levels"},
		{"ErrRepeatedLevel", func(in *GradingPolicyInput) { in.Levels[1].Code = "A" }, "input.levels[1].code"},
		{"ErrLevelLabelRequired", func(in *GradingPolicyInput) { in.Levels[2].Label = " " }, "input.levels[2].label"},
		{"ErrSLATooShort", func(in *GradingPolicyInput) { in.Levels[0].ResponseSLA = time.Minute }, "input.levels[0].responseSlaHours"},
		{"ErrNoRules", func(in *GradingPolicyInput) { in.Rules = nil }, "input.rules"},
		{"ErrRuleName", func(in *GradingPolicyInput) { in.Rules[0].Name = "Key Target" }, "input.rules[0].name"},
		{"ErrRepeatedRule", func(in *GradingPolicyInput) { in.Rules[1].Name = in.Rules[0].Name }, "input.rules[1].name"},
		{"ErrRuleLevel", func(in *GradingPolicyInput) { in.Rules[2].Level = "Z" }, "input.rules[2].level"},
		{"ErrUnknownMetric", func(in *GradingPolicyInput) { in.Rules[5].Conditions[1].Metric = "vibes" },
			"input.rules[5].conditions[1].metric"},
		{"ErrUnknownOp", func(in *GradingPolicyInput) { in.Rules[0].Conditions[0].Op = "ABOUT" }, "input.rules[0].conditions[0].op"},
		{"ErrNaNValue", func(in *GradingPolicyInput) { in.Rules[0].Conditions[0].Value = math.NaN() },
			"input.rules[0].conditions[0].value"},
		{"ErrNegativeWeight", func(in *GradingPolicyInput) { in.Value.AssetWeight = -1 }, "input.valueFormula.assetWeight"},
		{"ErrAllWeightsZero", func(in *GradingPolicyInput) {
			in.Value.RecencyWeight, in.Value.FrequencyWeight, in.Value.MonetaryWeight = 0, 0, 0
			in.Value.AssetWeight, in.Value.EvaluationWeight = 0, 0
		}, "input.valueFormula"},
		{"ErrHorizon", func(in *GradingPolicyInput) { in.Value.RecencyHorizonDays = 0 }, "input.valueFormula.recencyHorizonDays"},
		{"ErrReference", func(in *GradingPolicyInput) { in.Value.MonetaryReference = 0.5 }, "input.valueFormula.monetaryReference"},
		{"ErrTiersOver100", func(in *GradingPolicyInput) { in.Tiers.OrdinaryPercent = 90 }, "input.tiers"},
		{"ErrHold", func(in *GradingPolicyInput) { in.ManualHoldDays = -1 }, "input.manualHoldDays"},
		{"OKNoStrongIndustries", func(in *GradingPolicyInput) { in.StrongIndustries = []string{} }, ""},
		{"ErrRepeatedStrongIndustry", func(in *GradingPolicyInput) { in.StrongIndustries = []string{"Mining", " mining "} },
			"input.strongIndustries[1]"},
		{"ErrBlankStrongIndustry", func(in *GradingPolicyInput) { in.StrongIndustries = []string{"mining", " "} },
			"input.strongIndustries[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := policyInput()
			tt.edit(&in)
			err := validatePolicy(&in)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Field != tt.field {
				t.Fatalf("error = %v, want BAD_USER_INPUT on %s", err, tt.field)
			}
		})
	}
}

func TestNetPromoterScore(t *testing.T) {
	tests := []struct {
		answers []int
		want    float64
	}{
		{[]int{10, 9, 8, 7, 6}, 20}, // 2 promoters, 1 detractor of 5
		{[]int{0, 3}, -100},
		{[]int{9}, 100},
		{[]int{7, 8}, 0},
	}
	for _, tt := range tests {
		if got := NetPromoterScore(tt.answers); got != tt.want {
			t.Errorf("NPS(%v) = %v, want %v", tt.answers, got, tt.want)
		}
	}
}

func TestExplainNamesRuleAndConditions(t *testing.T) {
	p := DefaultGradingPolicy()
	r := p.Rules[slices.IndexFunc(p.Rules, func(r GradingRule) bool { return r.Name == "key-target" })]
	if got, want := r.Explain(), "rule key-target: interactionCount ≥ 1 and strongIndustry = 1 and annualRevenue ≥ 300,000,000"; got != want {
		t.Fatalf("Explain() = %q, want %q", got, want)
	}
}

// Numbers in explanations and messages read as people write them, never
// 1e+07.
func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {10_000_000, "10,000,000"}, {300_000_000, "300,000,000"},
		{MaxMoney, "1,000,000,000,000,000"}, {-1_000_000, "-1,000,000"}, {0.5, "0.5"}, {75.25, "75.25"},
		{-1234.125, "-1,234.125"}, {1e-7, "0.0000001"}, {123456.7, "123,456.7"},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.v); got != tt.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	if got := (Condition{Metric: MetricAnnualRevenue, Op: CmpGTE, Value: 1e7}).String(); got != "annualRevenue ≥ 10,000,000" {
		t.Errorf("condition reads %q", got)
	}
}
