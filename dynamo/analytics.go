package dynamo

import (
	"context"
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
)

// Analytics items (docs/access-patterns.md), written by the stream
// consumer only:
//
//   - a team's figures: pk STATS#TEAM#<team key>, sk D#<yyyy-mm-dd>, and
//     M#<yyyy-mm> once the job has rolled a finished month up (rolledUp);
//   - an owner's (or the pool's) figures per team: pk STATS#OWNER#<owner>
//     or STATS#POOL, sk D#<yyyy-mm-dd>#<team key>;
//   - the teams: TEAMS / TEAMS, a string set of every team key that has
//     figures or counters: everything is the sum of the teams.
//
// One number attribute per counter, added to with ADD.

const (
	aggDayPrefix   = "D#"
	aggMonthPrefix = "M#"
	teamsPK        = "TEAMS"
	skWatchPrefix  = "#W#"
	// rollUpAfter is how long after a month ends the job rolls it up:
	// the stream applies every record within a day of its write, and a
	// record written more than a day after a month ended adds to its
	// rolled-up item too.
	rollUpAfter = 48 * time.Hour
	lateAfter   = 24 * time.Hour
)

func teamStatsPK(team string) string { return "STATS#TEAM#" + teamKey(team) }

func ownerStatsPK(ownerID string, pool bool) string {
	if pool {
		return "STATS#POOL"
	}
	return "STATS#OWNER#" + ownerID
}

func dayOf(t time.Time) string   { return crm.BucketKey(t, crm.GranularityDay) }
func monthOf(t time.Time) string { return crm.BucketKey(t, crm.GranularityMonth) }

// monthEnd is the first instant after t's month.
func monthEnd(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
}

// itemKey names an item of a transaction.
type itemKey struct{ pk, sk string }

func (k itemKey) String() string { return k.pk + " " + k.sk }

func slicesSortKeys(ks []itemKey) {
	slices.SortFunc(ks, func(a, b itemKey) int { return strings.Compare(a.String(), b.String()) })
}

// adds sums number attributes to add per item.
type adds map[itemKey]map[string]float64

func (a adds) add(k itemKey, name string, n float64) {
	if n == 0 {
		return
	}
	if a[k] == nil {
		a[k] = map[string]float64{}
	}
	a[k][name] += n
}

// aggregateAdds says which items and counters a record's deltas add to:
// the team's day, the owner's day within the team, and, for a record
// written more than a day after its event's month ended, the team's
// rolled-up month. teams collects the team keys met.
func aggregateAdds(out adds, deltas []crm.AggregateDelta, recorded time.Time, teams map[string]bool) {
	for _, d := range deltas {
		tk := teamKey(d.Team)
		teams[tk] = true
		out.add(itemKey{teamStatsPK(d.Team), aggDayPrefix + dayOf(d.At)}, d.Counter, d.N)
		if recorded.After(monthEnd(d.At).Add(lateAfter)) {
			out.add(itemKey{teamStatsPK(d.Team), aggMonthPrefix + monthOf(d.At)}, d.Counter, d.N)
		}
		if !d.TeamOnly {
			out.add(itemKey{ownerStatsPK(d.OwnerID, d.Pool), aggDayPrefix + dayOf(d.At) + "#" + tk}, d.Counter, d.N)
		}
	}
}

// addTo writes the summed ADDs of one item: SET its type, ADD every
// counter; a month item also counts its revision, so that the job's
// roll-up notices a late addition made while it summed.
func (t *tx) addTo(k itemKey, counters map[string]float64, kind string) {
	names, values, parts := addParts(k, counters, kind)
	if len(parts) == 0 {
		return
	}
	t.update(k.pk, k.sk, "SET #type = :type ADD "+strings.Join(parts, ", "), "", values, nil)
	t.items[len(t.items)-1].write.Update.ExpressionAttributeNames = names
}

// addParts are the names, values and ADD clauses of an update that adds
// counters to item k of the kind given (a month item counts its revision
// too; no clause when every counter is zero).
func addParts(k itemKey, counters map[string]float64, kind string) (map[string]string, map[string]types.AttributeValue, []string) {
	names := map[string]string{"#type": "type"}
	values := map[string]types.AttributeValue{":type": str(kind)}
	var parts []string
	for i, c := range slices.Sorted(maps.Keys(counters)) {
		if counters[c] == 0 {
			continue
		}
		n, v := fmt.Sprintf("#c%d", i), fmt.Sprintf(":c%d", i)
		names[n], values[v] = c, &types.AttributeValueMemberN{Value: strconv.FormatFloat(counters[c], 'f', -1, 64)}
		parts = append(parts, n+" "+v)
	}
	if len(parts) > 0 && strings.HasPrefix(k.sk, aggMonthPrefix) {
		names["#rev"], values[":one"] = "rev", num(1)
		parts = append(parts, "#rev :one")
	}
	return names, values, parts
}

