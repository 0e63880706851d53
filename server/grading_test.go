package server_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

const policyQuery = `{ gradingPolicy { version manualHoldDays strongIndustries
	levels { code label rank responseSlaHours followUpIntervalDays description }
	rules { name level description conditions { metric op value } }
	valueFormula { recencyWeight frequencyWeight monetaryWeight assetWeight evaluationWeight
		recencyHorizonDays frequencyReference monetaryReference assetReference }
	tiers { keyPercent majorPercent ordinaryPercent } metrics { name description } } }`

const updatePolicy = `mutation($in: GradingPolicyInput!, $v: Int!) { updateGradingPolicy(input: $in, expectedVersion: $v) {
	version levels { code label responseSlaHours } rules { name } strongIndustries } }`

// policyInput turns the policy as read into the input that writes it back,
// so a client edits what it read.
func policyInput(t *testing.T, raw map[string]any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(raw)
	var in map[string]any
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	delete(in, "version")
	delete(in, "metrics")
	return in
}

func TestGradingPolicyThroughGraphQL(t *testing.T) {
	e := mustEnv(t)
	var out struct{ GradingPolicy map[string]any }
	e.mustDo(t, "sales1", policyQuery, nil, &out)
	if out.GradingPolicy["version"].(float64) != 0 || len(out.GradingPolicy["rules"].([]any)) != 13 ||
		fmt.Sprint(out.GradingPolicy["strongIndustries"]) != "[manufacturing utilities telecom logistics]" {
		t.Fatalf("default policy: %v", out.GradingPolicy)
	}
	in := policyInput(t, out.GradingPolicy)
	in["strongIndustries"] = []string{"Mining", "manufacturing"}
	levels := in["levels"].([]any)
	levels[0].(map[string]any)["label"] = "Strategic"

	if r := e.do(t, "manager", updatePolicy, map[string]any{"in": in, "v": 0}); r.code() != "FORBIDDEN" {
		t.Fatalf("a manager changed the policy: %+v", r.Errors)
	}
	rules := in["rules"].([]any)
	cond := rules[0].(map[string]any)["conditions"].([]any)[0].(map[string]any)
	cond["metric"] = "horoscope"
	if r := e.do(t, "admin", updatePolicy, map[string]any{"in": in, "v": 0}); r.code() != "BAD_USER_INPUT" ||
		r.field() != "input.rules[0].conditions[0].metric" {
		t.Fatalf("unknown metric: %+v", r.Errors)
	}
	cond["metric"] = "transactionCount"
	var upd struct {
		UpdateGradingPolicy struct {
			Version          int
			Levels           []struct{ Code, Label string }
			StrongIndustries []string
		}
	}
	e.mustDo(t, "admin", updatePolicy, map[string]any{"in": in, "v": 0}, &upd)
	if upd.UpdateGradingPolicy.Version != 1 || upd.UpdateGradingPolicy.Levels[0].Label != "Strategic" ||
		fmt.Sprint(upd.UpdateGradingPolicy.StrongIndustries) != "[Mining manufacturing]" {
		t.Fatalf("updated policy: %+v", upd.UpdateGradingPolicy)
	}
	if r := e.do(t, "admin", updatePolicy, map[string]any{"in": in, "v": 0}); r.code() != "CONFLICT" {
		t.Fatalf("a stale edit: %+v", r.Errors)
	}
	// Grade levels everywhere come from the policy in force.
	var levels2 struct {
		GradeLevels []struct{ Code, Label string }
	}
	e.mustDo(t, "sales1", `{ gradeLevels { code label } }`, nil, &levels2)
	if levels2.GradeLevels[0].Label != "Strategic" {
		t.Fatalf("gradeLevels does not follow the policy: %+v", levels2.GradeLevels)
	}
}

func TestWhyAndWhenOfAGradeThroughGraphQL(t *testing.T) {
	e := mustEnv(t)
	id := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": "Explained Ltd", "team": "north"})
	created := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	e.mustLog(t, id, "first call")
	e.drain(t) // the regrade follows from the stream

	var out struct {
		Customer struct {
			Grade struct {
				Level         struct{ Code, Label string }
				Source, Rule  string
				PolicyVersion int
				Metrics       []struct {
					Name  string
					Value float64
				}
			}
			ValueScore  float64
			Then, Never *struct{ To, Rule, Source string }
		}
	}
	e.mustDo(t, "admin", `query($id: ID!, $then: DateTime!, $never: DateTime!) { customer(id: $id) {
		grade { level { code label } source rule policyVersion metrics { name value } }
		valueScore
		then: gradeAt(at: $then) { to rule source }
		never: gradeAt(at: $never) { to }
	} }`, map[string]any{"id": id, "then": created.Format(time.RFC3339Nano), "never": "2001-01-01T00:00:00Z"}, &out)
	g := out.Customer.Grade
	if g.Level.Code != "F" || g.Level.Label != "Unclassified" || g.Source != "RULE" || g.Rule != "contacted" || len(g.Metrics) == 0 {
		t.Fatalf("current grade: %+v", g)
	}
	if out.Customer.Then == nil || out.Customer.Then.To != "G" || out.Customer.Then.Rule != "never-contacted" || out.Customer.Never != nil {
		t.Fatalf("gradeAt: then %+v, before creation %+v", out.Customer.Then, out.Customer.Never)
	}
	if r := e.do(t, "admin", `query($id: ID!) { customer(id: $id) { gradeAt(at: "1969-12-31T00:00:00Z") { to } } }`,
		map[string]any{"id": id}); r.code() != "BAD_USER_INPUT" || r.field() != "at" {
		t.Fatalf("gradeAt before 1970: %+v", r.Errors)
	}
}
