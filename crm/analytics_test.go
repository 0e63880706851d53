package crm

import (
	"maps"
	"testing"
	"time"
)

// byScope sums deltas per scope that reads them (everything, the team,
// the owner, the owner within the team) and counter.
func byScope(ds []AggregateDelta) map[string]Counters {
	out := map[string]Counters{}
	for _, d := range ds {
		own := Scope{OwnerID: d.OwnerID, Pool: d.Pool}
		scopes := []Scope{{}, own}
		if d.Team != "" {
			scopes = append(scopes, Scope{Team: d.Team}, Scope{Team: d.Team, OwnerID: d.OwnerID, Pool: d.Pool})
		}
		for _, sc := range scopes {
			if d.TeamOnly && sc.hasOwner() {
				continue
			}
			if out[sc.Key()] == nil {
				out[sc.Key()] = Counters{}
			}
			out[sc.Key()][d.Counter] += d.N
		}
	}
	return out
}

func TestAggregateDeltas(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	owned := &Customer{ID: "c1", OwnerID: "s1", Team: "north", Grade: GradeState{Level: "B"}, Stage: StageStability, CreatedAt: t0, Version: 3}
	pool := &Customer{ID: "c2", Region: "east", Grade: GradeState{Level: "G"}, CreatedAt: t0, Version: 1}
	moved := func(c *Customer) *Customer { n := c.Clone(); n.Version++; return n }
	const (
		all, own, team, teamOwn = "ALL", "OWNER#s1", "TEAM#north", "TEAM#north#OWNER#s1"
	)
	every := func(c Counters) map[string]Counters {
		return map[string]Counters{all: c, own: c, team: c, teamOwn: c}
	}
	call := &Interaction{ID: "i1", CustomerID: "c1", Channel: ChannelPhone, Type: TypeCall, OccurredAt: t0.Add(-48 * time.Hour)}
	openCase := &Case{ID: "i2", CustomerID: "c1", Status: CaseAssigned, OpenedAt: t0, DueAt: t0.Add(8 * time.Hour), Version: 3}
	resolved := func(at time.Time, escalated bool) *Case {
		c := openCase.Clone()
		c.Status, c.UpdatedAt, c.Version = CaseResolved, at, 4
		if escalated {
			c.EscalatedAt = ptr(t0.Add(9 * time.Hour))
		}
		return c
	}
	nine, seven, three := 9, 7, 3
	eval := func(nps *int) *Evaluation {
		return &Evaluation{ID: "e1", CustomerID: "c1", Overall: 80, NPS: nps, EvaluatedAt: t0,
			Dimensions: []DimensionScore{{DimSatisfaction, 70}, {DimLoyalty, 90}}}
	}
	evalCounters := func(nps string) Counters {
		c := Counters{"evals.n": 1, "evals.overall": 80, "evals.dim.SATISFACTION.n": 1, "evals.dim.SATISFACTION.sum": 70,
			"evals.dim.LOYALTY.n": 1, "evals.dim.LOYALTY.sum": 90}
		if nps != "" {
			c["evals.nps."+nps] = 1
		}
		for k, v := range maps.Clone(c) {
			c["grade.B."+k] = v
		}
		return c
	}
	escalated := openCase.Clone()
	escalated.EscalatedAt, escalated.Priority, escalated.Version = ptr(t0.Add(9*time.Hour)), PriorityUrgent, 4
	closed := resolved(t0.Add(time.Hour), false)
	closed.Status, closed.Satisfaction, closed.Version = CaseClosed, ptr(4), 5

	tests := []struct {
		name string
		ch   *Change
		want map[string]Counters
	}{
		{"NewCustomerIsGainedInEveryScope", &Change{Customer: owned, GradeChange: &GradeChange{To: "B"}},
			every(Counters{"gained": 1})},
		{"NewPoolCustomerWithoutTeamCountsForThePool", &Change{Customer: pool},
			map[string]Counters{all: {"gained": 1}, "POOL": {"gained": 1}}},
		{"ProfileUpdateCountsNothing", &Change{CustomerPrev: owned, Customer: moved(owned)}, map[string]Counters{}},
		{"StageChangeToLostIsLost", &Change{CustomerPrev: owned, Customer: moved(owned),
			StageChange: &StageChange{From: StageDecline, To: StageLost, At: t0}}, every(Counters{"lost": 1})},
		{"StageChangeToWonBackIsWonBack", &Change{CustomerPrev: owned, Customer: moved(owned),
			StageChange: &StageChange{From: StageLost, To: StageWonBack, At: t0}}, every(Counters{"wonBack": 1})},
		{"ImportedWonBackCustomerIsGainedNotWonBack", &Change{Customer: owned,
			StageChange: &StageChange{To: StageWonBack, At: t0}}, every(Counters{"gained": 1})},
		{"StageChangeToDeclineCountsNothing", &Change{CustomerPrev: owned, Customer: moved(owned),
			StageChange: &StageChange{From: StageStability, To: StageDecline, At: t0}}, map[string]Counters{}},
		{"InteractionCountsPerChannelAndPerOwnerWhereNoOwnerIsImplied", &Change{CustomerPrev: owned, Customer: moved(owned),
			Interaction: call, GradeChange: &GradeChange{From: "B", To: "A"}},
			map[string]Counters{
				all:     {"interactions": 1, "channel.PHONE": 1, "interactions.owner.s1": 1},
				team:    {"interactions": 1, "channel.PHONE": 1, "interactions.owner.s1": 1},
				own:     {"interactions": 1, "channel.PHONE": 1},
				teamOwn: {"interactions": 1, "channel.PHONE": 1},
			}},
		{"PoolCustomersInteractionsCountUnderThePool", &Change{CustomerPrev: pool, Customer: moved(pool), Interaction: call},
			map[string]Counters{
				all:    {"interactions": 1, "channel.PHONE": 1, "interactions.pool": 1},
				"POOL": {"interactions": 1, "channel.PHONE": 1},
			}},
		{"InteractionCorrectionCountsNothing", &Change{InteractionPrev: call, Interaction: call}, map[string]Counters{}},
		{"ComplaintOpensACase", &Change{CustomerPrev: owned, Customer: moved(owned), Interaction: call, Case: openCase},
			map[string]Counters{
				all:     {"interactions": 1, "channel.PHONE": 1, "interactions.owner.s1": 1, "cases.opened": 1},
				team:    {"interactions": 1, "channel.PHONE": 1, "interactions.owner.s1": 1, "cases.opened": 1},
				own:     {"interactions": 1, "channel.PHONE": 1, "cases.opened": 1},
				teamOwn: {"interactions": 1, "channel.PHONE": 1, "cases.opened": 1},
			}},
		{"ResolvedInTimeIsNoBreach", &Change{CustomerPrev: owned, Customer: moved(owned), CasePrev: openCase, Case: resolved(t0.Add(2*time.Hour), false)},
			every(Counters{"cases.resolved": 1, "cases.resolutionMs": 2 * 3600 * 1000})},
		{"ResolvedAfterDueIsABreach", &Change{CustomerPrev: owned, Customer: moved(owned), CasePrev: openCase, Case: resolved(t0.Add(10*time.Hour), false)},
			every(Counters{"cases.resolved": 1, "cases.resolutionMs": 10 * 3600 * 1000, "cases.resolvedLate": 1})},
		{"ResolvedAfterEscalationIsABreach", &Change{CustomerPrev: owned, Customer: moved(owned), CasePrev: escalated, Case: resolved(t0.Add(2*time.Hour), true)},
			every(Counters{"cases.resolved": 1, "cases.resolutionMs": 2 * 3600 * 1000, "cases.resolvedLate": 1})},
		{"CaseMovedWithoutItsCustomerCountsForEverything", &Change{CasePrev: openCase, Case: resolved(t0.Add(time.Hour), false)},
			map[string]Counters{all: {"cases.resolved": 1, "cases.resolutionMs": 3600 * 1000}}},
		{"EscalationCounts", &Change{CasePrev: openCase, Case: escalated}, map[string]Counters{all: {"cases.escalated": 1}}},
		{"MoveWithoutStatusChangeCountsNothing", &Change{CasePrev: openCase, Case: openCase}, map[string]Counters{}},
		{"ClosingCountsSatisfactionAndTheEvaluationItCarries", &Change{CustomerPrev: owned, Customer: moved(owned),
			CasePrev: resolved(t0.Add(time.Hour), false), Case: closed, Evaluation: eval(nil)},
			every(func() Counters {
				c := evalCounters("")
				c.Add(Counters{"cases.closed": 1, "cases.satisfaction.n": 1, "cases.satisfaction.sum": 4})
				return c
			}())},
		{"PromoterScoresNineOrTen", &Change{CustomerPrev: owned, Customer: moved(owned), Evaluation: eval(&nine)}, every(evalCounters("promoters"))},
		{"PassiveScoresSevenOrEight", &Change{CustomerPrev: owned, Customer: moved(owned), Evaluation: eval(&seven)}, every(evalCounters("passives"))},
		{"DetractorScoresSixOrLess", &Change{CustomerPrev: owned, Customer: moved(owned), Evaluation: eval(&three)}, every(evalCounters("detractors"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := byScope(AggregateDeltas(tt.ch))
			if len(got) != len(tt.want) {
				t.Fatalf("scopes %v, want %v", scopeNames(got), scopeNames(tt.want))
			}
			for scope, want := range tt.want {
				if !maps.Equal(got[scope], want) {
					t.Errorf("%s:\n got %v\nwant %v", scope, got[scope], want)
				}
			}
		})
	}
}

func scopeNames[V any](m map[string]V) []string {
	var out []string
	for k := range maps.Keys(m) {
		out = append(out, k)
	}
	return out
}

func TestAggregateDeltasAreDatedByTheirEvent(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := &Customer{ID: "c1", OwnerID: "s1", CreatedAt: t0, Grade: GradeState{Level: "B"}}
	it := &Interaction{ID: "i1", Channel: ChannelVisit, OccurredAt: t0.AddDate(0, -2, 0)}
	n := c.Clone()
	n.Version++
	for _, d := range AggregateDeltas(&Change{CustomerPrev: c, Customer: n, Interaction: it}) {
		if !d.At.Equal(it.OccurredAt) {
			t.Fatalf("%s dated %s, want the interaction's occurrence %s", d.Counter, d.At, it.OccurredAt)
		}
	}
}

func TestScopeKeysAreDistinct(t *testing.T) {
	scopes := []Scope{{}, {Team: "north"}, {OwnerID: "s1"}, {Pool: true}, {Team: "north", OwnerID: "s1"},
		{Team: "north", Pool: true}, {Team: "north#OWNER#s1"}, {Team: "north#POOL"}, {OwnerID: "POOL"}, {Team: "ALL"}}
	seen := map[string]Scope{}
	for _, s := range scopes {
		if other, ok := seen[s.Key()]; ok {
			t.Fatalf("%+v and %+v share key %q", s, other, s.Key())
		}
		seen[s.Key()] = s
	}
}

func TestPeriodBuckets(t *testing.T) {
	day := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	tests := []struct {
		name        string
		p           Period
		first, last string
		n           int
		field       string
	}{
		{"DaysIncludeBothEnds", Period{day("2026-02-27"), day("2026-03-02").Add(time.Hour), GranularityDay}, "2026-02-27", "2026-03-02", 4, ""},
		{"MonthsIncludeBothEnds", Period{day("2025-11-30"), day("2026-02-01"), GranularityMonth}, "2025-11", "2026-02", 4, ""},
		{"ALeapYearOfDaysFits", Period{day("2024-01-01"), day("2024-12-31"), GranularityDay}, "2024-01-01", "2024-12-31", 366, ""},
		{"MoreThan366DaysIsRefused", Period{day("2024-01-01"), day("2025-01-01"), GranularityDay}, "", "", 0, "period"},
		{"MoreThan36MonthsIsRefused", Period{day("2020-01-01"), day("2023-01-01"), GranularityMonth}, "", "", 0, "period"},
		{"ToBeforeFromIsRefused", Period{day("2026-03-02"), day("2026-03-01"), GranularityDay}, "", "", 0, "period.to"},
		{"GranularityIsRequired", Period{day("2026-03-01"), day("2026-03-02"), ""}, "", "", 0, "period.granularity"},
		{"FromIsRequired", Period{To: day("2026-03-02"), Granularity: GranularityDay}, "", "", 0, "period.from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.p.Buckets()
			if tt.field != "" {
				if e, ok := err.(*Error); !ok || e.Code != EINVALID || e.Field != tt.field {
					t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, tt.field)
				}
				return
			}
			if err != nil || len(b) != tt.n || b[0].Key != tt.first || b[len(b)-1].Key != tt.last {
				t.Fatalf("buckets %d %v..%v, %v", len(b), b[0], b[len(b)-1], err)
			}
		})
	}
}

