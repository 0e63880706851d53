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
	score := func(u *crm.User, kind crm.EvaluationKind, v float64) error {
		_, err := e.svc.SubmitEvaluation(as(u), crm.EvaluationInput{CustomerID: c.ID, TemplateID: tpl.ID, Kind: kind,
			Scores: []crm.IndicatorScore{{Key: "satisfied", Value: v}}})
		return err
	}
	// The owner may not review their own customer, but may enter a survey.
	if err := score(sales1, crm.EvalInternalReview, 100); code(err) != crm.EFORBIDDEN {
		t.Fatalf("owner's own review: %v", err)
	}
	for _, s := range []struct {
		u *crm.User
		v float64
	}{{sales1, 90}, {manager, 40}, {manager, 60}, {admin, 80}} {
		kind := crm.EvalInternalReview
		if s.u == sales1 {
			kind = crm.EvalCustomerSurvey
		}
		if err := score(s.u, kind, s.v); err != nil {
			t.Fatal(err)
		}
	}
	got := mustCustomer(t, e, c.ID)
	// Each evaluator's newest score counts once: (90 + 60 + 80) / 3.
	if got.SatisfactionIndex == nil || *got.SatisfactionIndex != 76.67 {
		t.Fatalf("satisfaction index = %v, want 76.67", got.SatisfactionIndex)
	}
}
