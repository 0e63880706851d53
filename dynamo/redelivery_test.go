package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbfault"
	"github.com/rapportcrm/rapport/infra/ddbstream"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/stream"
)

// redeliveryScenario writes, through the service and without applying the
// stream, what the stream has to derive from: creations, calls with
// follow-ups and deals, a complaint worked to its close (a satisfaction
// evaluation), falling scores, a change of owner and tags, a follow-up
// set by a profile edit, an archive, a pool claim followed up, a merge,
// and an append that reaches the merged customer after its merge finished.
// It returns the ids of the claimed customer, the survivor and the
// merged one.
func redeliveryScenario(t *testing.T, e *env) (claimed, survivor, merged string) {
	t.Helper()
	mk := func(name, owner, team string, tags ...string) *crm.Customer {
		return mustCreate(t, e, admin, crm.CustomerInput{Name: name, OwnerID: &owner, Team: team, Region: "north", Tags: tags})
	}
	acme := mk("Acme", sales1.ID, "north", "vip")
	bolt := mk("Bolt", "sales-2", "north")
	cord := mk("Cord", sales3.ID, "south", "vip", "renewal")
	pool := mk("Dune", "", "north")
	gone := mk("Echo", sales1.ID, "north")
	twin := mk("Acme Twin", sales1.ID, "north", "twin")
	deal := 1200.5
	soon := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Millisecond)
	for i, c := range []*crm.Customer{acme, bolt, cord, acme, twin, gone} {
		in := crm.InteractionInput{CustomerID: c.ID, Channel: crm.Channels[i%len(crm.Channels)], Type: crm.TypeCall, Subject: fmt.Sprint("call ", i)}
		if i%2 == 0 {
			in.NextFollowUpAt = &soon
		}
		if i == 3 {
			in.Type, in.Amount, in.Currency = crm.TypeTransaction, &deal, "CNY"
		}
		mustLog(t, e, admin, in)
	}
	cs := mustOpenCase(t, e, admin, bolt.ID, crm.PriorityHigh)
	four := 4
	for _, m := range []crm.CaseMove{{To: crm.CaseTriaged}, {To: crm.CaseAssigned, AssignTo: "sales-2"},
		{To: crm.CaseProposed, Plan: "refund"}, {To: crm.CaseApproved}, {To: crm.CaseResolved}, {To: crm.CaseClosed, Satisfaction: &four}} {
		by := admin
		if m.To == crm.CaseApproved {
			by = admin2 // not the proposer
		}
		next, err := e.svc.MoveCase(as(by), bolt.ID, cs.ID, cs.Version, m)
		if err != nil {
			t.Fatal(err)
		}
		cs = next
	}
	mustOpenCase(t, e, admin, cord.ID, "")
	tpl := relationshipTemplate(t, e)
	for _, v := range []float64{90, 60} {
		if _, err := e.svc.SubmitEvaluation(as(manager), crm.EvaluationInput{CustomerID: acme.ID, TemplateID: tpl.ID,
			Kind: crm.EvalCustomerSurvey, Scores: reviewScores(v, 8)}); err != nil {
			t.Fatal(err)
		}
	}
	newOwner := "sales-2"
	later := soon.Add(24 * time.Hour)
	cur, err := e.store.Customer(as(admin), cord.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateCustomer(as(admin), cord.ID, cur.Version, crm.CustomerUpdate{OwnerID: &newOwner, Team: ptrTo("north"),
		Tags: []string{"renewal", "key"}, NextFollowUpAt: &later}); err != nil {
		t.Fatal(err)
	}
	cur, _ = e.store.Customer(as(admin), gone.ID)
	if _, err := e.svc.ArchiveCustomer(as(admin), gone.ID, cur.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ClaimCustomer(as(sales1), pool.ID); err != nil {
		t.Fatal(err)
	}
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: pool.ID, Type: crm.TypeCall, Subject: "follow-up of the claim"})
	sv, _ := e.store.Customer(as(admin), acme.ID)
	tw, _ := e.store.Customer(as(admin), twin.ID)
	if _, err := e.svc.MergeCustomers(as(admin), crm.MergeInput{SurvivorID: sv.ID, MergedID: tw.ID,
		ExpectedSurvivorVersion: sv.Version, ExpectedMergedVersion: tw.Version, Reason: "entered twice"}); err != nil {
		t.Fatal(err)
	}
	// A call that read the twin before the merge and wrote after it: it
	// lands in the tombstone's collection.
	at := time.Now().UTC().Truncate(time.Millisecond)
	raced := &crm.Interaction{ID: fmt.Sprintf("01RACED%019d", at.UnixNano()%1e18), CustomerID: tw.ID, Channel: crm.ChannelPhone,
		Direction: crm.Outbound, Type: crm.TypeCall, Subject: "raced the merge", OccurredAt: at, HandledBy: sales1.ID,
		Version: 1, CreatedAt: at, CreatedBy: sales1.ID, UpdatedAt: at, UpdatedBy: sales1.ID}
	item, err := attributevalue.MarshalMap(map[string]any{"pk": "CUST#" + tw.ID, "sk": "I#" + raced.ID, "type": "interaction",
		"id": raced.ID, "customerId": tw.ID, "channel": "PHONE", "direction": "OUTBOUND", "kind": "CALL", "subject": raced.Subject,
		"occurredAt": at, "handledBy": sales1.ID, "version": 1, "createdAt": at, "createdBy": sales1.ID, "updatedAt": at, "updatedBy": sales1.ID,
		"scope": map[string]any{"owner": tw.OwnerID, "team": tw.Team, "grade": tw.Grade.Level}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &e.table, Item: item}); err != nil {
		t.Fatal(err)
	}
	return pool.ID, sv.ID, tw.ID
}

