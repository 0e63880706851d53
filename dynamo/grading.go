package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// The grading policy is an item per version (never rewritten, so a grade
// change's policyVersion keeps its meaning) plus a current item that copies
// the newest version; both are written in one transaction.
const (
	policyPK        = "POLICY#GRADING"
	skPolicyCurrent = "CURRENT"
)

type gradeLevelItem struct {
	Code             string `dynamodbav:"code"`
	Label            string `dynamodbav:"label"`
	Rank             int    `dynamodbav:"rank"`
	Description      string `dynamodbav:"description,omitempty"`
	ResponseSLAMins  int    `dynamodbav:"responseSlaMinutes"`
	FollowUpInterval int    `dynamodbav:"followUpDays"`
	// The pool's rules are absent on policies stored before they existed:
	// every level allowed in the pool, nothing taken back.
	OutOfPool         bool `dynamodbav:"outOfPool,omitempty"`
	TakeBackNoContact int  `dynamodbav:"takeBackNoContactDays,omitempty"`
	TakeBackNoDeal    int  `dynamodbav:"takeBackNoDealDays,omitempty"`
}

type conditionItem struct {
	Metric string  `dynamodbav:"metric"`
	Op     string  `dynamodbav:"op"`
	Value  float64 `dynamodbav:"value"`
}

type ruleItem struct {
	Name        string          `dynamodbav:"name"`
	Level       string          `dynamodbav:"level"`
	Description string          `dynamodbav:"description,omitempty"`
	Conditions  []conditionItem `dynamodbav:"conditions"`
}

type policyItem struct {
	PK             string           `dynamodbav:"pk"`
	SK             string           `dynamodbav:"sk"`
	Type           string           `dynamodbav:"type"`
	Version        int              `dynamodbav:"version"`
	Levels         []gradeLevelItem `dynamodbav:"levels"`
	Rules          []ruleItem       `dynamodbav:"rules"`
	Value          valueFormulaItem `dynamodbav:"valueFormula"`
	Tiers          tiersItem        `dynamodbav:"tiers"`
	ManualHoldDays int              `dynamodbav:"manualHoldDays"`
	UpdatedAt      time.Time        `dynamodbav:"updatedAt"`
	UpdatedBy      string           `dynamodbav:"updatedBy"`

	// StrongIndustries is absent on policies stored before it existed.
	StrongIndustries []string `dynamodbav:"strongIndustries,omitempty"`
}

type valueFormulaItem struct {
	RecencyWeight      float64 `dynamodbav:"recencyWeight"`
	FrequencyWeight    float64 `dynamodbav:"frequencyWeight"`
	MonetaryWeight     float64 `dynamodbav:"monetaryWeight"`
	AssetWeight        float64 `dynamodbav:"assetWeight"`
	EvaluationWeight   float64 `dynamodbav:"evaluationWeight"`
	RecencyHorizonDays int     `dynamodbav:"recencyHorizonDays"`
	FrequencyReference float64 `dynamodbav:"frequencyReference"`
	MonetaryReference  float64 `dynamodbav:"monetaryReference"`
	AssetReference     float64 `dynamodbav:"assetReference"`
}

type tiersItem struct {
	KeyPercent      float64 `dynamodbav:"keyPercent"`
	MajorPercent    float64 `dynamodbav:"majorPercent"`
	OrdinaryPercent float64 `dynamodbav:"ordinaryPercent"`
}

func toPolicyItem(p *crm.GradingPolicy, sk string) *policyItem {
	it := &policyItem{PK: policyPK, SK: sk, Type: "gradingPolicy", Version: p.Version, Value: valueFormulaItem(p.Value),
		Tiers:          tiersItem(p.Tiers),
		ManualHoldDays: p.ManualHoldDays, UpdatedAt: p.UpdatedAt, UpdatedBy: p.UpdatedBy}
	it.StrongIndustries = p.StrongIndustries
	for _, l := range p.Levels {
		it.Levels = append(it.Levels, gradeLevelItem{Code: l.Code, Label: l.Label, Rank: l.Rank, Description: l.Description,
			ResponseSLAMins: int(l.ResponseSLA / time.Minute), FollowUpInterval: int(l.FollowUpInterval / (24 * time.Hour)),
			OutOfPool: l.KeepOutOfPool, TakeBackNoContact: int(l.TakeBackWithoutContact / (24 * time.Hour)),
			TakeBackNoDeal: int(l.TakeBackWithoutDeal / (24 * time.Hour))})
	}
	for _, r := range p.Rules {
		ri := ruleItem{Name: r.Name, Level: r.Level, Description: r.Description, Conditions: []conditionItem{}}
		for _, c := range r.Conditions {
			ri.Conditions = append(ri.Conditions, conditionItem{Metric: c.Metric, Op: string(c.Op), Value: c.Value})
		}
		it.Rules = append(it.Rules, ri)
	}
	return it
}

