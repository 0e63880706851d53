package server_test

import (
	"testing"
)

// The pool's deadline and the suggested stage are fields of the customer
// any staff reader sees, derived from what it holds without a read of their
// own (the customer is in the request's loader).
func TestStaffSeeThePoolDeadlineAndTheSuggestedStage(t *testing.T) {
	e := mustEnv(t)
	id := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": "Quiet Valves Co., Ltd.", "team": "north",
		"region": "north", "grade": "C", "ownerId": "sales1"})
	var out struct {
		Customer struct {
			PoolReturn *struct {
				Rule     string
				Days     int
				Since    string
				DueAt    string
				WarnedAt *string
			}
			StageSuggestion *struct{ Stage string }
		}
	}
	e.mustDo(t, "sales1", `query($id: ID!) { customer(id: $id) { poolReturn { rule days since dueAt warnedAt } stageSuggestion { stage } } }`,
		map[string]any{"id": id}, &out)
	pr := out.Customer.PoolReturn
	if pr == nil || pr.Rule != "NO_CONTACT" || pr.Days != 45 || pr.Since == "" || pr.DueAt <= pr.Since || pr.WarnedAt != nil {
		t.Fatalf("poolReturn of a C customer nobody has called: %+v, want NO_CONTACT after 45 days", pr)
	}
	if out.Customer.StageSuggestion != nil {
		t.Fatalf("a customer created a moment ago has a suggested stage: %+v", out.Customer.StageSuggestion)
	}
}
