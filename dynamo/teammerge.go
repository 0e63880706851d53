package dynamo

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// A list of several teams read as the merge of each team's list of one
// index (the activity items' watch and follow-up entries, keyed
// <list>#<team key>, sorted by position): everything's watch lists
// (pattern 40) and everything's, or several teams', customers by next
// follow-up (pattern 84). Nothing is written for it: each team's list is
// kept anyway.

// teamEntry is an entry of a team's list.
type teamEntry struct {
	pos, id, team string
}

// teamMerge is one merged list.
type teamMerge struct {
	ix      index
	list    string   // each team's list is keyed list#<team key>
	teams   []string // team keys
	forward bool
	// bound, when set, ends the list: positions before it (forward), or
	// from it on (backward).
	bound string
	// cursor names a position in the list's cursors.
	cursor func(pos string) map[string]types.AttributeValue
	name   string
}

// mergeTeams reads a page of a merged list after the position after (""
// from the start), in order: each round reads up to a page from every
// team's list after the last position returned, and returns, in order,
// the entries no team's unread rest can precede, whose customers (read
// with their activities) keep accepts. When the rounds of the read budget
// are spent first, the page says there is more and its end cursor is
// where reading stopped.
func (s *Store) mergeTeams(ctx context.Context, m teamMerge, first int, after string, keep func(teamEntry, *crm.Customer) bool) (*crm.Page[*crm.Customer], error) {
	sortAttr, keyAttr := indexSortAttr(m.ix), indexKeyAttr[m.ix]
	before := func(a, b string) bool { return (a < b) == m.forward && a != b }
	page := &crm.Page[*crm.Customer]{}
	for round := 0; round < s.budget.calls; round++ {
		var cands []teamEntry
		frontier, open := "", false
		for _, tk := range m.teams {
			in := &dynamodb.QueryInput{
				TableName:                 &s.table,
				IndexName:                 aws.String(s.idx.name(m.ix)),
				KeyConditionExpression:    aws.String(mergeCondition(m, after)),
				ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(m.list + "#" + tk)},
				ExpressionAttributeNames:  map[string]string{"#k": keyAttr, "#s": sortAttr},
				ScanIndexForward:          aws.Bool(m.forward),
				ProjectionExpression:      aws.String("pk, #s"),
				Limit:                     aws.Int32(int32(first + 1)),
			}
			if after != "" {
				in.ExpressionAttributeValues[":a"] = str(after)
			}
			if m.bound != "" {
				in.ExpressionAttributeValues[":b"] = str(m.bound)
			}
			res, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, wrap("query "+m.name, err)
			}
			last := ""
			for _, it := range res.Items {
				pos := strAttr(it[sortAttr])
				last = pos
				if pos == after || (m.forward && m.bound != "" && pos >= m.bound) {
					continue // BETWEEN holds both ends
				}
				cands = append(cands, teamEntry{pos: pos, id: customerIDOf(strAttr(it["pk"])), team: tk})
			}
			if res.LastEvaluatedKey != nil {
				// What this team has not returned comes after last.
				if !open || before(last, frontier) {
					frontier = last
				}
				open = true
			}
		}
		slices.SortFunc(cands, func(a, b teamEntry) int {
			if a.pos == b.pos {
				return 0
			}
			if before(a.pos, b.pos) {
				return -1
			}
			return 1
		})
		if open {
			cands = slices.DeleteFunc(cands, func(c teamEntry) bool { return before(frontier, c.pos) })
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
			if !ok || !keep(c, cu) {
				continue
			}
			if len(page.Items) == first {
				page.HasNext = true
				return page, nil
			}
			page.Items = append(page.Items, cu)
			page.Cursors = append(page.Cursors, s.encodeCursor(m.name, m.cursor(c.pos)))
			page.EndCursor = page.Cursors[len(page.Cursors)-1]
		}
		if !open {
			return page, nil
		}
		after = frontier
	}
	// Budget spent: resume after the frontier.
	page.HasNext = true
	page.EndCursor = s.encodeCursor(m.name, m.cursor(after))
	return page, nil
}

// mergeCondition is a team's Query of a merged list: its key, and the
// positions after after within the bound (BETWEEN, when both are set,
// holds both ends: the caller skips them).
func mergeCondition(m teamMerge, after string) string {
	cond := "#k = :k"
	switch {
	case after != "" && m.bound != "" && m.forward:
		return cond + " AND #s BETWEEN :a AND :b"
	case after != "" && m.bound != "":
		return cond + " AND #s BETWEEN :b AND :a"
	case after != "" && m.forward:
		return cond + " AND #s > :a"
	case after != "":
		return cond + " AND #s < :a"
	case m.bound != "" && m.forward:
		return cond + " AND #s < :b"
	case m.bound != "":
		return cond + " AND #s >= :b"
	}
	return cond
}
