package crm

import (
	"slices"
	"time"
)

// Dimension is the aspect of the relationship an indicator measures.
type Dimension string

const (
	DimSatisfaction Dimension = "SATISFACTION"
	DimLoyalty      Dimension = "LOYALTY"
	DimTrust        Dimension = "TRUST"
	DimAcceptance   Dimension = "ACCEPTANCE"
	DimCredit       Dimension = "CREDIT"
	DimValue        Dimension = "VALUE"
)

// Dimensions lists every dimension.
var Dimensions = []Dimension{DimSatisfaction, DimLoyalty, DimTrust, DimAcceptance, DimCredit, DimValue}

// Indicator is one weighted measure of an evaluation template.
type Indicator struct {
	Key       string
	Name      string
	Dimension Dimension
	Weight    float64 // the weights of a template sum to 1
	ScaleMin  float64
	ScaleMax  float64
	// NPS marks the would-recommend question (scale 0–10) whose answers
	// make the Net Promoter Score.
	NPS bool
}

// Template is one version of an indicator system. Versions are immutable:
// an edit is a new version, so every evaluation keeps the exact indicators it
// was scored against.
type Template struct {
	ID            string
	Name          string
	Description   string
	Version       int
	LatestVersion int
	Indicators    []Indicator
	CreatedAt     time.Time
	CreatedBy     string
}

// TemplateInput is the data of a new template or template version.
type TemplateInput struct {
	Name        string
	Description string
	Indicators  []Indicator
}

// EvaluationKind says who evaluated.
type EvaluationKind string

const (
	EvalInternalReview EvaluationKind = "INTERNAL_REVIEW"
	EvalCustomerSurvey EvaluationKind = "CUSTOMER_SURVEY"
	EvalThirdParty     EvaluationKind = "THIRD_PARTY"
)

// EvaluationKinds lists every evaluation kind.
var EvaluationKinds = []EvaluationKind{EvalInternalReview, EvalCustomerSurvey, EvalThirdParty}

// IndicatorScore is the raw score given to one indicator, on its scale.
type IndicatorScore struct {
	Key   string
	Value float64
}

// DimensionScore is a computed 0–100 score of one dimension.
type DimensionScore struct {
	Dimension Dimension
	Score     float64
}

// Evaluation is one scored evaluation of a customer against a template
// version. Overall and Dimensions are computed by the server.
type Evaluation struct {
	ID              string // ULID, time part = EvaluatedAt
	CustomerID      string
	TemplateID      string
	TemplateVersion int
	Kind            EvaluationKind
	EvaluatorID     string
	// ThirdParty names the outside party of a THIRD_PARTY evaluation (a
	// rating agency, an auditor): the evaluator only entered it.
	ThirdParty string
	Scores     []IndicatorScore
	Comment    string
	Overall    float64
	Dimensions []DimensionScore
	// NPS is the answer to the template's NPS indicator (0–10), if any.
	NPS *int
	// CaseID links the satisfaction given when a case closed to the case.
	CaseID      string
	EvaluatedAt time.Time
}

// Clone returns a deep copy.
func (e Evaluation) Clone() Evaluation {
	e.Scores = slices.Clone(e.Scores)
	e.Dimensions = slices.Clone(e.Dimensions)
	return e
}

// DimensionScore returns the score of d and whether the evaluation has it.
func (e *Evaluation) DimensionScore(d Dimension) (float64, bool) {
	for _, s := range e.Dimensions {
		if s.Dimension == d {
			return s.Score, true
		}
	}
	return 0, false
}

// EvaluationInput is a submitted evaluation.
type EvaluationInput struct {
	CustomerID      string
	TemplateID      string
	TemplateVersion int // 0: the latest version
	Kind            EvaluationKind
	// ThirdParty is required for, and only for, a THIRD_PARTY evaluation.
	ThirdParty  string
	Scores      []IndicatorScore
	Comment     string
	EvaluatedAt *time.Time // default: now
	// IdempotencyKey, when set, makes a retry return the first result
	// instead of creating again (see Idempotency).
	IdempotencyKey string
}

// RecentEvaluationsKept is how many evaluations the profile carries; the
// rolling indexes are computed from them.
const RecentEvaluationsKept = 5

// CaseSatisfactionTemplateID is the built-in template of the satisfaction
// a customer gives when a case is closed: closing a case records
// it as a CUSTOMER_SURVEY evaluation, so it feeds the satisfaction index.
const CaseSatisfactionTemplateID = "case-satisfaction"

// CaseSatisfactionTemplate returns the built-in case satisfaction template:
// one SATISFACTION indicator on a 1–5 scale.
func CaseSatisfactionTemplate() *Template {
	return &Template{
		ID: CaseSatisfactionTemplateID, Name: "Case handling satisfaction", Version: 1, LatestVersion: 1,
		Description: "The customer's satisfaction with the handling of a case, given when the case is closed.",
		Indicators: []Indicator{{Key: "handling", Name: "Satisfaction with the handling of the case",
			Dimension: DimSatisfaction, Weight: 1, ScaleMin: 1, ScaleMax: 5}},
	}
}
