package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/names"
	"github.com/rapportcrm/rapport/stream"
)

// The order index (docs/access-patterns.md, "The order index"): one small
// item per active customer with a value of an order field,
// ORDER#<field>#ALL / "1" + value + orderSep + id, where the customer
// stands in the order of everything, for name, value score and last
// interaction. Customers without the value have no entry: they come
// last, listed in creation order (the list's own index, filtered to
// them). The scope is what the write targets of docs/access-patterns.md
// leave room for: a new customer writes two entries (its name and its
// score), a logged contact moves one (its last interaction), a claim
// none; a copy per team or owner would cost more. Next follow-up has
// none of its own (a contact moves it too): an owner's or a team's
// customers are listed by it from the follow-up entries the activity
// keeps for the watch lists (activity.go).
//
// Only the stream consumer writes them, beside the activity item
// (WriteActivities, startActivity): the activity records what its entries
// were written for (ord), so a write moves exactly the entries whose
// position changed, and they are written before the activity that
// records them (a batch delivered again finds the activity as before, and
// writes them again). Readers check each entry against the customer they
// read: one that lags (or that a failed write left) is skipped.

// orderSep separates a position's value from the id: below every
// character a value holds, so that ties, and values that are prefixes of
// others, order as the values do.
const orderSep = "\x01"

// orderKept are the order fields the index keeps.
var orderKept = []crm.OrderField{crm.OrderName, crm.OrderValueScore, crm.OrderLastInteractionAt}

// orderFieldKey names a field in keys.
var orderFieldKey = map[crm.OrderField]string{
	crm.OrderName: "NAME", crm.OrderValueScore: "SCORE", crm.OrderLastInteractionAt: "LAST", crm.OrderNextFollowUpAt: "NEXT",
}

const orderAll = "ALL"

// orderTeams is the scope of next follow-up without an owner or a team:
// the merge of the teams' follow-up entries (mergedFollowUps).
const orderTeams = "TEAMS"

func orderTeamScope(team string) string { return "TEAM#" + teamKey(team) }

func orderPK(field crm.OrderField, scope string) string {
	return "ORDER#" + orderFieldKey[field] + "#" + scope
}

// orderValue is a customer's value of an order field, written so that the
// strings sort as the values do; ok is false when it has none.
func orderValue(c *crm.Customer, field crm.OrderField) (string, bool) {
	at := func(t *time.Time) (string, bool) {
		if t == nil {
			return "", false
		}
		return t.UTC().Format(timeOrder), true
	}
	switch field {
	case crm.OrderName:
		return names.Fold(c.Name), true
	case crm.OrderLastInteractionAt:
		return at(c.LastInteractionAt)
	case crm.OrderNextFollowUpAt:
		return at(c.NextFollowUpAt)
	case crm.OrderValueScore:
		if c.ValueScore == nil {
			return "", false
		}
		return fmt.Sprintf("%012.4f", *c.ValueScore), true // 0–100
	}
	return c.CreatedAt.UTC().Format(timeOrder), true
}

// orderPosition is the sort key of a customer's entry in a field's
// order, and of its cursor: "2" + orderSep + id without a value, which
// sorts after every value.
func orderPosition(value string, has bool, id string) string {
	if !has {
		return "2" + orderSep + id
	}
	return "1" + value + orderSep + id
}

func orderPositionOf(c *crm.Customer, field crm.OrderField) string {
	v, ok := orderValue(c, field)
	return orderPosition(v, ok, c.ID)
}

// positionMissing reports whether a position is of a customer without the
// value.
func positionMissing(pos string) bool { return strings.HasPrefix(pos, "2") }

// orderState is what a customer's order entries were written for (the
// activity's ord): positions, those without a value left empty. The
// name's entry is not the activity's: it moves with the name, whose
// search keys move anyway, and the search manifest records it
// (nameOrderEntry), so that a rename does not write the activity. Name is
// where an activity written before kept it: carried on, unused, for the
// search sync that takes the entry over (legacyNameEntry).
type orderState struct {
	Name  string `dynamodbav:"name,omitempty"`
	Score string `dynamodbav:"score,omitempty"`
	Last  string `dynamodbav:"last,omitempty"`
}

// orderStateOf is where c's entries belong; nil when it has none
// (archived, merged, or merging into another).
func orderStateOf(c *crm.Customer) *orderState {
	if !ordered(c) {
		return nil
	}
	pos := func(field crm.OrderField) string {
		if v, ok := orderValue(c, field); ok {
			return orderPosition(v, true, c.ID)
		}
		return ""
	}
	return &orderState{Score: pos(crm.OrderValueScore), Last: pos(crm.OrderLastInteractionAt)}
}

