package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// The stream consumer's side of the store (package stream): customers'
// state, activity writes, and the aggregates and counters added once per
// record by each item's marks.

var _ stream.Store = (*Store)(nil)

// stored is what Load read of a customer, for WriteActivities.
type stored struct {
	applied map[string]appliedMark
	falling string // the falling mark's position as last written
	keys    [6]string
	ord     *orderState // where its order entries are
}

func activityKeys(it *activityItem) [6]string {
	return [6]string{it.GOwner, it.GTeam, it.GSort, it.GDue, it.GDueAt, it.GName}
}

// Load reads the customers' profiles and activities in one consistent
// BatchGetItem (per 50 customers), creating the activity of any that has
// none, and the survivors that merged customers forward to.
//
// A customer created in the batch starts an empty activity, uncounted
// (startActivity): the INSERT's effects count it. Any other customer
// without an activity (a profile of the release before) gets it counted
// at the profile's version, in one transaction (createActivity).
func (s *Store) Load(ctx context.Context, ids []string, created map[string]bool) (map[string]*stream.State, error) {
	out := map[string]*stream.State{}
	for attempt := 0; len(ids) > 0; attempt++ {
		found, missing, err := s.loadStates(ctx, ids)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, found)
		var next []string
		for _, it := range missing {
			var err error
			if created[it.ID] && !it.isLegacy() {
				err = s.startActivity(ctx, it)
			} else {
				err = s.createActivity(ctx, it)
			}
			if err != nil && crm.ErrorCode(err) != crm.ECONFLICT {
				return nil, err
			}
			next = append(next, it.ID) // read again, created by us or by another
		}
		for _, st := range found {
			if f := st.Marks.ForwardTo; f != "" && out[f] == nil && !slices.Contains(next, f) {
				next = append(next, f)
			}
		}
		if attempt > txRetries && len(next) > 0 {
			return nil, fmt.Errorf("load customers %v: their activity could not be created", next)
		}
		ids = next
	}
	return out, nil
}

// loadStates reads customers' states; missing lists the profiles that have
// no activity yet.
func (s *Store) loadStates(ctx context.Context, ids []string) (map[string]*stream.State, []*customerItem, error) {
	keys := make([]map[string]types.AttributeValue, 0, 2*len(ids))
	for _, id := range ids {
		keys = append(keys, key(customerPK(id), skProfile), key(customerPK(id), skActivity))
	}
	items, err := s.batchGetConsistent(ctx, keys, true)
	if err != nil {
		return nil, nil, err
	}
	profiles, activities, err := profilesAndActivities(items)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]*stream.State{}
	var missing []*customerItem
	for id, p := range profiles {
		a := activities[id]
		if a == nil {
			missing = append(missing, p)
			continue
		}
		c := fromCustomerItem(p)
		m := fromActivityItem(a, c)
		st := &stream.State{Customer: c, Marks: m, Stored: &stored{applied: a.Applied, falling: a.Falling, keys: activityKeys(a), ord: a.Ord}}
		// The profile moved (owner, team, status, name, score) since the
		// activity was written: its places on the watch lists and in the
		// orders move with it.
		if activityKeys(toActivityItem(c, m, nil)) != activityKeys(a) || !sameOrderState(orderStateOf(c), a.Ord) {
			st.Dirty = true
		}
		if g, t, pos, ok := fallingMark(c); (ok && pos+"|"+g+"|"+t != a.Falling) || (!ok && a.Falling != "") {
			st.Dirty = true
		}
		out[id] = st
	}
	return out, missing, nil
}

