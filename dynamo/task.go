package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Tasks and the agenda (docs/access-patterns.md).
//
// A task is CUST#<customer> / B#<id>, below the 360 view's range (the
// view's Limit comes from counts the profile keeps, and tasks have none).
// A user's agenda is one partition of the sparse byDue index,
// gDue = AGENDA#<user>, sorted by gDueAt = due time # kind # id:
//
//   - an open task, on the task item itself;
//   - an open case assigned to the user, on a pointer item
//     CUST#<customer> / A#CASE#<case> written with the case (the case
//     item's own gDue is the escalation job's CASE list);
//   - an active claim from the pool, on a pointer item CUST#<customer> /
//     A#CLAIM written with the profile (whose gDue is the expiry job's
//     CLAIM list);
//   - a lead waiting for the user, or returned to them, on the lead item
//     itself (leads.go).
//
// Pointers hold only keys; the agenda reads what they point to.
const (
	skTaskPrefix   = "B#"
	skAgendaPrefix = "A#"
	skAgendaCase   = skAgendaPrefix + "CASE#"
	skAgendaClaim  = skAgendaPrefix + "CLAIM"
)

// listTasksDue is the byList partition of open tasks whose due notice is
// owed, by due time: the job's list (TasksDue).
const listTasksDue = "TASKS#DUE"

func taskSK(id string) string      { return skTaskPrefix + id }
func agendaKey(user string) string { return "AGENDA#" + user }

// agendaSort places an entry on its user's agenda by due time.
func agendaSort(at time.Time, kind, id string) string { return dueKey(at, kind+"#"+id) }

type taskItem struct {
	PK            string     `dynamodbav:"pk"`
	SK            string     `dynamodbav:"sk"`
	Type          string     `dynamodbav:"type"`
	GDue          string     `dynamodbav:"gDue,omitempty"`
	GDueAt        string     `dynamodbav:"gDueAt,omitempty"`
	GList         string     `dynamodbav:"gList,omitempty"`
	GSort         string     `dynamodbav:"gSort,omitempty"`
	DueNoticeFor  *time.Time `dynamodbav:"dueNoticeFor,omitempty"`
	ID            string     `dynamodbav:"id"`
	CustomerID    string     `dynamodbav:"customerId"`
	Kind          string     `dynamodbav:"kind"`
	Title         string     `dynamodbav:"title,omitempty"`
	Notes         string     `dynamodbav:"notes,omitempty"`
	DueAt         time.Time  `dynamodbav:"dueAt"`
	AssigneeID    string     `dynamodbav:"assigneeId"`
	Priority      string     `dynamodbav:"priority"`
	Status        string     `dynamodbav:"status"`
	InteractionID string     `dynamodbav:"interactionId,omitempty"`
	Reason        string     `dynamodbav:"reason,omitempty"`
	ClosedAt      *time.Time `dynamodbav:"closedAt,omitempty"`
	ClosedBy      string     `dynamodbav:"closedBy,omitempty"`
	Version       int        `dynamodbav:"version"`
	CreatedAt     time.Time  `dynamodbav:"createdAt"`
	CreatedBy     string     `dynamodbav:"createdBy"`
	UpdatedAt     time.Time  `dynamodbav:"updatedAt"`
	UpdatedBy     string     `dynamodbav:"updatedBy"`
}