// ordered reports whether c stands in the orders: active and not merging.
func ordered(c *crm.Customer) bool {
	return c != nil && c.Status == crm.StatusActive && c.MergedInto == ""
}

// nameOrderEntry is c's entry in the order of names, ok false when it has
// none.
func nameOrderEntry(c *crm.Customer) (itemKey, bool) {
	if !ordered(c) {
		return itemKey{}, false
	}
	return itemKey{orderPK(crm.OrderName, orderAll), orderPositionOf(c, crm.OrderName)}, true
}

// sameOrderState reports whether two states write the same entries (the
// activity's).
func sameOrderState(a, b *orderState) bool {
	return slices.Equal(orderEntries(a), orderEntries(b))
}

// orderEntries are the keys of the entries a state implies: the
// activity's.
func orderEntries(st *orderState) []itemKey {
	if st == nil {
		return nil
	}
	var out []itemKey
	for _, e := range []struct {
		field crm.OrderField
		pos   string
	}{{crm.OrderValueScore, st.Score}, {crm.OrderLastInteractionAt, st.Last}} {
		if e.pos == "" {
			continue
		}
		out = append(out, itemKey{orderPK(e.field, orderAll), e.pos})
	}
	return out
}

// orderWrites moves a customer's entries from where before put them to
// where after does: the entries only one of them has are deleted or put.
func orderWrites(id string, before, after *orderState) []types.WriteRequest {
	had := map[itemKey]bool{}
	for _, k := range orderEntries(before) {
		had[k] = true
	}
	var out []types.WriteRequest
	want := map[itemKey]bool{}
	for _, k := range orderEntries(after) {
		want[k] = true
		if !had[k] {
			out = append(out, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"pk": str(k.pk), "sk": str(k.sk), "type": str("order"), "customerId": str(id)}}})
		}
	}
	for _, k := range orderEntries(before) {
		if !want[k] {
			out = append(out, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(k.pk, k.sk)}})
		}
	}
	return out
}

// orderScope is the scope whose entries list f in f's order ("" when no
// index keeps f's field for f), and whether f asks for nothing more than
// the scope holds (then every entry in step with its customer is listed).
// Next follow-up is listed from the follow-up entries the activity keeps
// anyway (activity.go): an owner's (byDue) and a team's (byName2).
func orderScope(f crm.CustomerFilter) (scope string, exact bool) {
	team := effectiveTeam(f)
	dims, _ := constraints(f)
	plain := !f.IncludeArchived && f.VisiblePartner == "" && len(f.VisibleTeams) <= 1
	if f.Order.Field == crm.OrderNextFollowUpAt {
		switch {
		case f.OwnerID != "":
			return "OWNER#" + f.OwnerID, plain && len(dims) == 1 && (f.VisibleOwner == "" || f.VisibleOwner == f.OwnerID)
		case team != "":
			return orderTeamScope(team), plain && len(dims) == 1 && f.VisibleOwner == ""
		}
		// Everything, or a manager's several teams: the merge of the
		// teams' entries.
		return orderTeams, !f.IncludeArchived && f.VisiblePartner == "" && f.VisibleOwner == "" && len(dims) == 0
	}
	if !slices.Contains(orderKept, f.Order.Field) {
		return "", false
	}
	plain = plain && f.VisibleOwner == ""
	return orderAll, plain && len(dims) == 0 && len(f.VisibleTeams) == 0
}

// followUpIndex is where a scope's follow-up entries are: the index, its
// key's value, and its attributes.
func followUpIndex(scope string) (ix index, value, keyAttr, sortAttr string) {
	if owner, ok := strings.CutPrefix(scope, "OWNER#"); ok {
		ix, value = byDue, string(crm.WatchFollowUp)+"#"+ownerScopeKey(owner, false)
	} else {
		ix, value = byName, string(crm.WatchFollowUp)+"#"+strings.TrimPrefix(scope, "TEAM#")
	}
	return ix, value, indexKeyAttr[ix], indexSortAttr(ix)
}

// followUpPosition turns a follow-up entry's sort key (due # id) into a
// position, and back.
func followUpPosition(sort string) string {
	due, id, _ := strings.Cut(sort, "#")
	t, err := time.Parse(dueLayout, due)
	if err != nil {
		return orderPosition("", false, id)
	}
	return orderPosition(t.UTC().Format(timeOrder), true, id)
}

func followUpSort(pos string) string {
	v, id, _ := strings.Cut(strings.TrimPrefix(pos, "1"), orderSep)
	t, _ := time.Parse(timeOrder, v)
	return t.UTC().Format(dueLayout) + "#" + id
}