func TestFiguresFromCounters(t *testing.T) {
	f := FiguresFrom(Counters{
		"gained": 3, "lost": 1, "interactions": 5, "channel.PHONE": 3, "channel.EMAIL": 2,
		"interactions.owner.s1": 4, "interactions.pool": 1,
		"cases.resolved": 2, "cases.resolutionMs": 3 * 3600 * 1000, "cases.resolvedLate": 1,
		"evals.n": 4, "evals.overall": 300, "evals.nps.promoters": 2, "evals.nps.passives": 1, "evals.nps.detractors": 1,
		"evals.dim.SATISFACTION.n": 2, "evals.dim.SATISFACTION.sum": 150,
		"grade.A.evals.n": 1, "grade.A.evals.overall": 90,
	})
	switch {
	case f.Customers.Gained != 3 || f.Customers.Lost != 1:
		t.Fatalf("customers %+v", f.Customers)
	case f.Interactions.ByChannel[ChannelPhone] != 3 || f.Interactions.ByOwner["s1"] != 4 || f.Interactions.ByOwner[""] != 1:
		t.Fatalf("interactions %+v", f.Interactions)
	case *f.Cases.AverageResolution() != 90*time.Minute || f.Cases.ResolvedLate != 1:
		t.Fatalf("cases %+v", f.Cases)
	case *f.Evaluations.Overall.Value() != 75 || *f.Evaluations.NPS() != 25 || *f.Evaluations.Dimensions[DimSatisfaction].Value() != 75:
		t.Fatalf("evaluations %+v", f.Evaluations)
	case *f.Evaluations.ByGrade["A"].Overall.Value() != 90 || f.Evaluations.ByGrade["A"].NPS() != nil:
		t.Fatalf("grade A %+v", f.Evaluations.ByGrade["A"])
	}
	empty := FiguresFrom(nil)
	if empty.Cases.AverageResolution() != nil || empty.Evaluations.NPS() != nil || empty.Evaluations.Overall.Value() != nil {
		t.Fatal("averages of nothing must be null")
	}
}

