package dynamo_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

// legacyDay is when the customers of the old layout were created and
// contacted.
var legacyDay = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// putLegacy writes what the release before activity items left for two
// customers: Acme (team north, owned by sales-1, two calls, a follow-up
// due, a transaction, scores falling) and Borealis (pool of region east,
// no team, one email), their interactions, tag entry and watch marks, the
// list counters, and the analytics aggregates of everything, the team, the
// owner, the owner within the team and the pool, days and months.
func putLegacy(t *testing.T, e *env) {
	t.Helper()
	at := legacyDay
	followUp := at.Add(72 * time.Hour)
	eval := func(id string, overall float64, day int) map[string]any {
		return map[string]any{"id": id, "customerId": "ACME", "templateId": "T", "templateVersion": 1, "kind": "INTERNAL_REVIEW",
			"evaluatorId": "mgr-1", "scores": []any{}, "overall": overall, "dimensions": []any{map[string]any{"d": "SATISFACTION", "s": overall}},
			"evaluatedAt": at.Add(time.Duration(day) * time.Hour)}
	}
	profile := func(id, name, owner, team, region, grade string, n int, last string, extra map[string]any) map[string]any {
		p := map[string]any{"pk": "CUST#" + id, "sk": "~P", "type": "customer", "gGrade": grade, "gStage": "STABILITY",
			"gList": "CUSTOMER", "gSort": id, "id": id, "kind": "ORGANIZATION", "name": name, "nameKey": name,
			"source": "OTHER", "stage": "STABILITY", "status": "ACTIVE", "grade": map[string]any{"level": grade, "source": "MANUAL", "at": at, "by": "admin-1"},
			"interactionCount": n, "lastInteractionAt": at, "lastInteractionId": last, "contactCount": 0, "verification": "UNVERIFIED",
			"version": 5, "createdAt": at, "createdBy": "admin-1", "updatedAt": at, "updatedBy": "admin-1"}
		if owner != "" {
			p["gOwner"], p["ownerId"] = "OWNER#"+owner, owner
		} else {
			p["gOwner"] = "POOL#" + region
		}
		if team != "" {
			p["gTeam"], p["team"] = team, team
		}
		if region != "" {
			p["gRegion"], p["region"] = region, region
		}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	interaction := func(customer, id, channel, owner, kind string) map[string]any {
		it := map[string]any{"pk": "CUST#" + customer, "sk": "I#" + id, "type": "interaction", "id": id, "customerId": customer,
			"channel": channel, "direction": "OUTBOUND", "kind": kind, "subject": "legacy " + id, "occurredAt": at, "handledBy": owner,
			"version": 1, "createdAt": at, "createdBy": "admin-1", "updatedAt": at, "updatedBy": "admin-1"}
		if kind == "TRANSACTION" {
			it["amount"], it["currency"] = 500.0, "CNY"
		}
		return it
	}
	withKeys := func(item map[string]any, sk string) map[string]any {
		item["pk"], item["sk"], item["type"] = "CUST#ACME", sk, "evaluation"
		return item
	}
	counter := func(dim string, n int) map[string]any {
		return map[string]any{"pk": "COUNT#" + dim, "sk": "COUNT", "n": n}
	}
	agg := func(scope, sk string, counters map[string]float64) map[string]any {
		item := map[string]any{"pk": "AGG#" + scope, "sk": sk, "type": "aggregate"}
		for k, v := range counters {
			item[k] = v
		}
		return item
	}
	day, month := "D#2026-11-25#", "M#2026-11#"
	acme := map[string]float64{"gained": 1, "interactions": 2, "channel.PHONE": 2}
	acmeAll := map[string]float64{"gained": 1, "interactions": 2, "channel.PHONE": 2, "interactions.owner.sales-1": 2}
	borealis := map[string]float64{"gained": 1, "interactions": 1, "channel.EMAIL": 1}
	borealisAll := map[string]float64{"gained": 1, "interactions": 1, "channel.EMAIL": 1, "interactions.pool": 1}
	items := []map[string]any{
		profile("ACME", "Acme", "sales-1", "north", "north", "B", 2, "I2", map[string]any{"tags": []string{"vip"},
			"nextFollowUpAt": followUp, "transactions": map[string]any{"n": 1, "total": 500.0, "firstAt": at, "lastAt": at},
			"satisfactionIndex": 60.0, "recentEvaluations": []any{eval("E2", 60, 2), eval("E1", 80, 1)}}),
		profile("BOREALIS", "Borealis", "", "", "east", "G", 1, "I3", nil),
		interaction("ACME", "I1", "PHONE", "sales-1", "CALL"), interaction("ACME", "I2", "PHONE", "sales-1", "TRANSACTION"),
		withKeys(eval("E1", 80, 1), "E#E1"), withKeys(eval("E2", 60, 2), "E#E2"),
		interaction("BOREALIS", "I3", "EMAIL", "admin-1", "NOTE"),
		{"pk": "CUST#ACME", "sk": "#T#vip", "type": "tag", "gList": "TAG#vip", "gSort": "ACME", "customerId": "ACME"},
		counter("ALL", 2), counter("GRADE#B", 1), counter("GRADE#G", 1), counter("STAGE#STABILITY", 2), counter("OWNER#sales-1", 1),
		counter("POOL", 1), counter("POOL#east", 1), counter("REGION#north", 1), counter("REGION#east", 1), counter("TEAM#north", 1),
		counter("TEAMGRADE#B#north", 1), counter("TAG#vip", 1), counter("TEMPLATES", 3),
		agg("ALL", day+"0", acmeAll), agg("ALL", day+"3", borealisAll), agg("TEAM#north", day+"1", acmeAll),
		agg("OWNER#sales-1", day+"0", acme), agg("TEAM#north#OWNER#sales-1", day+"0", acme), agg("POOL", day+"0", borealis),
		agg("ALL", month+"0", acmeAll), agg("TEAM#north", month+"1", acmeAll),
	}
	for _, list := range []string{"QUIET", "FOLLOWUP", "FALLING"} {
		for _, kind := range []string{"A", "T", "O"} {
			items = append(items, map[string]any{"pk": "CUST#ACME", "sk": "#W#" + list + "#" + kind, "type": "watch",
				"gList": list + "#X", "gSort": "0#ACME", "customerId": "ACME"})
		}
	}
	for _, it := range items {
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &e.table, Item: av}); err != nil {
			t.Fatal(err)
		}
	}
}

