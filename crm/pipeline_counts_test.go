package crm

import (
	"fmt"
	"testing"
	"time"
)

func TestPipelineDeltas(t *testing.T) {
	june := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	open := &Opportunity{OwnerID: "u1", Team: "north", Stage: "PROPOSAL", Amount: 150000, Currency: "CNY", ExpectedClose: june,
		CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), ForecastCounted: true}
	moved := *open
	moved.Stage = "NEGOTIATION"
	given := moved
	given.OwnerID, given.Amount = "u2", 120000
	lost := moved
	lost.Stage, lost.LossReason = StageLostDeal, LossPrice
	later := moved
	later.ExpectedClose = june.AddDate(0, 1, 0)
	won := moved
	won.Stage, won.ClosedAt, won.NewCustomer = StageWon, ptr(time.Date(2026, 4, 15, 8, 0, 0, 0, time.UTC)), true
	// A deal stored before the forecast counters: not counted in them.
	old := *open
	old.ForecastCounted = false
	wonOld := won
	wonOld.NewCustomer = false
	north, u1, u2 := PipelineCounterScope{Team: "north"}, PipelineCounterScope{OwnerID: "u1"}, PipelineCounterScope{OwnerID: "u2"}
	for _, tt := range []struct {
		name       string
		prev, next *Opportunity
		want       []PipelineDelta
	}{
		{"Opened", nil, open, []PipelineDelta{
			{u1, "amt.PROPOSAL.CNY", 150000}, {u1, "fc.2026-06.PROPOSAL.CNY", 150000}, {u1, "fcn.2026-06", 1}, {u1, "n.PROPOSAL", 1},
			{north, "amt.PROPOSAL.CNY", 150000}, {north, "fc.2026-06.PROPOSAL.CNY", 150000}, {north, "fcn.2026-06", 1}, {north, "n.PROPOSAL", 1}}},
		{"Moved", open, &moved, []PipelineDelta{
			{u1, "amt.NEGOTIATION.CNY", 150000}, {u1, "amt.PROPOSAL.CNY", -150000}, {u1, "fc.2026-06.NEGOTIATION.CNY", 150000},
			{u1, "fc.2026-06.PROPOSAL.CNY", -150000}, {u1, "n.NEGOTIATION", 1}, {u1, "n.PROPOSAL", -1},
			{north, "amt.NEGOTIATION.CNY", 150000}, {north, "amt.PROPOSAL.CNY", -150000}, {north, "fc.2026-06.NEGOTIATION.CNY", 150000},
			{north, "fc.2026-06.PROPOSAL.CNY", -150000}, {north, "n.NEGOTIATION", 1}, {north, "n.PROPOSAL", -1}}},
		{"GivenAwayAtAnotherAmount", &moved, &given, []PipelineDelta{
			{u1, "amt.NEGOTIATION.CNY", -150000}, {u1, "fc.2026-06.NEGOTIATION.CNY", -150000}, {u1, "fcn.2026-06", -1}, {u1, "n.NEGOTIATION", -1},
			{u2, "amt.NEGOTIATION.CNY", 120000}, {u2, "fc.2026-06.NEGOTIATION.CNY", 120000}, {u2, "fcn.2026-06", 1}, {u2, "n.NEGOTIATION", 1},
			{north, "amt.NEGOTIATION.CNY", -30000}, {north, "fc.2026-06.NEGOTIATION.CNY", -30000}}},
		{"ExpectedAMonthLater", &moved, &later, []PipelineDelta{
			{u1, "fc.2026-06.NEGOTIATION.CNY", -150000}, {u1, "fc.2026-07.NEGOTIATION.CNY", 150000}, {u1, "fcn.2026-06", -1}, {u1, "fcn.2026-07", 1},
			{north, "fc.2026-06.NEGOTIATION.CNY", -150000}, {north, "fc.2026-07.NEGOTIATION.CNY", 150000}, {north, "fcn.2026-06", -1}, {north, "fcn.2026-07", 1}}},
		{"Lost", &moved, &lost, []PipelineDelta{
			{u1, "amt.NEGOTIATION.CNY", -150000}, {u1, "fc.2026-06.NEGOTIATION.CNY", -150000}, {u1, "fcn.2026-06", -1},
			{u1, "lost.amt.CNY", 150000}, {u1, "lost.n", 1}, {u1, "lost.reason.PRICE", 1}, {u1, "n.NEGOTIATION", -1},
			{north, "amt.NEGOTIATION.CNY", -150000}, {north, "fc.2026-06.NEGOTIATION.CNY", -150000}, {north, "fcn.2026-06", -1},
			{north, "lost.amt.CNY", 150000}, {north, "lost.n", 1}, {north, "lost.reason.PRICE", 1}, {north, "n.NEGOTIATION", -1}}},
		// Won after 44 days (and 23 hours): the 90-day bucket; the
		// customer's first deal, won in April.
		{"WonTheCustomer", &moved, &won, []PipelineDelta{
			{u1, "amt.NEGOTIATION.CNY", -150000}, {u1, "custwon.2026-04", 1}, {u1, "fc.2026-06.NEGOTIATION.CNY", -150000}, {u1, "fcn.2026-06", -1},
			{u1, "n.NEGOTIATION", -1}, {u1, "won.amt.CNY", 150000}, {u1, "won.days", 44}, {u1, "won.n", 1}, {u1, "won.within.90", 1},
			{north, "amt.NEGOTIATION.CNY", -150000}, {north, "custwon.2026-04", 1}, {north, "fc.2026-06.NEGOTIATION.CNY", -150000}, {north, "fcn.2026-06", -1},
			{north, "n.NEGOTIATION", -1}, {north, "won.amt.CNY", 150000}, {north, "won.days", 44}, {north, "won.n", 1}, {north, "won.within.90", 1}}},
		{"EditOfNothingCounted", open, open, nil},
		{"OldDealCountedByTheMigration", &old, open, []PipelineDelta{
			{u1, "fc.2026-06.PROPOSAL.CNY", 150000}, {u1, "fcn.2026-06", 1},
			{north, "fc.2026-06.PROPOSAL.CNY", 150000}, {north, "fcn.2026-06", 1}}},
		{"OldDealMovedTakesOutNoForecastItNeverPutIn", &old, &moved, []PipelineDelta{
			{u1, "amt.NEGOTIATION.CNY", 150000}, {u1, "amt.PROPOSAL.CNY", -150000}, {u1, "fc.2026-06.NEGOTIATION.CNY", 150000},
			{u1, "fcn.2026-06", 1}, {u1, "n.NEGOTIATION", 1}, {u1, "n.PROPOSAL", -1},
			{north, "amt.NEGOTIATION.CNY", 150000}, {north, "amt.PROPOSAL.CNY", -150000}, {north, "fc.2026-06.NEGOTIATION.CNY", 150000},
			{north, "fcn.2026-06", 1}, {north, "n.NEGOTIATION", 1}, {north, "n.PROPOSAL", -1}}},
		{"OldDealWonAddsItsCycleTime", &old, &wonOld, []PipelineDelta{
			{u1, "amt.PROPOSAL.CNY", -150000}, {u1, "n.PROPOSAL", -1}, {u1, "won.amt.CNY", 150000}, {u1, "won.days", 44}, {u1, "won.n", 1}, {u1, "won.within.90", 1},
			{north, "amt.PROPOSAL.CNY", -150000}, {north, "n.PROPOSAL", -1}, {north, "won.amt.CNY", 150000}, {north, "won.days", 44}, {north, "won.n", 1}, {north, "won.within.90", 1}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := PipelineDeltas(tt.prev, tt.next); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}
