package dynamo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// An interaction logged (with the case it opens, and its client key's
// record) is written without a transaction, which bills 2 write units per
// item where a single put bills 1 (docs/access-patterns.md, "Appends
// without a transaction"):
//
//  1. the key's record, when the request has a key, conditioned on its
//     absence as in the transaction: a retry finds it first;
//  2. the interaction, conditioned on its absence: the write itself, the
//     point from which the request succeeds. It carries its audit entry's
//     head (`aud`: the entry's id, whose time is the entry's, and who did
//     it, how and in which request) and, opening a case, the case's
//     priority and deadlines (`opens`);
//  3. the case and the audit entry, at once, each conditioned on its
//     absence.
//
// A request that stops after 1 leaves a record naming an interaction that
// does not exist: its retry writes it under that id (crm.LogInteraction).
// One that stops after 2 leaves the interaction without its case or audit
// entry: the stream consumer writes them from the interaction's record
// (FinishAppends), exactly as the request would have, and a batch
// delivered again finds them written. An append has no condition on
// anything another writer touches, written so or in a transaction:
// appends to one customer never contend.

// appendAudit is an audit entry's head kept on the interaction it records.
type appendAudit struct {
	ID string `dynamodbav:"i"`
	// Actor is left out when it is the interaction's creator.
	Actor     string   `dynamodbav:"a,omitempty"`
	Roles     []string `dynamodbav:"r,omitempty"`
	Operation string   `dynamodbav:"o,omitempty"`
	RequestID string   `dynamodbav:"q,omitempty"`
	ImportID  string   `dynamodbav:"m,omitempty"`
}

// appendCase is what a case opened by an interaction has that the
// interaction does not (crm.CaseOpenedBy).
type appendCase struct {
	Priority  string    `dynamodbav:"p"`
	RespondBy time.Time `dynamodbav:"r"`
	ResolveBy time.Time `dynamodbav:"z"`
}

// appendAfterBudget bounds the wait for an append's case and audit entry
// once its interaction is in: what does not make it is the stream's.
const appendAfterBudget = time.Second

// alone reports whether the change t writes is an interaction created,
// with the case it opens and its key's record, and nothing else: the
// shape LogInteraction writes. Anything more (a counter, an agenda entry,
// another item) keeps its transaction.
func (t *tx) alone(ch *crm.Change) bool {
	if ch.Interaction == nil || ch.InteractionPrev != nil || ch.CasePrev != nil || ch.Scope == nil ||
		t.err != nil || len(t.counters) > 0 || len(t.order) > 0 || len(t.released) > 0 || t.handover != nil {
		return false
	}
	want := 1
	if ch.Case != nil {
		want++
	}
	if ch.Idempotency != nil {
		want++
	}
	return len(t.items) == want && len(t.audited) == want-boolInt(ch.Idempotency != nil)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// putAppend writes the change of alone as single puts (above).
func (t *tx) putAppend(ctx context.Context, ch *crm.Change) error {
	items := t.items
	if ch.Idempotency != nil {
		mine := func(old map[string]types.AttributeValue) bool {
			return reflect.DeepEqual(old["resultId"], str(ch.Idempotency.ResultID))
		}
		if err := t.s.putOnce(ctx, items[0], mine); err != nil {
			return err
		}
		items = items[1:]
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	entry := auditEntry(ctx, t.audited, now)
	it := items[0].write.Put.Item
	head := appendAudit{ID: entry.ID, Actor: entry.Actor, Roles: entry.Roles, Operation: entry.Operation,
		RequestID: entry.RequestID, ImportID: entry.ImportID}
	if head.Actor == ch.Interaction.CreatedBy {
		head.Actor = ""
	}
	it["aud"] = t.marshalValue(head)
	if c := ch.Case; c != nil {
		it["opens"] = t.marshalValue(appendCase{Priority: string(c.Priority), RespondBy: c.RespondBy, ResolveBy: c.ResolveBy})
	}
	if t.err != nil {
		return t.err
	}
	mine := func(old map[string]types.AttributeValue) bool { return reflect.DeepEqual(old["aud"], it["aud"]) }
	// Another request's: the retry of the key's first request, which
	// this one answers with.
	theirs := func(map[string]types.AttributeValue) error {
		return &crm.Error{Code: crm.EREPLAYED, ExistingID: ch.Interaction.ID, Message: "already done"}
	}
	if err := t.s.putOnce(ctx, txItem{write: items[0].write, onFail: theirs}, mine); err != nil {
		return err
	}
	rest := []map[string]types.AttributeValue{t.marshal(entry.stored())}
	if len(items) > 1 {
		rest = append(rest, items[1].write.Put.Item)
	}
	t.s.putAfter(ctx, rest)
	return nil
}

// putOnce writes one item of an append with the condition its transaction
// would have had. A failure that leaves the outcome unknown is asked
// again, the put sent once more in the time kept for it (outcome.go): a put
// that went in the first time then fails its condition, and mine tells the
// item this request wrote from another's. A condition failed on another's
// item is the item's onFail, or CONFLICT.
func (s *Store) putOnce(ctx context.Context, it txItem, mine func(old map[string]types.AttributeValue) bool) error {
	p := it.write.Put
	in := &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
		ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	refused := func(err error) (error, bool) {
		var cf *types.ConditionalCheckFailedException
		if !errors.As(err, &cf) {
			return err, false
		}
		if mine(cf.Item) {
			return nil, true
		}
		if it.onFail != nil {
			return it.onFail(cf.Item), true
		}
		return &crm.Error{Code: crm.ECONFLICT, Message: "the item was written by someone else; retry", Err: err}, true
	}
	if ctx.Err() != nil {
		return unavailable(ctx.Err(), crm.AppliedNo)
	}
	flag := &sentFlag{}
	call, cancel := reserved(context.WithValue(ctx, sentKey{}, flag))
	_, err := s.db.PutItem(call, in)
	cancel()
	if err == nil {
		return nil
	}
	if err, ok := refused(err); ok {
		return err
	}
	if s.trackSends && !flag.sent.Load() {
		return unavailable(err, crm.AppliedNo)
	}
	ask, cancel := askAgain(ctx)
	defer cancel()
	_, rerr := s.db.PutItem(ask, in)
	if rerr == nil {
		return nil
	}
	if rerr, ok := refused(rerr); ok {
		return rerr
	}
	return unavailable(errors.Join(err, rerr), crm.AppliedUnknown)
}

// putAfter writes an append's items after its interaction, at once and
// each only if absent, within appendAfterBudget of the request's time.
// What fails is left to the stream (FinishAppends).
func (s *Store) putAfter(ctx context.Context, items []map[string]types.AttributeValue) {
	ctx, cancel := context.WithTimeout(ctx, appendAfterBudget)
	defer cancel()
	var wg sync.WaitGroup
	for _, item := range items {
		wg.Go(func() { _ = s.putIfAbsent(ctx, item) })
	}
	wg.Wait()
}

// putIfAbsent puts item unless an item with its key exists.
func (s *Store) putIfAbsent(ctx context.Context, item map[string]types.AttributeValue) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String(notExists)})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return nil
	}
	return err
}

