package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	jitter "github.com/rapportcrm/rapport/internal/backoff"
)

// txItem is one write of a transaction with what to say when its condition
// fails.
type txItem struct {
	write  types.TransactWriteItem
	onFail func(old map[string]types.AttributeValue) error
}

// tx accumulates the writes of one crm.Change, and what they do to domain
// entities for the audit entry written with them.
type tx struct {
	s       *Store
	items   []txItem
	audited []auditRecord
	// counters sums the counter deltas of the transaction per item, in the
	// order first met: a transaction may write an item only once, and one
	// change can leave and enter the same counter (a merge's two profiles).
	counters []counterDelta
	err      error
	// handover, in the transaction that finishes a merge, lets the
	// survivor take over the merged customer's unique claims (merge.go).
	handover *handover
	// scope is written on the appends and history entries of the change.
	scope *scopeItem
	// order moves order entries, before the transaction (order.go).
	order []types.WriteRequest
	// released are the claims of dropped values, released once the
	// transaction is in (entries.go).
	released []droppedClaim
}

func (t *tx) marshal(v any) map[string]types.AttributeValue {
	m, err := attributevalue.MarshalMap(v)
	if err != nil && t.err == nil {
		t.err = fmt.Errorf("marshal %T: %w", v, err)
	}
	return m
}

func (t *tx) put(item map[string]types.AttributeValue, cond string, values map[string]types.AttributeValue, onFail func(map[string]types.AttributeValue) error) {
	p := &types.Put{TableName: &t.s.table, Item: item, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	if cond != "" {
		p.ConditionExpression, p.ExpressionAttributeValues = &cond, values
	}
	t.items = append(t.items, txItem{write: types.TransactWriteItem{Put: p}, onFail: onFail})
}

func (t *tx) del(pk, sk, cond string, values map[string]types.AttributeValue, onFail func(map[string]types.AttributeValue) error) {
	d := &types.Delete{TableName: &t.s.table, Key: key(pk, sk), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	if cond != "" {
		d.ConditionExpression, d.ExpressionAttributeValues = &cond, values
	}
	t.items = append(t.items, txItem{write: types.TransactWriteItem{Delete: d}, onFail: onFail})
}

type counterDelta struct {
	pk, sk string
	n      int
}

// add counts n on a counter item; commit writes one ADD per item.
func (t *tx) add(pk, sk string, n int) {
	for i := range t.counters {
		if t.counters[i].pk == pk && t.counters[i].sk == sk {
			t.counters[i].n += n
			return
		}
	}
	t.counters = append(t.counters, counterDelta{pk: pk, sk: sk, n: n})
}

// addCounters writes the summed counter deltas; a sum of zero writes
// nothing.
func (t *tx) addCounters() {
	for _, c := range t.counters {
		if c.n == 0 {
			continue
		}
		t.items = append(t.items, txItem{write: types.TransactWriteItem{Update: &types.Update{
			TableName: &t.s.table, Key: key(c.pk, c.sk),
			UpdateExpression:          aws.String("ADD n :n"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(c.n)},
		}}})
	}
	t.counters = nil
}

func (t *tx) update(pk, sk, expr, cond string, values map[string]types.AttributeValue, onFail func(map[string]types.AttributeValue) error) {
	u := &types.Update{TableName: &t.s.table, Key: key(pk, sk), UpdateExpression: &expr, ExpressionAttributeValues: values}
	if cond != "" {
		u.ConditionExpression = &cond
	}
	t.items = append(t.items, txItem{write: types.TransactWriteItem{Update: u}, onFail: onFail})
}

// claimQuota counts a claim against its holder's active and daily limits;
// the limits are conditions of the same transaction, so concurrent claims
// cannot overshoot them.
func (t *tx) claimQuota(q *crm.ClaimQuota) {
	if q.Delta < 0 {
		t.add(claimsPK(q.UserID), skCounter, q.Delta)
		return
	}
	t.update(claimsPK(q.UserID), skCounter, "ADD n :d", "attribute_not_exists(n) OR n < :max",
		map[string]types.AttributeValue{":d": num(q.Delta), ":max": num(q.MaxActive)},
		func(map[string]types.AttributeValue) error {
			return crm.Errorf(crm.EFORBIDDEN, "you already hold the maximum of %d active claims; follow up or release one first", q.MaxActive)
		})
	// The daily counter expires with DynamoDB's TTL two days after its day.
	day, _ := time.Parse(time.DateOnly, q.Day)
	t.update(claimDayPK(q.UserID, q.Day), skCounter, "ADD n :d SET #ttl = :ttl", "attribute_not_exists(n) OR n < :max",
		map[string]types.AttributeValue{":d": num(q.Delta), ":max": num(q.DailyMax), ":ttl": num(int(day.Add(48 * time.Hour).Unix()))},
		func(map[string]types.AttributeValue) error {
			return crm.Errorf(crm.EFORBIDDEN, "you have made your %d claims for today; try again tomorrow", q.DailyMax)
		})
	t.items[len(t.items)-1].write.Update.ExpressionAttributeNames = map[string]string{"#ttl": "ttl"}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk), "sk": str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(n)} }