func TestWatchEntries(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	evals := func(overall ...float64) []Evaluation {
		var out []Evaluation
		for _, o := range overall {
			out = append(out, Evaluation{Overall: o})
		}
		return out
	}
	tests := []struct {
		name string
		c    Customer
		want []WatchEntry
	}{
		{"NeverContactedIsQuietSinceCreation", Customer{CreatedAt: t0}, []WatchEntry{{List: WatchNoContact, At: t0}}},
		{"ContactedIsQuietSinceLastContact", Customer{CreatedAt: t0, Activity: Activity{LastInteractionAt: ptr(t0.Add(time.Hour))}},
			[]WatchEntry{{List: WatchNoContact, At: t0.Add(time.Hour)}}},
		{"FollowUpIsListed", Customer{CreatedAt: t0, Activity: Activity{NextFollowUpAt: ptr(t0.Add(day))}},
			[]WatchEntry{{List: WatchNoContact, At: t0}, {List: WatchFollowUp, At: t0.Add(day)}}},
		{"FallingScoreIsListedWithItsDrop", Customer{CreatedAt: t0, Activity: Activity{RecentEvaluations: evals(60, 72.5, 10)}},
			[]WatchEntry{{List: WatchNoContact, At: t0}, {List: WatchFalling, Drop: 12.5}}},
		{"RisingScoreIsNotFalling", Customer{CreatedAt: t0, Activity: Activity{RecentEvaluations: evals(80, 72.5)}},
			[]WatchEntry{{List: WatchNoContact, At: t0}}},
		{"ArchivedIsOnNoList", Customer{CreatedAt: t0, Status: StatusArchived, Activity: Activity{NextFollowUpAt: ptr(t0)}}, nil},
		{"MergedIsOnNoList", Customer{CreatedAt: t0, Status: StatusMerged, Activity: Activity{NextFollowUpAt: ptr(t0)}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WatchEntries(&tt.c)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i].List != tt.want[i].List || !got[i].At.Equal(tt.want[i].At) || got[i].Drop != tt.want[i].Drop {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

func TestAnalyticsAccess(t *testing.T) {
	users := map[string]*User{
		"admin":   {ID: "a", Roles: []Role{RoleAdmin}},
		"auditor": {ID: "au", Roles: []Role{RoleAuditor}},
		"manager": {ID: "m", Roles: []Role{RoleManager}, Teams: []string{"north", "south"}},
		"sales":   {ID: "s1", Roles: []Role{RoleSales}, Teams: []string{"north"}},
		"service": {ID: "sv", Roles: []Role{RoleService}, Teams: []string{"north"}},
		"partner": {ID: "p", Roles: []Role{RolePartner}, PartnerOrgID: "org-1"},
	}
	tests := []struct {
		user      string
		scope     Scope
		stored    []string
		casesOnly bool
		code      string
	}{
		{"admin", Scope{}, []string{"ALL"}, false, ""},
		{"auditor", Scope{OwnerID: "s2"}, []string{"OWNER#s2"}, false, ""},
		{"manager", Scope{}, []string{"TEAM#north", "TEAM#south"}, false, ""},
		{"manager", Scope{Team: "north", OwnerID: "s1"}, []string{"TEAM#north#OWNER#s1"}, false, ""},
		{"manager", Scope{OwnerID: "s1"}, []string{"TEAM#north#OWNER#s1", "TEAM#south#OWNER#s1"}, false, ""},
		{"manager", Scope{Team: "west"}, nil, false, EFORBIDDEN},
		{"sales", Scope{}, []string{"OWNER#s1"}, false, ""},
		{"sales", Scope{Team: "north"}, []string{"TEAM#north#OWNER#s1"}, false, ""},
		{"sales", Scope{OwnerID: "s2"}, nil, false, EFORBIDDEN},
		{"sales", Scope{Pool: true}, nil, false, EFORBIDDEN},
		{"service", Scope{}, []string{"TEAM#north"}, true, ""},
		{"service", Scope{Team: "south"}, nil, false, EFORBIDDEN},
		{"partner", Scope{}, nil, false, EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.scope.Key(), func(t *testing.T) {
			v, err := activityAccess(users[tt.user], tt.scope)
			if ErrorCode(err) != tt.code {
				t.Fatalf("err = %v, want %q", err, tt.code)
			}
			var got []string
			for _, s := range v.scopes {
				got = append(got, s.Key())
			}
			if tt.code == "" && (len(got) != len(tt.stored) || v.casesOnly != tt.casesOnly) {
				t.Fatalf("reads %v (cases only %t), want %v (%t)", got, v.casesOnly, tt.stored, tt.casesOnly)
			}
			for i := range tt.stored {
				if got[i] != tt.stored[i] {
					t.Fatalf("reads %v, want %v", got, tt.stored)
				}
			}
		})
	}
}
