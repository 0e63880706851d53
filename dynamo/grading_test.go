package dynamo_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

func mustLog(t *testing.T, e *env, u *crm.User, in crm.InteractionInput) *crm.Interaction {
	t.Helper()
	if in.Channel == "" {
		in.Channel = crm.ChannelPhone
	}
	if in.Direction == "" {
		in.Direction = crm.Outbound
	}
	it, err := e.svc.LogInteraction(as(u), in)
	if err != nil {
		t.Fatalf("log %s: %v", in.Type, err)
	}
	return it
}

// mustCustomer reads a customer once the stream has applied every write
// so far: its activity, grade and claim are what they imply.
func mustCustomer(t *testing.T, e *env, id string) *crm.Customer {
	t.Helper()
	e.drain(t)
	c, err := e.svc.Customer(as(admin), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// relationshipTemplate scores satisfaction, loyalty and trust on 0–100 and
// asks the would-recommend (NPS) question.
func relationshipTemplate(t *testing.T, e *env) *crm.Template {
	t.Helper()
	tpl, err := e.svc.CreateTemplate(as(admin), crm.TemplateInput{Name: "Relationship review", Indicators: []crm.Indicator{
		{Key: "satisfied", Name: "Satisfied with our service", Dimension: crm.DimSatisfaction, Weight: 0.3, ScaleMin: 0, ScaleMax: 100},
		{Key: "loyal", Name: "Buys again, ignores competitors", Dimension: crm.DimLoyalty, Weight: 0.3, ScaleMin: 0, ScaleMax: 100},
		{Key: "trust", Name: "Trusts our advice", Dimension: crm.DimTrust, Weight: 0.2, ScaleMin: 0, ScaleMax: 100},
		{Key: "recommend", Name: "Would recommend us", Dimension: crm.DimAcceptance, Weight: 0.2, ScaleMin: 0, ScaleMax: 10, NPS: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func reviewScores(v float64, recommend float64) []crm.IndicatorScore {
	return []crm.IndicatorScore{{Key: "satisfied", Value: v}, {Key: "loyal", Value: v}, {Key: "trust", Value: v},
		{Key: "recommend", Value: recommend}}
}

// The acceptance scenario of the grading rules, as seed 000 runs its
// levels (000:42): a manufacturer walks from G (never contacted, in the
// pool) through a claim and a first call (F, not yet classifiable), the size
// telesales learn on the call (A, a target: 「针对目标客户,电销会将其划入AB级」),
// its first deal (O: 「在达成第一笔交易后,会由业务划入O级」), an evaluation and
// half a year without a deal (still O: the scheduled run rescores and
// tiers it, the level stays), until the company goes bankrupt (E:
// 「E级是破产企业」). The grade history explains every step.
func TestGradeScenarioAsSeed000RunsItsLevels(t *testing.T) {
	e, clk := poolEnv(t)
	start := clk.Now()
	nobody := ""
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery", OwnerID: &nobody, Region: "north", Team: "north",
		Industry: "Manufacturing"})
	if c.Grade.Level != "G" || c.Grade.Source != crm.GradeRule || c.Grade.Rule != "never-contacted" {
		t.Fatalf("new customer graded %+v, want G by rule never-contacted", c.Grade)
	}

	clk.Advance(time.Hour)
	if _, err := e.svc.ClaimCustomer(as(sales1), c.ID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeCall, Subject: "Introduced ourselves"})
	afterFirstCall := clk.Now()
	got := mustCustomer(t, e, c.ID)
	if got.Grade.Level != "F" || got.Claim.Active() {
		t.Fatalf("after the first follow-up: grade %s, claim %+v; want F and the claim turned into ownership", got.Grade.Level, got.Claim)
	}

	// 「电销人员需要根据了解到的信息对客户进行划分」: the call told us its size.
	clk.Advance(time.Hour)
	assets := 500_000_000.0
	got, err := e.svc.UpdateCustomer(as(sales1), c.ID, got.Version, crm.CustomerUpdate{AnnualRevenue: &assets})
	if err != nil {
		t.Fatal(err)
	}
	afterSizeKnown := clk.Now()
	if got.Grade.Level != "A" || got.Grade.Rule != "key-target" || got.Grade.By != sales1.ID ||
		got.Grade.Reason != "rule key-target: interactionCount ≥ 1 and strongIndustry = 1 and annualRevenue ≥ 300,000,000" {
		t.Fatalf("a contacted manufacturer with 500 million in assets: %+v, want A by key-target", got.Grade)
	}

	clk.Advance(72 * time.Hour)
	amount := 50_000.0
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeTransaction, Subject: "First order",
		Amount: &amount, Currency: "CNY"})
	got = mustCustomer(t, e, c.ID)
	if got.Grade.Level != "O" || got.Grade.Rule != "existing-customer" || got.Transactions.Count != 1 || got.Transactions.Total != amount {
		t.Fatalf("after the first deal: %+v, transactions %+v; want O by existing-customer", got.Grade, got.Transactions)
	}
	// (recency 100·.25 + frequency 27.02·.2 + monetary 78.32·.25 + asset 100·.1) / .8
	// = 74.98: never evaluated, the evaluation's weight is left out
	if got.ValueScore == nil || *got.ValueScore < 74 || *got.ValueScore > 76 {
		t.Fatalf("value score after the first deal = %v, want about 74.98", *got.ValueScore)
	}

	clk.Advance(24 * time.Hour)
	tpl := relationshipTemplate(t, e)
	if _, err := e.svc.SubmitEvaluation(as(manager), crm.EvaluationInput{CustomerID: c.ID, TemplateID: tpl.ID,
		Kind: crm.EvalInternalReview, Scores: reviewScores(90, 9)}); err != nil {
		t.Fatal(err)
	}
	got = mustCustomer(t, e, c.ID)
	if got.Grade.Level != "O" || got.Grade.Rule != "existing-customer" {
		t.Fatalf("after a glowing evaluation: %+v; a buyer stays O", got.Grade)
	}
	if got.NPS == nil || *got.NPS != 100 || got.SatisfactionIndex == nil || *got.SatisfactionIndex != 90 || *got.ValueScore < 75 {
		t.Fatalf("after the review: NPS %v satisfaction %v score %v, want 100, 90 and a score of 75 or more",
			got.NPS, got.SatisfactionIndex, *got.ValueScore)
	}
	scoreBefore := *got.ValueScore
	beforeSchedule := clk.Now()

	// Half a year without a deal: recency decays, the job rescores and
	// tiers the customer, and the level stays O.
	clk.Advance(200 * 24 * time.Hour)
	run, err := e.svc.RunScheduled(as(admin))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(run.Grading.Regraded, c.ID) || run.Grading.Updated != 1 {
		t.Fatalf("the scheduled run: %+v; want the customer rewritten (score and tier) but not regraded", run.Grading)
	}
	got = mustCustomer(t, e, c.ID)
	if got.Grade.Level != "O" || got.ValueTier != crm.TierKey || *got.ValueScore >= scoreBefore-1 {
		t.Fatalf("after the scheduled run: grade %+v tier %q score %v (was %v); want O, tier KEY (the only customer), a lower score",
			got.Grade, got.ValueTier, *got.ValueScore, scoreBefore)
	}

	// The company goes bankrupt: the registry's fact regrades it.
	clk.Advance(time.Hour)
	bankrupt := crm.CompanyBankrupt
	if got, err = e.svc.UpdateCustomer(as(sales1), c.ID, got.Version, crm.CustomerUpdate{CompanyStatus: &bankrupt}); err != nil {
		t.Fatal(err)
	}
	if got.Grade.Level != "E" || got.Grade.Rule != "bankrupt" || got.Grade.Metrics[crm.MetricBankrupt] != 1 {
		t.Fatalf("a bankrupt buyer: %+v, want E by bankrupt", got.Grade)
	}

	hist, err := e.svc.GradeHistory(as(admin), c.ID, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		from, to string
		source   crm.GradeSource
		rule     string
		by       string
	}
	var steps []step
	for _, g := range hist.Items {
		steps = append(steps, step{g.From, g.To, g.Source, g.Rule, g.By})
		if _, ok := g.Metrics[crm.MetricInteractionCount]; !strings.HasPrefix(g.Reason, "rule "+g.Rule+": ") || !ok {
			t.Errorf("history entry %s→%s does not explain itself: reason %q metrics %v", g.From, g.To, g.Reason, g.Metrics)
		}
	}
	want := []step{
		{"O", "E", crm.GradeRule, "bankrupt", sales1.ID},
		{"A", "O", crm.GradeRule, "existing-customer", sales1.ID},
		{"F", "A", crm.GradeRule, "key-target", sales1.ID},
		{"G", "F", crm.GradeRule, "contacted", sales1.ID},
	}
	if !slices.Equal(steps, want) {
		t.Fatalf("grade history (newest first):\n got %+v\nwant %+v", steps, want)
	}

	// "What grade did it have then?" is one question per instant.
	for _, q := range []struct {
		at   time.Time
		want string
	}{
		{start.Add(-time.Second), ""},
		// Before its first change, the grade it was created with.
		{start.Add(time.Minute), "G"},
		{afterFirstCall, "F"},
		{afterSizeKnown, "A"},
		{beforeSchedule, "O"},
		{clk.Now(), "E"},
	} {
		g, err := e.svc.GradeAt(as(admin), c.ID, q.at)
		if err != nil {
			t.Fatal(err)
		}
		if (g == nil && q.want != "") || (g != nil && g.To != q.want) {
			t.Errorf("grade at %s = %+v, want %q", q.at.Format(time.RFC3339), g, q.want)
		}
	}
}

// V and E are set by rules from the facts behind them, not only by hand
// (seed 000: 「针对非客户,电销会直接将其划入V级,示意该企业不属于公司软件的优势行业」;
// 「V级是无效客户」), and a V set by rule follows the data when it changes.
func TestRulesSetVAndEFromTheCustomersFacts(t *testing.T) {
	e, _ := poolEnv(t)
	retail := mustCreate(t, e, admin, crm.CustomerInput{Name: "Corner Shop", Team: "north", Industry: "retail"})
	if retail.Grade.Level != "V" || retail.Grade.Rule != "outside-strong-industries" {
		t.Fatalf("a retailer (outside the strong industries): %+v, want V by outside-strong-industries", retail.Grade)
	}
	// The industry was typed wrong: corrected, the rules take the V back.
	industry := "logistics"
	got, err := e.svc.UpdateCustomer(as(admin), retail.ID, retail.Version, crm.CustomerUpdate{Industry: &industry})
	if err != nil || got.Grade.Level != "G" {
		t.Fatalf("after correcting the industry: %+v %v, want G (never contacted)", got.Grade, err)
	}
	invalid := crm.CompanyInvalid
	if got, err = e.svc.UpdateCustomer(as(admin), got.ID, got.Version, crm.CustomerUpdate{CompanyStatus: &invalid}); err != nil ||
		got.Grade.Level != "V" || got.Grade.Rule != "invalid-record" {
		t.Fatalf("marked INVALID: %+v %v, want V by invalid-record", got.Grade, err)
	}

	gone := mustCreate(t, e, admin, crm.CustomerInput{Name: "Struck Off Ltd", Team: "north", CompanyStatus: crm.CompanyDeregistered})
	if gone.Grade.Level != "V" || gone.Grade.Rule != "company-ceased" || gone.CompanyStatus != crm.CompanyDeregistered {
		t.Fatalf("a deregistered company: %+v, want V by company-ceased", gone.Grade)
	}
	if got := mustCustomer(t, e, gone.ID); got.CompanyStatus != crm.CompanyDeregistered {
		t.Fatalf("company status not stored: %q", got.CompanyStatus)
	}
	if _, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindOrganization, Name: "Odd", CompanyStatus: "SLEEPING"}); code(err) != crm.EINVALID {
		t.Fatalf("an unknown company status: %v, want BAD_USER_INPUT", err)
	}
}