const notExists = "attribute_not_exists(pk)"

// unmerged is the condition on a profile that its customer exists and is
// neither merged nor being merged (mergedInto is set when a merge starts).
const unmerged = "attribute_exists(pk) AND attribute_not_exists(mergedInto)"

// versioned is the condition of an optimistic-locking write.
func versioned(v int) (string, map[string]types.AttributeValue) {
	return "version = :v", map[string]types.AttributeValue{":v": num(v)}
}

func conflict(what string) func(map[string]types.AttributeValue) error {
	return func(map[string]types.AttributeValue) error {
		return crm.Errorf(crm.ECONFLICT, "%s was changed by someone else; reload and retry", what)
	}
}

// Apply writes a change in one DynamoDB transaction, with its audit entry;
// an interaction logged, without one (appends.go).
func (s *Store) Apply(ctx context.Context, ch *crm.Change) error {
	t := s.changeTx(ch)
	if t.alone(ch) {
		return t.putAppend(ctx, ch)
	}
	return t.commit(ctx)
}

// changeTx is the transaction that writes a change, but for its audit
// entry (commit adds it).
func (s *Store) changeTx(ch *crm.Change) *tx {
	t := &tx{s: s}
	// First, so that a replayed create reports its key, not the unique
	// values its first run already claimed.
	if k := ch.Idempotency; k != nil {
		t.idempotency(k)
		if it := ch.Interaction; k.Resume && it != nil {
			t.resumable(it.CustomerID)
		}
	}
	if ch.Customer != nil {
		t.customer(ch.CustomerPrev, ch.Customer)
	}
	if q := ch.ClaimQuota; q != nil {
		t.claimQuota(q)
	}
	if c := ch.Contact; c != nil {
		t.entity("contact", c.ID, c.CustomerID, prevItem(ch.ContactPrev, toContactItem), toContactItem(c))
	}
	if c := ch.DemotedContact; c != nil {
		t.entity("contact", c.ID, c.CustomerID, toContactItem(ch.DemotedContactPrev), toContactItem(c))
	}
	if c := ch.DeleteContact; c != nil {
		cond, vals := versioned(c.Version)
		t.del(customerPK(c.CustomerID), contactSK(c.ID), cond, vals, conflict("contact "+c.ID))
		t.record("contact", c.ID, c.CustomerID, t.marshal(toContactItem(c)), nil)
	}
	// Appends and history entries carry the customer's owner, team and
	// grade as the change saw them: what the stream counts them for.
	t.scope = scopeOf(ch)
	if it := ch.Interaction; it != nil {
		t.entity("interaction", it.ID, it.CustomerID, prevItem(ch.InteractionPrev, toInteractionItem), toInteractionItem(it))
	}
	if g := ch.GradeChange; g != nil {
		t.created("gradeChange", g.ID, g.CustomerID, toGradeChangeItem(g))
	}
	if c := ch.Case; c != nil {
		t.entity("case", c.ID, c.CustomerID, prevItem(ch.CasePrev, toCaseItem), toCaseItem(c))
		t.assignedCases(ch.CasePrev, c)
		t.caseAgenda(ch.CasePrev, c)
	}
	if k := ch.Task; k != nil {
		t.entity("task", k.ID, k.CustomerID, prevItem(ch.TaskPrev, toTaskItem), toTaskItem(k))
		t.openTasks(ch.TaskPrev, k)
	}
	if sc := ch.StageChange; sc != nil {
		t.created("stageChange", sc.ID, sc.CustomerID, toStageChangeItem(sc))
	}
	if e := ch.Evaluation; e != nil {
		t.created("evaluation", e.ID, e.CustomerID, toEvaluationItem(e, true))
	}
	if o := ch.Opportunity; o != nil {
		t.opportunity(ch.OpportunityPrev, o)
	}
	if l := ch.Lead; l != nil {
		t.entity("lead", l.ID, l.CustomerID, prevItem(ch.LeadPrev, toLeadItem), toLeadItem(l))
	}
	if c := ch.Contract; c != nil {
		t.contract(ch.ContractPrev, c, ch.CreditSeen)
	}
	if c := ch.Credit; c != nil {
		t.credit(ch.CreditPrev, c, ch.CreditChange)
	}
	return t
}

