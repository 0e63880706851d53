package dynamo

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Credit levels (docs/access-patterns.md, "Credit levels"):
//
//	CUST#<customer> / CREDIT        the customer's credit state; while a
//	                                review is due, gDue = CREDIT and
//	                                gDueAt = the review day #id, or
//	                                "0#id" when a contract write asked for
//	                                one (sorts before every day)
//	CUST#<customer> / CRH#<ULID>    one change of level (history)
//
// Both sort between the deals (C#) and the contracts (CT#), outside the
// 360 view's range and every other list's.
const (
	skCredit       = "CREDIT"
	skCreditChange = "CRH#"
	dueCredit      = "CREDIT"
)

type creditItem struct {
	PK              string    `dynamodbav:"pk"`
	SK              string    `dynamodbav:"sk"`
	Type            string    `dynamodbav:"type"`
	CustomerID      string    `dynamodbav:"customerId"`
	Level           string    `dynamodbav:"level,omitempty"`
	Source          string    `dynamodbav:"source,omitempty"`
	Explanation     string    `dynamodbav:"explanation,omitempty"`
	Since           time.Time `dynamodbav:"since"`
	By              string    `dynamodbav:"by,omitempty"`
	Until           string    `dynamodbav:"until,omitempty"` // 2006-01-02
	RuleLevel       string    `dynamodbav:"ruleLevel,omitempty"`
	RuleExplanation string    `dynamodbav:"ruleExplanation,omitempty"`
	EvaluatedAt     time.Time `dynamodbav:"evaluatedAt"`
	ReviewAt        string    `dynamodbav:"reviewAt,omitempty"` // 2006-01-02
	Reviewing       bool      `dynamodbav:"reviewing,omitempty"`
	GDue            string    `dynamodbav:"gDue,omitempty"`
	GDueAt          string    `dynamodbav:"gDueAt,omitempty"`
	Version         int       `dynamodbav:"version,omitempty"`
	// ContractWrites counts the writes of the customer's contracts
	// (creditReview adds one each): the conditions of a credit check and of
	// a stored evaluation.
	ContractWrites int `dynamodbav:"cw,omitempty"`
}

func optDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

func toCreditItem(c *crm.CreditState) *creditItem {
	it := &creditItem{PK: customerPK(c.CustomerID), SK: skCredit, Type: "credit", CustomerID: c.CustomerID, Level: c.Level,
		Source: string(c.Source), Explanation: c.Explanation, Since: c.Since, By: c.By, Until: optDate(c.Until),
		RuleLevel: c.RuleLevel, RuleExplanation: c.RuleExplanation, EvaluatedAt: c.EvaluatedAt, Reviewing: c.Reviewing, Version: c.Version,
		ContractWrites: c.ContractWrites}
	if !c.ReviewAt.IsZero() {
		it.ReviewAt = c.ReviewAt.Format(time.DateOnly)
		it.GDue, it.GDueAt = dueCredit, dueKey(c.ReviewAt, c.CustomerID)
	}
	if c.Reviewing {
		it.GDue, it.GDueAt = dueCredit, "0#"+c.CustomerID
	}
	return it
}

func fromCreditItem(it *creditItem) *crm.CreditState {
	c := &crm.CreditState{CustomerID: it.CustomerID, Level: it.Level, Source: crm.CreditSource(it.Source), Explanation: it.Explanation,
		Since: it.Since, By: it.By, RuleLevel: it.RuleLevel, RuleExplanation: it.RuleExplanation, EvaluatedAt: it.EvaluatedAt,
		Reviewing: it.Reviewing, Version: it.Version, ContractWrites: it.ContractWrites}
	if it.Until != "" {
		c.Until = ptrTo(date(it.Until))
	}
	if it.ReviewAt != "" {
		c.ReviewAt = date(it.ReviewAt)
	}
	return c
}

func ptrTo[T any](v T) *T { return &v }

type creditChangeItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	Type        string    `dynamodbav:"type"`
	ID          string    `dynamodbav:"id"`
	CustomerID  string    `dynamodbav:"customerId"`
	From        string    `dynamodbav:"from,omitempty"`
	To          string    `dynamodbav:"to"`
	Source      string    `dynamodbav:"source"`
	Explanation string    `dynamodbav:"explanation"`
	Until       string    `dynamodbav:"until,omitempty"`
	By          string    `dynamodbav:"by"`
	At          time.Time `dynamodbav:"at"`
}

