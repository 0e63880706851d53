package dynamo_test

import (
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

// TestAcceptedLeadBecomesOneOpportunity: a deal follows up an accepted
// lead of its customer, and each links the other; a lead still waiting,
// or already followed up, opens none.
func TestAcceptedLeadBecomesOneOpportunity(t *testing.T) {
	e, clk := leadEnv(t)
	tele := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Kunming Valve Works", OwnerID: &tele, Team: "north"})
	lead := mustLead(t, e, sales1, crm.LeadInput{CustomerID: c.ID, Need: "An ERP", HandedTo: closer1.ID})
	in := crm.OpportunityInput{CustomerID: c.ID, Title: "ERP", Amount: "200000", LeadID: lead.ID, ExpectedClose: day(2026, 6, 30)}
	var ce *crm.Error
	if _, err := e.svc.CreateOpportunity(as(admin), in); !asErr(err, &ce) || ce.Code != crm.EINVALID || ce.Field != "input.leadId" {
		t.Fatalf("a deal from a lead still waiting: %v, want BAD_USER_INPUT on input.leadId", err)
	}
	// Its recipient may not open deals on the customer before accepting:
	// the customer is checked first, so the lead is not told of.
	if _, err := e.svc.CreateOpportunity(as(closer1), in); !asErr(err, &ce) || ce.Code != crm.ENOTFOUND || ce.Field == "input.leadId" {
		t.Fatalf("a deal by the recipient before accepting: %v, want NOT_FOUND on the customer", err)
	}
	clk.Advance(1)
	if _, err := e.svc.AcceptLead(as(closer1), leadKey(lead), 1); err != nil {
		t.Fatal(err)
	}
	deal := mustDeal(t, e, closer1, in)
	if deal.LeadID != lead.ID {
		t.Fatalf("the deal names lead %q, want %s", deal.LeadID, lead.ID)
	}
	if _, err := e.svc.CreateOpportunity(as(closer1), in); !asErr(err, &ce) || ce.Code != crm.ECONFLICT || ce.Field != "input.leadId" {
		t.Fatalf("a second deal from the lead: %v, want CONFLICT on input.leadId", err)
	}
	accepted, err := e.svc.Lead(as(closer1), leadKey(lead))
	if err != nil {
		t.Fatal(err)
	}
	if o, err := e.svc.LeadOpportunity(as(closer1), accepted); err != nil || o == nil || o.ID != deal.ID {
		t.Fatalf("the lead's deal: %+v, %v; want %s", o, err, deal.ID)
	}
	if l, err := e.svc.OpportunityLead(as(closer1), deal); err != nil || l == nil || l.ID != lead.ID {
		t.Fatalf("the deal's lead: %+v, %v; want %s", l, err, lead.ID)
	}
	// The telesales user reads the lead, not the deal, which is closer-1's.
	if o, err := e.svc.LeadOpportunity(as(sales1), accepted); err != nil || o != nil {
		t.Fatalf("sales-1 reads the lead's deal: %+v, %v; want none shown", o, err)
	}
	mustHoldInvariants(t, e)
}
