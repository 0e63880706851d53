package dynamo

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Bounded reads (docs/access-patterns.md, "Combined filters, counts and
// orders"): a filter that no counter counts, and an order that no index
// keeps, are answered from every customer of the filter's narrowest
// indexed dimension (owner, pool of a region, tag, grade, team, stage,
// region, partner; else everything), when it holds at most walkBound of
// them. The list counters say which dimension is the narrowest, one
// Query of its index's keys (up to 1 MB, some 5,000 keys, a call) lists
// it, and BatchGetItem reads the profiles, on which the whole filter is
// checked.

// walkBound is the most customers a bounded read reads.
const walkBound = 1000

func (s *Store) bound() int {
	if s.walkBound > 0 {
		return s.walkBound
	}
	return walkBound
}

// dimension is one indexed dimension of a filter: the index and key value
// that list it, and the counter that counts its active customers.
type dimension struct {
	ix    index
	value string
	count total
}

// dimensions lists the indexed dimensions of f; everything when f has
// none.
func dimensions(f crm.CustomerFilter) []dimension {
	var out []dimension
	add := func(ok bool, ix index, value string, t total) {
		if ok {
			out = append(out, dimension{ix, value, t})
		}
	}
	add(f.VisiblePartner != "", byList, partnerListKey(f.VisiblePartner), total{pk: partnerTotalPK(f.VisiblePartner), attr: "n"})
	add(f.OwnerID != "", byOwner, ownerKey(f.OwnerID), total{pk: ownerTotalPK(f.OwnerID), attr: "n"})
	add(f.Pool && f.Region != "", byOwner, poolKey(f.Region), total{pk: valueTotalPK("REGION", f.Region), attr: "pool"})
	add(f.Tag != "", byList, tagListKey(f.Tag), total{pk: tagTotalPK(f.Tag), attr: "n"})
	add(f.Grade != "", byGrade, f.Grade, total{attr: "grade." + f.Grade, sum: true})
	team := effectiveTeam(f)
	add(team != "", byTeam, team, total{pk: teamTotalPK(team), attr: "n"})
	add(f.Stage != "", byStage, string(f.Stage), total{attr: "stage." + string(f.Stage), sum: true})
	add(f.Region != "" && !f.Pool, byRegion, f.Region, total{pk: valueTotalPK("REGION", f.Region), attr: "n"})
	if len(out) == 0 {
		out = append(out, dimension{byList, listCustomers, total{attr: "n", sum: true}})
	}
	return out
}

// narrowest reads the counters of f's dimensions (GetItem TEAMS when a
// dimension is a sum over the teams, then one BatchGetItem of every
// counter item) and returns the dimension with the fewest customers.
func (s *Store) narrowest(ctx context.Context, f crm.CustomerFilter) (dimension, int, error) {
	dims := dimensions(f)
	if len(dims) == 1 && !dims[0].count.sum {
		// One dimension counted by one item: its walk tells its size.
		return dims[0], 0, nil
	}
	var teams []string
	counted := s.valueCounts.done.Load()
	if slices.ContainsFunc(dims, func(d dimension) bool { return d.count.sum }) {
		var err error
		if teams, counted, err = s.teamsItem(ctx); err != nil {
			return dimension{}, 0, err
		}
	}
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	want := func(pk string) {
		if !seen[pk] {
			seen[pk] = true
			keys = append(keys, key(pk, skTotal))
		}
	}
	for _, d := range dims {
		if d.count.sum {
			for _, tk := range teams {
				want("TOTAL#TEAM#" + tk)
			}
		} else {
			want(d.count.pk)
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return dimension{}, 0, err
	}
	byPK := map[string]map[string]types.AttributeValue{}
	for _, it := range items {
		byPK[strAttr(it["pk"])] = it
	}
	size := func(d dimension) int {
		n := 0
		add := func(it map[string]types.AttributeValue) {
			v, _ := strconv.Atoi(numAttr(it[d.count.attr])) // absent: 0
			n += v
		}
		if !d.count.sum {
			add(byPK[d.count.pk])
			return n
		}
		for _, tk := range teams {
			add(byPK["TOTAL#TEAM#"+tk])
		}
		return n
	}
	// Until the per-value counters count every customer (the recount
	// migration), a region's counter may read fewer than it holds, even
	// 0: it is picked only when nothing else is, and its walk tells its
	// size.
	if slices.ContainsFunc(dims, func(d dimension) bool { return isValueTotal(d.count.pk) }) {
		if !counted {
			var err error
			if counted, err = s.valuesCounted(ctx); err != nil {
				return dimension{}, 0, err
			}
		}
		if !counted {
			var known []dimension
			for _, d := range dims {
				if !isValueTotal(d.count.pk) {
					known = append(known, d)
				}
			}
			if len(known) == 0 {
				return dims[0], 0, nil
			}
			dims = known
		}
	}
	best, bestN := dims[0], size(dims[0])
	for _, d := range dims[1:] {
		if n := size(d); n < bestN {
			best, bestN = d, n
		}
	}
	return best, bestN, nil
}

// isValueTotal reports whether pk is a per-value counter item (a
// region's), which the recount migration completes.
func isValueTotal(pk string) bool { return strings.HasPrefix(pk, valueTotalPK("REGION", "")) }

// matching reads every customer f lists, when f's narrowest dimension
// holds at most walkBound customers (archived ones included when f asks
// for them); ok is false when it holds more. activity also reads their
// activities.
func (s *Store) matching(ctx context.Context, f crm.CustomerFilter, activity bool) (out []*crm.Customer, ok bool, err error) {
	bound := s.bound()
	d, n, err := s.narrowest(ctx, f)
	if err != nil || n > bound {
		return nil, false, err
	}
	attr := indexKeyAttr[d.ix]
	q := dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(s.idx.name(d.ix)),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(d.value)},
		ProjectionExpression:      aws.String("pk"),
		Limit:                     aws.Int32(int32(bound + 1)),
	}
	var ids []string
	for {
		res, err := s.db.Query(ctx, &q)
		if err != nil {
			return nil, false, wrap("query "+s.idx.name(d.ix), err)
		}
		for _, it := range res.Items {
			ids = append(ids, customerIDOf(strAttr(it["pk"])))
		}
		if len(ids) > bound {
			return nil, false, nil
		}
		if q.ExclusiveStartKey = res.LastEvaluatedKey; q.ExclusiveStartKey == nil {
			break
		}
		q.Limit = aws.Int32(int32(bound + 1 - len(ids)))
	}
	found, err := s.customers(ctx, ids, activity || f.WithActivity)
	if err != nil {
		return nil, false, err
	}
	for _, id := range ids {
		if c, ok := found[id]; ok && matches(c, f) {
			out = append(out, c)
			delete(found, id) // a customer listed twice (a tag entry and…) counts once
		}
	}
	return out, true, nil
}

