package dynamo_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

// forecastCounter tells the counters this release added to the pipeline's
// items, which a table written before it lacks.
func forecastCounter(name string) bool {
	return slices.ContainsFunc([]string{"fc.", "fcn.", "won.days", "won.within.", "custwon."}, func(p string) bool { return strings.HasPrefix(name, p) })
}

// toOldShape leaves the deals and pipeline counters as the release before
// the forecast wrote them: no fcv marker, no forecast or cycle-time
// counter.
func toOldShape(t *testing.T, e *env) {
	t.Helper()
	res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range res.Items {
		pk, sk := it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberS).Value
		var remove []string
		switch {
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, "C#"):
			remove = []string{"fcv"}
		case strings.HasPrefix(pk, "PIPE#"):
			for name := range it {
				if forecastCounter(name) {
					remove = append(remove, name)
				}
			}
		}
		if len(remove) == 0 {
			continue
		}
		expr, names := "REMOVE", map[string]string{}
		for i, name := range remove {
			expr += map[bool]string{true: " ", false: ", "}[i == 0] + "#a" + strconv.Itoa(i)
			names["#a"+strconv.Itoa(i)] = name
		}
		if _, err := e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table, Key: dynamo.KeyOf(pk, sk),
			UpdateExpression: &expr, ExpressionAttributeNames: names}); err != nil {
			t.Fatal(err)
		}
	}
}

// negativeCounters lists the pipeline counters below zero.
func negativeCounters(t *testing.T, e *env) []string {
	t.Helper()
	res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table, FilterExpression: aws.String("begins_with(pk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "PIPE#"}}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range res.Items {
		for name, v := range it {
			if n, ok := v.(*types.AttributeValueMemberN); ok && strings.HasPrefix(n.Value, "-") {
				out = append(out, it["pk"].(*types.AttributeValueMemberS).Value+" "+name+" "+n.Value)
			}
		}
	}
	return out
}