func TestManualGradeIsHeldUntilForcedRegrade(t *testing.T) {
	e, _ := poolEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Hand graded", Team: "north"})
	if _, err := e.svc.SetGrade(as(manager), c.ID, "A", "strategic partner", nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, e, admin, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeCall})
	if got := mustCustomer(t, e, c.ID); got.Grade.Level != "A" || got.Grade.Source != crm.GradeManual {
		t.Fatalf("a data change overrode the manual grade: %+v", got.Grade)
	}
	if _, err := e.svc.RegradeCustomer(as(sales1), c.ID, true); code(err) != crm.ENOTFOUND && code(err) != crm.EFORBIDDEN {
		t.Fatalf("a salesperson regraded: %v", err)
	}
	got, err := e.svc.RegradeCustomer(as(manager), c.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Grade.Level != "F" || got.Grade.Source != crm.GradeRule {
		t.Fatalf("forced regrade: %+v, want F by rule", got.Grade)
	}
	hist, _ := e.svc.GradeHistory(as(admin), c.ID, crm.PageRequest{First: crm.DefaultPageSize})
	if len(hist.Items) != 2 || hist.Items[1].Source != crm.GradeManual || hist.Items[1].Reason != "strategic partner" {
		t.Fatalf("the override is not recorded as MANUAL: %+v", hist.Items)
	}
}

