package crm

import (
	"strings"
	"testing"
	"time"
)

func TestSuggestStageFromTheFirstDealAndFromSilence(t *testing.T) {
	created := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { return ptr(created.Add(time.Duration(days) * day)) }
	tests := []struct {
		name      string
		stage     Stage
		edit      func(c *Customer)
		nowDays   int
		want      Stage // "": no suggestion
		wantSince *time.Time
		reason    string
	}{
		{"ExplorationWithoutADealStays", StageExploration, func(c *Customer) { c.ContactedAt = at(3) }, 200, "", nil, ""},
		{"TheFirstDealFormsTheRelationship", StageExploration, func(c *Customer) { c.Transactions.FirstAt = at(10) }, 11, StageFormation, at(10), "first deal on 2026-01-15"},
		{"StableAndContactedRecentlyStays", StageStability, func(c *Customer) { c.ContactedAt = at(100) }, 159, "", nil, ""},
		{"StableAndQuietForSixtyDaysDeclines", StageStability, func(c *Customer) { c.ContactedAt = at(100) }, 160, StageDecline, at(160), "nobody in touch for 60 days (last contact 2026-04-15)"},
		{"NeverContactedCountsFromCreation", StageFormation, func(c *Customer) {}, 61, StageDecline, at(60), "nobody in touch for 61 days"},
		{"WonBackAndQuietDeclinesToo", StageWonBack, func(c *Customer) { c.ContactedAt = at(1) }, 90, StageDecline, at(61), ""},
		{"DeclineIsTheOwnersToLeave", StageDecline, func(c *Customer) { c.ContactedAt = at(1) }, 300, "", nil, ""},
		{"LostStaysLost", StageLost, func(c *Customer) {}, 300, "", nil, ""},
		{"ArchivedGetsNone", StageStability, func(c *Customer) { c.Status = StatusArchived }, 300, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Customer{ID: "c1", Stage: tt.stage, Status: StatusActive, CreatedAt: created}
			tt.edit(c)
			got := SuggestStage(c, *at(tt.nowDays), DefaultDeclineAfter)
			switch {
			case tt.want == "" && got != nil:
				t.Fatalf("got %+v, want none", got)
			case tt.want == "":
			case got == nil || got.Stage != tt.want || !got.Since.Equal(*tt.wantSince) || !strings.Contains(got.Reason, tt.reason):
				t.Fatalf("got %+v, want %s since %v with %q", got, tt.want, tt.wantSince, tt.reason)
			}
		})
	}
}
