package crm

import "testing"

// TestPartnersReadAmountsOnlyWhenTheirPolicyShowsThem: the TRANSACTION a
// won deal logs on a shared customer carries its amount; a partner whose
// organization hides amounts (the default) reads none, in the interaction,
// in the customer's latest interaction, in its transaction total and in
// the grade metrics that explain its grade (now and in its history),
// whatever else its policy masks; staff always read them.
func TestPartnersReadAmountsOnlyWhenTheirPolicyShowsThem(t *testing.T) {
	amount := 88000.0
	deal := &Interaction{ID: "I1", Type: TypeTransaction, Subject: "Deal won: Valve line", Outcome: "opportunity O1", Amount: &amount, Currency: "CNY"}
	c := &Customer{ID: "C1", Partners: []PartnerShare{{OrgID: "org1"}}}
	c.Transactions = TransactionStats{Count: 1, Total: amount}
	c.LastInteraction = InteractionSummary(deal)
	metrics := map[string]float64{MetricTransactionTotal: amount, MetricTransactionCount: 1}
	c.Grade = GradeState{Level: "O", Source: GradeRule, Metrics: metrics}
	change := &GradeChange{CustomerID: "C1", To: "O", Source: GradeRule, Metrics: metrics}
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
			it, cu, g := viewInteraction(tc.u, deal), viewCustomer(tc.u, c), viewGradeChange(tc.u, change)
			_, inGrade := cu.Grade.Metrics[MetricTransactionTotal]
			_, inHistory := g.Metrics[MetricTransactionTotal]
			got := [5]bool{it.Amount != nil && it.Currency == "CNY", cu.LastInteraction.Amount != nil, cu.Transactions.Total == amount, inGrade, inHistory}
			if got != [5]bool{tc.want, tc.want, tc.want, tc.want, tc.want} {
				t.Fatalf("amounts read (interaction, latest interaction, total, grade metrics, grade history) %v, want all %v", got, tc.want)
			}
			if cu.Grade.Metrics[MetricTransactionCount] != 1 || g.Metrics[MetricTransactionCount] != 1 {
				t.Fatal("the other metrics were dropped too")
			}
		})
	}
	if deal.Amount == nil || c.Transactions.Total != amount || len(metrics) != 2 {
		t.Fatal("a view changed the stored values")
	}
	org := &PartnerOrg{ID: "org1", Masked: []MaskField{}}
	if v := PartnerView(org, c); v.LastInteraction.Amount != nil {
		t.Fatalf("a webhook's view of the customer shows the amount: %+v", v.LastInteraction)
	}
}