func TestGradingPolicyEdits(t *testing.T) {
	e, _ := poolEnv(t)
	e.svc.PolicyTTL = 0
	p, err := e.svc.GradingPolicy(as(sales1))
	if err != nil || p.Version != 0 || len(p.Rules) == 0 {
		t.Fatalf("default policy: %+v %v", p, err)
	}
	in := crm.GradingPolicyInput{Levels: p.Levels, Rules: slices.Clone(p.Rules), Value: p.Value, Tiers: p.Tiers, ManualHoldDays: 30}
	// Any contact at all makes a customer C under the edited policy.
	in.Rules = append([]crm.GradingRule{{Name: "any-contact", Level: "C",
		Conditions: []crm.Condition{{Metric: crm.MetricInteractionCount, Op: crm.CmpGTE, Value: 1}}}}, in.Rules...)
	in.Levels = slices.Clone(in.Levels)
	in.Levels[0].ResponseSLA = 2 * time.Hour

	if _, err := e.svc.UpdateGradingPolicy(as(manager), in, 0); code(err) != crm.EFORBIDDEN {
		t.Fatalf("a manager edited the policy: %v", err)
	}
	bad := in
	bad.Rules = append([]crm.GradingRule{{Name: "bad", Level: "A", Conditions: []crm.Condition{{Metric: "mood", Op: crm.CmpGT}}}}, in.Rules...)
	if _, err := e.svc.UpdateGradingPolicy(as(admin), bad, 0); code(err) != crm.EINVALID {
		t.Fatalf("an unknown metric was accepted: %v", err)
	}
	v1, err := e.svc.UpdateGradingPolicy(as(admin), in, 0)
	if err != nil || v1.Version != 1 {
		t.Fatalf("first edit: %+v %v", v1, err)
	}
	if _, err := e.svc.UpdateGradingPolicy(as(admin), in, 0); code(err) != crm.ECONFLICT {
		t.Fatalf("an edit based on a stale version: %v, want CONFLICT", err)
	}

	// A second instance (another Lambda) reads the stored policy.
	other := crm.NewService(e.store)
	if levels, err := other.GradeLevels(as(sales1)); err != nil || levels[0].ResponseSLA != 2*time.Hour {
		t.Fatalf("another instance sees levels %+v %v", levels, err)
	}
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Graded by v1", Team: "north"})
	mustLog(t, e, admin, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeCall})
	got := mustCustomer(t, e, c.ID)
	if got.Grade.Level != "C" || got.Grade.Rule != "any-contact" || got.Grade.PolicyVersion != 1 {
		t.Fatalf("graded %+v, want C by any-contact of policy v1", got.Grade)
	}
	// The edited SLA governs new cases: grade A answers in 2 hours now.
	a := mustCreate(t, e, admin, crm.CustomerInput{Name: "Fast lane", Team: "north", Grade: "A"})
	cs := mustOpenCase(t, e, admin, a.ID, "")
	if !cs.DueAt.Equal(cs.OpenedAt.Add(2 * time.Hour)) {
		t.Fatalf("case due %s after opening, want 2h", cs.DueAt.Sub(cs.OpenedAt))
	}
}

