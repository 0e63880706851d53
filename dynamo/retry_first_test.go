package dynamo_test

import (
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

// TestRetriedCreatesAreAnsweredBeforeTheStateIsChecked: a create retried
// with its idempotency key returns what the first request made, even
// when that request changed what the create checks (the lead was
// accepted: the customer is no longer the telesales user's) or fills in
// (the deal's amount, which the contract took); the key with another
// request is a CONFLICT on input.idempotencyKey.
func TestRetriedCreatesAreAnsweredBeforeTheStateIsChecked(t *testing.T) {
	e, clk := leadEnv(t)
	tele := sales1.ID

	t.Run("LeadAcceptedSince", func(t *testing.T) {
		c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Kunming Valve Works", OwnerID: &tele, Team: "north"})
		in := crm.LeadInput{CustomerID: c.ID, Need: "An ERP", HandedTo: closer1.ID, IdempotencyKey: "lead-kunming-retry"}
		lead := mustLead(t, e, sales1, in)
		clk.Advance(1)
		if _, err := e.svc.AcceptLead(as(closer1), leadKey(lead), 1); err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.CreateLead(as(sales1), in)
		if err != nil || again.ID != lead.ID || again.Status != crm.LeadAccepted {
			t.Fatalf("the retry after the accept: %+v, %v; want the first lead, now ACCEPTED", again, err)
		}
		in.Need = "Something else"
		var ce *crm.Error
		if _, err := e.svc.CreateLead(as(sales1), in); !asErr(err, &ce) || ce.Code != crm.ECONFLICT || ce.Field != "input.idempotencyKey" {
			t.Fatalf("the key with another request: %v, want CONFLICT on input.idempotencyKey", err)
		}
	})

	t.Run("ContractAfterTheDealsAmountChanged", func(t *testing.T) {
		c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Fjord Logistics", OwnerID: &tele, Team: "north"})
		deal := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: c.ID, Title: "Fleet", Amount: "50000"})
		clk.Advance(1)
		won := mustMove(t, e, sales1, deal, crm.OpportunityMoveInput{Stage: "WON"})
		in := crm.ContractInput{CustomerID: c.ID, OpportunityID: won.ID, SignedOn: day(2026, 3, 1), EndsOn: day(2027, 2, 28),
			Instalments: []crm.InstalmentInput{{DueOn: day(2026, 4, 1), Amount: "50000"}}, IdempotencyKey: "contract-fjord-retry"}
		k, err := e.svc.CreateContract(as(sales1), in)
		if err != nil {
			t.Fatal(err)
		}
		// The deal's amount changes under the contract (as a correction
		// by the store would): the retry still names the same request.
		changed := won.Clone()
		changed.Amount, changed.Version = 60000_00, won.Version+1
		if err := e.store.Apply(as(admin), &crm.Change{OpportunityPrev: won, Opportunity: changed}); err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.CreateContract(as(sales1), in)
		if err != nil || again.ID != k.ID || again.Amount.String() != "50000.00" {
			t.Fatalf("the retry after the deal changed: %+v, %v; want the first contract of 50000.00", again, err)
		}
	})
}