func toTaskItem(t *crm.Task) *taskItem {
	it := &taskItem{
		PK: customerPK(t.CustomerID), SK: taskSK(t.ID), Type: "task", ID: t.ID, CustomerID: t.CustomerID,
		Kind: string(t.Type), Title: t.Title, Notes: t.Notes, DueAt: t.DueAt, AssigneeID: t.AssigneeID,
		Priority: string(t.Priority), Status: string(t.Status), InteractionID: t.InteractionID, Reason: t.Reason,
		ClosedAt: t.ClosedAt, ClosedBy: t.ClosedBy, Version: t.Version, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy,
		UpdatedAt: t.UpdatedAt, UpdatedBy: t.UpdatedBy,
	}
	if t.Status == crm.TaskOpen {
		it.GDue, it.GDueAt = agendaKey(t.AssigneeID), agendaSort(t.DueAt, "TASK", t.ID)
	}
	it.DueNoticeFor = t.DueNoticeFor
	if t.DueNoticePending() {
		// The job's list of due notices owed (TasksDue).
		it.GList, it.GSort = listTasksDue, dueKey(t.DueAt, t.ID)
	}
	return it
}

func fromTaskItem(it *taskItem) *crm.Task {
	return &crm.Task{
		ID: it.ID, CustomerID: it.CustomerID, Type: crm.TaskType(it.Kind), Title: it.Title, Notes: it.Notes,
		DueAt: it.DueAt, AssigneeID: it.AssigneeID, Priority: crm.Priority(it.Priority), Status: crm.TaskStatus(it.Status),
		InteractionID: it.InteractionID, Reason: it.Reason, ClosedAt: it.ClosedAt, ClosedBy: it.ClosedBy,
		DueNoticeFor: it.DueNoticeFor, Version: it.Version, CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy,
	}
}

// Task reads one task.
func (s *Store) Task(ctx context.Context, customerID, id string) (*crm.Task, error) {
	var it taskItem
	if err := s.get(ctx, customerPK(customerID), taskSK(id), &it, "task "+id+" not found"); err != nil {
		return nil, err
	}
	return fromTaskItem(&it), nil
}

// ListTasks lists a customer's tasks, newest first.
func (s *Store) ListTasks(ctx context.Context, customerID string, p crm.PageRequest) (*crm.Page[*crm.Task], error) {
	return collect(ctx, s, collectionPlan(s, "tasks", customerID, skTaskPrefix, skTaskPrefix+"~", fromTaskItem), p)
}

// agendaPointer keeps one pointer item on a user's agenda: written when
// the entry is on it (user set) and its place changed, deleted when it
// left. Its conditions are the versioned write of what it points to.
func (t *tx) agendaPointer(customerID, sk, prevUser, prevSort, user, sort string) {
	switch {
	case user != "" && (user != prevUser || sort != prevSort):
		t.put(map[string]types.AttributeValue{
			"pk": str(customerPK(customerID)), "sk": str(sk), "type": str("agenda"), "customerId": str(customerID),
			"gDue": str(agendaKey(user)), "gDueAt": str(sort),
		}, "", nil, nil)
	case user == "" && prevUser != "":
		t.del(customerPK(customerID), sk, "", nil, nil)
	}
}

// caseOnAgenda is where an open, assigned case stands on its assignee's
// agenda ("" when on none).
func caseOnAgenda(c *crm.Case) (user, sort string) {
	if c == nil || !c.Status.IsOpen() || c.AssignedTo == "" {
		return "", ""
	}
	return c.AssignedTo, agendaSort(c.DueAt, "CASE", c.ID)
}

func (t *tx) caseAgenda(prev, next *crm.Case) {
	pu, ps := caseOnAgenda(prev)
	nu, ns := caseOnAgenda(next)
	t.agendaPointer(next.CustomerID, skAgendaCase+next.ID, pu, ps, nu, ns)
}

// claimOnAgenda is where a customer's active claim stands on its
// holder's agenda ("" when on none).
func claimOnAgenda(c *crm.Customer) (user, sort string) {
	if c == nil || !c.Claim.Active() || c.Status != crm.StatusActive || c.MergedInto != "" {
		return "", ""
	}
	return c.Claim.By, agendaSort(c.Claim.ExpiresAt, "CLAIM", c.ID)
}

func (t *tx) claimAgenda(prev, next *crm.Customer) {
	pu, ps := claimOnAgenda(prev)
	nu, ns := claimOnAgenda(next)
	t.agendaPointer(next.ID, skAgendaClaim, pu, ps, nu, ns)
}

