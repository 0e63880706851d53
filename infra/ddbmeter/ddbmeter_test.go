package ddbmeter_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/infra/ddbmeter"
	"github.com/rapportcrm/rapport/infra/ddbtest"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "sk": s("~P")}
}

// profile is an item of about size bytes on byOwner and byGrade (which
// project everything).
func profile(pk string, size int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "sk": s("~P"), "gOwner": s("OWNER#a"), "gGrade": s("A"),
		"gSort": s(pk), "data": s(strings.Repeat("x", size))}
}

// What AWS bills for each kind of call (bill.go), call by call on one
// table in order: writes worked out from the items' images, reads as
// DynamoDB Local reports them.
func TestBillFollowsAWSRules(t *testing.T) {
	table := ddbtest.NewTable(t, "CrmTable")
	m := &ddbmeter.Meter{Probe: ddbtest.Client(t)}
	db := dynamodb.New(ddbtest.Client(t).Options(), m.Option)
	ctx := t.Context()
	update := func(pk, expr string, values map[string]types.AttributeValue) *types.Update {
		return &types.Update{TableName: &table, Key: key(pk), UpdateExpression: aws.String(expr), ExpressionAttributeValues: values}
	}
	one := &types.AttributeValueMemberN{Value: "1"}
	tests := []struct {
		name                    string
		call                    func() error
		table, owner, grade, rd float64
	}{
		{"PutOf1.5KBOnTwoIndexes", func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: profile("P", 1500)})
			return err
		}, 2, 2, 2, 0},
		{"SamePutAgainWritesNoIndex", func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: profile("P", 1500)})
			return err
		}, 2, 0, 0, 0},
		{"UpdateMovingAnIndexKey", func() error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key("P"),
				UpdateExpression: aws.String("SET gGrade = :g"), ExpressionAttributeValues: map[string]types.AttributeValue{":g": s("B")}})
			return err
		}, 2, 2, 4, 0},
		{"TransactionPuttingTwoSmallItems", func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: &table, Item: profile("T", 100)}},
				{Put: &types.Put{TableName: &table, Item: key("U")}},
			}})
			return err
		}, 4, 1, 1, 0},
		{"TransactionOfFourSmallPuts", func() error {
			var items []types.TransactWriteItem
			for _, pk := range []string{"F1", "F2", "F3", "F4"} {
				items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &table, Item: key(pk)}})
			}
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
			return err
		}, 8, 0, 0, 0},
		{"TransactionMovingAnIndexKey", func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Update: update("T", "SET gOwner = :o", map[string]types.AttributeValue{":o": s("OWNER#b")})},
			}})
			return err
		}, 2, 2, 1, 0},
		{"TransactionCheckingAndAdding", func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{ConditionCheck: &types.ConditionCheck{TableName: &table, Key: key("U"), ConditionExpression: aws.String("attribute_exists(pk)")}},
				{Update: update("C", "ADD n :n", map[string]types.AttributeValue{":n": one})},
			}})
			return err
		}, 4, 0, 0, 0},
		{"StrongQueryOf1.5KB", func() error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, ConsistentRead: aws.Bool(true),
				KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("P")}})
			return err
		}, 0, 0, 0, 1},
		{"EventualBatchGetOfTwo", func() error {
			_, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				table: {Keys: []map[string]types.AttributeValue{key("P"), key("U")}}}})
			return err
		}, 0, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m.Take()
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			u := m.Take()
			b := u.Billed
			if b.Write[ddbmeter.TableUnits] != tt.table || b.Write["byOwner"] != tt.owner || b.Write["byGrade"] != tt.grade || b.ReadTotal() != tt.rd {
				t.Errorf("billed writes table %v byOwner %v byGrade %v, reads %v; want %v %v %v, %v (DynamoDB Local reported %v)",
					b.Write[ddbmeter.TableUnits], b.Write["byOwner"], b.Write["byGrade"], b.ReadTotal(), tt.table, tt.owner, tt.grade, tt.rd, u.Reported)
			}
			if u.CallCount() != 1 || u.Attempts != 1 {
				t.Errorf("%d calls in %d attempts, want 1 in 1", u.CallCount(), u.Attempts)
			}
		})
	}
}

// A recording meter keeps the inputs of the calls, in order, for replay.
func TestMeterRecordsInputs(t *testing.T) {
	table := ddbtest.NewTable(t, "CrmTable")
	m := &ddbmeter.Meter{Record: true}
	db := dynamodb.New(ddbtest.Client(t).Options(), m.Option)
	if _, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &table, Key: key("A")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(t.Context(), &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("A")}}); err != nil {
		t.Fatal(err)
	}
	u := m.Take()
	if len(u.Inputs) != 2 {
		t.Fatalf("%d inputs recorded, want 2", len(u.Inputs))
	}
	if _, ok := u.Inputs[0].(*dynamodb.GetItemInput); !ok {
		t.Errorf("first input is %T, want the GetItem's", u.Inputs[0])
	}
	if _, ok := u.Inputs[1].(*dynamodb.QueryInput); !ok {
		t.Errorf("second input is %T, want the Query's", u.Inputs[1])
	}
	if u.Calls["GetItem"] != 1 || u.Calls["Query"] != 1 {
		t.Errorf("calls %v, want one GetItem and one Query", u.Calls)
	}
	// One after the other: the second began after the first ended.
	if len(u.Spans) != 2 || u.Spans[0].End.Before(u.Spans[0].Start) || u.Spans[1].Start.Before(u.Spans[0].End) {
		t.Errorf("spans %v, want two calls one after the other", u.Spans)
	}
	if again := m.Take(); again.CallCount() != 0 || len(again.Inputs) != 0 {
		t.Errorf("after Take the meter holds %v", again)
	}
}

// DynamoDB Local's own figures for transactional writes, which the meter
// does not use (bill.go): per transaction, the distinct item sizes in KB
// times 4. If this fails, DynamoDB Local changed how it reports them, and
// bill.go's account of it must change.
func TestLocalReportsTransactionsByDistinctSizes(t *testing.T) {
	table := ddbtest.NewTable(t, "CrmTable")
	m := &ddbmeter.Meter{}
	db := dynamodb.New(ddbtest.Client(t).Options(), m.Option)
	n := 0
	put := func(size int) types.TransactWriteItem {
		n++
		return types.TransactWriteItem{Put: &types.Put{TableName: &table, Item: map[string]types.AttributeValue{
			"pk": s(fmt.Sprintf("L%d", n)), "sk": s("~P"), "data": s(strings.Repeat("x", size))}}}
	}
	tests := []struct {
		name     string
		items    []types.TransactWriteItem
		reported float64
	}{
		{"OneSmall", []types.TransactWriteItem{put(100)}, 4},
		{"FourSmall", []types.TransactWriteItem{put(100), put(100), put(100), put(100)}, 4},
		{"TwoOf1.1KB", []types.TransactWriteItem{put(1100), put(1100)}, 8},
		{"1.1KBAndSmall", []types.TransactWriteItem{put(1100), put(100)}, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m.Take()
			if _, err := db.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: tt.items}); err != nil {
				t.Fatal(err)
			}
			if got := m.Take().Reported.WriteTotal(); got != tt.reported {
				t.Errorf("DynamoDB Local reported %v write units, want %v", got, tt.reported)
			}
		})
	}
}
