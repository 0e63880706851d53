package dynamo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	jitter "github.com/rapportcrm/rapport/internal/backoff"
	"github.com/rapportcrm/rapport/stream"
)

// The change feed's logs (docs/sync.md; docs/access-patterns.md, patterns 95–97):
//
//	SYNC#<audience> / <stamp>#<seq>#<k>#<record>   an entry (TTL 8 days)
//	SYNCREC#<record> / SYNCREC                     a record's entries are in
//
// An entry's sort key starts with the time the stream consumer wrote it
// (its stamp, to the millisecond), not the time of the write it is about:
// a batch applied late is logged late, after what readers have passed
// already, instead of behind them. Then come the record's sequence number
// (its length first, so that it sorts as a number: a customer's writes
// at the same millisecond keep their order), the entry's kind (removals
// first) and the record's event id (unique in the partition).
//
// A reader's place in a log is a sort key; the start of a millisecond is
// its stamp alone, which sorts before every entry stamped then.
const (
	changeLogPrefix  = "SYNC#"
	changeRecPrefix  = "SYNCREC#"
	skChangeRecord   = "SYNCREC"
	changeRecordKept = 48 * time.Hour // the stream keeps a record 24 hours
	// changeAttempt bounds one attempt of a call, and changeAttempts the
	// attempts: each is stamped anew, so that no entry
	// becomes readable later than changeAttempt after its stamp, well
	// within crm.DefaultChangeSettle.
	changeAttempt  = 8 * time.Second
	changeAttempts = 8
)

func changeLogPK(audience string) string { return changeLogPrefix + audience }
func changeRecordPK(id string) string    { return changeRecPrefix + id }
func changeStamp(t time.Time) string     { return t.UTC().Format(dueLayout) }

func changeSK(stamp time.Time, seq string, kind crm.ChangeKind, record string) string {
	k := "1"
	if kind == crm.ChangeRemove {
		k = "0"
	}
	return changeStamp(stamp) + "#" + fmt.Sprintf("%02d", len(seq)) + seq + "#" + k + "#" + record
}

type changeItem struct {
	PK         string    `dynamodbav:"pk"`
	SK         string    `dynamodbav:"sk"`
	Type       string    `dynamodbav:"type"`
	CustomerID string    `dynamodbav:"customerId"`
	Kind       string    `dynamodbav:"kind"`
	Version    int       `dynamodbav:"version"`
	At         time.Time `dynamodbav:"at"`
	TTL        int64     `dynamodbav:"ttl"`
}

type changeRecordItem struct {
	PK  string `dynamodbav:"pk"`
	SK  string `dynamodbav:"sk"`
	Typ string `dynamodbav:"type"`
	TTL int64  `dynamodbav:"ttl"`
}

var _ stream.ChangeLogWriter = (*Store)(nil)

// AppendChanges writes the records' entries and their marks in
// TransactWriteItems calls of at most maxTransactItems items, a record's
// all in one call, each mark conditioned on not existing: a record written
// before (its batch delivered again) is dropped from its call, which goes
// again without it. Each attempt takes the clock anew and is not retried
// by the SDK: an entry is readable at most changeAttempt after its stamp.
// All the entries of a call share its stamp; the sequence numbers in
// their keys keep a customer's records in order.
func (s *Store) AppendChanges(ctx context.Context, records []stream.LoggedChange) error {
	for len(records) > 0 {
		n, items := 0, 0
		for n < len(records) && (n == 0 || items+1+len(records[n].Entries) <= maxTransactItems) {
			items += 1 + len(records[n].Entries)
			n++
		}
		if err := s.appendCall(ctx, records[:n]); err != nil {
			return err
		}
		records = records[n:]
	}
	return nil
}

// maxTransactItems is TransactWriteItems' limit of items per call.
const maxTransactItems = 100

// appendCall writes one call's records, dropping those in already.
func (s *Store) appendCall(ctx context.Context, records []stream.LoggedChange) error {
	for attempt := 0; len(records) > 0; {
		err := s.appendChanges(ctx, records, time.Now())
		var tce *types.TransactionCanceledException
		if err == nil {
			return nil
		}
		if errors.As(err, &tce) {
			if in := writtenBefore(records, tce); len(in) > 0 {
				records = slices.DeleteFunc(records, func(r stream.LoggedChange) bool { return in[r.Change.ID] })
				continue
			}
		}
		if attempt++; ctx.Err() != nil || attempt >= changeAttempts {
			return wrap("append changes", err)
		}
		if err := jitter.Sleep(ctx, backoff(attempt)); err != nil {
			return wrap("append changes", err)
		}
	}
	return nil
}

// writtenBefore returns the records whose mark's condition failed.
func writtenBefore(records []stream.LoggedChange, tce *types.TransactionCanceledException) map[string]bool {
	in := map[string]bool{}
	at := 0
	for _, r := range records {
		if at < len(tce.CancellationReasons) && aws.ToString(tce.CancellationReasons[at].Code) == "ConditionalCheckFailed" {
			in[r.Change.ID] = true
		}
		at += 1 + len(r.Entries)
	}
	return in
}