// scopeItem is the customer as an append saw it: what its event counts
// for in the analytics. Its presence also tells the stream consumer that
// the item's effects are its to apply: items written before the consumer
// applied them carry none.
type scopeItem struct {
	OwnerID string `dynamodbav:"owner,omitempty"`
	Pool    bool   `dynamodbav:"pool,omitempty"`
	Team    string `dynamodbav:"team,omitempty"`
	Grade   string `dynamodbav:"grade,omitempty"`
}

func scopeOf(ch *crm.Change) *scopeItem {
	who := ch.Scope
	if who == nil {
		who = ch.CustomerPrev
	}
	if who == nil {
		who = ch.Customer
	}
	if who == nil {
		return nil
	}
	return &scopeItem{OwnerID: who.OwnerID, Pool: who.InPool(), Team: who.Team, Grade: who.Grade.Level}
}

func (s *scopeItem) customer() *crm.Customer {
	return &crm.Customer{OwnerID: s.OwnerID, Team: s.Team, Grade: crm.GradeState{Level: s.Grade}}
}

// scopedKinds are the items that carry the scope of the change.
var scopedKinds = map[string]bool{"interaction": true, "case": true, "evaluation": true, "stageChange": true}

// prevItem converts the version a change was computed from, nil for a
// create.
func prevItem[T any, I any](prev *T, conv func(*T) *I) any {
	if prev == nil {
		return nil
	}
	return conv(prev)
}

// versionOf reads an item's version for its optimistic-locking condition.
func versionOf(item map[string]types.AttributeValue) int {
	n, ok := item["version"].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, _ := strconv.Atoi(n.Value)
	return v
}

// entity writes one versioned domain item: created when prev is nil (it
// must not exist), else replaced if its stored version is still prev's.
func (t *tx) entity(kind, id, customerID string, prev, next any) {
	what := kind + " " + id
	after := t.scoped(kind, t.marshal(next))
	if prev == nil {
		t.put(after, notExists, nil, conflict(what))
		t.record(kind, id, customerID, nil, after)
		return
	}
	before := t.marshal(prev)
	cond, vals := versioned(versionOf(before))
	t.put(after, cond, vals, conflict(what))
	t.record(kind, id, customerID, before, after)
}

// created writes an append-only record (a history entry, an evaluation).
func (t *tx) created(kind, id, customerID string, item any) {
	after := t.scoped(kind, t.marshal(item))
	t.put(after, notExists, nil, conflict(kind+" "+id))
	t.record(kind, id, customerID, nil, after)
}

// scoped adds the change's scope to an item of a scoped kind.
func (t *tx) scoped(kind string, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	if t.scope != nil && scopedKinds[kind] && item != nil {
		item["scope"] = t.marshalValue(t.scope)
	}
	return item
}

func (t *tx) marshalValue(v any) types.AttributeValue {
	av, err := attributevalue.Marshal(v)
	if err != nil && t.err == nil {
		t.err = fmt.Errorf("marshal %T: %w", v, err)
	}
	return av
}