// Deals stored before the forecast counters are counted in them by the
// migration, once: an old deal changed before the migration counts itself
// then, one changed after takes out what the migration put in, and the
// forecast and cycle time end as a table written by this release alone
// would hold them.
func TestForecastCountersMigrationCountsOldDealsOnce(t *testing.T) {
	e, clk := poolEnv(t) // 2026-03-01 09:00 UTC
	s1, s2 := sales1.ID, sales2.ID
	alpha := mustCreate(t, e, admin, crm.CustomerInput{Name: "Alpha Pumps", OwnerID: &s1, Team: "north"})
	beta := mustCreate(t, e, admin, crm.CustomerInput{Name: "Beta Valves", OwnerID: &s2, Team: "north"})
	refit := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: alpha.ID, Title: "Refit", Amount: "100000", ExpectedClose: day(2026, 3, 20)})
	mustDeal(t, e, sales2, crm.OpportunityInput{CustomerID: beta.ID, Title: "Valves", Amount: "40000", Stage: "PROPOSAL", ExpectedClose: day(2026, 4, 10)})
	spares := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: alpha.ID, Title: "Spares", Amount: "5000", ExpectedClose: day(2026, 4, 30)})
	freight := mustDeal(t, e, sales2, crm.OpportunityInput{CustomerID: beta.ID, Title: "Freight", Amount: "60000", Stage: "NEGOTIATION", ExpectedClose: day(2026, 3, 31)})
	pilot := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: alpha.ID, Title: "Pilot", Amount: "1000"})
	setClock(clk, 2026, 3, 11)
	mustMove(t, e, sales2, freight, crm.OpportunityMoveInput{Stage: "WON"}) // after 10 days
	mustMove(t, e, sales1, pilot, crm.OpportunityMoveInput{Stage: crm.StageLostDeal, LossReason: crm.LossPrice, LossNote: "too dear"})
	e.drain(t)

	// Hand-computed, three months from March: the Refit in March
	// (QUALIFY 10%), the Valves (PROPOSAL 50%) and the Spares (QUALIFY)
	// in April; the Freight won after 10 days.
	north := crm.PipelineQuery{Team: "north"}
	want := map[string]string{"overdue": "0", "2026-03": "1 CNY 100000.00/10000.00", "2026-04": "2 CNY 45000.00/20500.00", "2026-05": "0", "later": "0"}
	if got := forecastLines(t, e, manager, north, 3); !mapsEqual(got, want) {
		t.Fatalf("forecast written by this release %v, want %v", got, want)
	}

	toOldShape(t, e)
	if got := forecastLines(t, e, manager, north, 3); got["2026-03"] != "0" || got["2026-04"] != "0" {
		t.Fatalf("forecast of the old shape %v: want nothing counted", got)
	}
	staleRefit, err := e.svc.Opportunity(as(sales1), crm.OpportunityKey{CustomerID: alpha.ID, ID: refit.ID})
	if err != nil || staleRefit.ForecastCounted {
		t.Fatalf("the old Refit: %+v %v, want it read not counted", staleRefit, err)
	}
	// An old deal changed before the migration counts itself, taking out
	// nothing from the month it left.
	later := day(2026, 5, 15)
	spares, err = e.svc.UpdateOpportunity(as(sales1), crm.OpportunityKey{CustomerID: alpha.ID, ID: spares.ID}, spares.Version,
		crm.OpportunityUpdate{ExpectedClose: &later})
	if err != nil || !spares.ForecastCounted {
		t.Fatalf("spares moved to May: %+v %v", spares, err)
	}
	if neg := negativeCounters(t, e); len(neg) > 0 {
		t.Fatalf("counters below zero after an old deal moved: %v", neg)
	}
	stale, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}

	e.store.SetMigrationPage(3)
	status, err := e.store.Migrate(as(admin), func() bool { return true })
	if m := migrationNamed(status, "2026-12-forecast-counters"); err != nil || !m.Done || m.Changed != 4 {
		t.Fatalf("migration: %+v %v, want the 4 deals not counted yet (Refit, Valves, Freight, Pilot)", status, err)
	}
	// A page read before applied again (a run that stopped before
	// recording it, or one racing the writes) counts nothing twice.
	if n, err := e.store.ForecastPage(as(admin), stale.Items); err != nil || n != 0 {
		t.Fatalf("the page read before, again: %d, %v", n, err)
	}
	// A write that read the deal before the migration counted it would
	// count it twice: it fails as a stale write does.
	moved := staleRefit.Clone()
	moved.Stage, moved.Version, moved.ForecastCounted = "PROPOSAL", staleRefit.Version+1, true
	if err := e.store.Apply(as(sales1), &crm.Change{OpportunityPrev: staleRefit, Opportunity: moved}); code(err) != crm.ECONFLICT {
		t.Fatalf("a write of the Refit read before the migration: %v, want CONFLICT", err)
	}
	want["2026-04"], want["2026-05"] = "1 CNY 40000.00/20000.00", "1 CNY 5000.00/500.00"
	if got := forecastLines(t, e, manager, north, 3); !mapsEqual(got, want) {
		t.Fatalf("forecast after the migration %v, want %v", got, want)
	}
	// An old deal changed after the migration moves what it put in.
	mustMove(t, e, sales1, staleRefit, crm.OpportunityMoveInput{Stage: "PROPOSAL"})
	want["2026-03"] = "1 CNY 100000.00/50000.00"
	if got := forecastLines(t, e, manager, north, 3); !mapsEqual(got, want) {
		t.Fatalf("forecast after the Refit moved %v, want %v", got, want)
	}
	ct := mustPipeline(t, e, manager, north).Cycle
	if ct.Won != 1 || ct.AverageDays == nil || *ct.AverageDays != 10 || ct.MedianWithin == nil || *ct.MedianWithin != 30 {
		t.Fatalf("cycle time %+v, want the Freight's 10 days", ct)
	}
	if neg := negativeCounters(t, e); len(neg) > 0 {
		t.Fatalf("counters below zero: %v", neg)
	}
	mustHoldInvariants(t, e)
}
