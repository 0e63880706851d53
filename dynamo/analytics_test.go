package dynamo_test

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

// tickingClock advances by a millisecond on every reading, so that every
// write of a script happens at its own instant, and by hand between steps.
type tickingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tickingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *tickingClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	sales3       = &crm.User{ID: "sales-3", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"south"}}
	managerSouth = &crm.User{ID: "mgr-2", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"south"}}
)

// span is who owned a customer, in which team, from a time on: the script's
// own record of assignments.
type span struct {
	from        time.Time
	owner, team string
}

// script drives writes through the service and remembers whom each
// customer belonged to when. Before each write it lets the stream apply
// the ones before (as the seconds between a user's actions do), so that
// each sees the grade its predecessors earned.
type script struct {
	t      *testing.T
	e      *env
	clk    *tickingClock
	owners map[string][]span
	ids    []string
	// id names customers by the first word of their name, lower case.
	id map[string]string
}

func (s *script) create(u *crm.User, name, owner, team, grade string) *crm.Customer {
	s.t.Helper()
	c := mustCreate(s.t, s.e, u, crm.CustomerInput{Name: name, OwnerID: &owner, Team: team, Region: "north", Grade: grade})
	s.owners[c.ID] = []span{{from: c.CreatedAt, owner: owner, team: team}}
	s.ids = append(s.ids, c.ID)
	s.id[strings.ToLower(strings.Fields(name)[0])] = c.ID
	return c
}

func (s *script) reassign(id, owner, team string) {
	s.t.Helper()
	s.clk.Advance(time.Minute)
	c := mustCustomer(s.t, s.e, id)
	if _, err := s.e.svc.UpdateCustomer(as(admin), id, c.Version, crm.CustomerUpdate{OwnerID: &owner, Team: &team}); err != nil {
		s.t.Fatal(err)
	}
	s.owners[id] = append(s.owners[id], span{from: mustCustomer(s.t, s.e, id).UpdatedAt, owner: owner, team: team})
	s.clk.Advance(time.Minute)
}

// at is whom customer id belonged to at t.
func (s *script) at(id string, t time.Time) span {
	spans := s.owners[id]
	cur := spans[0]
	for _, sp := range spans {
		if !sp.from.After(t) {
			cur = sp
		}
	}
	return cur
}

func (s *script) log(u *crm.User, id string, ch crm.Channel, typ crm.InteractionType, mods ...func(*crm.InteractionInput)) *crm.Interaction {
	s.t.Helper()
	s.e.drain(s.t)
	in := crm.InteractionInput{CustomerID: id, Channel: ch, Type: typ, Subject: string(typ)}
	for _, m := range mods {
		m(&in)
	}
	return mustLog(s.t, s.e, u, in)
}

func (s *script) move(u *crm.User, customerID, caseID string, m crm.CaseMove) {
	s.t.Helper()
	s.e.drain(s.t)
	c, err := s.e.store.Case(as(admin), customerID, caseID)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.e.svc.MoveCase(as(u), customerID, caseID, c.Version, m); err != nil {
		s.t.Fatalf("move case to %s: %v", m.To, err)
	}
}

func (s *script) stage(id string, to crm.Stage) {
	s.t.Helper()
	s.e.drain(s.t)
	if _, err := s.e.svc.ChangeStage(as(admin), id, to, "script: "+string(to), nil); err != nil {
		s.t.Fatal(err)
	}
}

func (s *script) evaluate(u *crm.User, id string, tpl *crm.Template, v, recommend float64) {
	s.t.Helper()
	s.e.drain(s.t)
	if _, err := s.e.svc.SubmitEvaluation(as(u), crm.EvaluationInput{CustomerID: id, TemplateID: tpl.ID,
		Kind: crm.EvalCustomerSurvey, Scores: reviewScores(v, recommend)}); err != nil {
		s.t.Fatal(err)
	}
}