// readCounters sums the number attributes of items into buckets named by
// bucket (empty: skip the item).
func readCounters(items []map[string]types.AttributeValue, out map[string]crm.Counters, bucket func(sk string) string) error {
	for _, item := range items {
		sk := strAttr(item["sk"])
		b := bucket(sk)
		if b == "" {
			continue
		}
		if out[b] == nil {
			out[b] = crm.Counters{}
		}
		for name, v := range item {
			n, ok := v.(*types.AttributeValueMemberN)
			if !ok || name == "rev" {
				continue
			}
			f, err := strconv.ParseFloat(n.Value, 64)
			if err != nil {
				return fmt.Errorf("aggregate %s %s: %w", sk, name, err)
			}
			out[b][name] += f
		}
	}
	return nil
}

// queryAll reads every item of a key range.
func (s *Store) queryAll(ctx context.Context, q *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, wrap("query", err)
		}
		out = append(out, res.Items...)
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		q.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func (s *Store) rangeQuery(pk, lo, hi string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":lo": str(lo), ":hi": str(hi)},
	}
}

// Aggregates reads a scope's counters for a range of buckets: a team's
// from its partition (the rolled-up months, and the days of months not
// rolled up), an owner's from theirs (the days, within one team or
// across all), everything's as the sum of the teams.
func (s *Store) Aggregates(ctx context.Context, scope crm.Scope, g crm.Granularity, from, to string) (map[string]crm.Counters, error) {
	out := map[string]crm.Counters{}
	if scope.OwnerID != "" || scope.Pool {
		return out, s.ownerAggregates(ctx, scope, g, from, to, out)
	}
	teams := []string{teamKey(scope.Team)}
	if scope.Team == "" {
		var err error
		if teams, err = s.teams(ctx); err != nil {
			return nil, err
		}
	}
	for _, tk := range teams {
		if err := s.teamAggregates(ctx, "STATS#TEAM#"+tk, g, from, to, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dayRange is the day keys a bucket range covers.
func dayRange(g crm.Granularity, from, to string) (lo, hi string) {
	if g == crm.GranularityMonth {
		return from + "-01", to + "-31"
	}
	return from, to
}

func (s *Store) ownerAggregates(ctx context.Context, scope crm.Scope, g crm.Granularity, from, to string, out map[string]crm.Counters) error {
	lo, hi := dayRange(g, from, to)
	items, err := s.queryAll(ctx, s.rangeQuery(ownerStatsPK(scope.OwnerID, scope.Pool), aggDayPrefix+lo, aggDayPrefix+hi+"#~"))
	if err != nil {
		return err
	}
	want := ""
	if scope.Team != "" {
		want = teamKey(scope.Team)
	}
	return readCounters(items, out, func(sk string) string {
		day, tk, _ := strings.Cut(strings.TrimPrefix(sk, aggDayPrefix), "#")
		if want != "" && tk != want {
			return ""
		}
		if g == crm.GranularityMonth {
			return day[:7]
		}
		return day
	})
}

func (s *Store) teamAggregates(ctx context.Context, pk string, g crm.Granularity, from, to string, out map[string]crm.Counters) error {
	if g == crm.GranularityDay {
		items, err := s.queryAll(ctx, s.rangeQuery(pk, aggDayPrefix+from, aggDayPrefix+to))
		if err != nil {
			return err
		}
		return readCounters(items, out, func(sk string) string { return strings.TrimPrefix(sk, aggDayPrefix) })
	}
	months, err := s.queryAll(ctx, s.rangeQuery(pk, aggMonthPrefix+from, aggMonthPrefix+to))
	if err != nil {
		return err
	}
	rolled := map[string]bool{}
	var use []map[string]types.AttributeValue
	for _, m := range months {
		if _, ok := m["rolledUp"]; ok {
			rolled[strings.TrimPrefix(strAttr(m["sk"]), aggMonthPrefix)] = true
			use = append(use, m)
		}
	}
	if err := readCounters(use, out, func(sk string) string { return strings.TrimPrefix(sk, aggMonthPrefix) }); err != nil {
		return err
	}
	// The months not rolled up (the current one, and any the job has not
	// reached) are the sum of their days.
	first, last := "", ""
	for m := from; m <= to; m = nextMonth(m) {
		if !rolled[m] {
			if first == "" {
				first = m
			}
			last = m
		}
	}
	if first == "" {
		return nil
	}
	items, err := s.queryAll(ctx, s.rangeQuery(pk, aggDayPrefix+first+"-01", aggDayPrefix+last+"-31"))
	if err != nil {
		return err
	}
	return readCounters(items, out, func(sk string) string {
		m := strings.TrimPrefix(sk, aggDayPrefix)[:7]
		if rolled[m] {
			return ""
		}
		return m
	})
}

func nextMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return "9999-12"
	}
	return t.AddDate(0, 1, 0).Format("2006-01")
}

// teams reads the keys of every team with figures or counters.
func (s *Store) teams(ctx context.Context) ([]string, error) {
	teams, _, err := s.teamsItem(ctx)
	return teams, err
}

// teamsItem reads TEAMS: the teams, and whether the per-value counters
// count every customer (as valuesCounted reads it).
func (s *Store) teamsItem(ctx context.Context) ([]string, bool, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(teamsPK, teamsPK)})
	if err != nil {
		return nil, false, wrap("get teams", err)
	}
	var it struct {
		Teams       []string `dynamodbav:"teams,stringset"`
		ValueCounts bool     `dynamodbav:"valueCounts"`
	}
	if err := attributevalue.UnmarshalMap(res.Item, &it); err != nil {
		return nil, false, fmt.Errorf("unmarshal teams: %w", err)
	}
	slices.Sort(it.Teams)
	return it.Teams, it.ValueCounts, nil
}