func fromPolicyItem(it *policyItem) *crm.GradingPolicy {
	p := &crm.GradingPolicy{Version: it.Version, Value: crm.ValueFormula(it.Value), Tiers: crm.TierCutoffs(it.Tiers),
		ManualHoldDays: it.ManualHoldDays,
		UpdatedAt:      it.UpdatedAt, UpdatedBy: it.UpdatedBy}
	p.StrongIndustries = it.StrongIndustries
	for _, l := range it.Levels {
		p.Levels = append(p.Levels, crm.GradeLevel{Code: l.Code, Label: l.Label, Rank: l.Rank, Description: l.Description,
			ResponseSLA: time.Duration(l.ResponseSLAMins) * time.Minute, FollowUpInterval: time.Duration(l.FollowUpInterval) * 24 * time.Hour,
			KeepOutOfPool: l.OutOfPool, TakeBackWithoutContact: time.Duration(l.TakeBackNoContact) * 24 * time.Hour,
			TakeBackWithoutDeal: time.Duration(l.TakeBackNoDeal) * 24 * time.Hour})
	}
	for _, r := range it.Rules {
		gr := crm.GradingRule{Name: r.Name, Level: r.Level, Description: r.Description}
		for _, c := range r.Conditions {
			gr.Conditions = append(gr.Conditions, crm.Condition{Metric: c.Metric, Op: crm.Comparison(c.Op), Value: c.Value})
		}
		p.Rules = append(p.Rules, gr)
	}
	return p
}

// GradingPolicy reads the current policy (consistently: an edit is
// conditioned on it).
func (s *Store) GradingPolicy(ctx context.Context) (*crm.GradingPolicy, error) {
	var it policyItem
	if err := s.get(ctx, policyPK, skPolicyCurrent, &it, "no grading policy stored"); err != nil {
		return nil, err
	}
	return fromPolicyItem(&it), nil
}

// PutGradingPolicy stores p.Version and moves the current item to it,
// provided the current item is still at the version before.
func (s *Store) PutGradingPolicy(ctx context.Context, p *crm.GradingPolicy) error {
	x := &tx{s: s}
	stale := func(map[string]types.AttributeValue) error {
		return crm.Errorf(crm.ECONFLICT, "the grading policy was changed by someone else meanwhile; reload and retry")
	}
	x.put(x.marshal(toPolicyItem(p, templateSK(p.Version))), notExists, nil, stale)
	x.record("gradingPolicy", fmt.Sprintf("v%d", p.Version), "", nil, x.marshal(toPolicyItem(p, templateSK(p.Version))))
	if p.Version == 1 {
		x.put(x.marshal(toPolicyItem(p, skPolicyCurrent)), notExists, nil, stale)
	} else {
		cond, vals := "version = :prev", map[string]types.AttributeValue{":prev": num(p.Version - 1)}
		x.put(x.marshal(toPolicyItem(p, skPolicyCurrent)), cond, vals, stale)
	}
	return x.commit(ctx)
}

// GradeAt reads the newest grade change at or before at: one Query on the
// customer's G# range, descending, Limit 1.
func (s *Store) GradeAt(ctx context.Context, customerID string, at time.Time) (*crm.GradeChange, error) {
	q := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		// Entries a merge moved in are the merged customer's grade.
		FilterExpression: aws.String("attribute_not_exists(mergedFrom)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(customerID)), ":lo": str(skGradePrefix), ":hi": str(gradeSK(ulidBound(at, true))),
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(1),
	}
	res, err := s.db.Query(ctx, q)
	for err == nil && len(res.Items) == 0 && res.LastEvaluatedKey != nil {
		// The entry read was filtered out: read on, a few at a time.
		q.ExclusiveStartKey, q.Limit = res.LastEvaluatedKey, aws.Int32(10)
		res, err = s.db.Query(ctx, q)
	}
	if err != nil {
		return nil, wrap("query grade at", err)
	}
	if len(res.Items) == 0 {
		return nil, crm.Errorf(crm.ENOTFOUND, "customer %s had no grade at %s", customerID, at.Format(time.RFC3339))
	}
	var it gradeChangeItem
	if err := attributevalue.UnmarshalMap(res.Items[0], &it); err != nil {
		return nil, fmt.Errorf("unmarshal grade change: %w", err)
	}
	return fromGradeChangeItem(&it), nil
}

// EachCustomer walks every customer through the byList index (gList =
// CUSTOMER): a page of keys per Query, then the profiles and activities in
// BatchGetItems. It is the scheduled job's full read; no request path
// uses it.
func (s *Store) EachCustomer(ctx context.Context, fn func(*crm.Customer) error) error {
	q := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(s.idx.List),
		KeyConditionExpression:    aws.String("gList = :k"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(listCustomers)},
		ProjectionExpression:      aws.String("pk"),
		Limit:                     aws.Int32(batchSize / 2),
	}
	for {
		res, err := s.db.Query(ctx, q)
		if err != nil {
			return wrap("query all customers", err)
		}
		ids := make([]string, len(res.Items))
		for i, raw := range res.Items {
			ids[i] = customerIDOf(strAttr(raw["pk"]))
		}
		found, err := s.customers(ctx, ids, true)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if c, ok := found[id]; ok {
				if err := fn(c); err != nil {
					return err
				}
			}
		}
		if res.LastEvaluatedKey == nil {
			return nil
		}
		q.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