// The stream consumer applies each change once however its batches come:
// the same batch twice, a batch whose consumer stops after any of its
// writes and which comes again, overlapping batches, one customer's
// records split over two shards. Each leaves a table whose derived items
// agree with what they derive from, as one clean pass does: activities
// (counts, latest interaction, follow-up, open cases, deals, evaluations,
// watch-list keys), counters, analytics; the claim converted; the append
// that raced the merge moved to the survivor and counted there.
func TestTheStreamAppliesEachChangeOnceWhateverTheDelivery(t *testing.T) {
	twice := func(h ddbstream.Handler) ddbstream.Handler {
		return func(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
			if _, err := h(ctx, ev); err != nil {
				return events.DynamoDBTimeWindowEventResponse{}, err
			}
			return h(ctx, ev)
		}
	}
	overlapping := func(h ddbstream.Handler) ddbstream.Handler {
		return func(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
			first := ev
			first.Records = ev.Records[:len(ev.Records)/2+1]
			if res, err := h(ctx, first); err != nil || len(res.BatchItemFailures) > 0 {
				return res, err
			}
			return h(ctx, ev)
		}
	}
	// Records of one item stay in one shard, in order, as DynamoDB keeps
	// them; a customer's items go to either.
	split := func(h ddbstream.Handler) ddbstream.Handler {
		return func(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
			shards := [2]events.DynamoDBTimeWindowEvent{ev, ev}
			shards[0].Records, shards[1].Records = nil, nil
			for _, r := range ev.Records {
				f := fnv.New32a()
				f.Write([]byte(r.Change.Keys["pk"].String() + "\x00" + r.Change.Keys["sk"].String()))
				shards[f.Sum32()%2].Records = append(shards[f.Sum32()%2].Records, r)
			}
			for i := 1; i >= 0; i-- { // the second shard first
				sh := shards[i]
				sh.ShardID = fmt.Sprintf("%s-split-%d", ev.ShardID, i)
				if len(sh.Records) == 0 {
					continue
				}
				res, err := h(ctx, sh)
				if err != nil || len(res.BatchItemFailures) > 0 {
					return events.DynamoDBTimeWindowEventResponse{}, errors.Join(err, errors.New("a split shard failed"))
				}
			}
			return events.DynamoDBTimeWindowEventResponse{}, nil
		}
	}
	// A batch cut after a third and after two thirds, as a consumer that
	// stopped there leaves it, each time delivered again from its start.
	thirds := func(h ddbstream.Handler) ddbstream.Handler {
		return func(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
			for _, n := range []int{len(ev.Records) / 3, 2 * len(ev.Records) / 3} {
				cut := ev
				cut.Records = ev.Records[:max(n, 1)]
				if res, err := h(ctx, cut); err != nil || len(res.BatchItemFailures) > 0 {
					return res, err
				}
			}
			return h(ctx, ev)
		}
	}
	clean := func(h ddbstream.Handler) ddbstream.Handler { return h }
	for _, c := range []struct {
		name string
		wrap func(ddbstream.Handler) ddbstream.Handler
		// stops: the consumer's writes fail at random after they applied.
		stops bool
	}{
		{"OneCleanPass", clean, false},
		{"SameBatchTwice", twice, false},
		{"CutAndDeliveredAgain", thirds, false},
		{"StoppedAfterAnyWriteAndDeliveredAgain", clean, true},
		{"OverlappingBatches", overlapping, false},
		{"OneCustomerSplitOverTwoShards", split, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := mustEnv(t)
			claimed, survivor, merged := redeliveryScenario(t, e)
			store, settler := e.store, e.svc
			if c.stops {
				stop := ddbfault.Fraction(0.4, ddbfault.Errorf("the consumer stopped after this write"))
				db := dynamodb.New(ddbtest.Client(t).Options(), dynamo.Retries, ddbfault.Faults{After: func(op string) error {
					if op == "TransactWriteItems" || op == "PutItem" || op == "UpdateItem" || op == "DeleteItem" {
						return stop(op)
					}
					return nil
				}}.Option)
				store = dynamo.New(db, e.table, []byte(strings.Repeat("k", 32)))
				settler = crm.NewService(store)
			}
			consumer := &stream.Consumer{Store: store, Settler: settler}
			p, err := ddbstream.New(t.Context(), e.db, ddbtest.Streams(t), e.table, c.wrap(consumer.Handle))
			if err != nil {
				t.Fatal(err)
			}
			failures := 0
			for {
				_, err := p.Drain(t.Context())
				if err == nil {
					break
				}
				if failures++; !c.stops || failures > 500 {
					t.Fatalf("drain: %v", err)
				}
			}
			t.Logf("%d batches failed and came again", failures)
			broken, err := dynamo.CheckInvariants(t.Context(), e.db, e.table)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range broken {
				t.Errorf("invariant: %s", b)
			}
			read := func(id string) *crm.Customer {
				cu, err := e.svc.Customer(as(admin), id)
				if err != nil {
					t.Fatal(err)
				}
				return cu
			}
			if cl := read(claimed).Claim; cl == nil || cl.Active() {
				t.Errorf("the claim followed up in time is still active: %+v", cl)
			}
			if sv := read(survivor); sv.InteractionCount != 4 {
				t.Errorf("the survivor counts %d interactions, want its 2, the twin's 1 and the one that raced the merge", sv.InteractionCount)
			}
			if n := e.collection(t, merged)["I#"]; n != 0 {
				t.Errorf("%d interactions left with the tombstone", n)
			}
			// Its move is audited once, as the stream's.
			log, err := e.svc.AuditLog(as(admin), crm.AuditFilter{CustomerID: survivor, Operation: "stream:move"}, crm.PageRequest{First: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(log.Items) != 1 || log.Items[0].Actor != crm.SystemUserID || log.Items[0].Changes[0].Entity != "interaction" {
				t.Errorf("the survivor's stream:move entries: %+v, want the one of the call that raced the merge", log.Items)
			}
		})
	}
}

// A shared item takes a record once by its mark of the record's shard,
// the rest of a batch that overlaps what it took, and forgets the marks
// of shards whose records are gone.
func TestSharedItemsTakeEachRecordOnceByTheirMarks(t *testing.T) {
	e := mustEnv(t)
	ctx := t.Context()
	owner := "mark-owner"
	one := func(seq string) stream.Effects {
		return stream.Effects{Seq: seq, At: time.Now(), After: &crm.Customer{Status: crm.StatusActive, OwnerID: owner, Team: "marks",
			Stage: crm.StageExploration, Grade: crm.GradeState{Level: "C"}}}
	}
	pk := "TOTAL#OWNER#" + owner
	stale := "@" + strings.Repeat("0", 10)
	if _, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.table, Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "COUNT"},
		"n":   &types.AttributeValueMemberN{Value: "0"},
		stale: &types.AttributeValueMemberS{Value: fmt.Sprintf("19%019d|%d", 7, time.Now().Add(-26*time.Hour).Unix())}}}); err != nil {
		t.Fatal(err)
	}
	read := func() map[string]types.AttributeValue {
		res, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "COUNT"}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Item
	}
	batches := [][]string{
		{"0000000000000000000010", "0000000000000000000011"},
		{"0000000000000000000010", "0000000000000000000011"},                           // again
		{"0000000000000000000011", "0000000000000000000012", "0000000000000000000013"}, // overlapping
		{"0000000000000000000009"},                                                     // before the mark
	}
	for _, b := range batches {
		var efs []stream.Effects
		for _, seq := range b {
			efs = append(efs, one(seq))
		}
		if err := e.store.Advance(ctx, "shard-a", efs); err != nil {
			t.Fatal(err)
		}
	}
	// Another shard's records are its own.
	if err := e.store.Advance(ctx, "shard-b", []stream.Effects{one("0000000000000000000010")}); err != nil {
		t.Fatal(err)
	}
	it := read()
	if n := it["n"].(*types.AttributeValueMemberN).Value; n != "5" {
		t.Errorf("the counter took %s records, want 5 (10, 11, 12, 13 of one shard and 10 of the other)", n)
	}
	if _, ok := it[stale]; ok {
		t.Errorf("the mark of a shard whose records are gone is still there: %v", it)
	}
	marks := 0
	for name := range it {
		if strings.HasPrefix(name, "@") {
			marks++
		}
	}
	if marks != 2 {
		t.Errorf("%d marks, want one per shard: %v", marks, it)
	}
}