// all reads every page of a customer's list.
func all[T any](t *testing.T, list func(crm.PageRequest) (*crm.Page[T], error)) []T {
	t.Helper()
	var out []T
	for p := (crm.PageRequest{First: crm.MaxPageSize}); ; {
		page, err := list(p)
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

// expected holds figures computed from scratch, by scope, granularity and
// bucket.
type expected map[crm.Scope]map[crm.Granularity]map[string]*crm.Figures

func emptyFigures() *crm.Figures {
	return &crm.Figures{Customers: &crm.CustomerFlow{},
		Interactions: &crm.InteractionFigures{ByChannel: map[crm.Channel]int{}, ByOwner: map[string]int{}},
		Cases:        &crm.CaseFigures{},
		Evaluations:  &crm.EvaluationFigures{Dimensions: map[crm.Dimension]crm.Mean{}, ByGrade: map[string]*crm.EvaluationFigures{}}}
}

// scopesOf are the scopes an event of a customer belonging to sp counts in.
func scopesOf(sp span) []crm.Scope {
	own := crm.Scope{OwnerID: sp.owner, Pool: sp.owner == ""}
	out := []crm.Scope{{}, own}
	if sp.team != "" {
		out = append(out, crm.Scope{Team: sp.team}, crm.Scope{Team: sp.team, OwnerID: own.OwnerID, Pool: own.Pool})
	}
	return out
}

func (x expected) add(sp span, at time.Time, f func(fig *crm.Figures, sc crm.Scope)) {
	for _, sc := range scopesOf(sp) {
		for _, g := range crm.Granularities {
			if x[sc] == nil {
				x[sc] = map[crm.Granularity]map[string]*crm.Figures{}
			}
			if x[sc][g] == nil {
				x[sc][g] = map[string]*crm.Figures{}
			}
			b := crm.BucketKey(at, g)
			if x[sc][g][b] == nil {
				x[sc][g][b] = emptyFigures()
			}
			f(x[sc][g][b], sc)
		}
	}
}

func addEvaluation(e *crm.EvaluationFigures, ev *crm.Evaluation) {
	e.Overall.Count++
	e.Overall.Sum += ev.Overall
	for _, d := range ev.Dimensions {
		m := e.Dimensions[d.Dimension]
		m.Count++
		m.Sum += d.Score
		e.Dimensions[d.Dimension] = m
	}
	if ev.NPS != nil {
		switch {
		case *ev.NPS >= 9:
			e.Promoters++
		case *ev.NPS >= 7:
			e.Passives++
		default:
			e.Detractors++
		}
	}
}

// fromScratch recomputes every figure from the stored records: profiles,
// interactions, cases with their recorded steps, evaluations, stage and
// grade histories, attributed with the script's record of owners.
func (s *script) fromScratch() expected {
	t, svc, ctx := s.t, s.e.svc, as(admin)
	x := expected{}
	for _, id := range s.ids {
		c := mustCustomer(t, s.e, id)
		x.add(s.at(id, c.CreatedAt), c.CreatedAt, func(f *crm.Figures, _ crm.Scope) { f.Customers.Gained++ })

		for _, sc := range all(t, func(p crm.PageRequest) (*crm.Page[*crm.StageChange], error) { return svc.StageHistory(ctx, id, p) }) {
			switch sc.To {
			case crm.StageLost:
				x.add(s.at(id, sc.At), sc.At, func(f *crm.Figures, _ crm.Scope) { f.Customers.Lost++ })
			case crm.StageWonBack:
				x.add(s.at(id, sc.At), sc.At, func(f *crm.Figures, _ crm.Scope) { f.Customers.WonBack++ })
			}
		}

		for _, it := range all(t, func(p crm.PageRequest) (*crm.Page[*crm.Interaction], error) {
			return svc.Interactions(ctx, id, crm.TimeRange{}, p)
		}) {
			sp := s.at(id, it.CreatedAt)
			x.add(sp, it.OccurredAt, func(f *crm.Figures, sc crm.Scope) {
				f.Interactions.Total++
				f.Interactions.ByChannel[it.Channel]++
				if sc.OwnerID == "" && !sc.Pool {
					f.Interactions.ByOwner[sp.owner]++
				}
			})
		}

		for _, cs := range all(t, func(p crm.PageRequest) (*crm.Page[*crm.Case], error) { return svc.Cases(ctx, id, p) }) {
			x.add(s.at(id, cs.OpenedAt), cs.OpenedAt, func(f *crm.Figures, _ crm.Scope) { f.Cases.Opened++ })
			// The deadline in force: the response's until the first step
			// out of OPEN, then the resolution's (the script resolves no
			// case after reopening it).
			deadline := cs.RespondBy
			var escalatedAt *time.Time
			for _, tr := range cs.Transitions[1:] {
				sp := s.at(id, tr.At)
				if tr.From == tr.To {
					if tr.By == crm.SystemUserID {
						escalatedAt = &tr.At
						x.add(sp, tr.At, func(f *crm.Figures, _ crm.Scope) { f.Cases.Escalated++ })
					}
					continue
				}
				if tr.From == crm.CaseOpen {
					// An escalation before the first response says the
					// response deadline passed (a reopened case keeps only
					// its new deadlines).
					late := tr.At.After(deadline) || escalatedAt != nil
					x.add(sp, tr.At, func(f *crm.Figures, _ crm.Scope) {
						f.Cases.Responded++
						f.Cases.ResponseTime += tr.At.Sub(cs.OpenedAt)
						if late {
							f.Cases.RespondedLate++
						}
					})
					deadline = cs.ResolveBy
				}
				late := tr.At.After(deadline) || (escalatedAt != nil && !escalatedAt.Before(deadline))
				x.add(sp, tr.At, func(f *crm.Figures, _ crm.Scope) {
					switch tr.To {
					case crm.CaseResolved:
						f.Cases.Resolved++
						f.Cases.ResolutionTime += tr.At.Sub(cs.OpenedAt)
						if late {
							f.Cases.ResolvedLate++
						}
					case crm.CaseClosed:
						f.Cases.Closed++
						f.Cases.SatisfactionCount++
						f.Cases.SatisfactionSum += float64(*cs.Satisfaction)
					case crm.CaseRejected:
						f.Cases.Rejected++
					case crm.CasePlanRejected:
						f.Cases.PlansRejected++
					case crm.CaseWithdrawn:
						f.Cases.Withdrawn++
					case crm.CaseReopened:
						f.Cases.Reopened++
					}
				})
			}
		}

		grades := all(t, func(p crm.PageRequest) (*crm.Page[*crm.GradeChange], error) { return svc.GradeHistory(ctx, id, p) })
		gradeAt := func(at time.Time) string {
			for _, g := range grades { // newest first
				if g.At.Before(at) {
					return g.To
				}
			}
			// Before its first change, the grade it was created with.
			g, err := svc.GradeAt(ctx, id, at)
			if err != nil || g == nil {
				t.Fatalf("customer %s had no grade at %s: %v", id, at, err)
			}
			return g.To
		}
		for _, ev := range all(t, func(p crm.PageRequest) (*crm.Page[*crm.Evaluation], error) { return svc.Evaluations(ctx, id, p) }) {
			grade := gradeAt(ev.EvaluatedAt)
			x.add(s.at(id, ev.EvaluatedAt), ev.EvaluatedAt, func(f *crm.Figures, _ crm.Scope) {
				addEvaluation(f.Evaluations, ev)
				if f.Evaluations.ByGrade[grade] == nil {
					f.Evaluations.ByGrade[grade] = &crm.EvaluationFigures{Dimensions: map[crm.Dimension]crm.Mean{}}
				}
				addEvaluation(f.Evaluations.ByGrade[grade], ev)
			})
		}
	}
	return x
}

// canon prints figures so that equal figures print equally: maps sorted,
// sums to two decimals (they are sums of two-decimal scores).
func canon(f crm.Figures) string {
	var b strings.Builder
	if f.Customers != nil {
		fmt.Fprintf(&b, "customers %+v\n", *f.Customers)
	}
	if i := f.Interactions; i != nil {
		fmt.Fprintf(&b, "interactions %d by channel %v by owner %v\n", i.Total, i.ByChannel, i.ByOwner)
	}
	if c := f.Cases; c != nil {
		fmt.Fprintf(&b, "cases %+v\n", *c)
	}
	if e := f.Evaluations; e != nil {
		canonEvaluations(&b, "", e)
	}
	return b.String()
}

func canonEvaluations(b *strings.Builder, prefix string, e *crm.EvaluationFigures) {
	fmt.Fprintf(b, "%sevaluations %d sum %.2f nps %d/%d/%d\n", prefix, e.Overall.Count, e.Overall.Sum, e.Promoters, e.Passives, e.Detractors)
	for _, d := range slices.Sorted(maps.Keys(e.Dimensions)) {
		fmt.Fprintf(b, "%s  %s %d sum %.2f\n", prefix, d, e.Dimensions[d].Count, e.Dimensions[d].Sum)
	}
	for _, g := range slices.Sorted(maps.Keys(e.ByGrade)) {
		canonEvaluations(b, prefix+"grade "+g+": ", e.ByGrade[g])
	}
}

// runScript writes, through the service, customers in two teams and the
// pool; interactions on several channels and owners, one backdated;
// stage changes to DECLINE, LOST and WON_BACK; cases resolved in time,
// escalated for a late response, re-planned and resolved, withdrawn and reopened; evaluations with NPS
// answers; a reassignment; follow-ups. It spans three days and two months.
func runScript(t *testing.T) *script {
	e := mustEnv(t)
	clk := &tickingClock{t: time.Date(2026, 1, 30, 8, 0, 0, 0, time.UTC)}
	e.svc.Now = clk.Now
	s := &script{t: t, e: e, clk: clk, owners: map[string][]span{}, id: map[string]string{}}
	tpl := relationshipTemplate(t, e)
	// The default rules keep a buyer O whatever its evaluations (seed 000);
	// this script's policy lets a glowing evaluation make a buyer A, so an
	// evaluation moves a grade under the analytics' per-grade counts.
	p := crm.DefaultGradingPolicy()
	in := crm.GradingPolicyInput{Levels: p.Levels, Value: p.Value, Tiers: p.Tiers, ManualHoldDays: p.ManualHoldDays,
		Rules: append([]crm.GradingRule{{Name: "praised-buyer", Level: "A", Conditions: []crm.Condition{
			{Metric: crm.MetricTransactionCount, Op: crm.CmpGTE, Value: 1}, {Metric: crm.MetricSatisfaction, Op: crm.CmpGTE, Value: 80}}}},
			p.Rules...)}
	if _, err := e.svc.UpdateGradingPolicy(as(admin), in, 0); err != nil {
		t.Fatal(err)
	}

	// Day 1, 30 January.
	c1 := s.create(admin, "Acme Power", sales1.ID, "north", "C")
	c2 := s.create(admin, "Borealis Grid", sales2.ID, "north", "B")
	c3 := s.create(admin, "Cathay Steel", sales3.ID, "south", "A")
	c4 := s.create(admin, "Delta Pool North", "", "north", "G")
	c5 := s.create(admin, "Eastern Pool", "", "", "G")
	c6 := s.create(admin, "Fjord Telecom", sales1.ID, "north", "D")
	c7 := s.create(admin, "Gobi Mining", sales3.ID, "south", "E") // never contacted
	s.log(sales1, c1.ID, crm.ChannelPhone, crm.TypeCall)
	s.log(sales1, c1.ID, crm.ChannelEmail, crm.TypeNote)
	s.log(sales2, c2.ID, crm.ChannelVisit, crm.TypeVisit)
	s.log(sales3, c3.ID, crm.ChannelPhone, crm.TypeCall)
	s.log(sales3, c3.ID, crm.ChannelPhone, crm.TypeCall, func(in *crm.InteractionInput) { // backdated ten days
		in.OccurredAt = ptrTo(clk.Now().AddDate(0, 0, -10))
	})
	s.log(admin, c4.ID, crm.ChannelPhone, crm.TypeCall, func(in *crm.InteractionInput) {
		in.NextFollowUpAt = ptrTo(time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC))
	})
	s.log(admin, c5.ID, crm.ChannelWeb, crm.TypeInquiry)
	s.log(sales1, c6.ID, crm.ChannelMeeting, crm.TypeVisit)
	caseA := s.log(sales1, c1.ID, crm.ChannelCallCenter, crm.TypeComplaint)
	caseB := s.log(sales3, c3.ID, crm.ChannelCallCenter, crm.TypeFaultReport)
	caseC := s.log(sales2, c2.ID, crm.ChannelEmail, crm.TypeServiceRequest)

	// Day 2, 31 January: case A resolved in time and closed; case B
	// escalated for a late first response, then its plan rejected,
	// re-planned and resolved within its resolution SLA (a late response
	// is not a late resolution); case C withdrawn by the customer, late
	// too, and reopened.
	clk.Advance(20 * time.Hour)
	for _, m := range []struct {
		u *crm.User
		m crm.CaseMove
	}{
		{sales1, crm.CaseMove{To: crm.CaseTriaged}},
		{sales1, crm.CaseMove{To: crm.CaseAssigned, AssignTo: sales1.ID}},
		{sales1, crm.CaseMove{To: crm.CaseProposed, Plan: "refund"}},
		{manager, crm.CaseMove{To: crm.CaseApproved}},
		{sales1, crm.CaseMove{To: crm.CaseResolved}},
		{sales1, crm.CaseMove{To: crm.CaseClosed, Satisfaction: ptrTo(4)}},
	} {
		s.move(m.u, c1.ID, caseA.ID, m.m)
	}
	if got, err := e.svc.EscalateOverdue(as(admin)); err != nil || !slices.Contains(got, caseB.ID) {
		t.Fatalf("escalated %v, %v; want case B among them", got, err)
	}
	// The admin proposes; another admin approves (separation of duties).
	for _, m := range []struct {
		u *crm.User
		m crm.CaseMove
	}{
		{admin, crm.CaseMove{To: crm.CaseTriaged}}, {admin, crm.CaseMove{To: crm.CaseAssigned, AssignTo: sales3.ID}},
		{admin, crm.CaseMove{To: crm.CaseProposed, Plan: "replace the meter"}},
		{admin2, crm.CaseMove{To: crm.CasePlanRejected, Note: "check the wiring first"}},
		{admin, crm.CaseMove{To: crm.CaseProposed, Plan: "check the wiring, then replace the meter"}},
		{admin2, crm.CaseMove{To: crm.CaseApproved}}, {admin, crm.CaseMove{To: crm.CaseResolved}},
	} {
		s.move(m.u, c3.ID, caseB.ID, m.m)
	}
	s.move(manager, c2.ID, caseC.ID, crm.CaseMove{To: crm.CaseWithdrawn, Note: "the customer found the invoice"})
	s.move(manager, c2.ID, caseC.ID, crm.CaseMove{To: crm.CaseReopened, Note: "the invoice was wrong after all"})
	s.stage(c2.ID, crm.StageDecline)
	s.stage(c3.ID, crm.StageDecline)
	s.stage(c3.ID, crm.StageLost)
	s.reassign(c6.ID, sales2.ID, "north") // c6's later events count for sales-2
	s.log(sales2, c6.ID, crm.ChannelPhone, crm.TypeCall)
	s.reassign(c7.ID, "", "south") // back to the pool, within its team

	// Day 3, 1 February: a new month.
	clk.Advance(24 * time.Hour)
	s.stage(c3.ID, crm.StageWonBack)
	s.evaluate(serviceNorth, c1.ID, tpl, 90, 10)
	s.evaluate(admin, c1.ID, tpl, 55, 6) // falls 35 points
	s.evaluate(serviceNorth, c2.ID, tpl, 70, 8)
	s.evaluate(admin, c4.ID, tpl, 75, 9)
	s.evaluate(serviceNorth, c6.ID, tpl, 40, 3)
	s.evaluate(admin, c6.ID, tpl, 35, 2)                           // falls 5 points
	c8 := s.create(sales1, "Harbin Foods", sales1.ID, "north", "") // graded by the policy's rules
	s.log(sales1, c8.ID, crm.ChannelSMS, crm.TypeNote)
	s.log(sales1, c8.ID, crm.ChannelVisit, crm.TypeTransaction, func(in *crm.InteractionInput) {
		in.Amount, in.Currency = ptrTo(1e6), "CNY"
	})
	s.evaluate(serviceNorth, c8.ID, tpl, 90, 9) // satisfaction 90: the grade moves from O to A
	if g := mustCustomer(t, e, c8.ID).Grade; g.Level == "O" || g.Source != crm.GradeEvaluation {
		t.Fatalf("the evaluation should regrade harbin from O: %+v", g)
	}
	s.log(sales2, c2.ID, crm.ChannelIM, crm.TypeCall, func(in *crm.InteractionInput) {
		in.NextFollowUpAt = ptrTo(time.Date(2026, 2, 1, 15, 0, 0, 0, time.UTC))
	})
	s.log(sales1, c1.ID, crm.ChannelPhone, crm.TypeCall, func(in *crm.InteractionInput) {
		in.NextFollowUpAt = ptrTo(time.Date(2026, 2, 5, 9, 0, 0, 0, time.UTC))
	})

	return s
}

// The analytics acceptance test: after a scripted set of writes, what the
// analytics report equals what is computed from scratch from the stored
// records, in every scope, bucket by bucket, by day and by month.
func TestAnalyticsAfterScriptedWritesEqualFiguresComputedFromScratch(t *testing.T) {
	s := runScript(t)
	e := s.e
	mustHoldInvariants(t, e)
	want := s.fromScratch()
	days := crm.Period{From: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), Granularity: crm.GranularityDay}
	months := crm.Period{From: days.From, To: days.To, Granularity: crm.GranularityMonth}
	scopes := slices.Collect(maps.Keys(want))
	scopes = append(scopes, crm.Scope{Team: "west"}, crm.Scope{OwnerID: "nobody"}) // nothing happened there
	if len(scopes) < 12 {
		t.Fatalf("the script touched only %d scopes", len(scopes))
	}
	for _, sc := range scopes {
		for _, p := range []crm.Period{days, months} {
			got, err := e.svc.Activity(as(admin), sc, p)
			if err != nil {
				t.Fatalf("%+v %s: %v", sc, p.Granularity, err)
			}
			total := emptyFigures()
			for _, b := range got.Buckets {
				w := want[sc][p.Granularity][b.Key]
				if w == nil {
					w = emptyFigures()
				}
				if canon(b.Figures) != canon(*w) {
					t.Errorf("%s %s %s:\n got %s\nwant %s", sc.Key(), p.Granularity, b.Key, canon(b.Figures), canon(*w))
				}
				delete(want[sc][p.Granularity], b.Key)
				sumInto(total, w)
			}
			if len(want[sc][p.Granularity]) > 0 {
				t.Errorf("%s %s: buckets outside the period: %v", sc.Key(), p.Granularity, slices.Collect(maps.Keys(want[sc][p.Granularity])))
			}
			if canon(got.Total) != canon(*total) {
				t.Errorf("%s %s total:\n got %s\nwant %s", sc.Key(), p.Granularity, canon(got.Total), canon(*total))
			}
		}
	}

	// Spot checks that the script did what it says, so the comparison above
	// is not comparing empty with empty.
	company := mustActivity(t, e, crm.Scope{}, months)
	tot := company.Total
	if tot.Customers.Gained != 8 || tot.Customers.Lost != 1 || tot.Customers.WonBack != 1 ||
		tot.Interactions.Total != 16 || tot.Interactions.ByChannel[crm.ChannelPhone] != 6 ||
		tot.Cases.Opened != 3 || tot.Cases.Resolved != 2 || tot.Cases.ResolvedLate != 0 || tot.Cases.Escalated < 1 ||
		tot.Cases.Closed != 1 || tot.Cases.Withdrawn != 1 || tot.Cases.PlansRejected != 1 || tot.Cases.Reopened != 1 ||
		tot.Cases.Responded != 3 || tot.Cases.RespondedLate != 2 ||
		tot.Evaluations.Overall.Count != 8 || tot.Evaluations.Promoters != 3 || tot.Evaluations.Passives != 1 || tot.Evaluations.Detractors != 3 ||
		tot.Evaluations.ByGrade["O"] == nil {
		t.Fatalf("script totals: %s", canon(tot))
	}
	if jan := company.Buckets[0]; jan.Key != "2026-01" || jan.Figures.Interactions.Total != 12 {
		t.Fatalf("January: %s %s", jan.Key, canon(jan.Figures))
	}
	if sales2Owned := mustActivity(t, e, crm.Scope{OwnerID: sales2.ID}, months).Total.Interactions.Total; sales2Owned != 4 {
		t.Fatalf("interactions on sales-2's customers (c6 after its reassignment included) = %d, want 4", sales2Owned)
	}
}

