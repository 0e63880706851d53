package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Read budget of one filtered list request. A filtered list keeps reading
// until its page is full, but never beyond this; then it returns what it
// has with a cursor where it stopped.
type readBudget struct{ calls, items int }

var defaultBudget = readBudget{calls: 10, items: 2000}

// listPlan is one list: the Query that walks it in order, the key
// attributes that position a cursor, and how to turn a page of raw items
// into results (match false drops an item that the Query cannot filter).
type listPlan[T any] struct {
	name    string // binds cursors to this list
	query   dynamodb.QueryInput
	keyAttr []string
	// filtered lists read larger Query pages, since some items are dropped.
	filtered bool
	decode   func(ctx context.Context, raw []map[string]types.AttributeValue) (items []T, match []bool, err error)
	total    func(ctx context.Context) (int, error)
}

// collect runs a plan for one page: first+1 matches tell whether a next
// page exists; each edge's cursor is its own key, and when the budget runs
// out first, the end cursor is where reading stopped.
func collect[T any](ctx context.Context, s *Store, plan listPlan[T], p crm.PageRequest) (*crm.Page[T], error) {
	start, err := s.decodeCursor(plan.name, p.After)
	if err != nil {
		return nil, err
	}
	page := &crm.Page[T]{Total: plan.total}
	calls, read := 0, 0
	for {
		q := plan.query
		q.ExclusiveStartKey = start
		limit := p.First + 1 - len(page.Items)
		if plan.filtered {
			limit = max(limit, 100)
		}
		q.Limit = aws.Int32(int32(min(limit, s.budget.items-read)))
		res, err := s.db.Query(ctx, &q)
		if err != nil {
			return nil, wrap("query "+plan.name, err)
		}
		calls++
		read += len(res.Items)
		for rest := res.Items; len(rest) > 0; {
			chunk := rest
			if !plan.filtered {
				// Every entry of an unfiltered list is on the page: the
				// one after it only says that a next page exists, and
				// is not decoded (a list of keys would read its item).
				chunk = rest[:min(len(rest), p.First-len(page.Items))]
				if len(chunk) == 0 {
					page.HasNext = true
					return page, nil
				}
			}
			rest = rest[len(chunk):]
			items, match, err := plan.decode(ctx, chunk)
			if err != nil {
				return nil, err
			}
			for i, it := range items {
				if !match[i] {
					continue
				}
				if len(page.Items) == p.First {
					page.HasNext = true
					return page, nil
				}
				page.Items = append(page.Items, it)
				page.Cursors = append(page.Cursors, s.encodeCursor(plan.name, keyOf(chunk[i], plan.keyAttr)))
				page.EndCursor = page.Cursors[len(page.Cursors)-1]
			}
		}
		start = res.LastEvaluatedKey
		if start == nil {
			page.EndCursor = ""
			if len(page.Cursors) > 0 {
				page.EndCursor = page.Cursors[len(page.Cursors)-1]
			}
			return page, nil
		}
		if calls >= s.budget.calls || read >= s.budget.items {
			// Budget spent: resume after the last item read, matched or not.
			page.HasNext = true
			page.EndCursor = s.encodeCursor(plan.name, start)
			return page, nil
		}
	}
}

func keyOf(item map[string]types.AttributeValue, attrs []string) map[string]types.AttributeValue {
	k := make(map[string]types.AttributeValue, len(attrs))
	for _, a := range attrs {
		if v, ok := item[a]; ok {
			k[a] = v
		}
	}
	return k
}

// decodeAll unmarshals a page of items of one kind, all matching.
func decodeAll[I any, T any](conv func(*I) T) func(context.Context, []map[string]types.AttributeValue) ([]T, []bool, error) {
	return func(_ context.Context, raw []map[string]types.AttributeValue) ([]T, []bool, error) {
		out, match := make([]T, len(raw)), make([]bool, len(raw))
		for i, r := range raw {
			var it I
			if err := unmarshalItem(r, &it); err != nil {
				return nil, nil, fmt.Errorf("unmarshal %T: %w", it, err)
			}
			out[i], match[i] = conv(&it), true
		}
		return out, match, nil
	}
}

// collectionPlan lists one kind of item in a customer's collection, newest
// first, between two sort keys.
func collectionPlan[I any, T any](s *Store, name, customerID, lo, hi string, conv func(*I) T) listPlan[T] {
	return listPlan[T]{
		name: name + "/" + customerID,
		query: dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(customerPK(customerID)), ":lo": str(lo), ":hi": str(hi)},
			ScanIndexForward: aws.Bool(false),
		},
		keyAttr: []string{"pk", "sk"},
		decode:  decodeAll(conv),
	}
}

// ListInteractions lists a customer's interactions in r, newest first. The
// ids' time part is the occurrence time, so r is a key range.
func (s *Store) ListInteractions(ctx context.Context, customerID string, r crm.TimeRange, p crm.PageRequest) (*crm.Page[*crm.Interaction], error) {
	lo, hi := skInteractPrefix, skInteractPrefix+"~"
	if !r.From.IsZero() {
		lo = interactionSK(ulidBound(r.From, false))
	}
	if !r.To.IsZero() {
		hi = interactionSK(ulidBound(r.To, true))
	}
	name := fmt.Sprintf("interactions/%s/%s", lo, hi)
	return collect(ctx, s, collectionPlan(s, name, customerID, lo, hi, fromInteractionItem), p)
}

// ListGradeChanges lists a customer's grade history, newest first.
func (s *Store) ListGradeChanges(ctx context.Context, customerID string, p crm.PageRequest) (*crm.Page[*crm.GradeChange], error) {
	return collect(ctx, s, collectionPlan(s, "grades", customerID, skGradePrefix, skGradePrefix+"~", fromGradeChangeItem), p)
}

// ListCases lists a customer's cases, newest first.
func (s *Store) ListCases(ctx context.Context, customerID string, p crm.PageRequest) (*crm.Page[*crm.Case], error) {
	return collect(ctx, s, collectionPlan(s, "cases", customerID, skCasePrefix, skCasePrefix+"~", fromCaseItem), p)
}

// ListStageChanges lists a customer's lifecycle history, newest first.
func (s *Store) ListStageChanges(ctx context.Context, customerID string, p crm.PageRequest) (*crm.Page[*crm.StageChange], error) {
	return collect(ctx, s, collectionPlan(s, "stages", customerID, skStagePrefix, skStagePrefix+"~", fromStageChangeItem), p)
}

// ListEvaluations lists a customer's evaluations, newest first.
func (s *Store) ListEvaluations(ctx context.Context, customerID string, p crm.PageRequest) (*crm.Page[*crm.Evaluation], error) {
	return collect(ctx, s, collectionPlan(s, "evaluations", customerID, skEvalPrefix, skEvalPrefix+"~", fromEvaluationItem), p)
}

// counterTotal reads a list counter (users.go's count); a counter never
// written is zero.
func (s *Store) counterTotal(dim string) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) { return s.count(ctx, counterPK(dim), skCounter) }
}
