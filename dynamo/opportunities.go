package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Opportunities (docs/access-patterns.md, "Pipeline"):
//
//	CUST#<customer> / C#<id>     the deal with its stage history, in its
//	                             customer's collection below the 360 view's
//	                             range; while open, gList OPPS#OWNER#<owner>,
//	                             gSort <expected close date>#<id> (byList)
//	PIPE#TEAM#<team> / PIPE      a team's pipeline counters
//	PIPE#OWNER#<id>  / PIPE      an owner's, across teams
//
// The counters move in the deal's own transaction (crm.PipelineDeltas).
const (
	notCounted  = "attribute_not_exists(fcv)"
	skOppPrefix = "C#" // below "I", outside the 360 view's range; tasks are B#
	skPipeline  = "PIPE"
)

func opportunitySK(id string) string       { return skOppPrefix + id }
func openDealsListKey(owner string) string { return "OPPS#OWNER#" + owner }
func pipelineTeamPK(team string) string    { return "PIPE#TEAM#" + teamKey(team) }
func pipelineOwnerPK(owner string) string  { return "PIPE#OWNER#" + owner }
func pipelinePK(sc crm.PipelineCounterScope) string {
	if sc.OwnerID != "" {
		return pipelineOwnerPK(sc.OwnerID)
	}
	return pipelineTeamPK(sc.Team)
}

type opportunityMoveItem struct {
	From string    `dynamodbav:"from,omitempty"`
	To   string    `dynamodbav:"to"`
	By   string    `dynamodbav:"by"`
	At   time.Time `dynamodbav:"at"`
}

type opportunityItem struct {
	PK            string                `dynamodbav:"pk"`
	SK            string                `dynamodbav:"sk"`
	Type          string                `dynamodbav:"type"`
	GList         string                `dynamodbav:"gList,omitempty"`
	GSort         string                `dynamodbav:"gSort,omitempty"`
	ID            string                `dynamodbav:"id"`
	CustomerID    string                `dynamodbav:"customerId"`
	Title         string                `dynamodbav:"title"`
	OwnerID       string                `dynamodbav:"owner"`
	Team          string                `dynamodbav:"team,omitempty"`
	Amount        int64                 `dynamodbav:"amount"` // hundredths
	Currency      string                `dynamodbav:"currency"`
	Stage         string                `dynamodbav:"stage"`
	ExpectedClose string                `dynamodbav:"expectedClose"` // 2006-01-02
	LossReason    string                `dynamodbav:"lossReason,omitempty"`
	LossNote      string                `dynamodbav:"lossNote,omitempty"`
	ClosedAt      *time.Time            `dynamodbav:"closedAt,omitempty"`
	NewCustomer   bool                  `dynamodbav:"newCustomer,omitempty"`
	LeadID        string                `dynamodbav:"leadId,omitempty"`
	InForecast    bool                  `dynamodbav:"fcv,omitempty"` // counted in the forecast counters; absent: stored before them, until the migration counts it
	History       []opportunityMoveItem `dynamodbav:"history"`
	Version       int                   `dynamodbav:"version"`
	CreatedAt     time.Time             `dynamodbav:"createdAt"`
	CreatedBy     string                `dynamodbav:"createdBy"`
	UpdatedAt     time.Time             `dynamodbav:"updatedAt"`
	UpdatedBy     string                `dynamodbav:"updatedBy"`
}

func toOpportunityItem(o *crm.Opportunity) *opportunityItem {
	it := &opportunityItem{
		PK: customerPK(o.CustomerID), SK: opportunitySK(o.ID), Type: "opportunity", ID: o.ID, CustomerID: o.CustomerID,
		Title: o.Title, OwnerID: o.OwnerID, Team: o.Team, Amount: int64(o.Amount), Currency: o.Currency, Stage: o.Stage,
		ExpectedClose: o.ExpectedClose.Format(time.DateOnly), LossReason: string(o.LossReason), LossNote: o.LossNote,
		ClosedAt: o.ClosedAt, NewCustomer: o.NewCustomer, LeadID: o.LeadID, InForecast: o.ForecastCounted, Version: o.Version, CreatedAt: o.CreatedAt, CreatedBy: o.CreatedBy, UpdatedAt: o.UpdatedAt, UpdatedBy: o.UpdatedBy,
	}
	if o.Open() {
		// Listed by expected close date until won or lost.
		it.GList, it.GSort = openDealsListKey(o.OwnerID), it.ExpectedClose+"#"+o.ID
	}
	for _, m := range o.History {
		it.History = append(it.History, opportunityMoveItem{From: m.From, To: m.To, By: m.By, At: m.At})
	}
	return it
}

func fromOpportunityItem(it *opportunityItem) *crm.Opportunity {
	closeDate, _ := time.Parse(time.DateOnly, it.ExpectedClose)
	o := &crm.Opportunity{
		ID: it.ID, CustomerID: it.CustomerID, Title: it.Title, OwnerID: it.OwnerID, Team: it.Team,
		Amount: crm.Money(it.Amount), Currency: it.Currency, Stage: it.Stage, ExpectedClose: closeDate,
		LossReason: crm.LossReason(it.LossReason), LossNote: it.LossNote, ClosedAt: it.ClosedAt, NewCustomer: it.NewCustomer, LeadID: it.LeadID, ForecastCounted: it.InForecast, Version: it.Version,
		CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy,
	}
	for _, m := range it.History {
		o.History = append(o.History, crm.OpportunityMove{From: m.From, To: m.To, By: m.By, At: m.At})
	}
	return o
}