// Agenda reads a user's day in at most three calls: one Query of the
// user's agenda partition (tasks, cases, claims by due time, at most
// crm.AgendaDatedRead), one Query of their follow-up list (at most
// crm.AgendaFollowUpRead), and one BatchGetItem of the tasks, the cases,
// every entry's customer (profile and activity) and, when asked, the
// user's directory entry: at most 25 + 2 × 35 + 1 = 96 keys.
func (s *Store) Agenda(ctx context.Context, q crm.AgendaQuery) (*crm.AgendaRead, error) {
	bound := q.DueBefore
	if q.ClaimsBefore.After(bound) {
		bound = q.ClaimsBefore
	}
	dated, moreDated, err := s.indexKeys(ctx, byDue, agendaKey(q.UserID), dueKey(bound, ""), crm.AgendaDatedRead)
	if err != nil {
		return nil, err
	}
	follow, moreFollow, err := s.indexKeys(ctx, byDue, string(crm.WatchFollowUp)+"#"+ownerScopeKey(q.UserID, false),
		q.DueBefore.UTC().Format(dueLayout), crm.AgendaFollowUpRead)
	if err != nil {
		return nil, err
	}
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	customer := func(id string) {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, key(customerPK(id), skProfile), key(customerPK(id), skActivity))
		}
	}
	claims := map[string]bool{}
	for _, k := range dated {
		id := customerIDOf(k.pk)
		switch {
		case strings.HasPrefix(k.sk, skTaskPrefix):
			keys = append(keys, key(k.pk, k.sk))
		case strings.HasPrefix(k.sk, skAgendaCase):
			keys = append(keys, key(k.pk, caseSK(strings.TrimPrefix(k.sk, skAgendaCase))))
		case k.sk == skAgendaClaim:
			claims[id] = true
		case strings.HasPrefix(k.sk, skLeadPrefix):
			keys = append(keys, key(k.pk, k.sk))
		default:
			continue
		}
		customer(id)
	}
	for _, k := range follow {
		customer(customerIDOf(k.pk))
	}
	if q.WithUser {
		keys = append(keys, key(userPK(q.UserID), skUser))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	r := &crm.AgendaRead{Customers: map[string]*crm.Customer{}, Complete: !moreDated && !moreFollow}
	var entities []map[string]types.AttributeValue
	for _, raw := range items {
		switch sk := strAttr(raw["sk"]); {
		case strings.HasPrefix(sk, skTaskPrefix):
			var it taskItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal task: %w", err)
			}
			r.Tasks = append(r.Tasks, fromTaskItem(&it))
		case strings.HasPrefix(sk, skCasePrefix):
			var it caseItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal case: %w", err)
			}
			r.Cases = append(r.Cases, fromCaseItem(&it))
		case strings.HasPrefix(sk, skLeadPrefix):
			var it leadItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal lead: %w", err)
			}
			r.Leads = append(r.Leads, fromLeadItem(&it))
		case sk == skUser:
			var it userItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal user: %w", err)
			}
			r.User = fromUserItem(&it)
		default:
			entities = append(entities, raw)
		}
	}
	profiles, activities, err := profilesAndActivities(entities)
	if err != nil {
		return nil, err
	}
	for id, p := range profiles {
		r.Customers[id] = customerOf(p, activities[id])
	}
	for id := range claims {
		if c, ok := r.Customers[id]; ok {
			r.Claims = append(r.Claims, c)
		}
	}
	for _, k := range follow {
		if c, ok := r.Customers[customerIDOf(k.pk)]; ok {
			r.FollowUps = append(r.FollowUps, c)
		}
	}
	return r, nil
}

type indexEntry struct{ pk, sk string }

