package demo_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/demo"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/stream/streamtest"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }

// The demo's year is replayed through the service on the demo clock: the
// grading policy, not the seed, grades the customers, the profiles still
// give every level and every stage, and the history holds together over
// time as a real book's would.
func TestSeedTellsAConsistentYear(t *testing.T) {
	db, table := ddbtest.Client(t), ddbtest.NewTable(t, "CrmTable")
	// As make run sets them up: the service and the store's audit entries
	// on the demo's clock.
	clock := &demo.Clock{}
	store := dynamo.New(db, table, []byte(strings.Repeat("k", 32))).UseClock(clock.Now)
	svc := crm.NewService(store)
	svc.Now = clock.Now
	consumer := streamtest.New(t, db, table, store, svc)
	ctx := crm.NewContextWithUser(context.Background(), &demo.Users[0])
	settle := func(context.Context) error { consumer.Drain(t); return nil }
	now := time.Now().UTC()
	if err := demo.Seed(ctx, svc, demo.Options{Customers: 40, Seed: 2026, Now: now, Clock: clock, Settle: settle}); err != nil {
		t.Fatal(err)
	}
	if got := clock.Now(); got.Before(now) {
		t.Fatalf("the clock still replays %s after the seed", got)
	}
	levels := map[string]int{}
	pool := map[string]int{}
	tiers := map[crm.ValueTier]int{}
	stages := map[crm.Stage]int{}
	months := map[time.Month]bool{}
	channels := map[crm.Channel]int{}
	cases := map[crm.CaseStatus]int{}
	gradedBefore, createdBefore, declineSuggested := 0, 0, 0
	sixtyDaysAgo := now.AddDate(0, 0, -60)
	takenBack := map[string]crm.OwnerChange{}
	createdAt, loggedAt := map[string]time.Time{}, map[string]time.Time{}
	err := store.EachCustomer(ctx, func(c *crm.Customer) error {
		if h := c.LastHandover; h != nil && h.To == "" && h.By == crm.SystemUserID {
			takenBack[c.ID] = *h
		}
		createdAt[c.ID] = c.CreatedAt
		levels[c.Grade.Level]++
		tiers[c.ValueTier]++
		stages[c.Stage]++
		months[c.CreatedAt.Month()] = true
		if c.InPool() {
			pool[c.Grade.Level]++
		}
		// Stages agree with the activity (seed 001's lifecycle).
		switch quiet := now.Sub(c.LastContactAt()); {
		case c.Stage == crm.StageStability && c.Transactions.Count == 0,
			c.Stage == crm.StageDecline && quiet < 60*24*time.Hour,
			c.Stage == crm.StageExploration && c.Transactions.Count > 0,
			c.Stage == crm.StageFormation && c.InteractionCount < 3:
			t.Errorf("%s is in %s, quiet for %s, with %d deals and %d interactions", c.Name, c.Stage, quiet.Round(time.Hour),
				c.Transactions.Count, c.InteractionCount)
		}
		if sg := crm.SuggestStage(c, now, crm.DefaultDeclineAfter); sg != nil && sg.Stage == crm.StageDecline && !c.InPool() {
			declineSuggested++
		}
		if c.Grade.Source == crm.GradeManual {
			t.Errorf("%s was graded by hand", c.Name)
		}
		if c.CreatedAt.Before(now.AddDate(-1, 0, -1)) || c.CreatedAt.After(now) {
			t.Errorf("%s created %s, outside the demo's year", c.Name, c.CreatedAt)
		}
		its, err := svc.Interactions(ctx, c.ID, crm.TimeRange{}, crm.PageRequest{First: 100})
		if err != nil {
			return err
		}
		for _, it := range its.Items {
			channels[it.Channel]++
			loggedAt[it.ID] = it.CreatedAt
			if it.OccurredAt.Before(c.CreatedAt) || it.OccurredAt.After(now) {
				t.Errorf("%s: %s on %s, but the customer was created on %s", c.Name, it.Type, it.OccurredAt, c.CreatedAt)
			}
		}
		cs, err := svc.Cases(ctx, c.ID, crm.PageRequest{First: 100})
		if err != nil {
			return err
		}
		for _, k := range cs.Items {
			cases[k.Status]++
			if k.Status.IsOpen() && k.DueAt.Before(now) {
				cases["OVERDUE"]++
			}
		}
		if c.CreatedAt.Before(sixtyDaysAgo) {
			createdBefore++
			if g, err := svc.GradeAt(ctx, c.ID, sixtyDaysAgo); err == nil && g != nil {
				gradedBefore++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("levels %v pool %v stages %v months %d channels %v cases %v graded %d/%d tiers %v", levels, pool, stages, len(months), channels, cases, gradedBefore, createdBefore, tiers)
	for _, l := range crm.DefaultGradeLevels {
		if levels[l.Code] == 0 {
			t.Errorf("no demo customer of level %s (levels %v)", l.Code, levels)
		}
	}
	for _, st := range crm.Stages {
		if stages[st] == 0 {
			t.Errorf("no demo customer in stage %s (stages %v)", st, stages)
		}
	}
	if tiers[crm.TierKey] == 0 || tiers[""] != 0 {
		t.Errorf("value tiers %v: every customer should be ranked, one KEY at least", tiers)
	}
	// Customers arrive through the year; gradeAt answers for those there
	// 60 days ago; the pool holds mostly the never contacted and the
	// unclassified (seed 000's G and F); phone and visits far outnumber
	// fax; cases were worked to their close, and some stand open.
	if len(months) < 6 {
		t.Errorf("customers created in %d months of the year, want them spread", len(months))
	}
	if createdBefore == 0 || gradedBefore != createdBefore {
		t.Errorf("gradeAt 60 days ago answers for %d of the %d customers there then", gradedBefore, createdBefore)
	}
	inPool := 0
	for _, n := range pool {
		inPool += n
	}
	if inPool == 0 || 2*(pool["G"]+pool["F"]) <= inPool {
		t.Errorf("the pool holds %v, want mostly G and F", pool)
	}
	if phone := channels[crm.ChannelPhone] + channels[crm.ChannelVisit]; phone < 5*channels[crm.ChannelFax] || phone == 0 {
		t.Errorf("channels %v: phone and visits should far outnumber fax", channels)
	}
	if declineSuggested == 0 {
		t.Error("no owned customer's data suggests decline for its owner to confirm")
	}
	if cases[crm.CaseClosed] == 0 {
		t.Errorf("cases %v: some should have been worked to their close", cases)
	}
	// The pool's take-backs are the job's, and their audit entries say so,
	// dated when the job took the customer back, not when the seed ran:
	// at the replayed moment, or, for the job run once the replay is over,
	// on the wall clock, from when the service stamped the take-back.
	end := time.Now()
	logs := map[string][]*crm.AuditEntry{}
	for id := range createdAt {
		logs[id] = auditOf(ctx, t, svc, id)
	}
	if len(takenBack) == 0 {
		t.Error("the pool took no customer back")
	}
	for id, h := range takenBack {
		if !slices.ContainsFunc(logs[id], func(e *crm.AuditEntry) bool {
			if h.At.After(now) {
				return e.Operation == "job:pool-take-back" && !e.At.Before(h.At) && !e.At.After(end)
			}
			return e.Operation == "job:pool-take-back" && e.At.Equal(h.At)
		}) {
			t.Errorf("%s was taken back on %s, and its audit log has no job:pool-take-back entry of that moment", id, h.At)
		}
	}
	// Every audit entry of a customer is dated within its history: from
	// its creation, which the first records, to the jobs run once the
	// replay is over; a replayed call's, when it was logged.
	for id, created := range createdAt {
		entries := logs[id]
		if len(entries) == 0 {
			t.Errorf("%s has no audit entry", id)
			continue
		}
		// The replay holds its clock through a step, so the entries of a
		// step share their moment, in no given order.
		if !slices.ContainsFunc(entries, func(e *crm.AuditEntry) bool {
			return e.At.Equal(created) && slices.ContainsFunc(e.Changes, func(c crm.AuditChange) bool {
				return c.Entity == "customer" && c.ID == id && c.Action == crm.AuditCreate
			})
		}) {
			t.Errorf("%s was created on %s, and no audit entry of that moment records it", id, created)
		}
		for _, e := range entries {
			if e.Operation == "" {
				t.Errorf("%s: audit entry %s names no operation: %+v", id, e.ID, e)
			}
			if e.At.Before(created) || e.At.After(end) {
				t.Errorf("%s: audit entry %s (%s) dated %s, outside its history (%s to %s)", id, e.ID, e.Operation, e.At, created, end)
			}
			for _, c := range e.Changes {
				if at, ok := loggedAt[c.ID]; ok && c.Entity == "interaction" && c.Action == crm.AuditCreate && !at.After(now) && !e.At.Equal(at) {
					t.Errorf("%s: interaction %s logged on %s, audited on %s", id, c.ID, at, e.At)
				}
			}
		}
	}

	// Tasks are their customers' owners', on what their latest contact
	// calls for, and show on the owners' agendas.
	tasks := 0
	for _, owner := range []string{"sales-li", "sales-zhao", "sales-liu"} {
		page, err := svc.TaskQueue(ctx, owner, nil, crm.PageRequest{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Items {
			tasks++
			c, err := store.Customer(ctx, k.CustomerID)
			if err != nil || c.OwnerID != owner || k.Title == "" {
				t.Errorf("task %+v of %s on %+v (%v)", k, owner, c, err)
			}
		}
	}
	if tasks == 0 {
		t.Error("the demo has no tasks")
	}

	// sales-li's leads of the last day wait on sales-zhao's agenda: two,
	// or one a customer of sales-li's still to be won, when a small book
	// gives them fewer.
	mine, err := svc.Customers(crm.NewContextWithUser(ctx, &demo.Users[3]), crm.CustomerFilter{OwnerID: "sales-li"}, crm.PageRequest{First: 50})
	if err != nil {
		t.Fatal(err)
	}
	toWin := 0
	for _, c := range mine.Items {
		if !strings.Contains("OVG", c.Grade.Level) && c.Status == crm.StatusActive {
			toWin++
		}
	}
	agenda, err := svc.Agenda(crm.NewContextWithUser(ctx, &demo.Users[4]), time.Time{}, "")
	if err != nil {
		t.Fatal(err)
	}
	var leads []string
	for _, it := range agenda.Items {
		if it.Kind == crm.AgendaLead && it.Lead.QualifiedBy == "sales-li" && it.Lead.Status == crm.LeadHanded && it.Customer != nil {
			leads = append(leads, it.Lead.Need)
		}
	}
	if want := min(2, toWin); len(leads) != want {
		t.Errorf("sales-zhao's agenda holds the leads %q, want %d of sales-li's (%d customers of theirs still to be won)", leads, want, toWin)
	}

	// The north manager's pipeline by stage is what its salespeople's open
	// deals add up to, and it holds won and lost deals too.
	north, err := svc.PipelineAnalytics(crm.NewContextWithUser(ctx, &demo.Users[1]), crm.PipelineQuery{Team: "north"})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]int{}
	sums := map[string]crm.Money{}
	for _, seller := range []string{"sales-li", "sales-zhao"} {
		page, err := svc.OpenOpportunities(ctx, seller, crm.PageRequest{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Items {
			listed[o.Stage]++
			sums[o.Stage] += o.Amount
		}
	}
	for _, st := range north.Stages {
		var amount crm.Money
		for _, a := range st.Amounts {
			amount += a.Amount
		}
		if st.Count != listed[st.Stage] || amount != sums[st.Stage] {
			t.Errorf("north's %s: %d deals of %s counted, %d of %s listed", st.Stage, st.Count, amount, listed[st.Stage], sums[st.Stage])
		}
	}
	if north.Open.Count == 0 || north.Won == 0 || north.Lost == 0 {
		t.Errorf("north's demo pipeline: %d open, %d won, %d lost; want some of each", north.Open.Count, north.Won, north.Lost)
	}

	// The won deals' contracts are paid, some late: the receivables and
	// the revenue are what the contracts add up to.
	var outstanding, collected, booked crm.Money
	late := 0
	err = store.EachCustomer(ctx, func(c *crm.Customer) error {
		page, err := svc.CustomerContracts(ctx, c.ID, crm.PageRequest{First: 100})
		if err != nil {
			return err
		}
		for _, k := range page.Items {
			outstanding, collected, booked = outstanding+k.Outstanding(), collected+k.Paid(), booked+k.Amount
			for _, in := range k.Schedule() {
				if (in.PaidOn != nil && in.PaidOn.After(in.DueOn)) || (in.Outstanding > 0 && crm.DaysOverdue(in.DueOn, now) > 0) {
					late++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if booked == 0 || collected == 0 || outstanding == 0 || late == 0 {
		t.Errorf("the demo's contracts book %s, collected %s, %s outstanding, %d instalments late; want some of each", booked, collected, outstanding, late)
	}
	aging, err := svc.ReceivablesAging(ctx, crm.PipelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var aged crm.Money
	for _, c := range aging.Currencies {
		aged += c.Total
	}
	revenue, err := svc.Revenue(ctx, crm.PipelineQuery{}, now.AddDate(0, -13, 0), now)
	if err != nil {
		t.Fatal(err)
	}
	var monthsBooked, monthsCollected crm.Money
	for _, m := range revenue {
		for _, a := range m.Booked {
			monthsBooked += a.Amount
		}
		for _, a := range m.Collected {
			monthsCollected += a.Amount
		}
	}
	if aged != outstanding || monthsBooked != booked || monthsCollected != collected {
		t.Errorf("the counters say %s outstanding, %s booked, %s collected; the contracts %s, %s, %s",
			aged, monthsBooked, monthsCollected, outstanding, booked, collected)
	}

	// The north manager's forecast holds every open deal of the pipeline,
	// overdue, by month or later; the year's performance sets what the
	// salespeople did against the targets their managers set each month.
	managerCtx := crm.NewContextWithUser(ctx, &demo.Users[1])
	fc, err := svc.SalesForecast(managerCtx, crm.PipelineQuery{Team: "north"}, 6)
	if err != nil {
		t.Fatal(err)
	}
	forecast := map[string]crm.Money{}
	count := fc.Overdue.Count + fc.Later.Count
	for _, m := range append([]crm.ForecastMonth{fc.Overdue, fc.Later}, fc.Months...) {
		for _, a := range m.Amounts {
			forecast[a.Currency] += a.Amount
		}
	}
	for _, m := range fc.Months {
		count += m.Count
	}
	for _, a := range north.Open.Amounts {
		if forecast[a.Currency] != a.Amount {
			t.Errorf("north's forecast holds %s %s, its open pipeline %s", a.Currency, forecast[a.Currency], a.Amount)
		}
	}
	if count != north.Open.Count {
		t.Errorf("north's forecast holds %d deals, its open pipeline %d", count, north.Open.Count)
	}
	perf, err := svc.SalesPerformance(managerCtx, "north", now.Format("2006"), "")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]crm.PerformanceRow{}
	for _, r := range perf.Rows {
		rows[r.UserID] = r
	}
	for _, id := range []string{"sales-li", "sales-zhao"} {
		if r := rows[id]; r.TargetMonths != int(now.Month()) || r.Target.Revenue == 0 {
			t.Errorf("%s's targets this year: %d months, %s; want one for each month so far", id, r.TargetMonths, r.Target.Revenue)
		}
	}
	if perf.Total.Actual.Revenue == 0 || perf.Total.Actual.Margin == 0 || perf.Total.Attainment.Revenue == nil {
		t.Errorf("north's performance this year %+v: want revenue and margin against targets", perf.Total)
	}
}

// auditOf is a customer's whole audit log, newest first.
func auditOf(ctx context.Context, t *testing.T, svc *crm.Service, customerID string) []*crm.AuditEntry {
	t.Helper()
	var out []*crm.AuditEntry
	for p := (crm.PageRequest{First: 100}); ; {
		page, err := svc.AuditLog(ctx, crm.AuditFilter{CustomerID: customerID}, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if !page.HasNext {
			return out
		}
		p.After = page.EndCursor
	}
}
