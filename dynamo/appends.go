package dynamo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/metrics"
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

// appendAfterBudget bounds the wait for an append's case and audit entry,
// counted from when its interaction is in: the request has its answer
// then, and what does not make it is the stream's.
const appendAfterBudget = time.Second

// alone reports whether ch is an interaction created, with the case it
// opens (as the stream would rebuild it) and its key's record, and nothing
// else: the shape LogInteraction writes. Anything more (another item, a
// counter, an agenda entry, a case opened otherwise) keeps its
// transaction, and so does a key's record written again with the result
// its first request did not write (crm.Idempotency.Resume), which must not
// be apart from it.
func (t *tx) alone(ch *crm.Change) bool {
	others := *ch
	others.Scope, others.Interaction, others.Case, others.Idempotency = nil, nil, nil, nil
	if ch.Interaction == nil || ch.Scope == nil || !reflect.ValueOf(others).IsZero() ||
		(ch.Case != nil && !reflect.DeepEqual(ch.Case, crm.CaseOpenedBy(ch.Interaction, ch.Case.Priority, ch.Case.RespondBy, ch.Case.ResolveBy))) ||
		(ch.Idempotency != nil && ch.Idempotency.Resume) ||
		t.err != nil || len(t.counters) > 0 || len(t.order) > 0 || len(t.released) > 0 || t.handover != nil {
		return false
	}
	items, audited := 1, 1
	if ch.Case != nil {
		items, audited = items+1, audited+1
	}
	if ch.Idempotency != nil {
		items++
	}
	return len(t.items) == items && len(t.audited) == audited
}

// putAppend writes the change of alone as single puts, in the order the
// comment at the top of this file gives.
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
	entry := auditEntry(ctx, t.audited, t.s.now())
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
	mine := func(old map[string]types.AttributeValue) bool { return reflect.DeepEqual(old["aud"], it["aud"]) }
	// Another request's: the retry of the key's first request, which
	// this one answers with.
	theirs := func(map[string]types.AttributeValue) error {
		return &crm.Error{Code: crm.EREPLAYED, ExistingID: ch.Interaction.ID, Message: "already done"}
	}
	rest := []map[string]types.AttributeValue{t.marshal(entry.stored())}
	if len(items) > 1 {
		rest = append(rest, items[1].write.Put.Item)
	}
	if t.err != nil {
		return t.err
	}
	if err := t.s.putOnce(ctx, txItem{write: items[0].write, onFail: theirs}, mine); err != nil {
		if k := ch.Idempotency; k != nil && appliedNo(err) {
			// Told it was not applied, the client may send another
			// request with the key: free it.
			t.s.forgetKey(ctx, k, ch.Interaction)
		}
		return err
	}
	t.s.putAfter(ctx, rest)
	return nil
}

// appliedNo reports whether err says its write was not applied.
func appliedNo(err error) bool {
	var e *crm.Error
	return errors.As(err, &e) && e.Applied == crm.AppliedNo
}