// resumable checks, in the transaction that writes a keyed interaction
// its first request did not (crm.Idempotency.Resume), that its customer is
// neither merged nor being merged. The retry read the customer as
// writable, but a merge may have started since and moved the first
// request's interaction to the survivor: written again under the merged
// customer, it would be moved once more over the survivor's copy, its case
// over the survivor's case as it stands. Refused, the retry is answered
// as a write to a merged customer is (crm.Writable).
func (t *tx) resumable(customerID string) {
	t.check(customerPK(customerID), skProfile, unmerged, nil,
		func(old map[string]types.AttributeValue) error {
			var it customerItem
			if old == nil || attributevalue.UnmarshalMap(old, &it) != nil {
				return crm.Errorf(crm.ENOTFOUND, "customer %s not found", customerID)
			}
			if err := crm.Writable(fromCustomerItem(&it)); err != nil {
				return err
			}
			return crm.Errorf(crm.ECONFLICT, "customer %s was changed by someone else; retry", customerID)
		})
}

// idempotency records a create's client key; the key's second use fails
// the condition and is answered from the first use's record.
func (t *tx) idempotency(k *crm.Idempotency) {
	cond, vals := notExists, map[string]types.AttributeValue(nil)
	if k.Resume {
		cond, vals = notExists+" OR resultId = :id", map[string]types.AttributeValue{":id": str(k.ResultID)}
	}
	t.put(map[string]types.AttributeValue{
		"pk": str(idempotencyPK(k.Key)), "sk": str(skIdempotency), "type": str("idempotency"),
		"resultId": str(k.ResultID), "requestHash": str(k.RequestHash), "ttl": num(int(k.Expires.Unix())),
	}, cond, vals, func(old map[string]types.AttributeValue) error {
		var first struct {
			ResultID    string `dynamodbav:"resultId"`
			RequestHash string `dynamodbav:"requestHash"`
		}
		_ = attributevalue.UnmarshalMap(old, &first)
		if first.RequestHash != k.RequestHash {
			return &crm.Error{Code: crm.ECONFLICT, Field: "input.idempotencyKey",
				Message: "this idempotency key was already used for a different request; use a new key for a new request"}
		}
		return &crm.Error{Code: crm.EREPLAYED, ExistingID: first.ResultID, Message: "already done"}
	})
}

// customer writes a profile and what must move with it at once: the
// unique claims of phones, emails and credit codes it adds, tag and
// partner share index entries. The claims of the values it drops are
// released after the transaction (entries.go); its list counters and
// watch-list places follow from the stream.
func (t *tx) customer(prev, next *crm.Customer) {
	id := next.ID
	after := t.marshal(toCustomerItem(next))
	if prev == nil {
		t.put(after, notExists, nil, func(map[string]types.AttributeValue) error {
			return crm.Errorf(crm.ECONFLICT, "customer %s already exists", id)
		})
		t.record("customer", id, id, nil, after)
	} else {
		cond, vals := versioned(prev.Version)
		t.put(after, cond, vals, conflict("customer "+id))
		t.record("customer", id, id, t.marshal(toCustomerItem(prev)), after)
	}
	var prevTags []string
	if prev != nil {
		prevTags = prev.Tags
		// The merged customer of a merge gives its values to the survivor,
		// whose puts take the claims over in the transaction itself.
		if h := t.handover; h == nil || h.from != id {
			t.released = append(t.released, droppedClaims(prev, next, next.Version)...)
		}
	}
	for _, f := range claimFields {
		var held []string
		if prev != nil {
			held = f.values(prev)
		}
		t.claims(f, next, removed(f.values(next), held))
	}
	for _, tag := range removed(prevTags, next.Tags) {
		t.del(customerPK(id), tagSK(tag), "", nil, nil)
	}
	for _, tag := range removed(next.Tags, prevTags) {
		t.put(map[string]types.AttributeValue{
			"pk": str(customerPK(id)), "sk": str(tagSK(tag)), "type": str("tag"),
			"gList": str(tagListKey(tag)), "gSort": str(id), "customerId": str(id),
		}, "", nil, nil)
	}
	t.partnerShares(prev, next)
	t.claimAgenda(prev, next)
}

