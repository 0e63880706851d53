package crm

import "context"

// A lead its recipient accepted is worked as a deal: createOpportunity
// given the lead opens the deal that follows it up, on the lead's
// customer. A lead has at most one deal: the deal's creation claims the
// lead in the same transaction (the store's uniqueness claim), so of two
// deals opened from one lead at once, one is refused.

// dealLead checks the lead a new deal follows up (in.LeadID, optional):
// one the caller may read, of the deal's customer (leads live in their
// customer's collection: a lead of another customer is not found there),
// ACCEPTED. It returns its id.
func (s *Service) dealLead(ctx context.Context, u *User, in OpportunityInput) (string, error) {
	if in.LeadID == "" {
		return "", nil
	}
	if err := checkID("input.leadId", in.LeadID); err != nil {
		return "", err
	}
	l, err := s.readableLead(ctx, u, LeadKey{CustomerID: in.CustomerID, ID: in.LeadID})
	if ErrorCode(err) == ENOTFOUND {
		return "", &Error{Code: ENOTFOUND, Field: "input.leadId", Message: "lead " + in.LeadID + " of customer " + in.CustomerID + " not found"}
	}
	if err != nil {
		return "", err
	}
	if l.Status != LeadAccepted {
		return "", Invalid("input.leadId", "lead %s is %s: a deal follows up a lead its recipient ACCEPTED", l.ID, l.Status)
	}
	return l.ID, nil
}

// LeadOpportunity is the deal opened from lead l, or nil when there is
// none or the caller may not read it.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners).
func (s *Service) LeadOpportunity(ctx context.Context, l *Lead) (*Opportunity, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	id, err := s.Store.LeadOpportunity(ctx, l.ID)
	if err != nil || id == "" {
		return nil, err
	}
	// The deal is read in the lead's collection: a merge moves both to
	// the survivor.
	return nilIfHidden(s.readableDeal(ctx, u, OpportunityKey{CustomerID: l.CustomerID, ID: id}))
}

// OpportunityLead is the lead deal o was opened from, or nil when there
// is none or the caller may not read it.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners).
func (s *Service) OpportunityLead(ctx context.Context, o *Opportunity) (*Lead, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if o.LeadID == "" {
		return nil, nil
	}
	return nilIfHidden(s.readableLead(ctx, u, LeadKey{CustomerID: o.CustomerID, ID: o.LeadID}))
}

// nilIfHidden turns a NOT_FOUND (missing, or hidden from the caller) into
// nothing: a link to what the caller may not read reads as no link.
func nilIfHidden[T any](v *T, err error) (*T, error) {
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	return v, err
}