func mustActivity(t *testing.T, e *env, sc crm.Scope, p crm.Period) *crm.ActivityReport {
	t.Helper()
	r, err := e.svc.Activity(as(admin), sc, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sumInto adds the counts of o into f.
func sumInto(f, o *crm.Figures) {
	f.Customers.Gained += o.Customers.Gained
	f.Customers.Lost += o.Customers.Lost
	f.Customers.WonBack += o.Customers.WonBack
	f.Interactions.Total += o.Interactions.Total
	for k, v := range o.Interactions.ByChannel {
		f.Interactions.ByChannel[k] += v
	}
	for k, v := range o.Interactions.ByOwner {
		f.Interactions.ByOwner[k] += v
	}
	c, oc := f.Cases, o.Cases
	c.Opened, c.Resolved, c.ResolvedLate, c.Escalated = c.Opened+oc.Opened, c.Resolved+oc.Resolved, c.ResolvedLate+oc.ResolvedLate, c.Escalated+oc.Escalated
	c.Closed, c.Rejected, c.Reopened = c.Closed+oc.Closed, c.Rejected+oc.Rejected, c.Reopened+oc.Reopened
	c.PlansRejected, c.Withdrawn = c.PlansRejected+oc.PlansRejected, c.Withdrawn+oc.Withdrawn
	c.Responded, c.RespondedLate, c.ResponseTime = c.Responded+oc.Responded, c.RespondedLate+oc.RespondedLate, c.ResponseTime+oc.ResponseTime
	c.ResolutionTime += oc.ResolutionTime
	c.SatisfactionCount, c.SatisfactionSum = c.SatisfactionCount+oc.SatisfactionCount, c.SatisfactionSum+oc.SatisfactionSum
	sumEvaluations(f.Evaluations, o.Evaluations)
	for g, oe := range o.Evaluations.ByGrade {
		if f.Evaluations.ByGrade[g] == nil {
			f.Evaluations.ByGrade[g] = &crm.EvaluationFigures{Dimensions: map[crm.Dimension]crm.Mean{}}
		}
		sumEvaluations(f.Evaluations.ByGrade[g], oe)
	}
}

func sumEvaluations(e, o *crm.EvaluationFigures) {
	e.Overall.Count += o.Overall.Count
	e.Overall.Sum += o.Overall.Sum
	e.Promoters, e.Passives, e.Detractors = e.Promoters+o.Promoters, e.Passives+o.Passives, e.Detractors+o.Detractors
	for d, m := range o.Dimensions {
		cur := e.Dimensions[d]
		e.Dimensions[d] = crm.Mean{Count: cur.Count + m.Count, Sum: cur.Sum + m.Sum}
	}
}

func ptrTo[T any](v T) *T { return &v }

// nameOf is a customer's short name.
func (s *script) nameOf(id string) string {
	for name, cid := range s.id {
		if cid == id {
			return name
		}
	}
	return ""
}

// ids lists the customers of a page by their short names.
func (s *script) names(p *crm.Page[*crm.Customer]) []string {
	var out []string
	for _, c := range p.Items {
		for name, id := range s.id {
			if id == c.ID {
				out = append(out, name)
			}
		}
	}
	return out
}

// The watch lists (customers at risk, follow-ups due) come from
// indexes kept in the profile's transaction: each page is one Query and one
// BatchGetItem, and holds what the profiles say, in order, for whoever may
// read it.
func TestAtRiskAndFollowUpListsFollowTheProfiles(t *testing.T) {
	s := runScript(t)
	e := s.e
	profiles := map[string]*crm.Customer{}
	for _, id := range s.ids {
		profiles[id] = mustCustomer(t, e, id)
	}
	// NO_CONTACT, from the profiles: last contact (or creation) over a day
	// ago, longest silence first.
	cutoff := s.clk.Now().Add(-24 * time.Hour)
	var quiet []*crm.Customer
	for _, c := range profiles {
		if c.LastContactAt().Before(cutoff) {
			quiet = append(quiet, c)
		}
	}
	slices.SortFunc(quiet, func(a, b *crm.Customer) int {
		return cmp.Or(a.LastContactAt().Compare(b.LastContactAt()), strings.Compare(a.ID, b.ID))
	})
	quietNames := s.names(&crm.Page[*crm.Customer]{Items: quiet})
	quietIn := func(keep func(*crm.Customer) bool) []string {
		var out []*crm.Customer
		for _, c := range quiet {
			if keep(c) {
				out = append(out, c)
			}
		}
		return s.names(&crm.Page[*crm.Customer]{Items: out})
	}
	if len(quietNames) < 4 || !slices.Contains(quietNames, "gobi") {
		t.Fatalf("quiet customers %v: the never-contacted gobi and others expected", quietNames)
	}

	// DECLINE_SUGGESTED: of the quiet owned customers, those whose data
	// suggests decline (forming, stable or won back), with a day as the
	// silence it takes.
	e.svc.DeclineAfter = 24 * time.Hour
	suggested := quietIn(func(c *crm.Customer) bool {
		sg := crm.SuggestStage(c, s.clk.Now(), e.svc.DeclineAfter)
		return !c.InPool() && sg != nil && sg.Stage == crm.StageDecline
	})
	if len(suggested) == 0 || len(suggested) == len(quietNames) {
		t.Fatalf("decline suggested for %v of the quiet %v: want some, not all", suggested, quietNames)
	}

	feb6 := time.Date(2026, 2, 6, 0, 0, 0, 0, time.UTC)
	noContact := crm.RiskQuery{Reason: crm.RiskNoContact, QuietDays: 1}
	tests := []struct {
		name  string
		user  *crm.User
		scope crm.Scope
		list  func(u *crm.User, sc crm.Scope, p crm.PageRequest) (*crm.Page[*crm.Customer], error)
		want  []string
		code  string
	}{
		// Delta, in the pool, asked for a follow-up when it was called:
		// pool customers have no follow-up schedule.
		{"FollowUpsDueTodayAndOverdueSoonestFirst", admin, crm.Scope{}, followUps(e, nil), []string{"borealis"}, ""},
		{"ManagerSeesTheFollowUpsOfTheTeam", manager, crm.Scope{}, followUps(e, nil), []string{"borealis"}, ""},
		{"ManagerNarrowsToAnOwnerOfTheTeam", manager, crm.Scope{OwnerID: sales2.ID}, followUps(e, nil), []string{"borealis"}, ""},
		{"ThePoolOfTheTeamHasNoFollowUps", manager, crm.Scope{Pool: true}, followUps(e, nil), nil, ""},
		{"SalesSeeTheirOwnFollowUps", sales2, crm.Scope{}, followUps(e, nil), []string{"borealis"}, ""},
		{"FollowUpsLaterThisWeek", sales1, crm.Scope{}, followUps(e, &feb6), []string{"acme"}, ""},
		{"NoFollowUpDueForSales1Today", sales1, crm.Scope{}, followUps(e, nil), nil, ""},
		{"OtherTeamsFollowUpsAreNotTheManagers", managerSouth, crm.Scope{}, followUps(e, nil), nil, ""},
		{"NoContactLongestSilenceFirst", admin, crm.Scope{}, atRisk(e, noContact), quietNames, ""},
		{"NoContactInATeam", manager, crm.Scope{}, atRisk(e, noContact),
			quietIn(func(c *crm.Customer) bool { return c.Team == "north" }), ""},
		{"NoContactInThePool", sales3, crm.Scope{Pool: true}, atRisk(e, noContact),
			quietIn(func(c *crm.Customer) bool { return c.InPool() }), ""},
		{"NoContactOfOnesOwnCustomers", sales3, crm.Scope{}, atRisk(e, noContact),
			quietIn(func(c *crm.Customer) bool { return c.OwnerID == sales3.ID }), ""},
		{"FallingScoresLargestDropFirst", admin, crm.Scope{}, atRisk(e, crm.RiskQuery{Reason: crm.RiskFallingScores, MinDrop: 5}),
			[]string{"acme", "fjord"}, ""},
		{"FallingScoresByTheDefaultTenPoints", admin, crm.Scope{}, atRisk(e, crm.RiskQuery{Reason: crm.RiskFallingScores}), []string{"acme"}, ""},
		{"FallingScoresOfOnesOwn", sales2, crm.Scope{}, atRisk(e, crm.RiskQuery{Reason: crm.RiskFallingScores, MinDrop: 5}), []string{"fjord"}, ""},
		{"Decline", admin, crm.Scope{}, atRisk(e, crm.RiskQuery{Reason: crm.RiskDecline}), []string{"borealis"}, ""},
		{"DeclineOfOnesOwn", sales1, crm.Scope{}, atRisk(e, crm.RiskQuery{Reason: crm.RiskDecline}), nil, ""},
		{"DeclineSuggestedLongestSilenceFirst", admin, crm.Scope{}, atRisk(e, crm.RiskQuery{Reason: crm.RiskDeclineSuggested}), suggested, ""},
		{"DeclineSuggestedInATeam", manager, crm.Scope{}, atRisk(e, crm.RiskQuery{Reason: crm.RiskDeclineSuggested}),
			quietIn(func(c *crm.Customer) bool {
				return c.Team == "north" && slices.Contains(suggested, s.nameOf(c.ID))
			}), ""},
		{"SalesMayNotReadAColleaguesList", sales1, crm.Scope{OwnerID: sales2.ID}, followUps(e, nil), nil, crm.EFORBIDDEN},
		{"ManagerMayNotReadAnotherTeam", manager, crm.Scope{Team: "south"}, atRisk(e, noContact), nil, crm.EFORBIDDEN},
		{"ServiceReadsNoLists", &crm.User{ID: "svc", Roles: []crm.Role{crm.RoleService}, Teams: []string{"north"}},
			crm.Scope{}, followUps(e, nil), nil, crm.EFORBIDDEN},
		{"ManagerOfTwoTeamsNamesOne", &crm.User{ID: "m2", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"north", "south"}},
			crm.Scope{}, followUps(e, nil), nil, crm.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.list(tt.user, tt.scope, crm.PageRequest{First: 50})
			if code(err) != tt.code {
				t.Fatalf("err = %v, want %q", err, tt.code)
			}
			if err == nil && !slices.Equal(s.names(p), tt.want) {
				t.Fatalf("got %v, want %v", s.names(p), tt.want)
			}
		})
	}

	// A team's (or an owner's) list: one Query and one BatchGetItem per
	// page; everything's is the merge of the teams' lists.
	t.Run("PagesAreOneQueryAndOneBatchGet", func(t *testing.T) {
		// Fjord's owner asks for a follow-up that is already overdue.
		fjord := mustCustomer(t, e, s.id["fjord"])
		if _, err := e.svc.UpdateCustomer(as(admin), fjord.ID, fjord.Version, crm.CustomerUpdate{
			NextFollowUpAt: ptrTo(time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC))}); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		var got []string
		p := crm.PageRequest{First: 1}
		for range 3 {
			before := e.calls.Load()
			page, err := e.svc.FollowUpsDue(as(manager), crm.Scope{}, nil, p)
			if err != nil {
				t.Fatal(err)
			}
			if n := e.calls.Load() - before; n != 2 {
				t.Fatalf("a page cost %d calls, want 2", n)
			}
			got = append(got, s.names(page)...)
			if !page.HasNext {
				break
			}
			p.After = page.EndCursor
		}
		if !slices.Equal(got, []string{"fjord", "borealis"}) {
			t.Fatalf("paged %v", got)
		}
		if _, err := e.svc.FollowUpsDue(as(admin), crm.Scope{}, nil, p); code(err) != crm.EINVALID {
			t.Fatalf("a cursor of a team list replayed on the company list: %v", err)
		}
	})

	t.Run("NoContactPagesWhileTheClockMoves", func(t *testing.T) {
		var got []string
		p := crm.PageRequest{First: 2}
		for range len(quietNames) {
			page, err := e.svc.CustomersAtRisk(as(admin), crm.Scope{}, noContact, p)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, s.names(page)...)
			if !page.HasNext {
				break
			}
			p.After = page.EndCursor
		}
		if !slices.Equal(got, quietNames) {
			t.Fatalf("paged %v, want %v", got, quietNames)
		}
	})

	t.Run("GradeDistributionFromCounters", func(t *testing.T) {
		for _, tc := range []struct {
			user *crm.User
			team string
			keep func(*crm.Customer) bool
		}{
			{admin, "", func(*crm.Customer) bool { return true }},
			{admin, "south", func(c *crm.Customer) bool { return c.Team == "south" }},
			{manager, "", func(c *crm.Customer) bool { return c.Team == "north" }},
		} {
			want := map[string]int{}
			total := 0
			for _, c := range profiles {
				if tc.keep(c) {
					want[c.Grade.Level]++
					total++
				}
			}
			d, err := e.svc.GradeDistribution(as(tc.user), tc.team)
			if err != nil {
				t.Fatal(err)
			}
			for g, n := range d.Grades {
				if n != want[g] {
					t.Fatalf("%s %q grade %s: %d, want %d (%v)", tc.user.ID, tc.team, g, n, want[g], d.Grades)
				}
			}
			if d.Total != total || d.Unranked() != total || len(d.Levels) == 0 {
				t.Fatalf("%s %q: total %d unranked %d, want %d", tc.user.ID, tc.team, d.Total, d.Unranked(), total)
			}
		}
		if _, err := e.svc.GradeDistribution(as(sales1), ""); code(err) != crm.EFORBIDDEN {
			t.Fatalf("sales read the grade distribution: %v", err)
		}
	})
}