// unfinishedAppend is an interaction written without a transaction, as
// its record shows it: the stream.Change's Unfinished.
type unfinishedAppend struct {
	item map[string]types.AttributeValue
}

// unfinished returns the Unfinished of an interaction's INSERT, nil for
// one written in a transaction and for a merge's copy under its survivor
// (the merge moves the case and leaves the entry).
func unfinished(event string, after map[string]types.AttributeValue) any {
	if event != "INSERT" || after["aud"] == nil || after["mergedFrom"] != nil {
		return nil
	}
	return &unfinishedAppend{item: after}
}

// FinishAppends writes the case and the audit entry of each interaction of
// changes written without a transaction that its request did not
// (stream.AppendFinisher): it reads which exist, consistently, one
// BatchGetItem for up to 50 appends, and puts the missing ones, each only
// if still absent, exactly as the request would have written them.
func (s *Store) FinishAppends(ctx context.Context, changes []stream.Change) error {
	var (
		keys []map[string]types.AttributeValue
		want = map[itemKey]map[string]types.AttributeValue{}
	)
	for _, ch := range changes {
		u, ok := ch.Unfinished.(*unfinishedAppend)
		if !ok {
			continue
		}
		items, err := u.rest()
		if err != nil {
			return err
		}
		for _, item := range items {
			k := itemKey{strAttr(item["pk"]), strAttr(item["sk"])}
			if _, dup := want[k]; !dup {
				keys = append(keys, key(k.pk, k.sk))
			}
			want[k] = item
		}
	}
	if len(keys) == 0 {
		return nil
	}
	found, err := s.batchGetAs(ctx, keys, types.KeysAndAttributes{ProjectionExpression: aws.String("pk, sk"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	for _, it := range found {
		delete(want, itemKey{strAttr(it["pk"]), strAttr(it["sk"])})
	}
	for _, k := range keys {
		if item, ok := want[itemKey{strAttr(k["pk"]), strAttr(k["sk"])}]; ok {
			if err := s.putIfAbsent(ctx, item); err != nil {
				return wrap("finish an append", err)
			}
		}
	}
	return nil
}

// rest rebuilds what the request writes after the interaction: its audit
// entry and the case it opens, item for item.
func (u *unfinishedAppend) rest() ([]map[string]types.AttributeValue, error) {
	var (
		head appendAudit
		it   interactionItem
	)
	if err := attributevalue.Unmarshal(u.item["aud"], &head); err != nil {
		return nil, err
	}
	if err := attributevalue.UnmarshalMap(u.item, &it); err != nil {
		return nil, err
	}
	at := idTime(head.ID)
	if at.IsZero() {
		return nil, fmt.Errorf("interaction %s: audit entry id %q", strAttr(u.item["sk"]), head.ID)
	}
	interaction := fromInteractionItem(&it)
	recs := []auditRecord{{kind: "interaction", id: interaction.ID, customerID: interaction.CustomerID, after: u.item}}
	var out []map[string]types.AttributeValue
	if raw := u.item["opens"]; raw != nil {
		var opens appendCase
		if err := attributevalue.Unmarshal(raw, &opens); err != nil {
			return nil, err
		}
		c := crm.CaseOpenedBy(interaction, crm.Priority(opens.Priority), opens.RespondBy, opens.ResolveBy)
		item, err := attributevalue.MarshalMap(toCaseItem(c))
		if err != nil {
			return nil, err
		}
		if sc := u.item["scope"]; sc != nil {
			item["scope"] = sc
		}
		recs = append(recs, auditRecord{kind: "case", id: c.ID, customerID: c.CustomerID, after: item})
		out = append(out, item)
	}
	entry := auditHead(head.ID, at, head.Actor, head.Roles, head.Operation, head.RequestID, head.ImportID)
	if entry.Actor == "" {
		entry.Actor = interaction.CreatedBy
	}
	entry.addChanges(recs)
	stored, err := attributevalue.MarshalMap(entry.stored())
	if err != nil {
		return nil, err
	}
	return append([]map[string]types.AttributeValue{stored}, out...), nil
}

// idTime is the time of a ULID, to the millisecond; zero for another
// string.
func idTime(id string) time.Time {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(u.Time())).UTC()
}
