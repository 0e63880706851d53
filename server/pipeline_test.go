package server_test

import (
	"testing"
)

// The pipeline through GraphQL: decimal amounts as strings, the field a
// refusal names, the version a move needs, and a manager's figures.
func TestPipelineThroughGraphQL(t *testing.T) {
	e := mustEnv(t)
	var c struct{ CreateCustomer struct{ ID string } }
	e.mustDo(t, "admin", createCustomer, map[string]any{"in": map[string]any{"kind": "ORGANIZATION", "name": "Acme Machinery",
		"ownerId": "sales1", "team": "north"}}, &c)
	id := c.CreateCustomer.ID
	const open = `mutation($in: CreateOpportunityInput!) { createOpportunity(input: $in) {
		id version stage probability amount weightedAmount currency expectedCloseDate history { from to by } } }`
	for _, tt := range []struct {
		name, field string
		in          map[string]any
	}{
		{"ErrAmountIsAFloat", "input.amount", map[string]any{"amount": "1.5e5", "expectedCloseDate": "2026-06-30"}},
		{"ErrDate", "input.expectedCloseDate", map[string]any{"amount": "150000", "expectedCloseDate": "30/06/2026"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.in["customerId"], tt.in["title"] = id, "Line automation"
			if r := e.do(t, "sales1", open, map[string]any{"in": tt.in}); r.code() != "BAD_USER_INPUT" || r.field() != tt.field {
				t.Fatalf("got %s on %q (%+v), want BAD_USER_INPUT on %s", r.code(), r.field(), r.Errors, tt.field)
			}
		})
	}
	var deal struct {
		CreateOpportunity struct {
			ID, Stage, Amount, WeightedAmount, Currency, ExpectedCloseDate string
			Version, Probability                                           int
		}
	}
	e.mustDo(t, "sales1", open, map[string]any{"in": map[string]any{"customerId": id, "title": "Line automation",
		"amount": "150000.5", "expectedCloseDate": "2026-06-30"}}, &deal)
	d := deal.CreateOpportunity
	if d.Stage != "QUALIFY" || d.Probability != 10 || d.Amount != "150000.50" || d.WeightedAmount != "15000.05" ||
		d.Currency != "CNY" || d.ExpectedCloseDate != "2026-06-30" || d.Version != 1 {
		t.Fatalf("opened %+v", d)
	}
	const move = `mutation($c: ID!, $id: ID!, $v: Int!, $s: String!, $r: LossReason, $n: String) {
		moveOpportunity(input: {customerId: $c, id: $id, expectedVersion: $v, stage: $s, lossReason: $r, lossNote: $n}) { version stage } }`
	if r := e.do(t, "sales1", move, map[string]any{"c": id, "id": d.ID, "v": 1, "s": "LOST", "r": "PRICE"}); r.code() != "BAD_USER_INPUT" ||
		r.field() != "input.lossNote" {
		t.Fatalf("LOST without a note: %+v", r.Errors)
	}
	e.mustDo(t, "sales1", move, map[string]any{"c": id, "id": d.ID, "v": 1, "s": "PROPOSAL"}, nil)
	if r := e.do(t, "sales1", move, map[string]any{"c": id, "id": d.ID, "v": 1, "s": "NEGOTIATION"}); r.code() != "CONFLICT" {
		t.Fatalf("a move from a stale version: %+v", r.Errors)
	}
	var p struct {
		Pipeline struct {
			Stages []struct {
				Stage   string
				Count   int
				Amounts []struct{ Currency, Amount, Weighted string }
			}
			WinRate *float64
		}
	}
	e.mustDo(t, "manager", `{ pipeline { stages { stage count amounts { currency amount weighted } } winRate } }`, nil, &p)
	var proposal string
	for _, s := range p.Pipeline.Stages {
		if s.Stage == "PROPOSAL" && s.Count == 1 && len(s.Amounts) == 1 {
			proposal = s.Amounts[0].Currency + " " + s.Amounts[0].Amount + "/" + s.Amounts[0].Weighted
		}
	}
	if proposal != "CNY 150000.50/75000.25" || p.Pipeline.WinRate != nil {
		t.Fatalf("the manager's pipeline %+v, want the deal in PROPOSAL at 150000.50 weighted 75000.25, no win rate yet", p.Pipeline)
	}
}