func followUps(e *env, before *time.Time) func(*crm.User, crm.Scope, crm.PageRequest) (*crm.Page[*crm.Customer], error) {
	return func(u *crm.User, sc crm.Scope, p crm.PageRequest) (*crm.Page[*crm.Customer], error) {
		return e.svc.FollowUpsDue(as(u), sc, before, p)
	}
}

func atRisk(e *env, q crm.RiskQuery) func(*crm.User, crm.Scope, crm.PageRequest) (*crm.Page[*crm.Customer], error) {
	return func(u *crm.User, sc crm.Scope, p crm.PageRequest) (*crm.Page[*crm.Customer], error) {
		return e.svc.CustomersAtRisk(as(u), sc, q, p)
	}
}

// The change that touches the most items (every phone, email and tag
// replaced, owner, team, region and stage changed, with follow-up and
// falling-score marks moving) still fits in one transaction of at most 100
// items, and counts for the owner and team it had.
func TestTheLargestProfileChangeFitsOneTransaction(t *testing.T) {
	e := mustEnv(t)
	values := func(f string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(f, i)
		}
		return out
	}
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Everything Changes", OwnerID: &owner, Team: "north", Region: "north", Grade: "B",
		Phones: values("+86138000000%02d", crm.MaxPhones), Emails: values("old%d@x.cn", crm.MaxEmails), Tags: values("old-%d", crm.MaxTags)})
	tpl := relationshipTemplate(t, e)
	for _, v := range []float64{90, 50} {
		if _, err := e.svc.SubmitEvaluation(as(admin), crm.EvaluationInput{CustomerID: c.ID, TemplateID: tpl.ID,
			Kind: crm.EvalCustomerSurvey, Scores: reviewScores(v, 5)}); err != nil {
			t.Fatal(err)
		}
	}
	mustLog(t, e, admin, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeCall, NextFollowUpAt: ptrTo(time.Now().Add(time.Hour))})
	if _, err := e.svc.ChangeStage(as(admin), c.ID, crm.StageLost, "gone", nil); err != nil {
		t.Fatal(err)
	}
	c = mustCustomer(t, e, c.ID)
	owner2, south, wonBack := sales2.ID, "south", crm.StageWonBack
	if _, err := e.svc.UpdateCustomer(as(admin), c.ID, c.Version, crm.CustomerUpdate{OwnerID: &owner2, Team: &south, Region: &south,
		Stage: &wonBack, NextFollowUpAt: ptrTo(time.Now().Add(-time.Hour)),
		Phones: values("+86139000000%02d", crm.MaxPhones), Emails: values("new%d@x.cn", crm.MaxEmails), Tags: values("new-%d", crm.MaxTags)}); err != nil {
		t.Fatalf("the largest change: %v", err)
	}
	mustHoldInvariants(t, e)
	now := time.Now()
	day := crm.Period{From: now, To: now, Granularity: crm.GranularityDay}
	if n := mustActivity(t, e, crm.Scope{Team: "north", OwnerID: sales1.ID}, day).Total.Customers.WonBack; n != 1 {
		t.Fatalf("won back under the owner and team it had: %d", n)
	}
	for _, l := range []struct {
		team string
		want int
	}{{"north", 0}, {"south", 1}} {
		p, err := e.svc.FollowUpsDue(as(admin), crm.Scope{Team: l.team}, nil, crm.PageRequest{First: crm.DefaultPageSize})
		if err != nil || len(p.Items) != l.want {
			t.Fatalf("follow-ups of team %s: %v %v, want %d", l.team, p, err, l.want)
		}
		p, err = e.svc.CustomersAtRisk(as(admin), crm.Scope{Team: l.team}, crm.RiskQuery{Reason: crm.RiskFallingScores}, crm.PageRequest{First: crm.DefaultPageSize})
		if err != nil || len(p.Items) != l.want {
			t.Fatalf("falling scores of team %s: %v %v, want %d", l.team, p, err, l.want)
		}
	}
}

