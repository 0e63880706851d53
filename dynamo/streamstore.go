package dynamo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// The stream consumer's side of the store (package stream): checkpoints,
// customers' state, activity writes and the transactions that add the
// aggregates and counters.

var _ stream.Store = (*Store)(nil)

const skCheckpoint = "CKPT"

func checkpointPK(shard string) string { return "STREAM#" + shard }

// checkpointKept is how long a shard's checkpoint outlives its last write:
// a stream keeps records 24 hours.
const checkpointKept = 48 * time.Hour

// Checkpoint reads a shard's checkpoint, consistently.
func (s *Store) Checkpoint(ctx context.Context, shard string) (string, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(checkpointPK(shard), skCheckpoint), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", wrap("get checkpoint", err)
	}
	return strAttr(res.Item["seq"]), nil
}

// stored is what Load read of a customer, for WriteActivities.
type stored struct {
	applied map[string]appliedMark
	falling string // the falling mark's position as last written
	keys    [6]string
}

func activityKeys(it *activityItem) [6]string {
	return [6]string{it.GOwner, it.GTeam, it.GSort, it.GDue, it.GDueAt, it.GName}
}

// Load reads the customers' profiles and activities in one consistent
// BatchGetItem (per 50 customers), creating the activity of any that has
// none, and the survivors that merged customers forward to.
func (s *Store) Load(ctx context.Context, ids []string) (map[string]*stream.State, error) {
	out := map[string]*stream.State{}
	for attempt := 0; len(ids) > 0; attempt++ {
		found, missing, err := s.loadStates(ctx, ids)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, found)
		var next []string
		for _, it := range missing {
			err := s.createActivity(ctx, it)
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
		st := &stream.State{Customer: c, Marks: m, Stored: &stored{applied: a.Applied, falling: a.Falling, keys: activityKeys(a)}}
		// The profile moved (owner, team, status) since the activity was
		// written: its places on the watch lists move with it.
		if activityKeys(toActivityItem(c, m, nil)) != activityKeys(a) {
			st.Dirty = true
		}
		if g, t, pos, ok := fallingMark(c); (ok && pos+"|"+g+"|"+t != a.Falling) || (!ok && a.Falling != "") {
			st.Dirty = true
		}
		out[id] = st
	}
	return out, missing, nil
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
		t := &tx{s: s}
		t.activity(st, shard, now)
		for _, mv := range st.Moves {
			t.moveAppend(mv, st.Marks.ForwardTo)
		}
		if tg := st.Target; tg != nil && !done[tg.Customer.ID] {
			t.activity(tg, shard, now)
			done[tg.Customer.ID] = true
		}
		if err := t.commit(ctx); err != nil {
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
		if len(t.items) == 1 && t.items[0].write.Put != nil {
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
	sd.applied, sd.falling, sd.keys = it.Applied, it.Falling, activityKeys(it)
	st.Stored = sd
}

// moveAppend moves an append that reached a merged customer after its
// merge finished to the survivor, marked as moved (its copy is not a new
// event), with an audit entry.
func (t *tx) moveAppend(ch stream.Change, to string) {
	var item any
	var kind, id string
	switch {
	case ch.Interaction != nil:
		it := ch.Interaction.Clone()
		it.CustomerID = to
		item, kind, id = toInteractionItem(it), "interaction", it.ID
		t.del(customerPK(ch.CustomerID), interactionSK(it.ID), "", nil, nil)
	case ch.Case != nil:
		c := ch.Case.Clone()
		c.CustomerID = to
		item, kind, id = toCaseItem(c), "case", c.ID
		t.del(customerPK(ch.CustomerID), caseSK(c.ID), "", nil, nil)
	case ch.Evaluation != nil:
		e := ch.Evaluation.Clone()
		e.CustomerID = to
		item, kind, id = toEvaluationItem(&e, true), "evaluation", e.ID
		t.del(customerPK(ch.CustomerID), evaluationSK(e.ID), "", nil, nil)
	default:
		return
	}
	moved := t.marshal(item)
	moved["mergedFrom"] = str(ch.CustomerID)
	t.put(moved, "", nil, nil)
	t.record(kind, id, to, map[string]types.AttributeValue{"customerId": str(ch.CustomerID)}, map[string]types.AttributeValue{"customerId": str(to)})
}

// Advance adds the effects in transactions of at most 100 items, each
// ending at a record and moving the checkpoint there, conditioned on where
// the previous one left it.
func (s *Store) Advance(ctx context.Context, shard, from string, effects []stream.Effects) (string, error) {
	known, err := s.teams(ctx)
	if err != nil {
		return from, err
	}
	teams := map[string]bool{}
	for _, tk := range known {
		teams[tk] = true
	}
	at := from
	var pending adds
	var newTeams map[string]bool
	last := ""
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		t := &tx{s: s}
		cond, vals := "attribute_not_exists(pk)", map[string]types.AttributeValue(nil)
		if at != "" {
			cond, vals = "seq = :from", map[string]types.AttributeValue{":from": str(at)}
		}
		t.put(map[string]types.AttributeValue{"pk": str(checkpointPK(shard)), "sk": str(skCheckpoint), "type": str("checkpoint"),
			"seq": str(last), "ttl": num(int(time.Now().Add(checkpointKept).Unix()))}, cond, vals,
			conflict("the checkpoint of shard "+shard))
		for _, k := range slices.SortedFunc(maps.Keys(pending), func(a, b itemKey) int { return strings.Compare(a.String(), b.String()) }) {
			kind := "counter"
			if strings.HasPrefix(k.pk, "STATS#") {
				kind = "aggregate"
			}
			t.addTo(k, pending[k], kind)
		}
		if len(newTeams) > 0 {
			t.update(teamsPK, teamsPK, "SET #type = :type ADD teams :t", "", map[string]types.AttributeValue{
				":type": str("teams"), ":t": &types.AttributeValueMemberSS{Value: slices.Sorted(maps.Keys(newTeams))}}, nil)
			t.items[len(t.items)-1].write.Update.ExpressionAttributeNames = map[string]string{"#type": "type"}
		}
		if err := s.transact(ctx, t.items); err != nil {
			return err
		}
		maps.Copy(teams, newTeams)
		at, pending, newTeams = last, nil, nil
		return nil
	}
	for _, ef := range effects {
		one := adds{}
		met := map[string]bool{}
		aggregateAdds(one, ef.Aggregates, ef.At, met)
		if ef.Before != nil || ef.After != nil {
			countMoves(one, ef.Before, ef.After)
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
			if len(m) == 0 {
				delete(one, k)
			}
		}
		if len(one) == 0 {
			last = ef.Seq
			continue
		}
		merged := len(pending)
		for k := range one {
			if pending[k] == nil {
				merged++
			}
		}
		fresh := map[string]bool{}
		for tk := range met {
			if !teams[tk] && !newTeams[tk] {
				fresh[tk] = true
			}
		}
		if pending != nil && merged+2 > 100 {
			if err := flush(); err != nil {
				return at, err
			}
		}
		if pending == nil {
			pending = adds{}
		}
		for k, m := range one {
			for name, n := range m {
				pending.add(k, name, n)
			}
		}
		for tk := range fresh {
			if newTeams == nil {
				newTeams = map[string]bool{}
			}
			newTeams[tk] = true
		}
		last = ef.Seq
	}
	if err := flush(); err != nil {
		return at, err
	}
	return last, nil
}