// startActivity puts a new customer's first activity, empty, counted at
// no version: one conditional put, where createActivity's transaction
// would cost four times as much.
func (s *Store) startActivity(ctx context.Context, p *customerItem) error {
	c := fromCustomerItem(p)
	// Counted nowhere yet: its INSERT counts it, in the per-value counters
	// too.
	m := stream.Marks{Revision: 1, ValuesCounted: true}
	if c.Status == crm.StatusMerged {
		m.ForwardTo = c.MergedInto
	}
	it := toActivityItem(c, m, nil)
	// Its order entries come with it, so that the batch need not write the
	// activity again for them.
	if it.Ord = orderStateOf(c); m.ForwardTo != "" {
		it.Ord = nil
	}
	if err := s.batchWrite(ctx, orderWrites(c.ID, nil, it.Ord)); err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("marshal activity: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String(notExists)})
	if err = wrap("put activity", err); crm.ErrorCode(err) == crm.ECONFLICT {
		return nil // another delivery put it
	}
	return err
}

// WriteActivities writes each state's activity conditioned on the revision
// read, with this shard's mark; a merged customer's (its mark) together
// with its survivor's, and the appends that move to the survivor, in one
// transaction.
func (s *Store) WriteActivities(ctx context.Context, shard string, states []*stream.State) error {
	now := time.Now()
	done := map[string]bool{}
	var errs []error
	for _, st := range states {
		if st.Marks.ForwardTo == "" || done[st.Customer.ID] {
			continue
		}
		// What reached a merged customer after its merge went to its
		// survivor: both activities, and the moved appends, at once.
		moves, err := s.unmoved(ctx, st.Moves)
		if err != nil {
			errs = append(errs, fmt.Errorf("customer %s: %w", st.Customer.ID, err))
			continue
		}
		t := &tx{s: s}
		t.activity(st, shard, now)
		for _, mv := range moves {
			t.moveAppend(mv, st.Marks.ForwardTo)
		}
		if tg := st.Target; tg != nil && !done[tg.Customer.ID] {
			t.activity(tg, shard, now)
			done[tg.Customer.ID] = true
		}
		if err := s.batchWrite(ctx, t.order); err != nil {
			errs = append(errs, fmt.Errorf("customer %s: %w", st.Customer.ID, err))
		} else if err := t.commit(ctx); err != nil {
			errs = append(errs, fmt.Errorf("customer %s: %w", st.Customer.ID, err))
		}
		done[st.Customer.ID] = true
	}
	for _, st := range states {
		if done[st.Customer.ID] || st.Marks.ForwardTo != "" {
			continue
		}
		t := &tx{s: s}
		t.activity(st, shard, now)
		if err := s.batchWrite(ctx, t.order); err != nil {
			errs = append(errs, fmt.Errorf("customer %s: %w", st.Customer.ID, err))
		} else if len(t.items) == 1 && t.items[0].write.Put != nil {
			// One item: a conditional put, at half a transaction's price.
			p := t.items[0].write.Put
			_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item,
				ConditionExpression: p.ConditionExpression, ExpressionAttributeValues: p.ExpressionAttributeValues})
			if err := wrap("put activity", err); err != nil {
				errs = append(errs, fmt.Errorf("customer %s: %w", st.Customer.ID, err))
			}
		} else if err := s.transact(ctx, t.items); err != nil {
			errs = append(errs, fmt.Errorf("customer %s: %w", st.Customer.ID, err))
		}
		done[st.Customer.ID] = true
	}
	return errors.Join(errs...)
}

// activity adds the write of a state's activity (and its falling mark,
// when it moved) to the transaction.
func (t *tx) activity(st *stream.State, shard string, now time.Time) {
	sd, _ := st.Stored.(*stored)
	if sd == nil {
		sd = &stored{}
	}
	seq := st.Through()
	if shard == "" {
		seq = ""
	}
	m := st.Marks
	m.Revision++
	it := toActivityItem(st.Customer, m, appliedMarks(sd.applied, shard, seq, now))
	if it.Ord = orderStateOf(st.Customer); m.ForwardTo != "" {
		it.Ord = nil
	}
	t.order = append(t.order, orderWrites(st.Customer.ID, sd.ord, it.Ord)...)
	if sd.ord != nil && sd.ord.Name != "" {
		// Where an activity written before put the name's entry: kept
		// for the search sync that takes it over (legacyNameEntry).
		if it.Ord == nil {
			it.Ord = &orderState{}
		}
		it.Ord.Name = sd.ord.Name
	}
	if g, tm, pos, ok := fallingMark(st.Customer); ok {
		it.Falling = pos + "|" + g + "|" + tm
		if it.Falling != sd.falling {
			t.put(map[string]types.AttributeValue{"pk": str(customerPK(st.Customer.ID)), "sk": str(skFalling), "type": str("watch"),
				"gOwner": str(g), "gTeam": str(tm), "gSort": str(pos), "customerId": str(st.Customer.ID)}, "", nil, nil)
		}
	} else if sd.falling != "" {
		t.del(customerPK(st.Customer.ID), skFalling, "", nil, nil)
	}
	cond, vals := versioned(st.Marks.Revision)
	cond = strings.Replace(cond, "version", "rev", 1)
	t.put(t.marshal(it), cond, vals, conflict("the activity of customer "+st.Customer.ID))
	// The state goes on (a later chunk of the same batch) from what was
	// written.
	st.Marks.Revision, st.Customer.Revision = m.Revision, m.Revision
	sd.applied, sd.falling, sd.keys, sd.ord = it.Applied, it.Falling, activityKeys(it), it.Ord
	st.Stored = sd
}