func toCreditChangeItem(c *crm.CreditChange) *creditChangeItem {
	return &creditChangeItem{PK: customerPK(c.CustomerID), SK: skCreditChange + c.ID, Type: "creditChange", ID: c.ID,
		CustomerID: c.CustomerID, From: c.From, To: c.To, Source: string(c.Source), Explanation: c.Explanation,
		Until: optDate(c.Until), By: c.By, At: c.At}
}

func fromCreditChangeItem(it *creditChangeItem) *crm.CreditChange {
	c := &crm.CreditChange{ID: it.ID, CustomerID: it.CustomerID, From: it.From, To: it.To, Source: crm.CreditSource(it.Source),
		Explanation: it.Explanation, By: it.By, At: it.At}
	if it.Until != "" {
		c.Until = ptrTo(date(it.Until))
	}
	return c
}

// credit writes a customer's credit state, conditioned on the version it
// was computed from (on no state having been stored for version 0: a
// contract write's review mark alone is not one), with its history entry.
func (t *tx) credit(prev, next *crm.CreditState, change *crm.CreditChange) {
	id := next.CustomerID
	after := t.marshal(toCreditItem(next))
	var before map[string]types.AttributeValue
	cond, vals := "attribute_not_exists(version)", map[string]types.AttributeValue{}
	if prev != nil && prev.Version > 0 {
		before = t.marshal(toCreditItem(prev))
		cond, vals = versioned(prev.Version)
	}
	// An evaluation holds only while no contract was written since it read
	// them: a contract write meanwhile would have its review mark cleared
	// by a verdict that does not count it.
	seen := 0
	if prev != nil {
		seen = prev.ContractWrites
	}
	cw, cwVals := contractWritesAre(seen)
	cond += " AND " + cw
	maps.Copy(vals, cwVals)
	if len(vals) == 0 {
		vals = nil // DynamoDB refuses an empty map of values
	}
	t.put(after, cond, vals, conflict("the credit of customer "+id))
	t.record("credit", id, id, before, after)
	if change != nil {
		t.created("creditChange", change.ID, id, toCreditChangeItem(change))
	}
}

// creditReview marks a customer's credit for review in a write of one of
// its contracts: the daily job evaluates it unless the write's own
// evaluation stores the credit first. It leaves the version alone, so it
// never makes that evaluation conflict.
//
// It also counts the write (cw), and when the write was checked against
// the customer's credit limit (seen, the count that check read), it holds
// only while the count is still seen: two contracts checked at once
// cannot both pass a limit that holds one.
func (t *tx) creditReview(customerID string, seen *int) {
	vals := map[string]types.AttributeValue{":t": str("credit"), ":c": str(customerID), ":r": &types.AttributeValueMemberBOOL{Value: true},
		":d": str(dueCredit), ":at": str("0#" + customerID), ":one": num(1)}
	var cond string
	var onFail func(map[string]types.AttributeValue) error
	if seen != nil {
		var cwVals map[string]types.AttributeValue
		cond, cwVals = contractWritesAre(*seen)
		maps.Copy(vals, cwVals)
		onFail = func(map[string]types.AttributeValue) error {
			return &crm.Error{Code: crm.ECONFLICT, Err: crm.ErrContractsMoved,
				Message: "the contracts of customer " + customerID + " changed while its credit was checked; try again"}
		}
	}
	t.update(customerPK(customerID), skCredit, "SET #t = :t, customerId = :c, reviewing = :r, gDue = :d, gDueAt = :at ADD cw :one", cond,
		vals, onFail)
	t.items[len(t.items)-1].write.Update.ExpressionAttributeNames = map[string]string{"#t": "type"}
}

// contractWritesAre is the condition that the credit item's count of
// contract writes is n (absent counts 0: items from before the count).
func contractWritesAre(n int) (string, map[string]types.AttributeValue) {
	if n == 0 {
		return "attribute_not_exists(cw)", nil
	}
	return "cw = :cw", map[string]types.AttributeValue{":cw": num(n)}
}

// releaseDealClaim frees a deal whose contract was rejected, so that it
// may have another.
func (t *tx) releaseDealClaim(prev, next *crm.Contract) {
	if prev == nil || next.OpportunityID == "" || !(prev.Approval != nil && prev.Approval.Status == crm.ApprovalPending &&
		next.Approval != nil && next.Approval.Status == crm.ApprovalRejected) {
		return
	}
	t.del(dealContractPK(next.OpportunityID), skUnique, "contractId = :id", map[string]types.AttributeValue{":id": str(next.ID)}, nil)
}