// RollUpMonths writes the rolled-up item of every finished month of every
// team that has none (a month is rolled up two days after it ends, when
// every record of it has been applied), as the sum of its days; a month
// the stream adds to while it is summed is summed again. It returns how
// many months it rolled up. The scheduled job runs it.
func (s *Store) RollUpMonths(ctx context.Context, now time.Time) (int, error) {
	// Days of the layout before are added into the teams' days by the
	// backfill: a month rolled up before it ends would miss them.
	if done, err := s.migrated(ctx, activityBackfill); err != nil || !done {
		return 0, err
	}
	teams, err := s.teams(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, tk := range teams {
		pk := "STATS#TEAM#" + tk
		days, err := s.queryAll(ctx, &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :d)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":d": str(aggDayPrefix)},
			ProjectionExpression:      aws.String("sk")})
		if err != nil {
			return n, err
		}
		months, err := s.queryAll(ctx, &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :m)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":m": str(aggMonthPrefix)},
			ConsistentRead:            aws.Bool(true)})
		if err != nil {
			return n, err
		}
		done := map[string]bool{}
		for _, m := range months {
			if _, ok := m["rolledUp"]; ok {
				done[strings.TrimPrefix(strAttr(m["sk"]), aggMonthPrefix)] = true
			}
		}
		todo := map[string]bool{}
		for _, d := range days {
			m := strings.TrimPrefix(strAttr(d["sk"]), aggDayPrefix)[:7]
			start, err := time.Parse("2006-01", m)
			if err == nil && !done[m] && now.After(monthEnd(start).Add(rollUpAfter)) {
				todo[m] = true
			}
		}
		for _, m := range slices.Sorted(maps.Keys(todo)) {
			if err := s.rollUp(ctx, pk, m); err != nil {
				return n, fmt.Errorf("roll up %s %s: %w", pk, m, err)
			}
			n++
		}
	}
	return n, nil
}

// rollUp writes one month's item as the sum of its days, conditioned on
// the month item's revision as read before the days were summed.
func (s *Store) rollUp(ctx context.Context, pk, month string) error {
	for attempt := 0; ; attempt++ {
		res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, aggMonthPrefix+month), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return wrap("get month", err)
		}
		rev := numAttr(res.Item["rev"])
		q := s.rangeQuery(pk, aggDayPrefix+month+"-01", aggDayPrefix+month+"-31")
		q.ConsistentRead = aws.Bool(true)
		days, err := s.queryAll(ctx, q)
		if err != nil {
			return err
		}
		sum := map[string]crm.Counters{}
		if err := readCounters(days, sum, func(string) string { return month }); err != nil {
			return err
		}
		item := map[string]types.AttributeValue{"pk": str(pk), "sk": str(aggMonthPrefix + month), "type": str("aggregate"),
			"rolledUp": &types.AttributeValueMemberBOOL{Value: true}}
		for name, v := range sum[month] {
			if name != "type" {
				item[name] = &types.AttributeValueMemberN{Value: strconv.FormatFloat(v, 'f', -1, 64)}
			}
		}
		for name, v := range res.Item {
			if strings.HasPrefix(name, "@") {
				item[name] = v // the stream's marks of what it added late
			}
		}
		item["rev"] = num(1)
		cond, vals := "attribute_not_exists(pk)", map[string]types.AttributeValue(nil)
		if rev != "" {
			n, _ := strconv.Atoi(rev)
			item["rev"] = num(n + 1)
			cond, vals = "rev = :rev", map[string]types.AttributeValue{":rev": &types.AttributeValueMemberN{Value: rev}}
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: &cond, ExpressionAttributeValues: vals})
		if err == nil {
			return nil
		}
		if e := wrap("put month", err); crm.ErrorCode(e) != crm.ECONFLICT || attempt >= txRetries {
			return e
		}
	}
}
