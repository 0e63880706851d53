package dynamo_test

import (
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

// TestPartnerOrgShowAmountsIsStored: an organization hides amounts unless
// made or changed to show them, and its keys' principals carry the policy.
func TestPartnerOrgShowAmountsIsStored(t *testing.T) {
	e := mustEnv(t)
	o, err := e.svc.CreatePartnerOrg(as(admin), crm.PartnerOrgInput{Name: "Agency"})
	if err != nil || o.ShowAmounts {
		t.Fatalf("new organization %+v, %v; want amounts hidden", o, err)
	}
	yes := true
	if o, err = e.svc.UpdatePartnerOrg(as(admin), o.ID, o.Version, crm.PartnerOrgUpdate{ShowAmounts: &yes}); err != nil {
		t.Fatal(err)
	}
	k, err := e.svc.IssueAPIKey(as(admin), o.ID, "crm sync")
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.svc.VerifyAPIKey(t.Context(), k.Secret)
	if err != nil || !u.ShowAmounts {
		t.Fatalf("the principal of key %s: %+v, %v; want amounts shown", k.Key.ID, u, err)
	}
}
