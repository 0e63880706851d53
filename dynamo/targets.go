package dynamo

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Sales targets (docs/access-patterns.md, "Sales targets and
// performance"):
//
//	TARGETS#<team key> / <yyyy-mm>#<user>   one salesperson's target for
//	                                        one month in one team
//
// A team's targets of a period are one Query of its partition by month
// range; a quarter or a year is the months it spans.

func targetsPK(team string) string       { return "TARGETS#" + teamKey(team) }
func targetSK(month, user string) string { return month + "#" + user }

type targetItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	Type      string    `dynamodbav:"type"`
	Team      string    `dynamodbav:"team"`
	UserID    string    `dynamodbav:"userId"`
	Month     string    `dynamodbav:"month"`
	Currency  string    `dynamodbav:"currency"`
	Revenue   int64     `dynamodbav:"revenue"` // hundredths
	Collected int64     `dynamodbav:"collected"`
	Margin    int64     `dynamodbav:"margin"`
	Customers int       `dynamodbav:"customers"`
	Version   int       `dynamodbav:"version"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	CreatedBy string    `dynamodbav:"createdBy"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
	UpdatedBy string    `dynamodbav:"updatedBy"`
}

func toTargetItem(t *crm.Target) *targetItem {
	return &targetItem{PK: targetsPK(t.Team), SK: targetSK(t.Month, t.UserID), Type: "target", Team: t.Team, UserID: t.UserID,
		Month: t.Month, Currency: t.Currency, Revenue: int64(t.Revenue), Collected: int64(t.Collected), Margin: int64(t.Margin),
		Customers: t.Customers, Version: t.Version, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy, UpdatedAt: t.UpdatedAt, UpdatedBy: t.UpdatedBy}
}

func fromTargetItem(it *targetItem) *crm.Target {
	return &crm.Target{Team: it.Team, UserID: it.UserID, Month: it.Month, Currency: it.Currency, Revenue: crm.Money(it.Revenue),
		Collected: crm.Money(it.Collected), Margin: crm.Money(it.Margin), Customers: it.Customers, Version: it.Version,
		CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy}
}

// Target reads one target, consistently (it precedes the conditional
// write of a new version).
func (s *Store) Target(ctx context.Context, team, month, userID string) (*crm.Target, error) {
	var it targetItem
	if err := s.get(ctx, targetsPK(team), targetSK(month, userID), &it, "no target of "+userID+" for "+month); err != nil {
		return nil, err
	}
	return fromTargetItem(&it), nil
}

// Targets lists a team's targets of the months from to to: one Query of
// the team's partition (continued past 1 MB, which a team's year of
// targets does not reach).
func (s *Store) Targets(ctx context.Context, team, from, to string) ([]*crm.Target, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(targetsPK(team)), ":from": str(from + "#"), ":to": str(to + "#~")}}
	var out []*crm.Target
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, wrap("query targets", err)
		}
		for _, raw := range res.Items {
			var it targetItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, err
			}
			out = append(out, fromTargetItem(&it))
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// PutTarget writes a target created (prev nil: it must not exist) or
// replaced (conditioned on prev's version), with its audit entry, in one
// transaction.
func (s *Store) PutTarget(ctx context.Context, prev, next *crm.Target) error {
	x := &tx{s: s}
	x.entity("target", next.TargetID(), "", prevItem(prev, toTargetItem), toTargetItem(next))
	return x.commit(ctx)
}

// OwnerCounters sums each owner's pipeline (PIPE#OWNER#<id> / PIPE) and
// revenue (REV#OWNER#<id> / REV) counter items, in BatchGetItem calls of
// 100 keys. Their counter names are distinct but for custwon.<month>,
// which both count (a deal's win, a contract signed without a deal), so
// the sum is the owner's customers won.
func (s *Store) OwnerCounters(ctx context.Context, owners []string) (map[string]map[string]int64, error) {
	keys := make([]map[string]types.AttributeValue, 0, 2*len(owners))
	for _, id := range owners {
		keys = append(keys, key(pipelineOwnerPK(id), skPipeline), key(revenuePK(crm.PipelineCounterScope{OwnerID: id}), skRevenue))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for _, it := range items {
		pk := strAttr(it["pk"])
		owner, ok := strings.CutPrefix(pk, "PIPE#OWNER#")
		if !ok {
			owner, _ = strings.CutPrefix(pk, "REV#OWNER#")
		}
		if out[owner] == nil {
			out[owner] = map[string]int64{}
		}
		for name, v := range it {
			if n, err := strconv.ParseInt(numAttr(v), 10, 64); err == nil {
				out[owner][name] += n
			}
		}
	}
	return out, nil
}
