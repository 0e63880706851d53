package dynamo

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Analytics items (docs/access-patterns.md):
//
//   - aggregate: pk AGG#<scope key>, sk D#<yyyy-mm-dd>#<shard> or
//     M#<yyyy-mm>#<shard>, one number attribute per counter, each added to
//     with ADD in the transaction of the change it counts;
//   - watch mark: pk CUST#<id>, sk #W#<list>#<A|T|O>, on byList with
//     gList = <list>#<scope key> and gSort = position#id, rewritten with
//     the profile.

const (
	aggDayPrefix   = "D#"
	aggMonthPrefix = "M#"
	skWatchPrefix  = "#W#"
	// aggShards spreads the counters of the busiest scopes (everything, a
	// team) over several items, so that concurrent transactions rarely
	// contend for one; a read sums the shards.
	aggShards = 4
)

func aggregatePK(scope string) string { return "AGG#" + scope }

func aggregateSKPrefix(g crm.Granularity) string {
	if g == crm.GranularityMonth {
		return aggMonthPrefix
	}
	return aggDayPrefix
}

// shardOf spreads a wide scope (everything, or a team alone: its escaped
// name holds no '#') by customer; owner scopes see little traffic each.
func shardOf(scope, customerID string) int {
	if scope != "ALL" && (!strings.HasPrefix(scope, "TEAM#") || strings.Contains(strings.TrimPrefix(scope, "TEAM#"), "#")) {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(customerID))
	return int(h.Sum32() % aggShards)
}

// changeCustomerID is the customer a change is about.
func changeCustomerID(ch *crm.Change) string {
	switch {
	case ch.Customer != nil:
		return ch.Customer.ID
	case ch.Case != nil:
		return ch.Case.CustomerID
	case ch.Interaction != nil:
		return ch.Interaction.CustomerID
	case ch.Evaluation != nil:
		return ch.Evaluation.CustomerID
	}
	return ""
}

// aggregates adds the change's analytics deltas: one ADD update per
// aggregate item, the deltas on the same item merged (a transaction may
// name an item only once).
func (t *tx) aggregates(ch *crm.Change) {
	t.addAggregates(changeCustomerID(ch), crm.AggregateDeltas(ch))
}

// addAggregates writes deltas about one customer.
func (t *tx) addAggregates(id string, deltas []crm.AggregateDelta) {
	type itemKey struct{ pk, sk string }
	merged := map[itemKey]map[string]float64{}
	for _, d := range deltas {
		if d.N == 0 {
			continue
		}
		for _, g := range crm.Granularities {
			k := itemKey{aggregatePK(d.Scope), fmt.Sprintf("%s%s#%d", aggregateSKPrefix(g), crm.BucketKey(d.At, g), shardOf(d.Scope, id))}
			if merged[k] == nil {
				merged[k] = map[string]float64{}
			}
			merged[k][d.Counter] += d.N
		}
	}
	keys := slices.SortedFunc(maps.Keys(merged), func(a, b itemKey) int { return strings.Compare(a.pk+" "+a.sk, b.pk+" "+b.sk) })
	for _, k := range keys {
		names := map[string]string{"#type": "type"}
		values := map[string]types.AttributeValue{":type": str("aggregate")}
		var adds []string
		for i, c := range slices.Sorted(maps.Keys(merged[k])) {
			if merged[k][c] == 0 {
				continue
			}
			n, v := fmt.Sprintf("#c%d", i), fmt.Sprintf(":c%d", i)
			names[n], values[v] = c, &types.AttributeValueMemberN{Value: strconv.FormatFloat(merged[k][c], 'f', -1, 64)}
			adds = append(adds, n+" "+v)
		}
		if len(adds) == 0 {
			continue
		}
		t.update(k.pk, k.sk, "SET #type = :type ADD "+strings.Join(adds, ", "), "", values, nil)
		t.items[len(t.items)-1].write.Update.ExpressionAttributeNames = names
	}
}

