package dynamo_test

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
)

// bodyRecorder keeps the body of each response its client receives.
type bodyRecorder struct {
	next   dynamodb.HTTPClient
	mu     sync.Mutex
	bodies [][]byte
}

func (r *bodyRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.next.Do(req)
	if err != nil {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.mu.Unlock()
	return resp, err
}

func (r *bodyRecorder) last() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[len(r.bodies)-1]
}

// What DynamoDB Local answers, FastReads reads as the SDK does, and reads
// itself: items of every attribute type, through each of its reads.
func TestFastReadsReadsDynamoDBLocalAsTheSDKDoes(t *testing.T) {
	ctx := t.Context()
	base := ddbtest.Client(t)
	table := ddbtest.NewTable(t, "CrmTable")
	items := []map[string]types.AttributeValue{
		{
			"pk": &types.AttributeValueMemberS{Value: "CUST#fast"}, "sk": &types.AttributeValueMemberS{Value: "~P"},
			"name":   &types.AttributeValueMemberS{Value: "恒泰钢铁 \"Hengtai\" \\ Steel\ttab\nline 😀"},
			"n":      &types.AttributeValueMemberN{Value: "-12.5e3"},
			"b":      &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
			"ok":     &types.AttributeValueMemberBOOL{Value: true},
			"no":     &types.AttributeValueMemberBOOL{Value: false},
			"null":   &types.AttributeValueMemberNULL{Value: true},
			"ss":     &types.AttributeValueMemberSS{Value: []string{"vip", "渠道"}},
			"ns":     &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
			"bs":     &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
			"empty":  &types.AttributeValueMemberS{Value: ""},
			"list":   &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "a"}, &types.AttributeValueMemberL{Value: []types.AttributeValue{}}}},
			"map":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"inner": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}, "x": &types.AttributeValueMemberN{Value: "1"}}},
			"nolist": &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		},
		{"pk": &types.AttributeValueMemberS{Value: "CUST#fast"}, "sk": &types.AttributeValueMemberS{Value: "I#1"}, "subject": &types.AttributeValueMemberS{Value: "call"}},
		{"pk": &types.AttributeValueMemberS{Value: "CUST#fast"}, "sk": &types.AttributeValueMemberS{Value: "I#2"}, "subject": &types.AttributeValueMemberS{Value: "visit"}},
	}
	for _, it := range items {
		if _, err := base.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	// Both clients start from the test's client without its API options
	// (ddbtest's client reads with FastReads), the SDK's side as the SDK
	// comes, and a spy says which deserializer each call met.
	var mu sync.Mutex
	usedFast := map[*dynamodb.Client]bool{}
	client := func(opts ...func(*dynamodb.Options)) (*dynamodb.Client, *bodyRecorder) {
		rec := &bodyRecorder{}
		var c *dynamodb.Client
		spy := func(o *dynamodb.Options) {
			o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
				m, _ := st.Deserialize.Get("OperationDeserializer")
				mu.Lock()
				defer mu.Unlock()
				usedFast[c] = reflect.TypeOf(m).String() == "*dynamo.fastDeserializer"
				return nil
			})
		}
		c = dynamodb.New(base.Options(), append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
			o.APIOptions = nil
			rec.next = o.HTTPClient
			o.HTTPClient = rec
		}}, append(opts, spy)...)...)
		return c, rec
	}
	sdk, _ := client()
	fast, rec := client(dynamo.FastReads)
	key := func(sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "CUST#fast"}, "sk": &types.AttributeValueMemberS{Value: sk}}
	}
	// dynamo.Metered asks every request's calls for their total capacity.
	query := func(limit int32, capacity types.ReturnConsumedCapacity) func(*dynamodb.Client) (any, error) {
		return func(c *dynamodb.Client) (any, error) {
			out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "CUST#fast"}},
				ConsistentRead:            aws.Bool(true), Limit: aws.Int32(limit), ReturnConsumedCapacity: capacity})
			if out != nil {
				out.ResultMetadata = middleware.Metadata{}
			}
			return out, err
		}
	}
	for _, tc := range []struct {
		name string
		call func(*dynamodb.Client) (any, error)
		read func([]byte) (any, bool)
	}{
		{"Query", query(10, ""), func(b []byte) (any, bool) { return dynamo.ReadQueryOutput(b) }},
		{"Query, a page with a next", query(2, ""), func(b []byte) (any, bool) { return dynamo.ReadQueryOutput(b) }},
		{"Query, with its total capacity", query(10, types.ReturnConsumedCapacityTotal), func(b []byte) (any, bool) { return dynamo.ReadQueryOutput(b) }},
		{"GetItem", func(c *dynamodb.Client) (any, error) {
			out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("~P"), ConsistentRead: aws.Bool(true)})
			if out != nil {
				out.ResultMetadata = middleware.Metadata{}
			}
			return out, err
		}, func(b []byte) (any, bool) { return dynamo.ReadGetItemOutput(b) }},
		{"GetItem, none", func(c *dynamodb.Client) (any, error) {
			out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("none"), ConsistentRead: aws.Bool(true)})
			if out != nil {
				out.ResultMetadata = middleware.Metadata{}
			}
			return out, err
		}, func(b []byte) (any, bool) { return dynamo.ReadGetItemOutput(b) }},
		{"BatchGetItem", func(c *dynamodb.Client) (any, error) {
			out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				table: {Keys: []map[string]types.AttributeValue{key("~P"), key("I#2"), key("none")}, ConsistentRead: aws.Bool(true)}},
				ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
			if out != nil {
				out.ResultMetadata = middleware.Metadata{}
				for _, items := range out.Responses { // in no set order
					sortBySK(items)
				}
			}
			return out, err
		}, func(b []byte) (any, bool) {
			out, ok := dynamo.ReadBatchGetItemOutput(b)
			for _, items := range out.Responses {
				sortBySK(items)
			}
			return out, ok
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := tc.call(sdk)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.call(fast)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			sdkFast, sdkSeen := usedFast[sdk]
			fastFast, fastSeen := usedFast[fast]
			clear(usedFast)
			mu.Unlock()
			if !sdkSeen || !fastSeen || sdkFast || !fastFast {
				t.Fatalf("FastReads in the SDK's client %v (seen %v), in FastReads' %v (seen %v)", sdkFast, sdkSeen, fastFast, fastSeen)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("with FastReads:\n%#v\nSDK:\n%#v", got, want)
			}
			read, ok := tc.read(rec.last())
			if !ok {
				t.Fatalf("the reader declined DynamoDB Local's response: %s", rec.last())
			}
			if !reflect.DeepEqual(read, want) {
				t.Fatalf("reader:\n%#v\nSDK:\n%#v", read, want)
			}
		})
	}
}

func sortBySK(items []map[string]types.AttributeValue) {
	sk := func(m map[string]types.AttributeValue) string { return m["sk"].(*types.AttributeValueMemberS).Value }
	slices.SortFunc(items, func(a, b map[string]types.AttributeValue) int { return strings.Compare(sk(a), sk(b)) })
}
