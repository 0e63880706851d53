package crm

import (
	"testing"
	"time"
)

func TestPoolReturnTakesTheEarlierRuleFromTheLaterOfTakingOnAndTheLastContactOrDeal(t *testing.T) {
	created := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { return ptr(created.Add(time.Duration(days) * day)) }
	level := GradeLevel{Code: "C", TakeBackWithoutContact: 45 * day, TakeBackWithoutDeal: 180 * day}
	tests := []struct {
		name     string
		edit     func(c *Customer)
		level    GradeLevel
		wantRule string // "": no deadline
		wantDue  *time.Time
	}{
		{"NeverContactedCountsFromCreation", func(c *Customer) {}, level, RuleNoContact, at(45)},
		{"ContactMovesTheNoContactClock", func(c *Customer) { c.ContactedAt = at(150) }, level, RuleNoDeal, at(180)},
		{"ADealMovesTheNoDealClock", func(c *Customer) { c.ContactedAt, c.Transactions.LastAt = at(150), at(150) }, level, RuleNoContact, at(195)},
		{"AHandoverRestartsBothClocks", func(c *Customer) {
			c.ContactedAt = at(10)
			c.LastHandover = &OwnerChange{From: "sales-0", To: "sales-1", At: *at(100)}
		}, level, RuleNoContact, at(145)},
		{"AHandoverToSomeoneElseIsNotTheOwners", func(c *Customer) {
			c.LastHandover = &OwnerChange{From: "sales-1", To: "sales-0", At: *at(100)}
		}, level, RuleNoContact, at(45)},
		{"AFollowedUpClaimCountsFromTheClaim", func(c *Customer) {
			c.Claim = &Claim{By: "sales-1", At: *at(20), FollowedUpAt: at(21)}
		}, level, RuleNoContact, at(65)},
		{"AnActiveClaimIsTheClaimsBusiness", func(c *Customer) { c.Claim = &Claim{By: "sales-1", At: *at(20)} }, level, "", nil},
		{"ThePoolHasNone", func(c *Customer) { c.OwnerID = "" }, level, "", nil},
		{"AnArchivedCustomerHasNone", func(c *Customer) { c.Status = StatusArchived }, level, "", nil},
		{"ALevelKeptOutOfThePoolHasNone", func(c *Customer) {}, GradeLevel{Code: "O", KeepOutOfPool: true}, "", nil},
		{"ALevelWithoutRulesHasNone", func(c *Customer) {}, GradeLevel{Code: "G"}, "", nil},
		{"OnlyTheDealRule", func(c *Customer) {}, GradeLevel{Code: "F", TakeBackWithoutDeal: 90 * day}, RuleNoDeal, at(90)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Customer{ID: "c1", OwnerID: "sales-1", Status: StatusActive, CreatedAt: created}
			tt.edit(c)
			got := PoolReturnOf(c, tt.level)
			switch {
			case tt.wantRule == "" && got != nil:
				t.Fatalf("got %+v, want no deadline", got)
			case tt.wantRule == "":
			case got == nil || got.Rule != tt.wantRule || !got.DueAt.Equal(*tt.wantDue) || !got.Since.Add(got.Period).Equal(got.DueAt):
				t.Fatalf("got %+v, want %s due %v", got, tt.wantRule, tt.wantDue)
			}
		})
	}
}

func TestAWarningCountsOnlyForTheDeadlineItWasGivenFor(t *testing.T) {
	created := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	level := GradeLevel{Code: "C", TakeBackWithoutContact: 45 * day}
	c := &Customer{ID: "c1", OwnerID: "sales-1", Status: StatusActive, CreatedAt: created}
	warned := created.Add(42 * day)
	c.PoolWarning = &PoolWarning{Rule: RuleNoContact, DueAt: created.Add(45 * day), At: warned}
	if got := PoolReturnOf(c, level); got == nil || got.WarnedAt == nil || !got.WarnedAt.Equal(warned) {
		t.Fatalf("warning for this deadline not shown: %+v", got)
	}
	c.ContactedAt = ptr(created.Add(43 * day))
	if got := PoolReturnOf(c, level); got == nil || got.WarnedAt != nil {
		t.Fatalf("a warning for a deadline the contact moved still shows: %+v", got)
	}
}