func TestScheduledRunAssignsValueTiersAndIsIdempotent(t *testing.T) {
	e, _ := poolEnv(t)
	var ids []string
	for i := range 10 {
		c := mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprint("Buyer ", i), Team: "north"})
		amount := float64(1000 * (i + 1) * (i + 1))
		mustLog(t, e, admin, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeTransaction, Amount: &amount, Currency: "CNY"})
		ids = append(ids, c.ID)
	}
	archived := mustCreate(t, e, admin, crm.CustomerInput{Name: "Gone", Team: "north"})
	if _, err := e.svc.ArchiveCustomer(as(admin), archived.ID, archived.Version); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	run, err := e.svc.RunGrading(as(admin))
	if err != nil {
		t.Fatal(err)
	}
	if run.Customers != 10 {
		t.Fatalf("ranked %d customers, want the 10 active ones", run.Customers)
	}
	// With 10 customers: ⌈0.1⌉ = 1 KEY, ⌈2⌉-1 = 1 MAJOR, ⌈5⌉-2 = 3 ORDINARY, 5 SMALL;
	// the biggest buyer (the last) is KEY.
	want := []crm.ValueTier{crm.TierSmall, crm.TierSmall, crm.TierSmall, crm.TierSmall, crm.TierSmall,
		crm.TierOrdinary, crm.TierOrdinary, crm.TierOrdinary, crm.TierMajor, crm.TierKey}
	for i, id := range ids {
		if got := mustCustomer(t, e, id); got.ValueTier != want[i] {
			t.Errorf("buyer %d (score %v): tier %s, want %s", i, *got.ValueScore, got.ValueTier, want[i])
		}
	}
	if got := mustCustomer(t, e, archived.ID); got.ValueTier != "" {
		t.Errorf("an archived customer was tiered %s", got.ValueTier)
	}
	again, err := e.svc.RunGrading(as(admin))
	if err != nil || again.Updated != 0 {
		t.Fatalf("a second run at the same time rewrote %d customers (%v); it should change nothing", again.Updated, err)
	}
}