// The backfill of the activity items takes a table of the layout before
// to this release's, page by page: interrupted and resumed, run twice, a
// page applied again, it leaves the same table, whose derived items agree
// with its profiles and interactions and whose figures are the old ones.
func TestActivityBackfillMigratesOldDataOnceWhateverHappens(t *testing.T) {
	e := mustEnv(t)
	putLegacy(t, e)
	e.store.SetMigrationPage(7)
	var before []map[string]types.AttributeValue
	for start := map[string]types.AttributeValue(nil); ; {
		res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table, ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, res.Items...)
		if start = res.LastEvaluatedKey; start == nil {
			break
		}
	}

	// Reads fall back to the old fields until a customer is migrated.
	listed, err := e.svc.Customers(as(admin), crm.CustomerFilter{Team: "north", WithActivity: true}, crm.PageRequest{First: 5})
	if err != nil || len(listed.Items) != 1 || listed.Items[0].InteractionCount != 2 || listed.Items[0].NextFollowUpAt == nil {
		t.Fatalf("old data listed: %+v %v", listed, err)
	}

	pages := 0
	status, err := e.store.Migrate(as(admin), func() bool { pages++; return pages <= 2 })
	if m := migrationNamed(status, "2026-12-activity-items"); err != nil || status[0].Name != m.Name || m.Done || m.Pages != 2 {
		t.Fatalf("interrupted after two pages: %+v %v", status, err)
	}
	if status, err = e.store.Migrate(as(admin), func() bool { return true }); err != nil || !status[0].Done {
		t.Fatalf("resumed: %+v %v", status, err)
	}
	changed := status[0].Changed
	if status, err = e.store.Migrate(as(admin), func() bool { return true }); err != nil || status[0].Changed != changed {
		t.Fatalf("a second run: %+v %v", status, err)
	}
	// A run that applied a page and stopped before recording it leaves
	// the page to the next, which changes nothing the first did.
	if n, err := e.store.BackfillPage(as(admin), before); err != nil || n != 0 {
		t.Fatalf("the old items applied again: %d changed, %v", n, err)
	}
	mustHoldInvariants(t, e)

	acme := mustCustomer(t, e, "ACME")
	if acme.InteractionCount != 2 || acme.LastInteractionID != "I2" || acme.LastInteraction == nil || acme.NextFollowUpAt == nil ||
		acme.Transactions.Count != 1 || len(acme.RecentEvaluations) != 2 || acme.Grade.Level != "B" {
		t.Fatalf("Acme migrated: %+v", acme)
	}
	day := crm.Period{From: legacyDay, To: legacyDay, Granularity: crm.GranularityDay}
	for _, c := range []struct {
		scope                crm.Scope
		gained, interactions int
		byOwner              map[string]int
	}{
		{crm.Scope{}, 2, 3, map[string]int{"sales-1": 2, "": 1}},
		{crm.Scope{Team: "north"}, 1, 2, map[string]int{"sales-1": 2}},
		{crm.Scope{OwnerID: "sales-1"}, 1, 2, map[string]int{}},
		{crm.Scope{Team: "north", OwnerID: "sales-1"}, 1, 2, map[string]int{}},
		{crm.Scope{Pool: true}, 1, 1, map[string]int{}},
	} {
		f := mustActivity(t, e, c.scope, day).Total
		if f.Customers.Gained != c.gained || f.Interactions.Total != c.interactions || fmt.Sprint(f.Interactions.ByOwner) != fmt.Sprint(c.byOwner) {
			t.Errorf("%+v after the migration: gained %d, %d interactions by owner %v; want %d, %d, %v", c.scope,
				f.Customers.Gained, f.Interactions.Total, f.Interactions.ByOwner, c.gained, c.interactions, c.byOwner)
		}
	}
	// The old layout's items are gone but for those that stay.
	var left []string
	for start := map[string]types.AttributeValue(nil); ; {
		res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table, ExclusiveStartKey: start,
			FilterExpression: aws.String("begins_with(pk, :agg) OR begins_with(pk, :count) OR begins_with(sk, :w)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":agg": &types.AttributeValueMemberS{Value: "AGG#"},
				":count": &types.AttributeValueMemberS{Value: "COUNT#"}, ":w": &types.AttributeValueMemberS{Value: "#W#"}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			var k struct{ PK, SK string }
			_ = attributevalue.UnmarshalMap(it, &struct {
				PK *string `dynamodbav:"pk"`
				SK *string `dynamodbav:"sk"`
			}{&k.PK, &k.SK})
			left = append(left, k.PK+" "+k.SK)
		}
		if start = res.LastEvaluatedKey; start == nil {
			break
		}
	}
	slices.Sort(left)
	if want := []string{"COUNT#TEMPLATES COUNT", "CUST#ACME #W#FALLING"}; !slices.Equal(left, want) {
		t.Errorf("left of the old layout: %v, want %v", left, want)
	}
	// The watch lists read the activity: Acme's follow-up is due, its
	// scores fall.
	falling, err := e.svc.CustomersAtRisk(as(admin), crm.Scope{Team: "north"}, crm.RiskQuery{Reason: crm.RiskFallingScores}, crm.PageRequest{First: 5})
	if err != nil || len(falling.Items) != 1 || falling.Items[0].ID != "ACME" {
		t.Errorf("falling scores of team north: %+v %v", falling, err)
	}
	due := legacyDay.Add(96 * time.Hour)
	followUps, err := e.svc.FollowUpsDue(as(admin), crm.Scope{OwnerID: "sales-1"}, &due, crm.PageRequest{First: 5})
	if err != nil || len(followUps.Items) != 1 {
		t.Errorf("follow-ups of sales-1: %+v %v", followUps, err)
	}
	_ = dynamo.IndexesV2
}

// migrationNamed is the status of the migration called name, or a zero
// status (not done) if the run lists none: tests look migrations up by
// name, whatever others run before them.
func migrationNamed(status []dynamo.MigrationStatus, name string) dynamo.MigrationStatus {
	for _, s := range status {
		if s.Name == name {
			return s
		}
	}
	return dynamo.MigrationStatus{}
}
