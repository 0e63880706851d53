package dynamo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// cannedHTTP answers every request with one response.
type cannedHTTP struct {
	status int
	body   []byte
	err    error // returned by the body's Read after body
}

func (c cannedHTTP) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	body := io.Reader(bytes.NewReader(c.body))
	if c.err != nil {
		body = io.MultiReader(body, failingReader{c.err})
	}
	return &http.Response{StatusCode: c.status, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(body), ContentLength: -1, Request: r}, nil
}

// cannedClient is a client whose every call gets resp, with opts; no
// retries, so a failure is the first attempt's.
func cannedClient(resp cannedHTTP, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", Credentials: aws.AnonymousCredentials{},
		BaseEndpoint: aws.String("http://dynamodb.invalid"), HTTPClient: resp, RetryMaxAttempts: 1}, opts...)
}

// wireCall is one of the reads FastReads takes, called through a client.
type wireCall struct {
	op   string
	call func(context.Context, *dynamodb.Client) (any, error)
	read func([]byte) (any, bool)
}

var wireCalls = []wireCall{
	{"Query", func(ctx context.Context, c *dynamodb.Client) (any, error) {
		out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("t")})
		if out != nil {
			out.ResultMetadata = middleware.Metadata{}
		}
		return out, err
	}, func(b []byte) (any, bool) { return readQueryOutput(b) }},
	{"GetItem", func(ctx context.Context, c *dynamodb.Client) (any, error) {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{}})
		if out != nil {
			out.ResultMetadata = middleware.Metadata{}
		}
		return out, err
	}, func(b []byte) (any, bool) { return readGetItemOutput(b) }},
	{"BatchGetItem", func(ctx context.Context, c *dynamodb.Client) (any, error) {
		out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			"t": {Keys: []map[string]types.AttributeValue{{"pk": &types.AttributeValueMemberS{Value: "k"}}}}}})
		if out != nil {
			out.ResultMetadata = middleware.Metadata{}
		}
		return out, err
	}, func(b []byte) (any, bool) { return readBatchGetItemOutput(b) }},
}

// wireBodies are responses the reader takes, as DynamoDB writes them and
// with every liberty JSON allows.
var wireBodies = []string{
	`{"Count":2,"Items":[{"pk":{"S":"CUST#1"},"sk":{"S":"~P"},"name":{"S":"Hengtai Steel Co., Ltd."},"version":{"N":"17"},"tags":{"SS":["vip","renewal-due"]},"phones":{"L":[{"S":"+861055550021"}]},"grade":{"M":{"level":{"S":"A"},"metrics":{"M":{"n":{"N":"12"}}}}}},{"pk":{"S":"CUST#1"},"sk":{"S":"I#2"},"ok":{"BOOL":true},"gone":{"NULL":true},"bin":{"B":"AAEC"},"bins":{"BS":["AA==","AQI="]},"nums":{"NS":["1","2.5"]}}],"ScannedCount":2}`,
	`{"Count":0,"Items":[],"ScannedCount":0}`,
	`{"Count":1,"Items":[{"pk":{"S":"a"}}],"LastEvaluatedKey":{"pk":{"S":"a"},"sk":{"S":"b"}},"ScannedCount":3}`,
	` { "Items" : [ { "pk" : { "S" : "王伟 \u00e9\t\"quoted\" \\ \/ \ud83d\ude00" } , "e" : { "L" : [ ] } , "m" : { "M" : { } } , "s" : { "S" : "" } } ] , "Count" : 1 } `,
	"{\"Items\":[{\"bad\":{\"S\":\"\xff\xfe invalid UTF-8\"},\"ok\":{\"S\":\"caf\xc3\xa9\"}}]}",
	`{"Count":-0,"Items":[{"pk":{"S":"a"},"pk":{"S":"b"}}],"Items":[{"x":{"N":"1"}}]}`,
	`{"Count":2147483648,"ScannedCount":-2147483649}`,
	`{"Item":{"pk":{"S":"CUST#1"},"sk":{"S":"~P"},"n":{"N":"-1.5e3"}}}`,
	`{}`,
	`{"Responses":{"t":[{"pk":{"S":"k"},"v":{"N":"1"}}],"u":[]},"UnprocessedKeys":{}}`,
	`{"Responses":{}}`,
	// 64 levels, the most the reader takes.
	`{"Items":[{"deep":` + strings.Repeat(`{"M":{"m":`, 63) + `{"S":"a"}` + strings.Repeat(`}}`, 63) + `}]}`,
	`{"Count":1,"Items":[{"pk":{"S":"a"}}],"ScannedCount":1,"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}`,
	`{"Item":{"pk":{"S":"a"}},"ConsumedCapacity":{"TableName":"t","CapacityUnits":1.0,"ReadCapacityUnits":1E0,"WriteCapacityUnits":-0.0e-2}}`,
	`{"Responses":{"t":[]},"UnprocessedKeys":{},"ConsumedCapacity":[{"TableName":"t","CapacityUnits":12.5},{"TableName":"u","CapacityUnits":0}]}`,
	`{"Count":1,"Items":[{"pk":{"S":"a"}}],"ScannedCount":1}trailing, ignored`,
}