// unmoved keeps the appends that are still under the merged customer: an
// append written before the merge finished whose record the stream applies
// only now was moved by the merge itself (it is counted on the survivor
// all the same), and moving it again would overwrite the survivor's copy
// with the record's older image. Only the stream consumer moves appends
// once the merge has finished, so what this consistent read finds stays
// there until the move, whose delete is conditioned on it.
func (s *Store) unmoved(ctx context.Context, moves []stream.Change) ([]stream.Change, error) {
	if len(moves) == 0 {
		return nil, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(moves))
	for _, mv := range moves {
		if pk, sk, ok := appendKey(mv); ok {
			keys = append(keys, key(pk, sk))
		}
	}
	found, err := s.batchGetConsistent(ctx, keys, true)
	if err != nil {
		return nil, err
	}
	there := map[itemKey]bool{}
	for _, it := range found {
		there[itemKey{strAttr(it["pk"]), strAttr(it["sk"])}] = true
	}
	var out []stream.Change
	for _, mv := range moves {
		if pk, sk, ok := appendKey(mv); ok && there[itemKey{pk, sk}] {
			out = append(out, mv)
		}
	}
	return out, nil
}

// appendKey is the key of the append a change is about, under the
// customer the change names.
func appendKey(ch stream.Change) (pk, sk string, ok bool) {
	switch {
	case ch.Interaction != nil:
		return customerPK(ch.CustomerID), interactionSK(ch.Interaction.ID), true
	case ch.Case != nil:
		return customerPK(ch.CustomerID), caseSK(ch.Case.ID), true
	case ch.Evaluation != nil:
		return customerPK(ch.CustomerID), evaluationSK(ch.Evaluation.ID), true
	}
	return "", "", false
}

// moveAppend moves an append that reached a merged customer after its
// merge finished to the survivor, marked as moved (its copy is not a new
// event), with an audit entry; the delete is conditioned on the append
// still being there (unmoved).
func (t *tx) moveAppend(ch stream.Change, to string) {
	var item any
	var kind, id string
	switch {
	case ch.Interaction != nil:
		it := ch.Interaction.Clone()
		it.CustomerID = to
		item, kind, id = toInteractionItem(it), "interaction", it.ID
		t.del(customerPK(ch.CustomerID), interactionSK(it.ID), "attribute_exists(pk)", nil, nil)
	case ch.Case != nil:
		c := ch.Case.Clone()
		c.CustomerID = to
		item, kind, id = toCaseItem(c), "case", c.ID
		t.del(customerPK(ch.CustomerID), caseSK(c.ID), "attribute_exists(pk)", nil, nil)
	case ch.Evaluation != nil:
		e := ch.Evaluation.Clone()
		e.CustomerID = to
		item, kind, id = toEvaluationItem(&e, true), "evaluation", e.ID
		t.del(customerPK(ch.CustomerID), evaluationSK(e.ID), "attribute_exists(pk)", nil, nil)
	default:
		return
	}
	moved := t.marshal(item)
	moved["mergedFrom"] = str(ch.CustomerID)
	keepUnfinished(ch, moved)
	t.put(moved, "", nil, nil)
	t.record(kind, id, to, map[string]types.AttributeValue{"customerId": str(ch.CustomerID)}, map[string]types.AttributeValue{"customerId": str(to)})
}