func TestClosingACaseFeedsSatisfactionAndOpenCasesFollowThe360(t *testing.T) {
	e, clk := poolEnv(t)
	cust := mustCreate(t, e, admin, crm.CustomerInput{Name: "Unhappy", Team: "north", Grade: "B"})
	cs := mustOpenCase(t, e, admin, cust.ID, crm.PriorityHigh)
	other := mustOpenCase(t, e, admin, cust.ID, "")

	e.drain(t)
	v, err := e.svc.Customer360(as(admin), cust.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if v.Customer.OpenCaseCount != 2 || len(v.Customer.OpenCases) != 2 || v.Customer.OpenCases[0].Subject != "Billing error" {
		t.Fatalf("360 view open cases: %d %+v", v.Customer.OpenCaseCount, v.Customer.OpenCases)
	}

	five, four := 5, 4
	moves := []crm.CaseMove{{To: crm.CaseTriaged}, {To: crm.CaseAssigned, AssignTo: "sales-1"},
		{To: crm.CaseProposed, Plan: "refund"}, {To: crm.CaseApproved}, {To: crm.CaseResolved}, {To: crm.CaseClosed, Satisfaction: &four}}
	version := cs.Version
	for _, m := range moves {
		by := manager
		if m.To == crm.CaseProposed {
			by = admin // the manager approves what someone else proposed
		}
		next, err := e.svc.MoveCase(as(by), cust.ID, cs.ID, version, m)
		if err != nil {
			t.Fatalf("move to %s: %v", m.To, err)
		}
		version = next.Version
	}
	got := mustCustomer(t, e, cust.ID)
	if got.OpenCaseCount != 1 || len(got.OpenCases) != 1 || got.OpenCases[0].ID != other.ID {
		t.Fatalf("after closing: open cases %d %+v, want only %s", got.OpenCaseCount, got.OpenCases, other.ID)
	}
	// Satisfaction 4 on 1–5 is 75.
	if got.SatisfactionIndex == nil || *got.SatisfactionIndex != 75 || len(got.RecentEvaluations) != 1 ||
		got.RecentEvaluations[0].CaseID != cs.ID || got.RecentEvaluations[0].TemplateID != crm.CaseSatisfactionTemplateID {
		t.Fatalf("case satisfaction did not feed the index: %v %+v", got.SatisfactionIndex, got.RecentEvaluations)
	}
	tpl, err := e.svc.Template(as(sales1), crm.CaseSatisfactionTemplateID, 1)
	if err != nil || tpl.Indicators[0].ScaleMax != 5 {
		t.Fatalf("the built-in template cannot be read: %+v %v", tpl, err)
	}

	// Each closed case is the customer's own voice: two closings count twice.
	third := mustOpenCase(t, e, admin, cust.ID, "")
	version = third.Version
	for _, m := range append(moves[:5:5], crm.CaseMove{To: crm.CaseClosed, Satisfaction: &five}) {
		by := manager
		if m.To == crm.CaseProposed {
			by = admin
		}
		next, err := e.svc.MoveCase(as(by), cust.ID, third.ID, version, m)
		if err != nil {
			t.Fatal(err)
		}
		version = next.Version
	}
	if got := mustCustomer(t, e, cust.ID); *got.SatisfactionIndex != 87.5 {
		t.Fatalf("satisfaction over two closed cases = %v, want (75+100)/2", *got.SatisfactionIndex)
	}

	// The job escalates the overdue case and the profile shows it.
	clk.Advance(48 * time.Hour)
	run, err := e.svc.RunScheduled(as(admin))
	if err != nil || !slices.Contains(run.Escalated, other.ID) {
		t.Fatalf("escalation: %+v %v", run, err)
	}
	got = mustCustomer(t, e, cust.ID)
	if len(got.OpenCases) != 1 || !got.OpenCases[0].Escalated || got.OpenCases[0].Priority != crm.PriorityUrgent {
		t.Fatalf("the profile does not show the escalation: %+v", got.OpenCases)
	}
}

func TestTransactionCorrectionsKeepTotals(t *testing.T) {
	e, _ := poolEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Corrected", Team: "north"})
	amount := 1000.0
	it := mustLog(t, e, admin, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeTransaction, Amount: &amount, Currency: "CNY"})
	fixed := 1500.0
	if _, err := e.svc.UpdateInteraction(as(admin), crm.InteractionKey{CustomerID: c.ID, ID: it.ID}, it.Version,
		crm.InteractionUpdate{Amount: &fixed}); err != nil {
		t.Fatal(err)
	}
	if got := mustCustomer(t, e, c.ID); got.Transactions.Count != 1 || got.Transactions.Total != 1500 {
		t.Fatalf("after the correction: %+v, want 1 transaction of 1500", got.Transactions)
	}
	if got := mustCustomer(t, e, c.ID); got.Grade.Level != "O" || got.Grade.Rule != "existing-customer" {
		t.Fatalf("grade %+v after a transaction, want O", got.Grade)
	}
}
