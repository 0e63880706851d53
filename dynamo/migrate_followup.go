package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// followUpSchedules plans the follow-up schedule (crm.Customer.PlanFollowUp)
// of customers the stream has not touched since schedules came: their
// activity kept the date asked for as the next follow-up, with no interval.
const followUpSchedules = "2026-12-follow-up-schedules"

// planPage plans the schedule of each activity item of a page whose
// stored schedule differs from the one its customer's profile and the
// grading policy in force give: the activity is written again, with its
// revision moved and conditioned on the one read, as the stream writes it.
// An activity the stream wrote meanwhile is left to it (it plans the
// schedule itself); a second run finds nothing to change.
func planPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	var policy *crm.GradingPolicy
	changed := 0
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		if !strings.HasPrefix(pk, "CUST#") || sk != skActivity {
			continue
		}
		if policy == nil {
			p, err := s.GradingPolicy(ctx)
			switch {
			case crm.ErrorCode(err) == crm.ENOTFOUND:
				p = crm.DefaultGradingPolicy()
			case err != nil:
				return changed, err
			}
			policy = p
		}
		did, err := s.planFollowUp(ctx, strings.TrimPrefix(pk, "CUST#"), policy)
		if err != nil {
			return changed, fmt.Errorf("%s: %w", pk, err)
		}
		if did {
			changed++
		}
	}
	return changed, nil
}

func (s *Store) planFollowUp(ctx context.Context, id string, p *crm.GradingPolicy) (bool, error) {
	prof, a, err := s.readCustomer(ctx, id)
	if err != nil || a == nil || a.ForwardTo != "" {
		return false, err
	}
	c := customerOf(prof, a)
	c.FollowUpEvery = crm.FollowUpInterval(p, c.Grade.Level)
	c.PlanFollowUp()
	it := toActivityItem(c, stream.Marks{Revision: a.Rev + 1, Counted: a.Counted, ForwardTo: a.ForwardTo,
		ValuesCounted: a.ValuesCounted, ValuesAt: a.ValuesAt}, a.Applied)
	it.Falling, it.Ord = a.Falling, a.Ord
	if a.Planned && it.FollowUpEvery == a.FollowUpEvery && activityKeys(it) == activityKeys(a) && sameTime(it.NextFollowUpAt, a.NextFollowUpAt) {
		return false, nil
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return false, fmt.Errorf("marshal activity: %w", err)
	}
	cond, vals := versioned(a.Rev)
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression: aws.String(strings.Replace(cond, "version", "rev", 1)), ExpressionAttributeValues: vals})
	if err = wrap("put activity", err); crm.ErrorCode(err) == crm.ECONFLICT {
		return false, nil // the stream wrote it meanwhile, and planned it
	}
	return err == nil, err
}

// sameTime reports whether two optional times are the same instant.
func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}
