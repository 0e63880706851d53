package crm

import "testing"

// TestPartnersReadAmountsOnlyWhenTheirPolicyShowsThem: the TRANSACTION a
// won deal logs on a shared customer carries its amount; a partner whose
// organization hides amounts (the default) reads none, in the interaction,
// in the customer's latest interaction and in its transaction total,
// whatever else its policy masks; staff always read them.
func TestPartnersReadAmountsOnlyWhenTheirPolicyShowsThem(t *testing.T) {
	amount := 88000.0
	deal := &Interaction{ID: "I1", Type: TypeTransaction, Subject: "Deal won: Valve line", Outcome: "opportunity O1", Amount: &amount, Currency: "CNY"}
	c := &Customer{ID: "C1", Partners: []PartnerShare{{OrgID: "org1"}}}
	c.Transactions = TransactionStats{Count: 1, Total: amount}
	c.LastInteraction = InteractionSummary(deal)
	staff := &User{ID: "sales-1", Roles: []Role{RoleSales}}
	hides := &User{ID: "partner:k1", Roles: []Role{RolePartner}, PartnerOrgID: "org1", Masked: []MaskField{}}
	shows := &User{ID: "partner:k2", Roles: []Role{RolePartner}, PartnerOrgID: "org1", Masked: MaskFields, ShowAmounts: true}
	for _, tc := range []struct {
		name string
		u    *User
		want bool
	}{
		{"Staff", staff, true},
		{"PartnerByDefault", hides, false},
		{"PartnerShowingAmounts", shows, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it, cu := viewInteraction(tc.u, deal), viewCustomer(tc.u, c)
			got := [3]bool{it.Amount != nil && it.Currency == "CNY", cu.LastInteraction.Amount != nil, cu.Transactions.Total == amount}
			if got != [3]bool{tc.want, tc.want, tc.want} {
				t.Fatalf("amounts read (interaction, latest interaction, total) %v, want all %v", got, tc.want)
			}
		})
	}
	if deal.Amount == nil || c.Transactions.Total != amount {
		t.Fatal("a view changed the stored values")
	}
	org := &PartnerOrg{ID: "org1", Masked: []MaskField{}}
	if v := PartnerView(org, c); v.LastInteraction.Amount != nil {
		t.Fatalf("a webhook's view of the customer shows the amount: %+v", v.LastInteraction)
	}
}