// claims keeps one item per normalized phone, email or credit code naming
// the customer that holds it, so a second customer with the same value
// fails the transaction's condition instead of racing a read. A claim
// carries the profile version that wrote it: a dropped value's claim is
// released only if no later version claimed it again (dropClaim).
func (t *tx) claims(f claimField, c *crm.Customer, added []string) {
	id := c.ID
	claimable, cond := map[string]types.AttributeValue{":id": str(id)}, "attribute_not_exists(pk) OR customerId = :id"
	if h := t.handover; h != nil && h.to == id {
		claimable = map[string]types.AttributeValue{":id": str(id), ":from": str(h.from)}
		cond += " OR customerId = :from"
	}
	values := f.values(c)
	for _, v := range added {
		i := slices.Index(values, v)
		t.put(map[string]types.AttributeValue{
			"pk": str(f.pk(v)), "sk": str(skUnique), "type": str("unique"), "customerId": str(id), "version": num(c.Version),
		}, cond, claimable, func(old map[string]types.AttributeValue) error {
			holder := ""
			if s, ok := old["customerId"].(*types.AttributeValueMemberS); ok {
				holder = s.Value
			}
			field := fmt.Sprintf("input.%s[%d]", f.name, i)
			if f.name == "creditCode" { // one value, not a list
				field = "input." + f.name
			}
			return &crm.Error{Code: crm.EDUPLICATE, Field: field, ExistingID: holder,
				Message: fmt.Sprintf("%s is already used by customer %s", v, holder)}
		})
	}
}

// removed returns the values of a that are not in b.
func removed(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// txRetries bounds the replays of a transaction that DynamoDB cancelled only
// because another transaction held one of its items (TransactionConflict),
// when the call has no deadline. A replay is safe: its conditions are
// evaluated afresh.
const txRetries = 5

// replayMore reports whether a transaction cancelled by a conflict is
// replayed once more. Under a deadline (every request has one), it is
// replayed until the deadline: a customer many people write at once (a
// hotline taking calls) conflicts for as long as the burst lasts, and a
// write that waits is better than one refused while time remains.
func replayMore(ctx context.Context, attempt int) bool {
	if _, ok := ctx.Deadline(); ok {
		return true
	}
	return attempt < txRetries
}

func (s *Store) transact(ctx context.Context, items []txItem) error {
	writes := make([]types.TransactWriteItem, len(items))
	for i, it := range items {
		writes[i] = it.write
	}
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return unavailable(ctx.Err(), crm.AppliedNo)
		}
		in := &dynamodb.TransactWriteItemsInput{TransactItems: writes, ClientRequestToken: aws.String(newToken())}
		flag := &sentFlag{}
		call, cancel := reserved(context.WithValue(ctx, sentKey{}, flag))
		_, err := s.db.TransactWriteItems(call, in)
		cancel()
		var tce *types.TransactionCanceledException
		if err != nil && !errors.As(err, &tce) {
			// The outcome is not known: ask again with the same token.
			if err = s.settleOutcome(ctx, in, flag, err); err == nil || !errors.As(err, &tce) {
				return err
			}
		}
		if err == nil {
			return nil
		}
		retryable := false
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i < len(items) && items[i].onFail != nil {
					return items[i].onFail(r.Item)
				}
				return wrap("transact write", err)
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
				retryable = true
			}
		}
		if !retryable || !replayMore(ctx, attempt) {
			if retryable {
				return &crm.Error{Code: crm.EUNAVAILABLE, Message: "the service is busy; retry shortly", Err: err, Applied: crm.AppliedNo}
			}
			return wrap("transact write", err)
		}
		// Cancelled: not applied. The replay is a new transaction.
		if err := jitter.Sleep(ctx, backoff(attempt)); err != nil {
			return unavailable(err, crm.AppliedNo)
		}
	}
}

// backoff is capped exponential with full jitter: 20 ms·2^attempt, at
// most a second.
func backoff(attempt int) time.Duration {
	return jitter.Jitter(20*time.Millisecond, time.Second, attempt)
}

// nonEmpty is the list of v's values: none when v is empty.
func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}
