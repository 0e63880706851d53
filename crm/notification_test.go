package crm

import (
	"testing"
	"time"
)

func TestNoticesFollowTheirCauseOnly(t *testing.T) {
	p := DefaultGradingPolicy()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	base := &Customer{ID: "c1", OwnerID: "sales-1", Version: 3, Grade: GradeState{Level: "C"}, UpdatedAt: at, UpdatedBy: "mgr-1"}
	with := func(f func(*Customer)) *Customer { c := *base; c.Version++; f(&c); return &c }
	cases := []struct {
		name string
		next *Customer
		want []NotificationKind
	}{
		{"HandedToSomeoneElse", with(func(c *Customer) { c.OwnerID = "sales-2" }), []NotificationKind{NoticeCustomerHandedOver}},
		{"ReleasedToThePool", with(func(c *Customer) { c.OwnerID = "" }), nil},
		{"TakenByTheNewOwnerThemself", with(func(c *Customer) { c.OwnerID, c.UpdatedBy = "sales-2", "sales-2" }), nil},
		{"RegradedDownByAManager", with(func(c *Customer) { c.Grade = GradeState{Level: "F", Source: GradeManual, By: "mgr-1"} }), []NotificationKind{NoticeCustomerRegradedDown}},
		{"RegradedDownByARule", with(func(c *Customer) { c.Grade = GradeState{Level: "F", Source: GradeRule}; c.UpdatedBy = "sales-1" }), []NotificationKind{NoticeCustomerRegradedDown}},
		{"RegradedDownByTheOwnerByHand", with(func(c *Customer) { c.Grade = GradeState{Level: "F", Source: GradeManual, By: "sales-1"} }), nil},
		{"RegradedUp", with(func(c *Customer) { c.Grade = GradeState{Level: "A"} }), nil},
		{"WonIntoO", with(func(c *Customer) { c.Grade = GradeState{Level: "O"} }), nil},
		{"ClaimWarned", with(func(c *Customer) {
			c.Claim = &Claim{By: "sales-1", ExpiresAt: at.Add(time.Hour), WarnedAt: &at}
		}), []NotificationKind{NoticeClaimExpiring}},
		{"TakeBackWarned", with(func(c *Customer) {
			c.Status, c.PoolWarning = StatusActive, &PoolWarning{Rule: RuleNoContact, DueAt: at.Add(72 * time.Hour), At: at}
		}), []NotificationKind{NoticePoolReturnDue}},
		{"ReturnedToThePoolWithItsWarning", with(func(c *Customer) {
			c.Status, c.OwnerID, c.PoolWarning = StatusActive, "", &PoolWarning{Rule: RuleNoContact, DueAt: at, At: at}
		}), nil},
		{"RewrittenAtTheSameVersion", &Customer{ID: "c1", OwnerID: "sales-9", Version: 3}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := customerNotices(p, base, tc.next)
			again := customerNotices(p, base, tc.next)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d notices, want %v", len(got), tc.want)
			}
			for i, n := range got {
				if n.Kind != tc.want[i] || n.ID != again[i].ID || n.CustomerID != "c1" {
					t.Fatalf("notice %d: %+v (derived again: %s), want %s", i, n, again[i].ID, tc.want[i])
				}
			}
		})
	}
}

func TestNoticeIDsSortByTimeAndDifferByCause(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a, b := NoticeID(at, "x"), NoticeID(at.Add(time.Millisecond), "x")
	if a >= b || NoticeID(at, "x") != a || NoticeID(at, "y") == a {
		t.Fatalf("ids %s, %s: want the same for one cause, later for a later time, other for another cause", a, b)
	}
}
