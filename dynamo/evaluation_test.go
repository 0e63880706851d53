package dynamo_test

import (
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

func TestEvaluationFairness(t *testing.T) {
	e := mustEnv(t)
	tpl, err := e.svc.CreateTemplate(as(admin), crm.TemplateInput{Name: "Satisfaction", Indicators: []crm.Indicator{
		{Key: "satisfied", Name: "Satisfied", Dimension: crm.DimSatisfaction, Weight: 1, ScaleMin: 0, ScaleMax: 100},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := mustCreate(t, e, sales1, crm.CustomerInput{Name: "Reviewed", Team: "north"})
	for _, s := range []struct {
		u *crm.User
		v float64
	}{{serviceNorth, 90}, {manager, 40}, {manager, 60}, {admin, 80}} {
		if _, err := e.svc.SubmitEvaluation(as(s.u), crm.EvaluationInput{CustomerID: c.ID, TemplateID: tpl.ID,
			Kind: crm.EvalCustomerSurvey, Scores: []crm.IndicatorScore{{Key: "satisfied", Value: s.v}}}); err != nil {
			t.Fatal(err)
		}
	}
	e.drain(t)
	got := mustCustomer(t, e, c.ID)
	// Each evaluator's newest score counts once: (90 + 60 + 80) / 3.
	if got.SatisfactionIndex == nil || *got.SatisfactionIndex != 76.67 {
		t.Fatalf("satisfaction index = %v, want 76.67", got.SatisfactionIndex)
	}
}

var serviceNorth = &crm.User{ID: "svc-north", Roles: []crm.Role{crm.RoleService}, Teams: []string{"north"}}

// Who may enter which evaluation: the owner none of their own customer's
// (an owner's THIRD_PARTY 100 once moved their customer toward A), and a
// third party's only an admin or the team's manager, naming the party.
func TestEvaluationIntegrity(t *testing.T) {
	e := mustEnv(t)
	tpl := relationshipTemplate(t, e)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Integrity Ltd", Team: "north", OwnerID: &owner})
	tests := []struct {
		name       string
		by         *crm.User
		kind       crm.EvaluationKind
		thirdParty string
		code       string // "" when accepted
		field      string
	}{
		{"OwnerInternalReview", sales1, crm.EvalInternalReview, "", crm.EFORBIDDEN, "input.kind"},
		{"OwnerCustomerSurvey", sales1, crm.EvalCustomerSurvey, "", crm.EFORBIDDEN, "input.kind"},
		{"OwnerThirdParty", sales1, crm.EvalThirdParty, "Dagong Credit Rating", crm.EFORBIDDEN, "input.kind"},
		{"ServiceThirdParty", serviceNorth, crm.EvalThirdParty, "Dagong Credit Rating", crm.EFORBIDDEN, "input.kind"},
		{"ThirdPartyUnnamed", manager, crm.EvalThirdParty, "  ", crm.EINVALID, "input.thirdParty"},
		{"ThirdPartyNamedOnASurvey", serviceNorth, crm.EvalCustomerSurvey, "Dagong Credit Rating", crm.EINVALID, "input.thirdParty"},
		{"ServiceSurvey", serviceNorth, crm.EvalCustomerSurvey, "", "", ""},
		{"ManagerReview", manager, crm.EvalInternalReview, "", "", ""},
		{"ManagerThirdParty", manager, crm.EvalThirdParty, " Dagong Credit Rating ", "", ""},
		{"AdminThirdParty", admin, crm.EvalThirdParty, "Shanghai Audit Partners", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := e.svc.SubmitEvaluation(as(tt.by), crm.EvaluationInput{CustomerID: c.ID, TemplateID: tpl.ID,
				Kind: tt.kind, ThirdParty: tt.thirdParty, Scores: reviewScores(100, 10)})
			if tt.code != "" {
				var ce *crm.Error
				if code(err) != tt.code || !asErr(err, &ce) || ce.Field != tt.field {
					t.Fatalf("submitted %+v, %v; want %s on %s", ev, err, tt.code, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, err := e.svc.Evaluations(as(admin), c.ID, crm.PageRequest{First: 50})
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.kind == crm.EvalThirdParty {
				want = "Dagong Credit Rating"
				if tt.by == admin {
					want = "Shanghai Audit Partners"
				}
			}
			for _, s := range stored.Items {
				if s.ID == ev.ID && (s.ThirdParty != want || s.Kind != tt.kind || s.EvaluatorID != tt.by.ID) {
					t.Fatalf("stored %+v, want third party %q entered by %s", s, want, tt.by.ID)
				}
			}
		})
	}
	// Four accepted evaluations, none the owner's.
	if got, err := e.svc.Evaluations(as(admin), c.ID, crm.PageRequest{First: 50}); err != nil || len(got.Items) != 4 {
		t.Fatalf("evaluations %v, %v; want the four accepted", got, err)
	}
}

// A customer never evaluated is unknown, not 0: its value score is the
// mean of what is known, so a first evaluation moves the score toward
// what it says, and a dissatisfied one does not raise it.
func TestValueScoreWithoutEvaluationLeavesEvaluationOut(t *testing.T) {
	e := mustEnv(t)
	tpl := relationshipTemplate(t, e)
	revenue := 5e7
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Unknown Yet Ltd", Team: "north", AnnualRevenue: &revenue})
	mustLog(t, e, admin, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeTransaction, Amount: ptrTo(80000.0), Currency: "CNY"})
	e.drain(t)
	before := mustCustomer(t, e, c.ID)
	if before.ValueScore == nil || before.SatisfactionIndex != nil {
		t.Fatalf("before any evaluation: value %v, satisfaction %v", before.ValueScore, before.SatisfactionIndex)
	}
	if _, err := e.svc.SubmitEvaluation(as(manager), crm.EvaluationInput{CustomerID: c.ID, TemplateID: tpl.ID,
		Kind: crm.EvalCustomerSurvey, Scores: reviewScores(10, 1)}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	after := mustCustomer(t, e, c.ID)
	if after.ValueScore == nil || *after.ValueScore >= *before.ValueScore {
		t.Fatalf("a dissatisfied first evaluation moved the value score from %v to %v", *before.ValueScore, after.ValueScore)
	}
	if after.AcceptanceIndex == nil || *after.AcceptanceIndex != 10 {
		t.Errorf("acceptance index %v, want 10 (the would-recommend answer 1 on 0–10)", after.AcceptanceIndex)
	}
}
