package dynamo

import (
	"context"
	"fmt"

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

// mergedWatchList reads everything's list as the merge of the teams'
// lists (mergeTeams), in the list's order. Cursors are positions.
func (s *Store) mergedWatchList(ctx context.Context, q crm.WatchQuery, p crm.PageRequest, keep func(*crm.Customer) bool) (*crm.Page[*crm.Customer], error) {
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
	m := teamMerge{ix: watchIndex(q.List, true), list: string(q.List), teams: teams, forward: forward, bound: bound, name: name,
		cursor: func(pos string) map[string]types.AttributeValue {
			return map[string]types.AttributeValue{"pos": str(pos)}
		}}
	return s.mergeTeams(ctx, m, p.First, after, func(_ teamEntry, c *crm.Customer) bool { return keep(c) })
}
