package dynamo_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// forecastLine writes a forecast month as "count CUR amount/weighted …".
func forecastLine(m crm.ForecastMonth) string {
	return stageLine(crm.StageFigures{Count: m.Count, Amounts: m.Amounts})
}

func forecastLines(t *testing.T, e *env, u *crm.User, q crm.PipelineQuery, months int) map[string]string {
	t.Helper()
	f, err := e.svc.SalesForecast(as(u), q, months)
	if err != nil {
		t.Fatalf("forecast %+v as %s: %v", q, u.ID, err)
	}
	out := map[string]string{"overdue": forecastLine(f.Overdue), "later": forecastLine(f.Later)}
	for _, m := range f.Months {
		out[m.Month] = forecastLine(m)
	}
	return out
}

// performanceLines writes each row as "customers revenue collected margin
// | targets | attainments".
func performanceLines(t *testing.T, e *env, u *crm.User, team, period string) map[string]string {
	t.Helper()
	p, err := e.svc.SalesPerformance(as(u), team, period, "")
	if err != nil {
		t.Fatalf("performance of %s in %s as %s: %v", team, period, u.ID, err)
	}
	pct := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprint(*v)
	}
	line := func(r crm.PerformanceRow) string {
		a, g, at := r.Actual, r.Target, r.Attainment
		return fmt.Sprintf("%d %s %s %s | %d %s %s %s | %s %s %s %s", a.Customers, a.Revenue, a.Collected, a.Margin,
			g.Customers, g.Revenue, g.Collected, g.Margin, pct(at.Customers), pct(at.Revenue), pct(at.Collected), pct(at.Margin))
	}
	out := map[string]string{"total": line(p.Total)}
	for _, r := range p.Rows {
		out[r.UserID] = line(r)
	}
	return out
}

func isFieldError(err error, code, field string) bool {
	e, ok := err.(*crm.Error)
	return ok && e.Code == code && e.Field == field
}

func mustTarget(t *testing.T, e *env, u *crm.User, in crm.TargetInput) *crm.Target {
	t.Helper()
	tg, err := e.svc.SetTarget(as(u), in)
	if err != nil {
		t.Fatalf("target %+v: %v", in, err)
	}
	return tg
}