// entryPlan is the Query of f's order entries in scope, and how a
// position becomes a key it resumes after.
func (s *Store) entryPlan(f crm.CustomerFilter, scope, name string, filtered, activity bool) (listPlan[*crm.Customer], func(pos string) map[string]types.AttributeValue) {
	field := f.Order.Field
	plan := listPlan[*crm.Customer]{name: name, filtered: filtered, total: s.listTotal(f)}
	if field == crm.OrderNextFollowUpAt {
		ix, value, keyAttr, sortAttr := followUpIndex(scope)
		plan.query = dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(s.idx.name(ix)),
			KeyConditionExpression:    aws.String("#k = :k"),
			ExpressionAttributeNames:  map[string]string{"#k": keyAttr, "#s": sortAttr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(value)},
			ScanIndexForward:          aws.Bool(f.Order.Ascending), ProjectionExpression: aws.String("pk, sk, #k, #s")}
		plan.keyAttr = []string{"pk", "sk", keyAttr, sortAttr}
		plan.decode = func(ctx context.Context, raw []map[string]types.AttributeValue) ([]*crm.Customer, []bool, error) {
			ids := make([]string, len(raw))
			for i, r := range raw {
				ids[i] = customerIDOf(strAttr(r["pk"]))
			}
			return s.decodeIDs(ctx, ids, true, func(i int, c *crm.Customer) bool {
				at := c.NextFollowUpAt
				return matches(c, f) && at != nil && at.UTC().Format(dueLayout)+"#"+c.ID == strAttr(raw[i][sortAttr])
			})
		}
		return plan, func(pos string) map[string]types.AttributeValue {
			_, id, _ := strings.Cut(pos, orderSep)
			return map[string]types.AttributeValue{"pk": str(customerPK(id)), "sk": str(skActivity), keyAttr: str(value), sortAttr: str(followUpSort(pos))}
		}
	}
	pk := orderPK(field, scope)
	plan.query = dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)}, ScanIndexForward: aws.Bool(f.Order.Ascending),
		ProjectionExpression: aws.String("pk, sk, customerId")}
	plan.keyAttr = []string{"pk", "sk"}
	plan.decode = func(ctx context.Context, raw []map[string]types.AttributeValue) ([]*crm.Customer, []bool, error) {
		ids := make([]string, len(raw))
		for i, r := range raw {
			ids[i] = strAttr(r["customerId"])
		}
		// An entry that lags its customer is not where it stands now:
		// skipped.
		return s.decodeIDs(ctx, ids, activity, func(i int, c *crm.Customer) bool {
			return matches(c, f) && orderPositionOf(c, field) == strAttr(raw[i]["sk"])
		})
	}
	return plan, func(pos string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": str(pk), "sk": str(pos)}
	}
}

// cursorPosition is the position a cursor of an ordered list names: the
// bounded read's (ORDER#…), an order entry's, a follow-up entry's, or,
// past the entries, a customer without the value (its creation index's
// key).
func cursorPosition(start map[string]types.AttributeValue) string {
	pk, sk := strAttr(start["pk"]), strAttr(start["sk"])
	switch {
	case strings.HasPrefix(pk, "ORDER#"):
		return sk
	case sk == skActivity:
		for _, a := range []string{indexSortAttr(byDue), indexSortAttr(byName)} {
			if v := strAttr(start[a]); v != "" {
				return followUpPosition(v)
			}
		}
	}
	return orderPosition("", false, strAttr(start["gSort"]))
}