// wireDeclined are responses the reader leaves to the SDK: it would read
// them differently, or they are not JSON it reads at all.
var wireDeclined = []string{
	`{"Count":1,"Items":[{"pk":{"S":"a"}}],"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5,"Table":{"CapacityUnits":0.5}}}`,
	`{"ConsumedCapacity":{"TableName":"t","CapacityUnits":1e999}}`,
	`{"ConsumedCapacity":{"TableName":"t","CapacityUnits":.5}}`,
	`{"ConsumedCapacity":{"TableName":"t","CapacityUnits":1.}}`,
	`{"Responses":{"t":[]},"UnprocessedKeys":{"t":{"Keys":[{"pk":{"S":"k"}}]}}}`,
	`{"Items":[{"pk":{}}]}`,
	`{"Items":[{"pk":{"S":null}}]}`,
	`{"Items":null}`,
	`{"Items":[{"pk":{"X":"a"}}]}`,
	`{"Count":1.0}`,
	`{"Count":01}`,
	`{"Count":1e2}`,
	`{"Count":99999999999999999999}`,
	`{"Items":[{"pk":{"S":"a"}},]}`,
	`{"Items":[{"pk":{"S":"a"},}]}`,
	`{"Items":[{"pk":{"S":"tab	inside"}}]}`,
	`{"Items":[{"pk":{"B":"not base64!"}}]}`,
	`{"Items":[{"pk":{"BOOL":truex}}]}`,
	`{"Items":[{"pk":{"S":"\x"}}]}`,
	`[]`,
	``,
	`{"Items":[`,
	// 65 levels: deeper than DynamoDB nests (32) and than the reader takes.
	`{"Items":[{"deep":` + strings.Repeat(`{"L":[`, 64) + `{"S":"a"}` + strings.Repeat(`]}`, 64) + `}]}`,
}

// wireAmbiguous are declined too; the SDK reads them in ways two reads
// need not agree on (one member of several at random; NaN), so only the
// declining is checked.
var wireAmbiguous = []string{
	`{"Items":[{"pk":{"S":"a","N":"1"}}]}`,
	`{"ConsumedCapacity":{"TableName":"t","CapacityUnits":"NaN"}}`,
}

func TestWireDecodersAgreeWithTheSDK(t *testing.T) {
	ctx := t.Context()
	for _, wc := range wireCalls {
		for i, body := range append(wireBodies, wireDeclined...) {
			t.Run(fmt.Sprintf("%s/%d", wc.op, i), func(t *testing.T) {
				resp := cannedHTTP{status: 200, body: []byte(body)}
				want, wantErr := wc.call(ctx, cannedClient(resp))
				got, gotErr := wc.call(ctx, cannedClient(resp, FastReads))
				if (wantErr != nil) != (gotErr != nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
					t.Fatalf("error: SDK %v, with FastReads %v", wantErr, gotErr)
				}
				if wantErr == nil && !reflect.DeepEqual(got, want) {
					t.Fatalf("with FastReads:\n%#v\nSDK:\n%#v", got, want)
				}
				if read, ok := wc.read([]byte(body)); ok {
					if wantErr != nil {
						t.Fatalf("the reader took a body the SDK refuses (%v)", wantErr)
					}
					if !reflect.DeepEqual(read, want) {
						t.Fatalf("reader:\n%#v\nSDK:\n%#v", read, want)
					}
				}
			})
		}
	}
}