// indexKeys reads the keys of at most limit entries of one partition of
// an index sorted below bound, ascending, in one Query, and reports
// whether more may follow.
func (s *Store) indexKeys(ctx context.Context, ix index, partition, bound string, limit int) ([]indexEntry, bool, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(s.idx.name(ix)),
		KeyConditionExpression:    aws.String(indexKeyAttr[ix] + " = :k AND " + indexSortAttr(ix) + " < :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(partition), ":b": str(bound)},
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, false, wrap("query "+partition, err)
	}
	out := make([]indexEntry, 0, len(res.Items))
	for _, raw := range res.Items {
		out = append(out, indexEntry{pk: strAttr(raw["pk"]), sk: strAttr(raw["sk"])})
	}
	return out, res.LastEvaluatedKey != nil, nil
}

// skOpenTasks counts a user's open tasks, beside their open cases.
const skOpenTasks = "OPENTASKS"

// openTasks keeps the open-task counter of a task's assignee in step.
func (t *tx) openTasks(prev, next *crm.Task) {
	t.userCount(skOpenTasks, openTaskAssignee(prev), openTaskAssignee(next))
}

func openTaskAssignee(k *crm.Task) string {
	if k == nil || k.Status != crm.TaskOpen {
		return ""
	}
	return k.AssigneeID
}

// queuePlan lists the entries of one kind on a user's agenda partition due
// before bound, soonest first, reading what they point to (one BatchGetItem
// per page); keep checks each again, since the index lags the table.
func queuePlan[I any, T any](s *Store, kind, user string, bound time.Time, target func(pk, sk string) (string, bool),
	conv func(*I) T, keep func(T) bool, readable func(*crm.Customer) bool) listPlan[T] {
	return indexQueuePlan(s, "queue/"+kind+"/"+user, byDue, agendaKey(user), bound, target, conv, keep, readable)
}

// indexQueuePlan lists the entries of one partition of an index sorted by
// due time (dueKey) due before bound, as queuePlan does; name binds its
// cursors.
func indexQueuePlan[I any, T any](s *Store, name string, ix index, partition string, bound time.Time, target func(pk, sk string) (string, bool),
	conv func(*I) T, keep func(T) bool, readable func(*crm.Customer) bool) listPlan[T] {
	k, sort := indexKeyAttr[ix], indexSortAttr(ix)
	return listPlan[T]{
		// A cursor is a position on the partition's order, valid whatever
		// the bound.
		name: name,
		query: dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(s.idx.name(ix)),
			KeyConditionExpression:    aws.String(k + " = :k AND " + sort + " < :b"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(partition), ":b": str(dueKey(bound, ""))},
			ProjectionExpression:      aws.String("pk, sk, " + k + ", " + sort),
		},
		keyAttr:  []string{"pk", "sk", k, sort},
		filtered: true,
		decode: func(ctx context.Context, raw []map[string]types.AttributeValue) ([]T, []bool, error) {
			out, match := make([]T, len(raw)), make([]bool, len(raw))
			var keys []map[string]types.AttributeValue
			at := map[string]int{}
			profiles := map[string]bool{}
			for i, r := range raw {
				pk := strAttr(r["pk"])
				if sk, ok := target(pk, strAttr(r["sk"])); ok {
					keys = append(keys, key(pk, sk))
					at[pk+" "+sk] = i
					if readable != nil && !profiles[pk] {
						// In the same BatchGetItem: whether the caller
						// may read the customer.
						profiles[pk] = true
						keys = append(keys, key(pk, skProfile))
					}
				}
			}
			items, err := s.batchGet(ctx, keys)
			if err != nil {
				return nil, nil, err
			}
			customers := map[string]*crm.Customer{}
			for _, it := range items {
				if strAttr(it["sk"]) != skProfile {
					continue
				}
				var p customerItem
				if err := unmarshalItem(it, &p); err != nil {
					return nil, nil, fmt.Errorf("unmarshal profile: %w", err)
				}
				customers[strAttr(it["pk"])] = fromCustomerItem(&p)
			}
			for _, it := range items {
				pk := strAttr(it["pk"])
				i, ok := at[pk+" "+strAttr(it["sk"])]
				if !ok {
					continue
				}
				var v I
				if err := unmarshalItem(it, &v); err != nil {
					return nil, nil, fmt.Errorf("unmarshal %T: %w", v, err)
				}
				out[i] = conv(&v)
				match[i] = keep(out[i]) && (readable == nil || (customers[pk] != nil && readable(customers[pk])))
			}
			return out, match, nil
		},
	}
}

