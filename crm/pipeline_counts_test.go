package crm

import (
	"fmt"
	"testing"
)

func TestPipelineDeltas(t *testing.T) {
	open := &Opportunity{OwnerID: "u1", Team: "north", Stage: "PROPOSAL", Amount: 150000, Currency: "CNY"}
	moved := *open
	moved.Stage = "NEGOTIATION"
	given := moved
	given.OwnerID, given.Amount = "u2", 120000
	lost := moved
	lost.Stage, lost.LossReason = StageLostDeal, LossPrice
	north, u1, u2 := PipelineCounterScope{Team: "north"}, PipelineCounterScope{OwnerID: "u1"}, PipelineCounterScope{OwnerID: "u2"}
	for _, tt := range []struct {
		name       string
		prev, next *Opportunity
		want       []PipelineDelta
	}{
		{"Opened", nil, open, []PipelineDelta{
			{u1, "amt.PROPOSAL.CNY", 150000}, {u1, "n.PROPOSAL", 1}, {north, "amt.PROPOSAL.CNY", 150000}, {north, "n.PROPOSAL", 1}}},
		{"Moved", open, &moved, []PipelineDelta{
			{u1, "amt.NEGOTIATION.CNY", 150000}, {u1, "amt.PROPOSAL.CNY", -150000}, {u1, "n.NEGOTIATION", 1}, {u1, "n.PROPOSAL", -1},
			{north, "amt.NEGOTIATION.CNY", 150000}, {north, "amt.PROPOSAL.CNY", -150000}, {north, "n.NEGOTIATION", 1}, {north, "n.PROPOSAL", -1}}},
		{"GivenAwayAtAnotherAmount", &moved, &given, []PipelineDelta{
			{u1, "amt.NEGOTIATION.CNY", -150000}, {u1, "n.NEGOTIATION", -1}, {u2, "amt.NEGOTIATION.CNY", 120000}, {u2, "n.NEGOTIATION", 1},
			{north, "amt.NEGOTIATION.CNY", -30000}}},
		{"Lost", &moved, &lost, []PipelineDelta{
			{u1, "amt.NEGOTIATION.CNY", -150000}, {u1, "lost.amt.CNY", 150000}, {u1, "lost.n", 1}, {u1, "lost.reason.PRICE", 1}, {u1, "n.NEGOTIATION", -1},
			{north, "amt.NEGOTIATION.CNY", -150000}, {north, "lost.amt.CNY", 150000}, {north, "lost.n", 1}, {north, "lost.reason.PRICE", 1}, {north, "n.NEGOTIATION", -1}}},
		{"EditOfNothingCounted", open, open, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := PipelineDeltas(tt.prev, tt.next); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}
