package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// A deal opened from a lead claims the lead (docs/access-patterns.md,
// "Leads"):
//
//	LEADDEAL#<lead> / UNIQ   the claim of a lead's one deal (customerId,
//	                         opportunityId)
//
// written with the deal, so that a lead has one deal, and read to answer
// Lead.opportunity. The deal names its lead itself (leadId).

func leadDealPK(leadID string) string { return "LEADDEAL#" + leadID }

// leadDeal claims the lead a new deal follows up, if any.
func (t *tx) leadDeal(o *crm.Opportunity) {
	if o.LeadID == "" {
		return
	}
	lead := o.LeadID
	t.put(map[string]types.AttributeValue{
		"pk": str(leadDealPK(lead)), "sk": str(skUnique), "type": str("unique"),
		"customerId": str(o.CustomerID), "opportunityId": str(o.ID),
	}, notExists, nil, func(map[string]types.AttributeValue) error {
		// The deal is not named: it may be one the caller may not read
		// (Lead.opportunity shows it to whoever may).
		return &crm.Error{Code: crm.ECONFLICT, Field: "input.leadId",
			Message: "lead " + lead + " already has an opportunity: a lead is followed up by one deal"}
	})
}

// LeadOpportunity reads a lead's claim: one consistent GetItem.
func (s *Store) LeadOpportunity(ctx context.Context, leadID string) (string, error) {
	var it struct {
		OpportunityID string `dynamodbav:"opportunityId"`
	}
	err := s.get(ctx, leadDealPK(leadID), skUnique, &it, "no deal")
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return "", nil
	}
	return it.OpportunityID, err
}