func (s *Store) appendChanges(ctx context.Context, records []stream.LoggedChange, stamp time.Time) error {
	stamp = stamp.UTC().Truncate(time.Millisecond)
	var writes []types.TransactWriteItem
	for _, r := range records {
		ch := r.Change
		mark, err := attributevalue.MarshalMap(changeRecordItem{PK: changeRecordPK(ch.ID), SK: skChangeRecord, Typ: "changeRecord",
			TTL: stamp.Add(changeRecordKept).Unix()})
		if err != nil {
			return fmt.Errorf("marshal change record: %w", err)
		}
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: mark,
			ConditionExpression: aws.String("attribute_not_exists(pk)")}})
		for _, e := range r.Entries {
			item, err := attributevalue.MarshalMap(changeItem{PK: changeLogPK(e.Audience), SK: changeSK(stamp, ch.Seq, e.Kind, ch.ID),
				Type: "change", CustomerID: e.CustomerID, Kind: string(e.Kind), Version: e.Version, At: ch.At,
				TTL: stamp.Add(crm.ChangeTTL).Unix()})
			if err != nil {
				return fmt.Errorf("marshal change: %w", err)
			}
			writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item}})
		}
	}
	call, cancel := context.WithTimeout(ctx, changeAttempt)
	defer cancel()
	_, err := s.db.TransactWriteItems(call, &dynamodb.TransactWriteItemsInput{TransactItems: writes},
		func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	return err
}

// changePositions returns the reader's place in each audience's log: the
// cursor's, or Since's for a feed read without one. A cursor of other
// audiences, or one behind Since, cannot be resumed (ERESYNC).
func (s *Store) changePositions(q crm.ChangeQuery) (map[string]string, error) {
	since := changeStamp(q.Since)
	pos := map[string]string{}
	if q.After == "" {
		for _, a := range q.Audiences {
			pos[a] = since
		}
		return pos, nil
	}
	key, err := s.decodeCursor(changesList(q.Caller), q.After)
	if err != nil {
		return nil, err
	}
	for a, v := range key {
		pos[a] = strAttr(v)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(pos)), slices.Sorted(slices.Values(q.Audiences))) {
		return nil, &crm.Error{Code: crm.ERESYNC, Field: "after",
			Message: "what you may read changed since this cursor: read your customers again, then the changes from changesCursor"}
	}
	for _, p := range pos {
		if p < since {
			return nil, &crm.Error{Code: crm.ERESYNC, Field: "after", Message: fmt.Sprintf(
				"this cursor is older than %d days: read your customers again, then the changes from changesCursor", int(crm.ChangeWindow.Hours()/24))}
		}
	}
	return pos, nil
}

func changesList(caller string) string { return "changes/" + caller }

func (s *Store) changesCursor(caller string, pos map[string]string) string {
	key := make(map[string]types.AttributeValue, len(pos))
	for a, p := range pos {
		key[a] = str(p)
	}
	return s.encodeCursor(changesList(caller), key)
}

// StartChanges returns a cursor at the time at in each audience's log.
func (s *Store) StartChanges(caller string, audiences []string, at time.Time) string {
	pos := map[string]string{}
	for _, a := range audiences {
		pos[a] = changeStamp(at)
	}
	return s.changesCursor(caller, pos)
}

// ReadChanges reads a page of the feed: one Query per audience (strongly
// consistent, ascending, after the reader's place and before Until, First+1
// entries), merged by sort key. The page is the first First entries of
// the merge, which are the first of all the logs together: a log left out
// of them has First+1 entries before them. The place in a log moves past
// what the page took of it, and to Until when the page took all its
// entries before Until: a quiet log's place keeps up with the time, so a
// client that reads at least weekly never falls out of the window.
func (s *Store) ReadChanges(ctx context.Context, q crm.ChangeQuery) (*crm.Page[*crm.CustomerChange], error) {
	pos, err := s.changePositions(q)
	if err != nil {
		return nil, err
	}
	until := changeStamp(q.Until)
	type hit struct {
		audience string
		item     changeItem
	}
	var hits []hit
	read := map[string]int{}
	exhausted := map[string]bool{}
	for _, a := range slices.Sorted(maps.Keys(pos)) {
		if pos[a] >= until {
			exhausted[a] = true
			continue
		}
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("pk = :pk AND sk < :until"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(changeLogPK(a)), ":until": str(until)},
			ExclusiveStartKey: key(changeLogPK(a), pos[a]),
			ConsistentRead:    aws.Bool(true),
			Limit:             aws.Int32(int32(q.First + 1)),
		})
		if err != nil {
			return nil, wrap("query change log", err)
		}
		for _, raw := range res.Items {
			var it changeItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal change: %w", err)
			}
			hits = append(hits, hit{a, it})
		}
		read[a] = len(res.Items)
		exhausted[a] = res.LastEvaluatedKey == nil
	}
	slices.SortFunc(hits, func(x, y hit) int {
		return cmp.Or(strings.Compare(x.item.SK, y.item.SK), strings.Compare(x.audience, y.audience))
	})
	page := &crm.Page[*crm.CustomerChange]{Items: []*crm.CustomerChange{}, Cursors: []string{}, HasNext: len(hits) > q.First}
	taken := map[string]int{}
	for _, h := range hits[:min(len(hits), q.First)] {
		pos[h.audience] = h.item.SK
		taken[h.audience]++
		page.Items = append(page.Items, &crm.CustomerChange{Kind: crm.ChangeKind(h.item.Kind), CustomerID: h.item.CustomerID,
			Version: h.item.Version, At: h.item.At})
		page.Cursors = append(page.Cursors, s.changesCursor(q.Caller, pos))
	}
	for a := range pos {
		if exhausted[a] && taken[a] == read[a] && pos[a] < until {
			pos[a] = until
		}
	}
	page.EndCursor = s.changesCursor(q.Caller, pos)
	return page, nil
}