// mustHoldInvariants checks, by a test-only Scan, that every derived item
// (counters, marks, analytics totals) agrees with what it derives from.
func mustHoldInvariants(t *testing.T, e *env) {
	t.Helper()
	e.drain(t)
	broken, err := dynamo.CheckInvariants(t.Context(), e.db, e.table)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		t.Errorf("invariant: %s", b)
	}
}

// A team's finished months are rolled up into one item each, which month
// periods read instead of the days; an event that arrives for a month
// already rolled up (an interaction logged late, dated back) counts in the
// month too, and the figures stay those of the days.
func TestMonthsRollUpAndStayExactWhenEventsArriveLate(t *testing.T) {
	e, clk := poolEnv(t) // 2026-03-01
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Rolled", OwnerID: &owner, Team: "north"})
	logAt := func(at time.Time) {
		mustLog(t, e, admin, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeCall, Channel: crm.ChannelPhone, OccurredAt: &at})
	}
	logAt(time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC))
	logAt(time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC))
	e.drain(t)
	clk.Advance(9 * 24 * time.Hour) // 2026-03-10: January and February are over
	if n, err := e.store.RollUpMonths(as(admin), clk.Now()); err != nil || n != 0 {
		t.Fatalf("rolled up %d months (%v) before the data migrations ran", n, err)
	}
	if _, err := e.store.Migrate(as(admin), func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	n, err := e.store.RollUpMonths(as(admin), clk.Now())
	if err != nil || n < 2 {
		t.Fatalf("rolled up %d months (%v), want January and February at least", n, err)
	}
	q := crm.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: clk.Now(), Granularity: crm.GranularityMonth}
	months := func() []int {
		var out []int
		for _, b := range mustActivity(t, e, crm.Scope{Team: "north"}, q).Buckets {
			out = append(out, b.Figures.Interactions.Total)
		}
		return out
	}
	if got := months(); !slices.Equal(got, []int{1, 1, 0}) {
		t.Fatalf("interactions by month %v, want [1 1 0]", got)
	}
	logAt(time.Date(2026, 1, 20, 10, 0, 0, 0, time.UTC)) // a call of January, logged in March
	e.drain(t)
	if got := months(); !slices.Equal(got, []int{2, 1, 0}) {
		t.Fatalf("after a late call: interactions by month %v, want [2 1 0]", got)
	}
	if sales1Jan := mustActivity(t, e, crm.Scope{OwnerID: owner}, q).Buckets[0].Figures.Interactions.Total; sales1Jan != 2 {
		t.Fatalf("the owner's January: %d interactions, want 2", sales1Jan)
	}
	if n, err := e.store.RollUpMonths(as(admin), clk.Now()); err != nil || n != 0 {
		t.Fatalf("a second roll-up rolled up %d months (%v), want none", n, err)
	}
	mustHoldInvariants(t, e)
}
