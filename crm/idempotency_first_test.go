package crm

import (
	"context"
	"strings"
	"testing"
)

// TestMutationKeysNameTheirInputFields: a lead's, a contract's or a
// deal's mutation names the malformed key by its input field, as every
// mutation does, before it reads anything.
func TestMutationKeysNameTheirInputFields(t *testing.T) {
	s := &Service{}
	ctx := NewContextWithUser(context.Background(), &User{ID: "sales-1", Roles: []Role{RoleSales}})
	bad := strings.Repeat("x", 300)
	for _, tc := range []struct {
		name, field string
		call        func() error
	}{
		{"AcceptLeadCustomer", "input.customerId", func() error { _, err := s.AcceptLead(ctx, LeadKey{CustomerID: bad, ID: "L1"}, 1); return err }},
		{"ReturnLeadID", "input.id", func() error { _, err := s.ReturnLead(ctx, LeadKey{CustomerID: "C1", ID: bad}, 1, "no"); return err }},
		{"HandLeadID", "input.id", func() error { _, err := s.HandLead(ctx, LeadKey{CustomerID: "C1", ID: bad}, 1, "x"); return err }},
		{"WithdrawLeadID", "input.id", func() error { _, err := s.WithdrawLead(ctx, LeadKey{CustomerID: "C1", ID: bad}, 1, ""); return err }},
		{"UpdateContractID", "input.id", func() error {
			_, err := s.UpdateContract(ctx, ContractKey{CustomerID: "C1", ID: bad}, 1, ContractUpdate{})
			return err
		}},
		{"RecordPaymentContract", "input.contractId", func() error {
			_, err := s.RecordPayment(ctx, PaymentInput{CustomerID: "C1", ContractID: bad, Amount: "1"})
			return err
		}},
		{"MoveOpportunityCustomer", "input.customerId", func() error {
			_, err := s.MoveOpportunity(ctx, OpportunityKey{CustomerID: bad, ID: "O1"}, 1, OpportunityMoveInput{Stage: "WON"})
			return err
		}},
		{"UpdateOpportunityID", "input.id", func() error {
			_, err := s.UpdateOpportunity(ctx, OpportunityKey{CustomerID: "C1", ID: bad}, 1, OpportunityUpdate{})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if e, ok := err.(*Error); !ok || e.Code != EINVALID || e.Field != tc.field {
				t.Fatalf("got %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
}