type approvalItem struct {
	Status    string     `dynamodbav:"status"`
	Level     string     `dynamodbav:"level"`
	Exceeded  []string   `dynamodbav:"exceeded"`
	DecidedBy string     `dynamodbav:"decidedBy,omitempty"`
	DecidedAt *time.Time `dynamodbav:"decidedAt,omitempty"`
	Reason    string     `dynamodbav:"reason,omitempty"`
}

func toApprovalItem(a *crm.ContractApproval) *approvalItem {
	if a == nil {
		return nil
	}
	return &approvalItem{Status: string(a.Status), Level: a.Level, Exceeded: a.Exceeded, DecidedBy: a.DecidedBy, DecidedAt: a.DecidedAt, Reason: a.Reason}
}

func fromApprovalItem(a *approvalItem) *crm.ContractApproval {
	if a == nil {
		return nil
	}
	return &crm.ContractApproval{Status: crm.ApprovalStatus(a.Status), Level: a.Level, Exceeded: a.Exceeded, DecidedBy: a.DecidedBy,
		DecidedAt: a.DecidedAt, Reason: a.Reason}
}

// CreditState reads a customer's credit state, consistently: version 0
// when none was stored.
func (s *Store) CreditState(ctx context.Context, customerID string) (*crm.CreditState, error) {
	var it creditItem
	err := s.get(ctx, customerPK(customerID), skCredit, &it, "no credit")
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return &crm.CreditState{CustomerID: customerID}, nil
	}
	if err != nil {
		return nil, err
	}
	st := fromCreditItem(&it)
	st.CustomerID = customerID
	return st, nil
}

// CreditStates reads the credit states stored for customers: one
// BatchGetItem per 100 (consistent), and until the credit-items migration
// is done (then once per process) a GetItem of its progress.
func (s *Store) CreditStates(ctx context.Context, customerIDs []string) (map[string]*crm.CreditState, bool, error) {
	complete, err := s.creditItemsDone(ctx)
	if err != nil {
		return nil, false, err
	}
	keys := make([]map[string]types.AttributeValue, len(customerIDs))
	for i, id := range customerIDs {
		keys[i] = key(customerPK(id), skCredit)
	}
	raws, err := s.batchGetConsistent(ctx, keys, true)
	if err != nil {
		return nil, false, err
	}
	out := make(map[string]*crm.CreditState, len(raws))
	for _, raw := range raws {
		var it creditItem
		if err := unmarshalItem(raw, &it); err != nil {
			return nil, false, wrap("decode credit", err)
		}
		st := fromCreditItem(&it)
		st.CustomerID = strings.TrimPrefix(it.PK, "CUST#")
		out[st.CustomerID] = st
	}
	return out, complete, nil
}

// ListCreditChanges lists a customer's credit history, newest first: one
// Query of its collection's CRH# range per page.
func (s *Store) ListCreditChanges(ctx context.Context, customerID string, p crm.PageRequest) (*crm.Page[*crm.CreditChange], error) {
	return collect(ctx, s, collectionPlan(s, "creditChanges", customerID, skCreditChange, skCreditChange+"~", fromCreditChangeItem), p)
}

// AllContracts reads every contract of a customer, consistently: Query of
// its collection's CT# range, page by page, up to crm.MaxCustomerContracts.
func (s *Store) AllContracts(ctx context.Context, customerID string) ([]*crm.Contract, error) {
	var out []*crm.Contract
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(customerPK(customerID)), ":lo": str(skContractPrefix), ":hi": str(skContractPrefix + "~")},
			ConsistentRead:    aws.Bool(true),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, wrap("query contracts", err)
		}
		for _, raw := range res.Items {
			var it contractItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, wrap("decode contract", err)
			}
			out = append(out, fromContractItem(&it))
		}
		if start = res.LastEvaluatedKey; start == nil || len(out) >= crm.MaxCustomerContracts {
			return out, nil
		}
	}
}

// CreditReviewsDue lists the customers whose credit review is due on or
// before day, or marked by a contract write: Query of byDue, gDue =
// CREDIT, page by page.
func (s *Store) CreditReviewsDue(ctx context.Context, day time.Time) ([]string, error) {
	var out []string
	err := s.queryDue(ctx, dueCredit, day, func(pk, sk string) {
		if sk == skCredit && strings.HasPrefix(pk, "CUST#") {
			out = append(out, customerIDOf(pk))
		}
	})
	return out, err
}