// TestForecastAndPerformanceMatchHandComputedFigures opens deals with
// expected close dates around the clock's month, wins some of them, signs
// their contracts (one with a cost, one without a deal on a new
// customer), records a payment, sets targets, and checks the forecast,
// the cycle time and the staff performance against figures worked out by
// hand.
func TestForecastAndPerformanceMatchHandComputedFigures(t *testing.T) {
	e, clk := poolEnv(t) // 2026-03-01 09:00 UTC
	s1, s2 := sales1.ID, sales2.ID
	alpha := mustCreate(t, e, admin, crm.CustomerInput{Name: "Alpha Pumps", OwnerID: &s1, Team: "north"})
	beta := mustCreate(t, e, admin, crm.CustomerInput{Name: "Beta Valves", OwnerID: &s1, Team: "north"})
	gamma := mustCreate(t, e, admin, crm.CustomerInput{Name: "Gamma Freight", OwnerID: &s2, Team: "north"})
	delta := mustCreate(t, e, admin, crm.CustomerInput{Name: "Delta Tools", OwnerID: &s1, Team: "north"})

	overdue := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: alpha.ID, Title: "Pump refit", Amount: "100000",
		ExpectedClose: day(2026, 2, 20)})
	valves := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: beta.ID, Title: "Valve line", Amount: "40000", Stage: "PROPOSAL",
		ExpectedClose: day(2026, 3, 25)})
	freight := mustDeal(t, e, sales2, crm.OpportunityInput{CustomerID: gamma.ID, Title: "Freight lanes", Amount: "60000", Stage: "NEGOTIATION",
		ExpectedClose: day(2026, 4, 10)})
	mustDeal(t, e, sales2, crm.OpportunityInput{CustomerID: gamma.ID, Title: "Export pilot", Amount: "1000.01", Currency: "USD",
		ExpectedClose: day(2026, 4, 30)})
	mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: alpha.ID, Title: "Spares", Amount: "5000", ExpectedClose: day(2026, 12, 1)})

	// Hand-computed, three months from March: the Pump refit was due in
	// February (overdue, QUALIFY 10%: 10000); the Valve line closes in
	// March (PROPOSAL 50%: 20000); April holds the Freight lanes
	// (NEGOTIATION 75%: 45000) and the Export pilot (QUALIFY 10% of
	// 1000.01 USD: 100.001, rounded 100.00); Spares (December) is later.
	want := map[string]string{
		"overdue": "1 CNY 100000.00/10000.00", "2026-03": "1 CNY 40000.00/20000.00",
		"2026-04": "2 CNY 60000.00/45000.00 USD 1000.01/100.00", "2026-05": "0", "later": "1 CNY 5000.00/500.00",
	}
	if got := forecastLines(t, e, manager, crm.PipelineQuery{Team: "north"}, 3); !mapsEqual(got, want) {
		t.Fatalf("north's forecast %v, want %v", got, want)
	}
	if got := forecastLines(t, e, sales1, crm.PipelineQuery{}, 3); got["overdue"] != "1 CNY 100000.00/10000.00" ||
		got["2026-03"] != "1 CNY 40000.00/20000.00" || got["2026-04"] != "0" || got["later"] != "1 CNY 5000.00/500.00" {
		t.Fatalf("sales-1's own forecast %v: want the refit overdue, the valves in March, nothing in April, spares later", got)
	}
	// A new expected close date moves the deal's amount to its month.
	moved := day(2026, 5, 15)
	valves, err := e.svc.UpdateOpportunity(as(sales1), crm.OpportunityKey{CustomerID: beta.ID, ID: valves.ID}, valves.Version,
		crm.OpportunityUpdate{ExpectedClose: &moved})
	if err != nil {
		t.Fatal(err)
	}
	if got := forecastLines(t, e, manager, crm.PipelineQuery{Team: "north"}, 3); got["2026-03"] != "0" || got["2026-05"] != "1 CNY 40000.00/20000.00" {
		t.Fatalf("after moving the valves to May: %v", got)
	}
	if _, err := e.svc.SalesForecast(as(manager), crm.PipelineQuery{}, crm.MaxForecastMonths+1); code(err) != crm.EINVALID {
		t.Fatalf("a forecast of %d months: %v, want BAD_USER_INPUT", crm.MaxForecastMonths+1, err)
	}

	// Wins: the valves after 10 days, the refit after 30 (both their
	// customers' first deals, in March), the freight after 70 (Gamma's
	// first, in May).
	setClock(clk, 2026, 3, 11)
	valves = mustMove(t, e, sales1, valves, crm.OpportunityMoveInput{Stage: "WON"})
	e.drain(t)
	setClock(clk, 2026, 3, 31)
	overdue = mustMove(t, e, sales1, overdue, crm.OpportunityMoveInput{Stage: "WON"})
	e.drain(t)
	if !valves.NewCustomer || !overdue.NewCustomer {
		t.Fatalf("first deals of Beta and Alpha: new customer %v, %v; want both", valves.NewCustomer, overdue.NewCustomer)
	}

	// Contracts signed on 31 March: the valves' with a cost of 30000
	// (margin 10000), the refit's without a cost (no margin), and one
	// without a deal on Delta, a new customer: 9000.50 at a cost of
	// 4000.25 (margin 5000.25). 20000 is paid on the valves' contract.
	plan := func(amount string, due time.Time) []crm.InstalmentInput {
		return []crm.InstalmentInput{{DueOn: due, Amount: amount}}
	}
	valveContract, err := e.svc.CreateContract(as(sales1), crm.ContractInput{CustomerID: beta.ID, OpportunityID: valves.ID, Cost: "30000",
		SignedOn: day(2026, 3, 11), EndsOn: day(2026, 12, 31), Instalments: []crm.InstalmentInput{
			{DueOn: day(2026, 3, 31), Amount: "20000"}, {DueOn: day(2026, 4, 30), Amount: "20000"}}})
	if err != nil {
		t.Fatal(err)
	}
	if m := valveContract.Margin(); m == nil || m.String() != "10000.00" {
		t.Fatalf("the valves' margin %v, want 10000.00", m)
	}
	if _, err := e.svc.CreateContract(as(sales1), crm.ContractInput{CustomerID: alpha.ID, OpportunityID: overdue.ID,
		SignedOn: day(2026, 3, 31), EndsOn: day(2026, 12, 31), Instalments: plan("100000", day(2026, 4, 30))}); err != nil {
		t.Fatal(err)
	}
	tools, err := e.svc.CreateContract(as(sales1), crm.ContractInput{CustomerID: delta.ID, Title: "Tool kits", Amount: "9000.50", Cost: "4000.25",
		SignedOn: day(2026, 3, 31), EndsOn: day(2026, 12, 31), Instalments: plan("9000.50", day(2026, 4, 30))})
	if err != nil {
		t.Fatal(err)
	}
	if !tools.NewCustomer {
		t.Fatalf("a contract without a deal on a customer without deals did not win it")
	}
	mustPay(t, e, sales1, valveContract, "20000")
	if _, err := e.svc.CreateContract(as(sales1), crm.ContractInput{CustomerID: delta.ID, Title: "Bad cost", Amount: "10", Cost: "1.234",
		SignedOn: day(2026, 3, 31), EndsOn: day(2026, 12, 31), Instalments: plan("10", day(2026, 4, 30))}); !isFieldError(err, crm.EINVALID, "input.cost") {
		t.Fatalf("a cost of three decimals: %v, want BAD_USER_INPUT on input.cost", err)
	}
	e.drain(t)

	setClock(clk, 2026, 5, 10)
	freight = mustMove(t, e, sales2, freight, crm.OpportunityMoveInput{Stage: "WON"})

	// Cycle times 10, 30 and 70 days: average 36.7; two within 30 days
	// and one within 90, so the median deal is in the 30-day bucket.
	north := mustPipeline(t, e, manager, crm.PipelineQuery{Team: "north"})
	c := north.Cycle
	var buckets []string
	for _, b := range c.Buckets {
		buckets = append(buckets, fmt.Sprintf("%d:%d", b.UpTo, b.Count))
	}
	if c.AverageDays == nil || *c.AverageDays != 36.7 || c.MedianWithin == nil || *c.MedianWithin != 30 ||
		!slices.Equal(buckets, []string{"7:0", "30:2", "90:1", "180:0", "0:0"}) || c.Won != 3 {
		t.Fatalf("north's cycle time %+v (buckets %v), want 3 won, 36.7 days on average, median within 30", c, buckets)
	}
	// On 10 May, three months ahead (May to July): the export pilot was
	// due in April; spares are later.
	want = map[string]string{"overdue": "1 USD 1000.01/100.00", "2026-05": "0", "2026-06": "0", "2026-07": "0", "later": "1 CNY 5000.00/500.00"}
	if got := forecastLines(t, e, manager, crm.PipelineQuery{Team: "north"}, 3); !mapsEqual(got, want) {
		t.Fatalf("north's forecast in May %v, want %v", got, want)
	}

	// Targets for Q1: sales-1 50000 in January and February with one
	// customer in January, 100000 in March with 50000 collected, a margin
	// of 20000 and two customers; sales-2 80000 in March.
	for _, in := range []crm.TargetInput{
		{Team: "north", UserID: s1, Month: "2026-01", Revenue: "50000", Customers: 1},
		{Team: "north", UserID: s1, Month: "2026-02", Revenue: "50000"},
		{Team: "north", UserID: s1, Month: "2026-03", Revenue: "90000", Collected: "50000", Margin: "20000", Customers: 2},
		{Team: "north", UserID: s2, Month: "2026-03", Revenue: "80000"},
	} {
		mustTarget(t, e, manager, in)
	}
	march := crm.TargetInput{Team: "north", UserID: s1, Month: "2026-03", Revenue: "100000", Collected: "50000", Margin: "20000", Customers: 2}
	if _, err := e.svc.SetTarget(as(manager), march); code(err) != crm.ECONFLICT {
		t.Fatalf("setting an existing target as new: %v, want CONFLICT", err)
	}
	march.ExpectedVersion = 1
	if got := mustTarget(t, e, manager, march); got.Version != 2 || got.Revenue.String() != "100000.00" {
		t.Fatalf("the corrected March target %+v, want version 2 of 100000.00", got)
	}
	if _, err := e.svc.SetTarget(as(admin), march); code(err) != crm.ECONFLICT {
		t.Fatalf("a target set from a stale version: %v, want CONFLICT", err)
	}

	// Hand-computed Q1 for sales-1: 3 customers won (Beta, Alpha, Delta),
	// 40000 + 100000 + 9000.50 = 149000.50 booked, 20000 collected, a
	// margin of 10000 + 5000.25 = 15000.25; targets 3 customers, 200000,
	// 50000, 20000: attainment 100, 74.5 (74.50025), 40, 75 (75.00125).
	// sales-2 won nothing in Q1 (Gamma came in May) against 80000.
	// mgr-1 and sales-leaver are in north with no target and no sales.
	q1 := performanceLines(t, e, manager, "north", "2026-Q1")
	wantQ1 := map[string]string{
		s1:      "3 149000.50 20000.00 15000.25 | 3 200000.00 50000.00 20000.00 | 100 74.5 40 75",
		s2:      "0 0.00 0.00 0.00 | 0 80000.00 0.00 0.00 | - 0 - -",
		"total": "3 149000.50 20000.00 15000.25 | 3 280000.00 50000.00 20000.00 | 100 53.2 40 75",
	}
	for id, line := range wantQ1 {
		if q1[id] != line {
			t.Errorf("Q1 %s: %q, want %q", id, q1[id], line)
		}
	}
	if q1[manager.ID] != "0 0.00 0.00 0.00 | 0 0.00 0.00 0.00 | - - - -" {
		t.Errorf("Q1 of the manager, who sold nothing: %q", q1[manager.ID])
	}
	// sales-1 reads their own row only; May is sales-2's customer.
	if own := performanceLines(t, e, sales1, "north", "2026-Q1"); len(own) != 2 || own[s1] != wantQ1[s1] {
		t.Fatalf("sales-1's own performance %v, want their row only", own)
	}
	if may := performanceLines(t, e, admin, "north", "2026-05"); !strings.HasPrefix(may[s2], "1 0.00 0.00 0.00 |") {
		t.Fatalf("sales-2 in May %q, want Gamma won", may[s2])
	}

	// Who may do what.
	for _, c := range []struct {
		name string
		do   func() error
		want string
	}{
		{"a salesperson setting a target", func() error {
			_, err := e.svc.SetTarget(as(sales1), crm.TargetInput{Team: "north", UserID: s1, Month: "2026-04"})
			return err
		}, crm.EFORBIDDEN},
		{"another team's manager setting one", func() error {
			_, err := e.svc.SetTarget(as(managerSouth), crm.TargetInput{Team: "north", UserID: s1, Month: "2026-04"})
			return err
		}, crm.EFORBIDDEN},
		{"a target for someone outside the team", func() error {
			_, err := e.svc.SetTarget(as(manager), crm.TargetInput{Team: "north", UserID: salesSouth.ID, Month: "2026-04"})
			return err
		}, crm.EINVALID},
		{"another team's manager reading the performance", func() error {
			_, err := e.svc.SalesPerformance(as(managerSouth), "north", "2026-Q1", "")
			return err
		}, crm.EFORBIDDEN},
		{"a period that is none", func() error {
			_, err := e.svc.SalesPerformance(as(manager), "north", "2026-Q5", "")
			return err
		}, crm.EINVALID},
	} {
		if err := c.do(); code(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}

	audit, err := e.svc.AuditLog(as(admin), crm.AuditFilter{Day: time.Now().UTC(), Actor: manager.ID}, crm.PageRequest{First: 50})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(audit.Items, func(a *crm.AuditEntry) bool {
		return slices.ContainsFunc(a.Changes, func(c crm.AuditChange) bool {
			return c.Entity == "target" && c.ID == "north/2026-03/"+s1 && c.Action == crm.AuditUpdate
		})
	}) {
		t.Errorf("no audit entry records the correction of sales-1's March target")
	}
	mustHoldInvariants(t, e)
}
