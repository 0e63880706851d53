package dynamo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
)

func TestAPIKeyUseIsCountedPerMinuteUpToTheLimit(t *testing.T) {
	db, table := ddbtest.Client(t), ddbtest.NewTable(t, "CrmTable")
	s := dynamo.New(db, table, []byte(strings.Repeat("k", 32)))
	ctx := context.Background()
	minute := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	for i, want := range []bool{true, true, false, false} {
		// Any instant of the minute counts in the same window.
		within, err := s.CountAPIKeyUse(ctx, "k1", minute.Add(time.Duration(i*10)*time.Second), 2)
		if err != nil || within != want {
			t.Fatalf("request %d: within %v, %v; want %v", i+1, within, err, want)
		}
	}
	if within, err := s.CountAPIKeyUse(ctx, "k2", minute, 2); err != nil || !within {
		t.Fatalf("another key shares the count: %v %v", within, err)
	}
	if within, err := s.CountAPIKeyUse(ctx, "k1", minute.Add(time.Minute), 2); err != nil || !within {
		t.Fatalf("the next minute starts afresh: %v %v", within, err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "APIUSE#k1"},
			"sk": &types.AttributeValueMemberS{Value: "1772357400"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	uses, _ := out.Item["uses"].(*types.AttributeValueMemberN)
	ttl, _ := out.Item["ttl"].(*types.AttributeValueMemberN)
	if uses == nil || uses.Value != "2" || ttl == nil || ttl.Value != "1772361000" {
		t.Errorf("counter item %v: want uses 2 (refused requests not counted) and ttl an hour after the minute", out.Item)
	}
}