// opportunity writes a deal (created when prev is nil, else conditioned on
// prev's version) and moves its team's and owner's pipeline counters in
// the same transaction: one ADD per counter item. A deal read before the
// forecast counters held it is written only if still not counted: the
// migration counting it meanwhile leaves its version alone, so the
// version's condition alone would let both add its share.
func (t *tx) opportunity(prev, next *crm.Opportunity) {
	at := len(t.items)
	t.entity("opportunity", next.ID, next.CustomerID, prevItem(prev, toOpportunityItem), toOpportunityItem(next))
	if prev == nil {
		t.leadDeal(next)
	}
	if put := t.items[at].write.Put; prev != nil && !prev.ForecastCounted {
		put.ConditionExpression = aws.String(*put.ConditionExpression + " AND " + notCounted)
	}
	t.scopedCounters(crm.PipelineDeltas(prev, next), pipelinePK, skPipeline)
}

// scopedCounters writes counter deltas of team and owner scopes: one ADD
// per counter item pkOf names (sk sk), of every counter it moves.
func (t *tx) scopedCounters(deltas []crm.PipelineDelta, pkOf func(crm.PipelineCounterScope) string, sk string) {
	byItem := map[string][]crm.PipelineDelta{}
	var order []string
	for _, d := range deltas {
		pk := pkOf(d.Scope)
		if _, ok := byItem[pk]; !ok {
			order = append(order, pk)
		}
		byItem[pk] = append(byItem[pk], d)
	}
	for _, pk := range order {
		expr, names, values := "ADD", map[string]string{}, map[string]types.AttributeValue{}
		for i, d := range byItem[pk] {
			if i > 0 {
				expr += ","
			}
			expr += fmt.Sprintf(" #c%d :c%d", i, i)
			names[fmt.Sprintf("#c%d", i)] = d.Counter
			values[fmt.Sprintf(":c%d", i)] = &types.AttributeValueMemberN{Value: strconv.FormatInt(d.N, 10)}
		}
		t.update(pk, sk, expr, "", values, nil)
		t.items[len(t.items)-1].write.Update.ExpressionAttributeNames = names
	}
}

// Opportunity reads one deal, consistently.
func (s *Store) Opportunity(ctx context.Context, k crm.OpportunityKey) (*crm.Opportunity, error) {
	var it opportunityItem
	if err := s.get(ctx, customerPK(k.CustomerID), opportunitySK(k.ID), &it, "opportunity "+k.ID+" not found"); err != nil {
		return nil, err
	}
	return fromOpportunityItem(&it), nil
}

// ListOpportunities lists a customer's deals, newest first: one Query of
// its collection's C# range.
func (s *Store) ListOpportunities(ctx context.Context, customerID string, p crm.PageRequest) (*crm.Page[*crm.Opportunity], error) {
	return collect(ctx, s, collectionPlan(s, "opportunities", customerID, skOppPrefix, skOppPrefix+"~", fromOpportunityItem), p)
}

// OpenOpportunities lists an owner's open deals, soonest expected close
// first: a Query of byList, then the page's items in one BatchGetItem.
func (s *Store) OpenOpportunities(ctx context.Context, ownerID string, p crm.PageRequest) (*crm.Page[*crm.Opportunity], error) {
	plan := fetchedPlan(s, "openDeals/"+ownerID, openDealsListKey(ownerID), fromOpportunityItem)
	plan.query.ScanIndexForward = aws.Bool(true)
	return collect(ctx, s, plan, p)
}

// PipelineCounters sums the counter items q names: an owner's, the given
// teams', or every team's (after the TEAMS item), in one BatchGetItem.
func (s *Store) PipelineCounters(ctx context.Context, q crm.PipelineCounterQuery) (map[string]int64, error) {
	return s.scopeCounters(ctx, q, "PIPE#", skPipeline)
}

// scopeCounters sums the counter items prefix+OWNER#<owner> or
// prefix+TEAM#<team> (sk sk) q names, every team's without a scope (after
// the TEAMS item), in one BatchGetItem.
func (s *Store) scopeCounters(ctx context.Context, q crm.PipelineCounterQuery, prefix, sk string) (map[string]int64, error) {
	var keys []map[string]types.AttributeValue
	switch {
	case q.OwnerID != "":
		keys = append(keys, key(prefix+"OWNER#"+q.OwnerID, sk))
	case len(q.Teams) > 0:
		for _, team := range q.Teams {
			keys = append(keys, key(prefix+"TEAM#"+teamKey(team), sk))
		}
	default:
		teams, err := s.teams(ctx)
		if err != nil {
			return nil, err
		}
		for _, tk := range teams {
			keys = append(keys, key(prefix+"TEAM#"+tk, sk))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	sum := map[string]int64{}
	for _, it := range items {
		for name, v := range it {
			if n, err := strconv.ParseInt(numAttr(v), 10, 64); err == nil {
				sum[name] += n
			}
		}
	}
	return sum, nil
}
