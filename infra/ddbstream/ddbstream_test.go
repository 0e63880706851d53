package ddbstream_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/infra/ddbstream"
	"github.com/rapportcrm/rapport/infra/ddbtest"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }

func put(t *testing.T, db *dynamodb.Client, table, pk string) {
	t.Helper()
	if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "X"}}}); err != nil {
		t.Fatal(err)
	}
}

// keys lists the partition keys of a batch's records.
func keys(ev events.DynamoDBTimeWindowEvent) []string {
	var out []string
	for _, r := range ev.Records {
		out = append(out, r.Change.Keys["pk"].String())
	}
	return out
}

// Drain hands every record to the handler once, in order, including the
// records of what the handler itself writes, and then finds nothing more.
func TestDrainAppliesWritesAndWhatTheyCause(t *testing.T) {
	db := ddbtest.Client(t)
	table := ddbtest.NewTable(t, "CrmTable")
	var seen []string
	var shards []string
	p, err := ddbstream.New(t.Context(), db, ddbtest.Streams(t), table, func(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
		shards = append(shards, ev.ShardID)
		for _, pk := range keys(ev) {
			seen = append(seen, pk)
			// A write causes one derived write, as the stream consumer's do.
			if strings.HasPrefix(pk, "W#") {
				put(t, db, table, "D#"+strings.TrimPrefix(pk, "W#"))
			}
		}
		return events.DynamoDBTimeWindowEventResponse{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		put(t, db, table, fmt.Sprintf("W#%d", i))
	}
	n, err := p.Drain(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"W#0", "W#1", "W#2", "D#0", "D#1", "D#2"}
	if n != len(want) || !slices.Equal(seen, want) {
		t.Fatalf("drained %d records %v, want %v", n, seen, want)
	}
	if slices.Contains(shards, "") {
		t.Errorf("a batch came without its shard id: %v", shards)
	}
	if n, err := p.Drain(t.Context()); n != 0 || err != nil {
		t.Errorf("a second drain handled %d records (err %v), want none", n, err)
	}
	put(t, db, table, "W#3")
	if n, err := p.Drain(t.Context()); n != 2 || err != nil || !slices.Equal(seen[len(seen)-2:], []string{"W#3", "D#3"}) {
		t.Errorf("after one more write: %d records (err %v), tail %v", n, err, seen[len(seen)-2:])
	}
}

// A record the handler reports as failed, and every one after it, comes
// again in the next pass; the records before it do not.
func TestDrainRedeliversFromTheFirstFailedRecord(t *testing.T) {
	db := ddbtest.Client(t)
	table := ddbtest.NewTable(t, "CrmTable")
	var seen []string
	fail := "R#2"
	p, err := ddbstream.New(t.Context(), db, ddbtest.Streams(t), table, func(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
		var res events.DynamoDBTimeWindowEventResponse
		for _, r := range ev.Records {
			pk := r.Change.Keys["pk"].String()
			if pk == fail {
				res.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}
				return res, nil
			}
			seen = append(seen, pk)
		}
		return res, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		put(t, db, table, fmt.Sprintf("R#%d", i))
	}
	if _, err := p.Drain(t.Context()); err == nil {
		t.Fatal("a failed batch drained without an error")
	}
	if !slices.Equal(seen, []string{"R#0", "R#1"}) {
		t.Fatalf("before the failure: %v", seen)
	}
	fail = ""
	if _, err := p.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"R#0", "R#1", "R#2", "R#3"}; !slices.Equal(seen, want) {
		t.Errorf("records handled %v, want %v", seen, want)
	}
	// Old and new images arrive as the Lambda event carries them.
	table2 := table
	_, err = db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: aws.String(table2),
		Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "R#0"}, "sk": &types.AttributeValueMemberS{Value: "X"}},
		UpdateExpression: aws.String("SET n = :n"), ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "7"}}})
	if err != nil {
		t.Fatal(err)
	}
	var got events.DynamoDBEventRecord
	p2, err := ddbstream.New(t.Context(), db, ddbtest.Streams(t), table, func(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
		got = ev.Records[len(ev.Records)-1]
		return events.DynamoDBTimeWindowEventResponse{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got.EventName != "MODIFY" || got.Change.NewImage["n"].Number() != "7" || got.Change.OldImage["pk"].String() != "R#0" {
		t.Errorf("last record %s new %v old %v", got.EventName, got.Change.NewImage, got.Change.OldImage)
	}
}
