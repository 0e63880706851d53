package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// A department's queue of cases (docs/access-patterns.md, pattern 89). An
// open case a department is responsible for carries, on its own item, two
// sparse index entries sorted by its deadline in force:
//
//   - byName: gName = CASES#DEPT#<department>, gNameSort = due # id:
//     every open case of the department;
//   - byTeam: gTeam = CASES#DEPT#<department>#UNASSIGNED, gSort = due # id:
//     only while nobody is assigned to it.
//
// They are written with the case (its own put, in its transaction), so an
// assignment, a change of department, an escalation that moves its
// deadline or reassigns it, and its closing keep them in step; a merge
// moves them with the case.
func departmentQueuePK(dept string) string    { return "CASES#DEPT#" + dept }
func departmentUnassigned(dept string) string { return departmentQueuePK(dept) + "#UNASSIGNED" }

// departmentQueues are the index attributes of a case on its department's
// queues: none when it is closed or no department is responsible.
func departmentQueues(c *crm.Case) (gName, gNameSort, gTeam, gSort string) {
	if !c.Status.IsOpen() || c.Department == "" {
		return "", "", "", ""
	}
	pos := dueKey(c.DueAt, c.ID)
	gName, gNameSort = departmentQueuePK(c.Department), pos
	if c.AssignedTo == "" {
		gTeam, gSort = departmentUnassigned(c.Department), pos
	}
	return gName, gNameSort, gTeam, gSort
}

// maxQueueCountPages bounds the count of a department's queue: a Query
// page holds a megabyte of keys, some five thousand cases.
const maxQueueCountPages = 4

// ListDepartmentCases lists the open cases a department is responsible for
// (unassigned ones with f.Unassigned), soonest due first: one Query of its
// partition and one BatchGetItem of the page's cases and their customers'
// profiles. Its total, when no status is asked for, is a Select COUNT
// Query of the same partition and bound.
func (s *Store) ListDepartmentCases(ctx context.Context, dept string, f crm.CaseQueueFilter, p crm.PageRequest) (*crm.Page[*crm.Case], error) {
	bound := f.DueBefore
	if bound.IsZero() {
		bound = farFuture
	}
	ix, partition, name := byName, departmentQueuePK(dept), "queue/dept/"+dept
	if f.Unassigned {
		ix, partition, name = byTeam, departmentUnassigned(dept), "queue/dept-unassigned/"+dept
	}
	plan := indexQueuePlan(s, name, ix, partition, bound, func(pk, sk string) (string, bool) {
		return sk, strings.HasPrefix(sk, skCasePrefix)
	}, fromCaseItem, func(c *crm.Case) bool {
		return c.Status.IsOpen() && c.Department == dept && c.DueAt.Before(bound) &&
			(!f.Unassigned || c.AssignedTo == "") && (f.Status == "" || c.Status == f.Status)
	}, f.Readable)
	if f.Status == "" {
		q := plan.query
		plan.total = func(ctx context.Context) (int, error) { return s.countQuery(ctx, q, maxQueueCountPages) }
	}
	return collect(ctx, s, plan, p)
}

// countQuery counts what a Query selects, reading at most pages pages;
// crm.ErrNotCounted beyond.
func (s *Store) countQuery(ctx context.Context, q dynamodb.QueryInput, pages int) (int, error) {
	q.Select, q.ProjectionExpression, q.Limit = types.SelectCount, nil, nil
	n := 0
	for range pages {
		res, err := s.db.Query(ctx, &q)
		if err != nil {
			return 0, wrap("count "+aws.ToString(q.IndexName), err)
		}
		n += int(res.Count)
		if q.ExclusiveStartKey = res.LastEvaluatedKey; q.ExclusiveStartKey == nil {
			return n, nil
		}
	}
	return 0, crm.ErrNotCounted
}

// departmentQueuesBackfill puts the open cases stored before department
// queues on their department's queues.
const departmentQueuesBackfill = "2026-12-department-queues"

// departmentQueuePage adds the index attributes of each open case with a
// department on a page that lacks them, conditioned on the case's version
// read (a write since then has written its own) and on their absence (a
// second run changes nothing).
func departmentQueuePage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	changed := 0
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		if !strings.HasPrefix(pk, "CUST#") || !strings.HasPrefix(sk, skCasePrefix) || raw["gName"] != nil {
			continue
		}
		var it caseItem
		if err := unmarshalItem(raw, &it); err != nil {
			return changed, fmt.Errorf("unmarshal case %s %s: %w", pk, sk, err)
		}
		gName, gNameSort, gTeam, gSort := departmentQueues(fromCaseItem(&it))
		if gName == "" {
			continue
		}
		set, vals := "SET gName = :n, gNameSort = :ns", map[string]types.AttributeValue{
			":n": str(gName), ":ns": str(gNameSort), ":v": raw["version"]}
		if gTeam != "" {
			set += ", gTeam = :t, gSort = :ts"
			vals[":t"], vals[":ts"] = str(gTeam), str(gSort)
		}
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &s.table, Key: key(pk, sk), UpdateExpression: aws.String(set),
			ConditionExpression:       aws.String("version = :v AND attribute_not_exists(gName)"),
			ExpressionAttributeValues: vals,
		})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			changed++
		case errors.As(err, &ccf):
			// Written since the page was read (with its own entries), or
			// backfilled already.
		default:
			return changed, wrap("backfill department queue", err)
		}
	}
	return changed, nil
}
