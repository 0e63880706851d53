package dynamo

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// watchIndex is where a watch list of a scope kind is indexed: the
// activity items' keys (no contact, follow-ups) and the falling marks'
// (see activity.go).
func watchIndex(list crm.WatchList, team bool) index {
	switch {
	case list == crm.WatchFollowUp && team:
		return byName
	case list == crm.WatchFollowUp:
		return byDue
	case team:
		return byTeam
	}
	return byOwner
}

// watchBound is the Query's sort key condition of a list: positions
// before a time, ascending, or drops at least a bound, descending.
func watchBound(q crm.WatchQuery) (bound string, forward bool) {
	if q.List == crm.WatchFalling {
		return fmt.Sprintf(dropLayout, q.MinDrop), false
	}
	return q.Before.UTC().Format(dueLayout), true
}

// WatchList reads a page of a watch list: a team's, an owner's (or the
// pool's) with one Query of the entries' keys and one BatchGetItem of the
// customers (profile and activity), which are checked again (the index
// lags the table); everything's as the merge of the teams' lists.
func (s *Store) WatchList(ctx context.Context, q crm.WatchQuery, p crm.PageRequest) (*crm.Page[*crm.Customer], error) {
	keep := func(c *crm.Customer) bool {
		return c.Status == crm.StatusActive && c.MergedInto == "" && (q.Keep == nil || q.Keep(c))
	}
	if q.Scope.Team == "" && q.Scope.OwnerID == "" && !q.Scope.Pool {
		return s.mergedWatchList(ctx, q, p, keep)
	}
	team := q.Scope.Team != ""
	ix := watchIndex(q.List, team)
	partition := string(q.List) + "#" + ownerScopeKey(q.Scope.OwnerID, q.Scope.Pool)
	if team {
		partition = string(q.List) + "#" + teamKey(q.Scope.Team)
	}
	sortAttr := indexSortAttr(ix)
	bound, forward := watchBound(q)
	cond := sortAttr + " < :b"
	if !forward {
		cond = sortAttr + " >= :b"
	}
	plan := listPlan[*crm.Customer]{
		// A cursor is a position on the list's order, valid whatever the
		// bound: NO_CONTACT's moves with the clock between pages.
		name: "watch/" + partition,
		query: dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(s.idx.name(ix)),
			KeyConditionExpression:    aws.String(indexKeyAttr[ix] + " = :k AND " + cond),
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(partition), ":b": str(bound)},
			ScanIndexForward:          aws.Bool(forward),
			ProjectionExpression:      aws.String("pk, sk, #k, #s"),
			ExpressionAttributeNames:  map[string]string{"#k": indexKeyAttr[ix], "#s": sortAttr},
		},
		keyAttr:  []string{"pk", "sk", indexKeyAttr[ix], sortAttr},
		filtered: true,
		decode: func(ctx context.Context, raw []map[string]types.AttributeValue) ([]*crm.Customer, []bool, error) {
			return s.decodeEntries(ctx, raw, true, keep)
		},
	}
	return collect(ctx, s, plan, p)
}

// watchCandidate is an entry of a team's list.
type watchCandidate struct {
	pos, id string
}

// mergedWatchList reads everything's list as the merge of the teams'
// lists, in the list's order: each round reads up to a page from every
// team's list after the last position returned, and returns, in order,
// the entries no team's unread rest can precede. Cursors are positions.
func (s *Store) mergedWatchList(ctx context.Context, q crm.WatchQuery, p crm.PageRequest, keep func(*crm.Customer) bool) (*crm.Page[*crm.Customer], error) {
	ix := watchIndex(q.List, true)
	sortAttr := indexSortAttr(ix)
	bound, forward := watchBound(q)
	name := "watch/" + string(q.List) + "#ALL"
	after := ""
	if p.After != "" {
		start, err := s.decodeCursor(name, p.After)
		if err != nil {
			return nil, err
		}
		after = strAttr(start["pos"])
	}
	teams, err := s.teams(ctx)
	if err != nil {
		return nil, err
	}
	before := func(a, b string) bool { return (a < b) == forward && a != b }
	page := &crm.Page[*crm.Customer]{}
	for round := 0; round < s.budget.calls; round++ {
		var cands []watchCandidate
		frontier, open := "", false
		for _, tk := range teams {
			in := &dynamodb.QueryInput{
				TableName:                 &s.table,
				IndexName:                 aws.String(s.idx.name(ix)),
				ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(string(q.List) + "#" + tk), ":b": str(bound)},
				ScanIndexForward:          aws.Bool(forward),
				ProjectionExpression:      aws.String("pk, #s"),
				ExpressionAttributeNames:  map[string]string{"#s": sortAttr},
				Limit:                     aws.Int32(int32(p.First + 1)),
			}
			attr := indexKeyAttr[ix]
			switch {
			case after == "" && forward:
				in.KeyConditionExpression = aws.String(attr + " = :k AND #s < :b")
			case after == "":
				in.KeyConditionExpression = aws.String(attr + " = :k AND #s >= :b")
			case forward:
				in.KeyConditionExpression = aws.String(attr + " = :k AND #s BETWEEN :a AND :b")
				in.ExpressionAttributeValues[":a"] = str(after)
			default:
				in.KeyConditionExpression = aws.String(attr + " = :k AND #s BETWEEN :b AND :a")
				in.ExpressionAttributeValues[":a"] = str(after)
			}
			res, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, wrap("query watch list", err)
			}
			last := ""
			for _, it := range res.Items {
				pos := strAttr(it[sortAttr])
				last = pos
				if pos == after || (forward && pos >= bound) {
					continue
				}
				cands = append(cands, watchCandidate{pos: pos, id: customerIDOf(strAttr(it["pk"]))})
			}
			if res.LastEvaluatedKey != nil {
				// What this team has not returned comes after last.
				if !open || before(last, frontier) {
					frontier = last
				}
				open = true
			}
		}
		slices.SortFunc(cands, func(a, b watchCandidate) int {
			if a.pos == b.pos {
				return 0
			}
			if before(a.pos, b.pos) {
				return -1
			}
			return 1
		})
		if open {
			cands = slices.DeleteFunc(cands, func(c watchCandidate) bool { return before(frontier, c.pos) })
		}
		ids := make([]string, len(cands))
		for i, c := range cands {
			ids[i] = c.id
		}
		found, err := s.customers(ctx, ids, true)
		if err != nil {
			return nil, err
		}
		for _, c := range cands {
			cu, ok := found[c.id]
			if !ok || !keep(cu) {
				continue
			}
			if len(page.Items) == p.First {
				page.HasNext = true
				return page, nil
			}
			page.Items = append(page.Items, cu)
			page.Cursors = append(page.Cursors, s.encodeCursor(name, map[string]types.AttributeValue{"pos": str(c.pos)}))
			page.EndCursor = page.Cursors[len(page.Cursors)-1]
		}
		if !open {
			return page, nil
		}
		after = frontier
	}
	// Budget spent: resume after the frontier.
	page.HasNext = true
	page.EndCursor = s.encodeCursor(name, map[string]types.AttributeValue{"pos": str(after)})
	return page, nil
}
