package crm

import (
	"strings"
	"testing"
	"time"
)

func TestFirstDealsIsTheCustomersFirstTransactions(t *testing.T) {
	deal := &Interaction{ID: "I2", Type: TypeTransaction}
	call := &Interaction{ID: "I1", Type: TypeCall}
	for _, tc := range []struct {
		name  string
		count int
		its   []*Interaction
		want  bool
	}{
		{"FirstDeal", 1, []*Interaction{call, deal}, true},
		{"FirstDealOfferedTwice", 1, []*Interaction{deal, deal}, true},
		{"ALaterDeal", 2, []*Interaction{deal}, false},
		{"NoDealApplied", 1, []*Interaction{call}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Customer{}
			c.Transactions.Count = tc.count
			if got := firstDeals(c, tc.its); got != tc.want {
				t.Fatalf("firstDeals = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAccountNoticeTellsTheSellerOnly: the seller hears that the customer
// they won went to an account owner; an assignment by hand, or a handover
// without the first deal's regrade, is not one.
func TestAccountNoticeTellsTheSellerOnly(t *testing.T) {
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	prev := &Customer{ID: "C1", OwnerID: "closer-1", Team: "newbiz", Grade: GradeState{Level: "C"}, Version: 3}
	next := prev.Clone()
	next.OwnerID, next.Team, next.Grade.Level, next.Version, next.UpdatedAt, next.UpdatedBy = "account-2", "accounts", "O", 4, at, SystemUserID
	handedOver(prev, next, &User{ID: SystemUserID}, "first deal")
	n := accountNotice(prev, next)
	if n == nil || n.UserID != "closer-1" || n.Kind != NoticeCustomerHandedOver || n.To != "account-2" || !strings.Contains(n.Message, "account team accounts") {
		t.Fatalf("notice %+v; want one to closer-1 naming account-2 of accounts", n)
	}
	byHand := next.Clone()
	byHand.UpdatedBy = "mgr-1"
	wasO := prev.Clone()
	wasO.Grade.Level = "O"
	for name, tc := range map[string][2]*Customer{"ByHand": {prev, byHand}, "AlreadyO": {wasO, next}} {
		if n := accountNotice(tc[0], tc[1]); n != nil {
			t.Errorf("%s: notice %+v, want none", name, n)
		}
	}
}