// Aggregates reads a scope's counters for a range of buckets: one Query
// (paged past 1 MB), at most 4 shards × 366 days.
func (s *Store) Aggregates(ctx context.Context, scope crm.Scope, g crm.Granularity, from, to string) (map[string]crm.Counters, error) {
	prefix := aggregateSKPrefix(g)
	q := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(aggregatePK(scope.Key())), ":lo": str(prefix + from), ":hi": str(prefix + to + "#~")},
	}
	out := map[string]crm.Counters{}
	for {
		res, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, wrap("query aggregates", err)
		}
		for _, item := range res.Items {
			sk, _ := item["sk"].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			bucket, _, _ := strings.Cut(strings.TrimPrefix(sk.Value, prefix), "#")
			if out[bucket] == nil {
				out[bucket] = crm.Counters{}
			}
			for name, v := range item {
				if n, ok := v.(*types.AttributeValueMemberN); ok {
					f, err := strconv.ParseFloat(n.Value, 64)
					if err != nil {
						return nil, fmt.Errorf("aggregate %s %s: %w", sk.Value, name, err)
					}
					out[bucket][name] += f
				}
			}
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		q.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// teamGradeDim and teamTierDim count a team's customers per grade and
// tier; the team comes last, so any team name keeps the key unambiguous.
func teamGradeDim(level, team string) string { return "TEAMGRADE#" + level + "#" + team }
func teamTierDim(tier crm.ValueTier, team string) string {
	return "TEAMTIER#" + string(tier) + "#" + team
}

// Distribution reads the grade and tier counters of everything or of a
// team in one BatchGetItem.
func (s *Store) Distribution(ctx context.Context, team string, grades []string) (*crm.Distribution, error) {
	total := "ALL"
	grade := func(l string) string { return "GRADE#" + l }
	tier := func(t crm.ValueTier) string { return "TIER#" + string(t) }
	if team != "" {
		total = "TEAM#" + team
		grade = func(l string) string { return teamGradeDim(l, team) }
		tier = func(t crm.ValueTier) string { return teamTierDim(t, team) }
	}
	dims := []string{total}
	for _, g := range grades {
		dims = append(dims, grade(g))
	}
	for _, t := range crm.ValueTiers {
		dims = append(dims, tier(t))
	}
	keys := make([]map[string]types.AttributeValue, len(dims))
	for i, d := range dims {
		keys[i] = key(counterPK(d), skCounter)
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	n := map[string]int{}
	for _, raw := range items {
		var c struct {
			PK string `dynamodbav:"pk"`
			N  int    `dynamodbav:"n"`
		}
		if err := attributevalue.UnmarshalMap(raw, &c); err != nil {
			return nil, fmt.Errorf("unmarshal counter: %w", err)
		}
		n[c.PK] = c.N
	}
	d := &crm.Distribution{Total: n[counterPK(total)], Grades: map[string]int{}, Tiers: map[crm.ValueTier]int{}}
	for _, g := range grades {
		d.Grades[g] = n[counterPK(grade(g))]
	}
	for _, t := range crm.ValueTiers {
		d.Tiers[t] = n[counterPK(tier(t))]
	}
	return d, nil
}

// watchMark is a customer's entry on one watch list of one scope.
type watchMark struct{ list, sort string }

// watchSlot names the mark's item in the customer's collection: one per
// list and scope kind (everything, team, owner), as a customer has one of
// each.
func watchSlot(list crm.WatchList, sc crm.Scope) string {
	kind := "A"
	switch {
	case sc.Team != "":
		kind = "T"
	case sc.OwnerID != "" || sc.Pool:
		kind = "O"
	}
	return skWatchPrefix + string(list) + "#" + kind
}

func watchListKey(list crm.WatchList, sc crm.Scope) string { return string(list) + "#" + sc.Key() }

// dropLayout writes score drops with a fixed width, so they sort as text.
const dropLayout = "%06.2f"

func watchMarks(c *crm.Customer) map[string]watchMark {
	out := map[string]watchMark{}
	for _, e := range crm.WatchEntries(c) {
		pos := e.At.UTC().Format(dueLayout)
		if e.List == crm.WatchFalling {
			pos = fmt.Sprintf(dropLayout, e.Drop)
		}
		for _, sc := range crm.WatchScopes(c) {
			out[watchSlot(e.List, sc)] = watchMark{list: watchListKey(e.List, sc), sort: pos + "#" + c.ID}
		}
	}
	return out
}

// watch keeps the customer's watch marks in step with its profile: marks
// that moved are rewritten, marks it left are deleted.
func (t *tx) watch(prev, next *crm.Customer) {
	before, after := map[string]watchMark{}, watchMarks(next)
	if prev != nil {
		before = watchMarks(prev)
	}
	pk := customerPK(next.ID)
	for _, slot := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[slot]; !ok {
			t.del(pk, slot, "", nil, nil)
		}
	}
	for _, slot := range slices.Sorted(maps.Keys(after)) {
		m := after[slot]
		if old, ok := before[slot]; ok && old == m {
			continue
		}
		t.put(map[string]types.AttributeValue{
			"pk": str(pk), "sk": str(slot), "type": str("watch"),
			"gList": str(m.list), "gSort": str(m.sort), "customerId": str(next.ID),
		}, "", nil, nil)
	}
}

// WatchList reads a page of a watch list from byList and the profiles its
// marks name in one BatchGetItem; profiles that no longer qualify (the
// index lags the table) are skipped.
func (s *Store) WatchList(ctx context.Context, q crm.WatchQuery, p crm.PageRequest) (*crm.Page[*crm.Customer], error) {
	list := watchListKey(q.List, q.Scope)
	cond, bound, forward := "gSort < :b", q.Before.UTC().Format(dueLayout), true
	if q.List == crm.WatchFalling {
		cond, bound, forward = "gSort >= :b", fmt.Sprintf(dropLayout, q.MinDrop), false
	}
	plan := listPlan[*crm.Customer]{
		// A cursor is a position on the list's order, valid whatever the
		// bound: NO_CONTACT's moves with the clock between pages.
		name: "watch/" + list,
		query: dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(idxList),
			KeyConditionExpression:    aws.String("gList = :k AND " + cond),
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(list), ":b": str(bound)},
			ScanIndexForward:          aws.Bool(forward),
		},
		keyAttr: []string{"pk", "sk", "gList", "gSort"},
		decode: func(ctx context.Context, raw []map[string]types.AttributeValue) ([]*crm.Customer, []bool, error) {
			return s.decodeEntries(ctx, raw, func(c *crm.Customer) bool {
				return c.Status == crm.StatusActive && (q.Keep == nil || q.Keep(c))
			})
		},
	}
	return collect(ctx, s, plan, p)
}