// The reader must take what DynamoDB sends, or FastReads saves nothing.
func TestWireReaderTakesDynamoDBsResponses(t *testing.T) {
	for i, body := range wireBodies {
		var taken []string
		for _, wc := range wireCalls {
			if _, ok := wc.read([]byte(body)); ok {
				taken = append(taken, wc.op)
			}
		}
		if len(taken) == 0 {
			t.Errorf("body %d: no reader took it: %s", i, body)
		}
	}
	for i, body := range append(wireDeclined, wireAmbiguous...) {
		for _, wc := range wireCalls {
			if _, ok := wc.read([]byte(body)); ok {
				t.Errorf("body %d: %s took it: %s", i, wc.op, body)
			}
		}
	}
}

func TestFastReadsLeavesErrorsToTheSDK(t *testing.T) {
	ctx := t.Context()
	broken := errors.New("connection reset by peer")
	for _, tc := range []struct {
		name string
		resp cannedHTTP
	}{
		{"throttled", cannedHTTP{status: 400, body: []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`)}},
		{"server error", cannedHTTP{status: 500, body: []byte(`{"__type":"com.amazon.coral.service#InternalFailure"}`)}},
		{"body cut off", cannedHTTP{status: 200, body: []byte(`{"Count":1,"Items":[{"pk":`), err: broken}},
	} {
		for _, wc := range wireCalls {
			t.Run(tc.name+"/"+wc.op, func(t *testing.T) {
				_, want := wc.call(ctx, cannedClient(tc.resp))
				_, got := wc.call(ctx, cannedClient(tc.resp, FastReads))
				if want == nil || got == nil || got.Error() != want.Error() {
					t.Fatalf("with FastReads %v, SDK %v", got, want)
				}
				if tc.resp.err != nil && !errors.Is(got, broken) {
					t.Errorf("%v does not wrap the read error", got)
				}
			})
		}
	}
}

// FastReads replaces the deserializer of the three reads, and only theirs.
func TestFastReadsTakesOnlyItsReads(t *testing.T) {
	took := map[string]bool{}
	spy := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			m, _ := st.Deserialize.Get(operationDeserializer)
			_, took[st.ID()] = m.(*fastDeserializer)
			return nil
		})
	}
	c := cannedClient(cannedHTTP{status: 200, body: []byte(`{}`)}, FastReads, spy)
	ctx := t.Context()
	for _, wc := range wireCalls {
		_, _ = wc.call(ctx, c)
	}
	_, _ = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{}})
	_, _ = c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("t")})
	want := map[string]bool{"Query": true, "GetItem": true, "BatchGetItem": true, "PutItem": false, "Scan": false}
	if !reflect.DeepEqual(took, want) {
		t.Fatalf("fast deserializer by operation: %v, want %v", took, want)
	}
}

func FuzzWireDecoders(f *testing.F) {
	for _, b := range slices.Concat(wireBodies, wireDeclined, wireAmbiguous) {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, wc := range wireCalls {
			read, ok := wc.read(body)
			if !ok {
				continue // the SDK reads it (TestWireDecodersAgreeWithTheSDK)
			}
			want, err := wc.call(context.Background(), cannedClient(cannedHTTP{status: 200, body: body}))
			if err != nil {
				t.Fatalf("%s: the reader took %q, which the SDK refuses: %v", wc.op, body, err)
			}
			if !reflect.DeepEqual(read, want) {
				t.Fatalf("%s of %q:\nreader %#v\nSDK %#v", wc.op, body, read, want)
			}
		}
	})
}

func BenchmarkReadQueryOutput(b *testing.B) {
	body := benchQueryBody()
	for _, bc := range []struct {
		name string
		opts []func(*dynamodb.Options)
	}{{"SDK", nil}, {"FastReads", []func(*dynamodb.Options){FastReads}}} {
		b.Run(bc.name, func(b *testing.B) {
			c := cannedClient(cannedHTTP{status: 200, body: body}, bc.opts...)
			in := &dynamodb.QueryInput{TableName: aws.String("t")}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if out, err := c.Query(b.Context(), in); err != nil || len(out.Items) != 15 {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchQueryBody is a customer 360's Query response: profile, activity,
// 3 contacts and 10 interactions, shaped like the demo's.
func benchQueryBody() []byte {
	items := []string{
		`{"pk":{"S":"CUST#01KRDA37K0R7V4DK5Y6FCH4QQ7"},"sk":{"S":"~P"},"id":{"S":"01KRDA37K0R7V4DK5Y6FCH4QQ7"},"name":{"S":"恒泰钢铁 Hengtai Steel Co., Ltd."},"kind":{"S":"ORGANIZATION"},"stage":{"S":"ACTIVE"},"version":{"N":"17"},"ownerId":{"S":"sales-li"},"region":{"S":"north"},"team":{"S":"north"},"phones":{"L":[{"S":"+861055550021"},{"S":"+8613900000021"}]},"emails":{"L":[{"S":"office21@bench.example.com"}]},"tags":{"SS":["vip","renewal-due"]},"grade":{"M":{"level":{"S":"A"},"source":{"S":"AUTO"},"at":{"S":"2026-12-01T03:43:00Z"},"reason":{"S":"12 interactions in 90 days"},"policyVersion":{"N":"4"},"metrics":{"M":{"interactions":{"N":"12"},"revenue":{"N":"1200000"}}}}},"createdAt":{"S":"2026-01-04T03:43:00Z"},"gOwner":{"S":"OWNER#sales-li"},"gGrade":{"S":"GRADE#A"},"gTeam":{"S":"TEAM#north"}}`,
		`{"pk":{"S":"CUST#01KRDA37K0R7V4DK5Y6FCH4QQ7"},"sk":{"S":"~S"},"lastInteractionAt":{"S":"2026-12-03T22:18:05.910Z"},"openCases":{"L":[{"M":{"id":{"S":"01M8YZRY9TC4WMCJ185MDJYJD6"},"status":{"S":"OPEN"},"dueAt":{"S":"2026-12-05T22:18:05Z"}}}]},"counts":{"M":{"calls":{"N":"40"},"visits":{"N":"3"}}}}`,
	}
	for i := range 3 {
		items = append(items, fmt.Sprintf(`{"pk":{"S":"CUST#01KRDA37K0R7V4DK5Y6FCH4QQ7"},"sk":{"S":"~C#%d"},"id":{"S":"01M8YZRYH3AMJ5DNXTWMH3BQV%d"},"name":{"S":"联系人 %d"},"title":{"S":"Buyer"},"phones":{"L":[{"S":"+8613800000%03d"}]},"version":{"N":"1"}}`, i, i, i, i))
	}
	for i := range 10 {
		items = append(items, fmt.Sprintf(`{"pk":{"S":"CUST#01KRDA37K0R7V4DK5Y6FCH4QQ7"},"sk":{"S":"I#01M8YZRY6P498H15HDSPT8NK1%d"},"id":{"S":"01M8YZRY6P498H15HDSPT8NK1%d"},"channel":{"S":"PHONE"},"direction":{"S":"OUTBOUND"},"type":{"S":"CALL"},"subject":{"S":"Renewal of the annual contract, call %d"},"notes":{"S":"Discussed pricing and the delivery schedule; follow up next week."},"occurredAt":{"S":"2026-12-0%dT03:43:00Z"},"ownerId":{"S":"sales-li"},"version":{"N":"1"},"durationSeconds":{"N":"300"}}`, i, i, i, i%9+1))
	}
	return []byte(`{"Count":15,"Items":[` + strings.Join(items, ",") + `],"ScannedCount":15}`)
}