// forgetKey deletes the record of a key this request made, if it is still
// this request's and its interaction was not written (a retry resuming it
// writes the record again with the interaction, in one transaction:
// crm.Idempotency.Resume), within appendAfterBudget. What fails stays, and
// a retry of the same request finds it and writes the interaction.
func (s *Store) forgetKey(ctx context.Context, k *crm.Idempotency, it *crm.Interaction) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), appendAfterBudget)
	defer cancel()
	t := &tx{s: s}
	t.check(customerPK(it.CustomerID), interactionSK(it.ID), "attribute_not_exists(pk)", nil, nil)
	t.del(idempotencyPK(k.Key), skIdempotency, "resultId = :id", map[string]types.AttributeValue{":id": str(k.ResultID)}, nil)
	_ = s.transact(ctx, t.items)
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
// each only if absent, within appendAfterBudget. What fails is left to the
// stream (FinishAppends), which finds it missing; the request's usage
// counts it, so that its metrics line shows it (WritesLeftToStream).
func (s *Store) putAfter(ctx context.Context, items []map[string]types.AttributeValue) {
	ctx, cancel := context.WithTimeout(ctx, appendAfterBudget)
	defer cancel()
	var wg sync.WaitGroup
	for _, item := range items {
		wg.Go(func() {
			if s.putIfAbsent(ctx, item) != nil {
				metrics.UsageFrom(ctx).LeaveToStream()
			}
		})
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
// its record shows it: the stream.Change's Unfinished. mergedFrom names
// the customer it was written under when the record is of its copy under
// a merge's survivor.
type unfinishedAppend struct {
	item       map[string]types.AttributeValue
	mergedFrom string
}

// unfinished returns the Unfinished of an interaction's INSERT, nil for
// one written in a transaction.
func unfinished(event string, after map[string]types.AttributeValue) any {
	if event != "INSERT" || after["aud"] == nil {
		return nil
	}
	return &unfinishedAppend{item: after, mergedFrom: strAttr(after["mergedFrom"])}
}

// keepUnfinished carries onto an interaction's copy under a merge's
// survivor (moveAppend) what its stream record needs to finish it.
func keepUnfinished(ch stream.Change, moved map[string]types.AttributeValue) {
	u, ok := ch.Unfinished.(*unfinishedAppend)
	if !ok {
		return
	}
	for _, name := range []string{"aud", "opens", "scope"} {
		if v := u.item[name]; v != nil {
			moved[name] = v
		}
	}
}

// pendingItem is an item an unfinished append may miss.
type pendingItem struct {
	item map[string]types.AttributeValue
	// isCase, and where it was opened when a merge moved its interaction.
	isCase     bool
	mergedFrom string
}

// FinishAppends writes the case and the audit entry of each interaction of
// changes written without a transaction that its request did not
// (stream.AppendFinisher): it reads which exist, consistently (a read
// costs a quarter of a refused put), and puts the missing ones, exactly as
// the request would have written them. An entry is put only if still
// absent. A case is put under where its interaction is now
// (putCaseWhereItsInteractionIs): a merge moves what its customer holds,
// and the interaction's copy under the survivor brings its record again.
func (s *Store) FinishAppends(ctx context.Context, changes []stream.Change) error {
	var (
		keys []map[string]types.AttributeValue
		want = map[itemKey]pendingItem{}
	)
	for _, ch := range changes {
		u, ok := ch.Unfinished.(*unfinishedAppend)
		if !ok {
			continue
		}
		items, err := u.rest()
		if err != nil {
			// Never written so: rather than stop the shard's batches
			// until the records expire, leave it.
			continue
		}
		for _, p := range items {
			k := itemKey{strAttr(p.item["pk"]), strAttr(p.item["sk"])}
			if _, dup := want[k]; !dup {
				keys = append(keys, key(k.pk, k.sk))
			}
			want[k] = p
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
		p, ok := want[itemKey{strAttr(k["pk"]), strAttr(k["sk"])}]
		if !ok {
			continue
		}
		put := s.putIfAbsent
		if p.isCase {
			put = func(ctx context.Context, item map[string]types.AttributeValue) error {
				return s.putCaseWhereItsInteractionIs(ctx, item, p.mergedFrom)
			}
		}
		if err := put(ctx, p.item); err != nil {
			return wrap("finish an append", err)
		}
	}
	return nil
}

// putCaseWhereItsInteractionIs puts a case opened by an interaction while
// the interaction is at the case's key and its customer is not merged or
// being merged: a case put under a merged customer (by a record delivered
// late) would be moved again over the survivor's copy, or stop the merge's
// own move of it. Under a survivor (mergedFrom set) it is put only while
// the merged customer holds no case of that id either, which the merge
// would move there.
func (s *Store) putCaseWhereItsInteractionIs(ctx context.Context, item map[string]types.AttributeValue, mergedFrom string) error {
	pk, id := strAttr(item["pk"]), strings.TrimPrefix(strAttr(item["sk"]), skCasePrefix)
	t := &tx{s: s}
	kept := func(map[string]types.AttributeValue) error { return nil }
	t.check(pk, interactionSK(id), "attribute_exists(pk)", nil, kept)
	t.check(pk, skProfile, unmerged, nil, kept)
	if mergedFrom != "" {
		t.check(customerPK(mergedFrom), caseSK(id), "attribute_not_exists(pk)", nil, kept)
	}
	t.put(item, notExists, nil, kept)
	return s.transact(ctx, t.items)
}

// rest rebuilds what the request writes after the interaction, item for
// item: its audit entry (but for a merge's copy, whose entry is the
// original's) and the case it opens.
func (u *unfinishedAppend) rest() ([]pendingItem, error) {
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
	at := crm.TimeOfID(head.ID)
	if at.IsZero() {
		return nil, fmt.Errorf("interaction %s: audit entry id %q", strAttr(u.item["sk"]), head.ID)
	}
	interaction := fromInteractionItem(&it)
	recs := []auditRecord{{kind: "interaction", id: interaction.ID, customerID: interaction.CustomerID, after: u.item}}
	var out []pendingItem
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
		out = append(out, pendingItem{item: item, isCase: true, mergedFrom: u.mergedFrom})
	}
	if u.mergedFrom != "" {
		return out, nil
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
	return append([]pendingItem{{item: stored}}, out...), nil
}
