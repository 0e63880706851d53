package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Contracts (docs/access-patterns.md, "Contracts and receivables"):
//
//	CUST#<customer> / CT#<id>     the contract with its payment plan and
//	                              payments, in its customer's collection
//	                              below the 360 view's range (after the
//	                              deals' C# range, before D#)
//	REV#TEAM#<team> / REV         a team's revenue and receivables counters
//	REV#OWNER#<id>  / REV         an owner's, across teams
//	DEALCONTRACT#<deal> / UNIQ   the claim of a won deal's one contract
//
// The counters move in the contract's own transaction (crm.ContractDeltas).
const (
	skContractPrefix = "CT#"
	skRevenue        = "REV"
)

func contractSK(id string) string         { return skContractPrefix + id }
func dealContractPK(dealID string) string { return "DEALCONTRACT#" + dealID }
func revenuePK(sc crm.PipelineCounterScope) string {
	if sc.OwnerID != "" {
		return "REV#OWNER#" + sc.OwnerID
	}
	return "REV#TEAM#" + teamKey(sc.Team)
}

type instalmentItem struct {
	DueOn  string `dynamodbav:"dueOn"` // 2006-01-02
	Amount int64  `dynamodbav:"amount"`
}

type paymentItem struct {
	ID         string    `dynamodbav:"id"`
	PaidOn     string    `dynamodbav:"paidOn"`
	Amount     int64     `dynamodbav:"amount"`
	Reference  string    `dynamodbav:"reference,omitempty"`
	RecordedBy string    `dynamodbav:"recordedBy"`
	RecordedAt time.Time `dynamodbav:"recordedAt"`
	Request    string    `dynamodbav:"request,omitempty"`
}

type contractItem struct {
	PK            string           `dynamodbav:"pk"`
	SK            string           `dynamodbav:"sk"`
	Type          string           `dynamodbav:"type"`
	ID            string           `dynamodbav:"id"`
	CustomerID    string           `dynamodbav:"customerId"`
	OpportunityID string           `dynamodbav:"opportunityId,omitempty"`
	Title         string           `dynamodbav:"title"`
	OwnerID       string           `dynamodbav:"owner"`
	Team          string           `dynamodbav:"team,omitempty"`
	Amount        int64            `dynamodbav:"amount"` // hundredths
	Currency      string           `dynamodbav:"currency"`
	Cost          *int64           `dynamodbav:"cost,omitempty"` // hundredths
	NewCustomer   bool             `dynamodbav:"newCustomer,omitempty"`
	SignedOn      string           `dynamodbav:"signedOn"`
	EndsOn        string           `dynamodbav:"endsOn"`
	Instalments   []instalmentItem `dynamodbav:"instalments"`
	Payments      []paymentItem    `dynamodbav:"payments"`
	Approval      *approvalItem    `dynamodbav:"approval,omitempty"`
	Version       int              `dynamodbav:"version"`
	CreatedAt     time.Time        `dynamodbav:"createdAt"`
	CreatedBy     string           `dynamodbav:"createdBy"`
	UpdatedAt     time.Time        `dynamodbav:"updatedAt"`
	UpdatedBy     string           `dynamodbav:"updatedBy"`
}

func toContractItem(c *crm.Contract) *contractItem {
	it := &contractItem{
		PK: customerPK(c.CustomerID), SK: contractSK(c.ID), Type: "contract", ID: c.ID, CustomerID: c.CustomerID,
		OpportunityID: c.OpportunityID, Title: c.Title, OwnerID: c.OwnerID, Team: c.Team, Amount: int64(c.Amount),
		Currency: c.Currency, SignedOn: c.SignedOn.Format(time.DateOnly), EndsOn: c.EndsOn.Format(time.DateOnly),
		Instalments: []instalmentItem{}, Payments: []paymentItem{}, NewCustomer: c.NewCustomer, Approval: toApprovalItem(c.Approval),
		Version: c.Version, CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy, UpdatedAt: c.UpdatedAt, UpdatedBy: c.UpdatedBy,
	}
	if c.Cost != nil {
		it.Cost = aws.Int64(int64(*c.Cost))
	}
	for _, in := range c.Instalments {
		it.Instalments = append(it.Instalments, instalmentItem{DueOn: in.DueOn.Format(time.DateOnly), Amount: int64(in.Amount)})
	}
	for _, p := range c.Payments {
		it.Payments = append(it.Payments, paymentItem{ID: p.ID, PaidOn: p.PaidOn.Format(time.DateOnly), Amount: int64(p.Amount),
			Reference: p.Reference, RecordedBy: p.RecordedBy, RecordedAt: p.RecordedAt, Request: p.Request})
	}
	return it
}