// farFuture bounds a queue without a due bound.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// ListOpenTasks lists the open tasks assigned to a user due before
// dueBefore (zero: all), soonest first, from the user's agenda partition;
// its total is the user's open-task counter when no bound is given.
func (s *Store) ListOpenTasks(ctx context.Context, f crm.TaskFilter, p crm.PageRequest) (*crm.Page[*crm.Task], error) {
	userID, dueBefore := f.AssigneeID, f.DueBefore
	bound := dueBefore
	if bound.IsZero() {
		bound = farFuture
	}
	plan := queuePlan(s, "tasks", userID, bound, func(pk, sk string) (string, bool) {
		return sk, strings.HasPrefix(sk, skTaskPrefix)
	}, fromTaskItem, func(k *crm.Task) bool {
		return k.Status == crm.TaskOpen && k.AssigneeID == userID && k.DueAt.Before(bound)
	}, f.Readable)
	if dueBefore.IsZero() {
		plan.total = func(ctx context.Context) (int, error) { return s.count(ctx, userPK(userID), skOpenTasks) }
	}
	return collect(ctx, s, plan, p)
}

// ListAssignedCases lists the open cases assigned to a user, soonest due
// first, from the user's agenda partition: of status f.Status when set,
// due before f.DueBefore when set (overdue: before now). Its total is the
// user's open-case counter when neither is given.
func (s *Store) ListAssignedCases(ctx context.Context, userID string, f crm.CaseQueueFilter, p crm.PageRequest) (*crm.Page[*crm.Case], error) {
	bound := f.DueBefore
	if bound.IsZero() {
		bound = farFuture
	}
	plan := queuePlan(s, "cases", userID, bound, func(pk, sk string) (string, bool) {
		id, ok := strings.CutPrefix(sk, skAgendaCase)
		return caseSK(id), ok
	}, fromCaseItem, func(c *crm.Case) bool {
		return c.Status.IsOpen() && c.AssignedTo == userID && c.DueAt.Before(bound) && (f.Status == "" || c.Status == f.Status)
	}, f.Readable)
	if f.DueBefore.IsZero() && f.Status == "" {
		plan.total = func(ctx context.Context) (int, error) { return s.count(ctx, userPK(userID), skOpenCases) }
	}
	return collect(ctx, s, plan, p)
}

// TasksDue lists the open tasks due before t whose due notice is owed,
// soonest first: Query byList, gList = TASKS#DUE, gSort < t (keys only).
func (s *Store) TasksDue(ctx context.Context, before time.Time) ([]crm.InteractionKey, error) {
	var out []crm.InteractionKey
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(s.idx.List),
			KeyConditionExpression:    aws.String("gList = :k AND gSort < :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(listTasksDue), ":t": str(dueKey(before, "~"))},
			ProjectionExpression:      aws.String("pk, sk"),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, wrap("query due tasks", err)
		}
		for _, raw := range res.Items {
			if id, ok := strings.CutPrefix(strAttr(raw["sk"]), skTaskPrefix); ok {
				out = append(out, crm.InteractionKey{CustomerID: customerIDOf(strAttr(raw["pk"])), ID: id})
			}
		}
		if start = res.LastEvaluatedKey; start == nil {
			return out, nil
		}
	}
}