// Advance adds the effects' deltas to the shared items they touch
// (aggregates, list counters): each item with one UpdateItem of the sum of
// its records, exactly once however the batch comes again, by its own
// mark of the shard (sharedMark); and the teams met to the TEAMS set (a
// set's ADD is idempotent). Items are independent: a failure leaves the
// others done, and the batch delivered again adds only what is missing.
func (s *Store) Advance(ctx context.Context, shard string, effects []stream.Effects) error {
	per := map[itemKey][]contribution{}
	met := map[string]bool{}
	for _, ef := range effects {
		one := adds{}
		aggregateAdds(one, ef.Aggregates, ef.At, met)
		if ef.Before != nil || ef.After != nil {
			countMoves(one, ef.Before, ef.After, ef.Values)
			for _, c := range []*crm.Customer{ef.Before, ef.After} {
				if c != nil {
					met[teamKey(c.Team)] = true
				}
			}
		}
		for k, m := range one {
			for name, n := range m {
				if n == 0 {
					delete(m, name)
				}
			}
			if len(m) > 0 {
				per[k] = append(per[k], contribution{seq: ef.Seq, counters: m})
			}
		}
	}
	if len(met) > 0 {
		known, err := s.teams(ctx)
		if err != nil {
			return err
		}
		if len(known) == 0 {
			// The first counters of a table: its per-value counters count
			// every customer from its first (counters.go).
			if err := s.startValueCounts(ctx); err != nil {
				return err
			}
		}
		for _, tk := range known {
			delete(met, tk)
		}
	}
	if len(met) > 0 {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(teamsPK, teamsPK),
			UpdateExpression:         aws.String("SET #type = :type ADD teams :t"),
			ExpressionAttributeNames: map[string]string{"#type": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":type": str("teams"),
				":t": &types.AttributeValueMemberSS{Value: slices.Sorted(maps.Keys(met))}}})
		if err != nil {
			return wrap("add teams", err)
		}
	}
	var errs []error
	for _, k := range slices.SortedFunc(maps.Keys(per), func(a, b itemKey) int { return strings.Compare(a.String(), b.String()) }) {
		if err := s.addOnce(ctx, shard, k, per[k]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// contribution is what one record adds to one shared item.
type contribution struct {
	seq      string
	counters map[string]float64
}

// A shared item keeps, per shard, the sequence number of the last record
// it took: an attribute named "@" and a tag of the shard's id, whose value
// is the sequence number prefixed with its length (so that the strings
// sort as the numbers do), "|" and when it was written (Unix seconds). An
// update adds the records after the mark and moves it, conditioned on the
// mark it assumed: none, or before its first record, at first; the mark
// the failed condition returned, then. Marks are strings, which the
// readers of counters skip; one older than a day and an hour is removed
// (its shard's records are gone after a day).
func markName(shard string) string {
	h := sha256.Sum256([]byte(shard))
	return "@" + hex.EncodeToString(h[:5])
}

func markSeq(seq string) string { return fmt.Sprintf("%02d%s", len(seq), seq) }

// parseMark returns a mark's sequence number and when it was written.
func parseMark(v string) (string, time.Time, bool) {
	seq, at, ok := strings.Cut(v, "|")
	if !ok || len(seq) < 2 {
		return "", time.Time{}, false
	}
	sec, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return seq[2:], time.Unix(sec, 0), true
}

// addOnce adds to one item the contributions its mark of the shard does
// not cover.
func (s *Store) addOnce(ctx context.Context, shard string, k itemKey, cs []contribution) error {
	mark := markName(shard)
	var after, assumed string // "" at first: none of cs taken
	for attempt := 0; ; attempt++ {
		sum, last := map[string]float64{}, ""
		for _, c := range cs {
			if after == "" || stream.SeqAfter(c.seq, after) {
				for name, n := range c.counters {
					sum[name] += n
				}
				last = c.seq
			}
		}
		if last == "" {
			return nil // all taken
		}
		kind := "counter"
		if strings.HasPrefix(k.pk, "STATS#") {
			kind = "aggregate"
		}
		names, values, parts := addParts(k, sum, kind)
		names["#mk"] = mark
		values[":mk"] = str(markSeq(last) + "|" + strconv.FormatInt(time.Now().Unix(), 10))
		expr := "SET #type = :type, #mk = :mk"
		if len(parts) > 0 {
			expr += " ADD " + strings.Join(parts, ", ")
		}
		cond := "attribute_not_exists(#mk) OR #mk < :first"
		values[":first"] = str(markSeq(cs[0].seq))
		if assumed != "" {
			cond = "#mk = :old"
			delete(values, ":first")
			values[":old"] = str(assumed)
		}
		res, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(k.pk, k.sk),
			UpdateExpression: &expr, ConditionExpression: &cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
			ReturnValues: types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		var failed *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			return s.forgetMarks(ctx, k, res.Attributes)
		case errors.As(err, &failed) && attempt < txRetries:
			assumed = strAttr(failed.Item[mark])
			seq, _, ok := parseMark(assumed)
			if !ok {
				return fmt.Errorf("unreadable mark %q of shard %s", assumed, shard)
			}
			after = seq
		default:
			return wrap("add to "+k.String(), err)
		}
	}
}

// forgetMarks removes an item's marks older than a shard's records live.
func (s *Store) forgetMarks(ctx context.Context, k itemKey, item map[string]types.AttributeValue) error {
	names := map[string]string{}
	var parts []string
	for name, v := range item {
		if !strings.HasPrefix(name, "@") {
			continue
		}
		if _, at, ok := parseMark(strAttr(v)); ok && time.Since(at) > markKept {
			n := fmt.Sprintf("#m%d", len(parts))
			names[n] = name
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(k.pk, k.sk),
		UpdateExpression: aws.String("REMOVE " + strings.Join(parts, ", ")), ExpressionAttributeNames: names})
	return wrap("forget marks of "+k.String(), err)
}