func date(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

func fromContractItem(it *contractItem) *crm.Contract {
	c := &crm.Contract{
		ID: it.ID, CustomerID: it.CustomerID, OpportunityID: it.OpportunityID, Title: it.Title, OwnerID: it.OwnerID,
		Team: it.Team, Amount: crm.Money(it.Amount), Currency: it.Currency, SignedOn: date(it.SignedOn), EndsOn: date(it.EndsOn),
		NewCustomer: it.NewCustomer, Approval: fromApprovalItem(it.Approval),
		Version: it.Version, CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy,
	}
	if it.Cost != nil {
		c.Cost = new(crm.Money)
		*c.Cost = crm.Money(*it.Cost)
	}
	for _, in := range it.Instalments {
		c.Instalments = append(c.Instalments, crm.Instalment{DueOn: date(in.DueOn), Amount: crm.Money(in.Amount)})
	}
	for _, p := range it.Payments {
		c.Payments = append(c.Payments, crm.Payment{ID: p.ID, PaidOn: date(p.PaidOn), Amount: crm.Money(p.Amount),
			Reference: p.Reference, RecordedBy: p.RecordedBy, RecordedAt: p.RecordedAt, Request: p.Request})
	}
	return c
}

// contract writes a contract (created when prev is nil, else conditioned
// on prev's version) and moves its team's and owner's revenue counters in
// the same transaction; a new contract of a deal claims the deal.
func (t *tx) contract(prev, next *crm.Contract, creditSeen *int) {
	t.entity("contract", next.ID, next.CustomerID, prevItem(prev, toContractItem), toContractItem(next))
	if prev == nil && next.OpportunityID != "" {
		deal := next.OpportunityID
		t.put(map[string]types.AttributeValue{
			"pk": str(dealContractPK(deal)), "sk": str(skUnique), "type": str("unique"),
			"customerId": str(next.CustomerID), "contractId": str(next.ID),
		}, notExists, nil, func(old map[string]types.AttributeValue) error {
			return &crm.Error{Code: crm.ECONFLICT, Field: "input.opportunityId", ExistingID: strAttr(old["contractId"]),
				Message: "opportunity " + deal + " already has contract " + strAttr(old["contractId"])}
		})
	}
	t.scopedCounters(crm.ContractDeltas(prev, next), revenuePK, skRevenue)
	t.releaseDealClaim(prev, next)
	t.creditReview(next.CustomerID, creditSeen)
}

// Contract reads one contract, consistently.
func (s *Store) Contract(ctx context.Context, k crm.ContractKey) (*crm.Contract, error) {
	var it contractItem
	if err := s.get(ctx, customerPK(k.CustomerID), contractSK(k.ID), &it, "contract "+k.ID+" not found"); err != nil {
		return nil, err
	}
	return fromContractItem(&it), nil
}

// ListContracts lists a customer's contracts, newest first: one Query of
// its collection's CT# range.
func (s *Store) ListContracts(ctx context.Context, customerID string, p crm.PageRequest) (*crm.Page[*crm.Contract], error) {
	return collect(ctx, s, collectionPlan(s, "contracts", customerID, skContractPrefix, skContractPrefix+"~", fromContractItem), p)
}

// RevenueCounters sums the revenue counter items q names: an owner's, the
// given teams', or every team's (after the TEAMS item), in one
// BatchGetItem.
func (s *Store) RevenueCounters(ctx context.Context, q crm.PipelineCounterQuery) (map[string]int64, error) {
	return s.scopeCounters(ctx, q, "REV#", skRevenue)
}
