package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// SetReadBudget shrinks a store's list budget so tests can exhaust it
// without thousands of items.
func (s *Store) SetReadBudget(calls, items int) { s.budget = readBudget{calls: calls, items: items} }

// SetWalkBound makes bounded counts and orders read at most n customers,
// so tests can pass the bound without thousands of items.
func (s *Store) SetWalkBound(n int) { s.walkBound = n }

// KeyOf is the key of an item, for tests that call DynamoDB directly.
func KeyOf(pk, sk string) map[string]types.AttributeValue { return key(pk, sk) }

// SetMigrationPage makes migrations scan n items a page, so tests can
// interrupt one between pages without thousands of items.
func (s *Store) SetMigrationPage(n int) { s.migrationPage = n }

// BackfillPage applies the activity backfill to items as a page of its
// walk would, again if need be: what a run that stopped before recording
// its progress leaves to the next.
func (s *Store) BackfillPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return backfillPage(ctx, s, items)
}

// LookupPage applies the caller lookup backfill to items as a page of its
// walk would.
func (s *Store) LookupPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return lookupPage(ctx, s, items)
}

// PhonesPage applies the canonical phones migration to items as a page of
// its walk would.
func (s *Store) PhonesPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return phonesPage(ctx, s, items)
}

// SearchPage applies the search keys migration to items as a page of its
// walk would.
func (s *Store) SearchPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return searchPage(ctx, s, items)
}

// SetSearchWindow makes searches read n key items a Query, so tests can
// cross windows without hundreds of customers.
func (s *Store) SetSearchWindow(n int) { s.searchWindow = n }

// SetDuplicateRead makes a duplicate lookup compare at most n customers,
// so tests can pass the bound without a thousand customers.
func (s *Store) SetDuplicateRead(n int) { s.duplicateRead = n }

// AgendaPage applies the agenda pointers migration to one page of items.
func (s *Store) AgendaPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return agendaPage(ctx, s, items)
}

// BulkCreate writes the transactions of creates (the crm.Changes
// CreateCustomer hands the store) with BatchWriteItem, 25 items a call,
// instead of one TransactWriteItems each: the same items (profile, unique
// claims, tag entries, history entries, audit entry), without their
// conditions, so the creates must not collide (no phone, email or credit
// code held twice). It returns the stream records those writes make, an
// INSERT of each item in order, numbered from seq on, for the stream
// consumer to apply (stream.Consumer.Apply) as it would the table's. A
// loader for tests and benchmarks that need many customers fast.
func (s *Store) BulkCreate(ctx context.Context, chs []*crm.Change, seq int64) ([]stream.Change, error) {
	var reqs []types.WriteRequest
	var out []stream.Change
	at := time.Now().UTC().Truncate(time.Second)
	for _, ch := range chs {
		if ch.Customer == nil || ch.CustomerPrev != nil {
			return nil, fmt.Errorf("bulk create: a change that creates no customer")
		}
		t := s.changeTx(ch)
		if err := t.seal(ctx); err != nil {
			return nil, err
		}
		for _, it := range t.items {
			p := it.write.Put
			if p == nil {
				return nil, fmt.Errorf("bulk create: a write other than a put in the create of %s", ch.Customer.ID)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: p.Item}})
			n := fmt.Sprintf("%021d", seq)
			seq++
			rec, err := decodeChange(stream.Change{ID: "bulk-" + n, Seq: n, At: at, Event: "INSERT"},
				strAttr(p.Item["pk"]), strAttr(p.Item["sk"]), nil, p.Item)
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
	}
	return out, s.batchWrite(ctx, reqs)
}

// OrderPage applies the order index backfill to items as a page of its
// walk would.
func (s *Store) OrderPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return orderPage(ctx, s, items)
}

// ChangeLogEntries lists the entries of an audience's log, for tests:
// each as its kind and its record's event id.
func (s *Store) ChangeLogEntries(ctx context.Context, audience string) ([]string, error) {
	var out []string
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(changeLogPK(audience))},
			ExclusiveStartKey:         start, ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, wrap("read change log", err)
		}
		for _, it := range res.Items {
			// <stamp>#<seq>#<kind>#<record>
			out = append(out, strings.SplitN(strAttr(it["sk"]), "#", 3)[2])
		}
		if start = res.LastEvaluatedKey; start == nil {
			return out, nil
		}
	}
}

// ForecastPage applies the forecast counters migration to one page of
// items.
func (s *Store) ForecastPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return forecastPage(ctx, s, items)
}

// The readers of FastReads, for tests against DynamoDB Local's responses.
var (
	ReadQueryOutput        = readQueryOutput
	ReadGetItemOutput      = readGetItemOutput
	ReadBatchGetItemOutput = readBatchGetItemOutput
)