// listByOrder lists f's customers from the order index of f's field and
// scope: a Query of entries and a BatchGetItem of their profiles (and
// activities) a page, reading on when entries fail the rest of the filter
// (filtered), within the read budget. The customers without the value,
// which have no entry, follow in creation order, either way: the list's
// own index (ListCustomers), filtered to them. A cursor is the position of
// the last customer returned; past the entries, the tail's own.
func (s *Store) listByOrder(ctx context.Context, f crm.CustomerFilter, p crm.PageRequest, scope string, filtered bool) (*crm.Page[*crm.Customer], error) {
	name := "customers/" + filterHash(f)
	field := f.Order.Field
	start, err := s.decodeCursor(name, p.After)
	if err != nil {
		return nil, err
	}
	activity := f.WithActivity || field == crm.OrderLastInteractionAt || field == crm.OrderNextFollowUpAt
	tail := s.creationPlan(f)
	tail.name, tail.filtered = name, true
	tail.query.ScanIndexForward = aws.Bool(f.Order.Ascending)
	keep := func(c *crm.Customer) bool { _, has := orderValue(c, field); return !has && matches(c, f) }
	tail.decode = func(ctx context.Context, raw []map[string]types.AttributeValue) ([]*crm.Customer, []bool, error) {
		return s.decodeEntries(ctx, raw, activity, keep)
	}
	after := ""
	if start != nil {
		pos := cursorPosition(start)
		if positionMissing(pos) {
			// Past the entries: the tail resumes after the customer.
			_, id, _ := strings.Cut(pos, orderSep)
			return collect(ctx, s, tail, crm.PageRequest{First: p.First, After: s.encodeCursor(name, creationKey(f, id))})
		}
		after = pos
	}
	var page *crm.Page[*crm.Customer]
	if scope == orderTeams {
		page, err = s.mergedFollowUps(ctx, f, p.First, after, name)
	} else {
		entries, keyAt := s.entryPlan(f, scope, name, filtered, activity)
		req := crm.PageRequest{First: p.First}
		if after != "" {
			req.After = s.encodeCursor(name, keyAt(after))
		}
		page, err = collect(ctx, s, entries, req)
	}
	if err != nil || page.HasNext {
		return page, err
	}
	// The customers with a value are all listed: those without follow
	// (or, on a full page, whether any does is found out).
	rest, err := collect(ctx, s, tail, crm.PageRequest{First: max(p.First-len(page.Items), 1)})
	if err != nil {
		return nil, err
	}
	if len(page.Items) == p.First {
		page.HasNext = len(rest.Items) > 0
		return page, nil
	}
	page.Items = append(page.Items, rest.Items...)
	page.Cursors = append(page.Cursors, rest.Cursors...)
	page.HasNext = rest.HasNext
	if rest.EndCursor != "" {
		page.EndCursor = rest.EndCursor
	}
	return page, nil
}

// mergedFollowUps lists f's customers by next follow-up when f names no
// owner and no team: the merge of the follow-up entries of every team (or
// of the caller's teams, for a manager of several), which the activity
// keeps anyway for the watch lists, so nothing more is written for it.
// Each entry is checked against its customer (its due time, and its team:
// an entry left in a team the customer has left is skipped) and the rest
// of f; after is a position ("" from the start).
func (s *Store) mergedFollowUps(ctx context.Context, f crm.CustomerFilter, first int, after, name string) (*crm.Page[*crm.Customer], error) {
	var teams []string
	if len(f.VisibleTeams) > 0 {
		for _, t := range f.VisibleTeams {
			teams = append(teams, teamKey(t))
		}
	} else {
		var err error
		if teams, err = s.teams(ctx); err != nil {
			return nil, err
		}
	}
	m := teamMerge{ix: byName, list: string(crm.WatchFollowUp), teams: teams, forward: f.Order.Ascending, name: name,
		cursor: func(pos string) map[string]types.AttributeValue {
			return map[string]types.AttributeValue{"pk": str(orderPK(crm.OrderNextFollowUpAt, orderTeams)), "sk": str(followUpPosition(pos))}
		}}
	if after != "" {
		after = followUpSort(after)
	}
	page, err := s.mergeTeams(ctx, m, first, after, func(e teamEntry, c *crm.Customer) bool {
		at := c.NextFollowUpAt
		return matches(c, f) && at != nil && teamKey(c.Team) == e.team && at.UTC().Format(dueLayout)+"#"+c.ID == e.pos
	})
	if page != nil {
		page.Total = s.listTotal(f)
	}
	return page, err
}

// orderBackfill writes the order entries of the customers stored before
// the index (issue #11).
const orderBackfill = "2026-12-order-index"

// orderPage brings the order entries of each customer of a page (its
// profile) to where its profile and activity put them, as the stream
// consumer does: the entries, then the activity recording them,
// conditioned on the revision read (when the stream wrote it meanwhile,
// it moved them itself). A customer in step writes nothing, so a second
// run changes nothing.
func orderPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	changed := 0
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		if !strings.HasPrefix(pk, "CUST#") || sk != skProfile {
			continue
		}
		states, err := s.Load(ctx, []string{customerIDOf(pk)}, nil)
		if err != nil {
			return changed, err
		}
		st := states[customerIDOf(pk)]
		if st == nil {
			continue
		}
		sd, _ := st.Stored.(*stored)
		want := orderStateOf(st.Customer)
		if st.Marks.ForwardTo != "" {
			want = nil
		}
		if sd == nil || sameOrderState(sd.ord, want) {
			continue
		}
		err = s.WriteActivities(ctx, "", []*stream.State{st})
		switch crm.ErrorCode(err) {
		case "":
			changed++
		case crm.ECONFLICT:
			// The stream wrote the activity meanwhile, with its entries.
		default:
			return changed, fmt.Errorf("%s: %w", pk, err)
		}
	}
	return changed, nil
}