// listTotal counts what f lists: from counters when one item (or one
// attribute summed over the teams) counts it, else by a bounded read.
func (s *Store) listTotal(f crm.CustomerFilter) func(context.Context) (int, error) {
	bounded := func(ctx context.Context) (int, error) {
		all, ok, err := s.matching(ctx, f, false)
		switch {
		case err != nil:
			return 0, err
		case !ok:
			return 0, crm.ErrNotCounted
		}
		return len(all), nil
	}
	t, ok := totalFor(f)
	switch {
	case !ok:
		return bounded
	case f.Kind == "" && f.Source == "" && f.Industry == "" && f.Region == "":
		return s.totalOf(t)
	}
	return func(ctx context.Context) (int, error) {
		if ok, err := s.valuesCounted(ctx); err != nil || !ok {
			if err != nil {
				return 0, err
			}
			return bounded(ctx)
		}
		return s.readTotal(ctx, t)
	}
}

// timeOrder writes times so that their strings sort as the times do.
const timeOrder = "2006-01-02T15:04:05.000000000Z"

// compareOrder compares two positions (orderPosition) in an order:
// customers without the field's value come last whichever the direction;
// ties go by id.
func compareOrder(a, b string, ascending bool) int {
	if am, bm := positionMissing(a), positionMissing(b); am != bm {
		if am {
			return 1
		}
		return -1
	}
	c := strings.Compare(a, b)
	if !ascending {
		c = -c
	}
	return c
}

// listOrdered lists f's customers in an order other than creation's.
// When f asks for no more than a scope of the order index holds
// (everything, or a team for the fields kept per team), the index lists
// them (listByOrder). Otherwise, when f's narrowest indexed dimension
// holds at most the bound, every match is read (matching), sorted in
// memory and paged: the list's totalCount is the number of matches read.
// Otherwise the index of f's scope lists them, the rest of f checked on
// each customer read. A cursor is the position of the last customer
// returned (its order entry's sort key), so a page resumes after it even
// when customers came or went meanwhile, and whichever way the next page
// is read.
func (s *Store) listOrdered(ctx context.Context, f crm.CustomerFilter, p crm.PageRequest) (*crm.Page[*crm.Customer], error) {
	scope, exact := orderScope(f)
	if exact {
		return s.listByOrder(ctx, f, p, scope, false)
	}
	name := "customers/" + filterHash(f)
	start, err := s.decodeCursor(name, p.After)
	if err != nil {
		return nil, err
	}
	activity := f.Order.Field == crm.OrderLastInteractionAt || f.Order.Field == crm.OrderNextFollowUpAt
	all, ok, err := s.matching(ctx, f, activity)
	if err != nil {
		return nil, err
	}
	if !ok {
		if scope == "" || f.IncludeArchived {
			what := "ordering by " + string(f.Order.Field)
			if f.IncludeArchived {
				what = "ordering archived customers"
			}
			return nil, crm.Invalid("orderBy", "%s reads every customer of the list, which the filter must narrow to at most %d "+
				"(by ownerId, pool and region, tag, grade, team, stage or region): this one holds more; order by CREATED_AT, "+
				"or leave out includeArchived, or narrow the filter", what, s.bound())
		}
		return s.listByOrder(ctx, f, p, scope, true)
	}
	keys := make(map[*crm.Customer]string, len(all))
	for _, c := range all {
		keys[c] = orderPositionOf(c, f.Order.Field)
	}
	slices.SortFunc(all, func(a, b *crm.Customer) int { return compareOrder(keys[a], keys[b], f.Order.Ascending) })
	from := 0
	if start != nil {
		after := cursorPosition(start)
		from, _ = slices.BinarySearchFunc(all, after, func(c *crm.Customer, k string) int {
			return compareOrder(keys[c], k, f.Order.Ascending)
		})
		if from < len(all) && keys[all[from]] == after {
			from++
		}
	}
	n := len(all)
	page := &crm.Page[*crm.Customer]{Total: func(context.Context) (int, error) { return n, nil }}
	for _, c := range all[from:] {
		if len(page.Items) == p.First {
			page.HasNext = true
			break
		}
		page.Items = append(page.Items, c)
		page.Cursors = append(page.Cursors, s.encodeCursor(name, map[string]types.AttributeValue{
			"pk": str(orderPK(f.Order.Field, scope)), "sk": str(keys[c])}))
	}
	if len(page.Cursors) > 0 {
		page.EndCursor = page.Cursors[len(page.Cursors)-1]
	}
	return page, nil
}
