package crm

import (
	"math"
	"math/rand/v2"
	"testing"
)

func satisfactionTemplate() *Template {
	return &Template{ID: "t1", Version: 1, Indicators: []Indicator{
		{Key: "service", Name: "Service", Dimension: DimSatisfaction, Weight: 0.5, ScaleMin: 1, ScaleMax: 5},
		{Key: "repeat", Name: "Repeat purchase", Dimension: DimLoyalty, Weight: 0.3, ScaleMin: 0, ScaleMax: 10},
		{Key: "price", Name: "Price", Dimension: DimSatisfaction, Weight: 0.2, ScaleMin: 0, ScaleMax: 100},
	}}
}

func TestScoreEvaluation(t *testing.T) {
	tests := []struct {
		name    string
		scores  []IndicatorScore
		overall float64
		dims    map[Dimension]float64
		errCode string
		field   string
	}{
		{
			// service 4 on 1–5 → 75; repeat 7 on 0–10 → 70; price 40 → 40.
			// overall = .5*75 + .3*70 + .2*40 = 37.5+21+8 = 66.5
			// satisfaction = (.5*75 + .2*40)/.7 = 45.5/.7 = 65
			name:    "HandComputed",
			scores:  []IndicatorScore{{"service", 4}, {"repeat", 7}, {"price", 40}},
			overall: 66.5, dims: map[Dimension]float64{DimSatisfaction: 65, DimLoyalty: 70},
		},
		{name: "AllMinimumIsZero", scores: []IndicatorScore{{"service", 1}, {"repeat", 0}, {"price", 0}},
			overall: 0, dims: map[Dimension]float64{DimSatisfaction: 0, DimLoyalty: 0}},
		{name: "AllMaximumIsHundred", scores: []IndicatorScore{{"price", 100}, {"service", 5}, {"repeat", 10}},
			overall: 100, dims: map[Dimension]float64{DimSatisfaction: 100, DimLoyalty: 100}},
		{name: "ErrOutOfScale", scores: []IndicatorScore{{"service", 6}, {"repeat", 7}, {"price", 40}},
			errCode: EINVALID, field: "input.scores[0].value"},
		{name: "ErrUnknownIndicator", scores: []IndicatorScore{{"service", 4}, {"nope", 7}},
			errCode: EINVALID, field: "input.scores[1].key"},
		{name: "ErrScoredTwice", scores: []IndicatorScore{{"service", 4}, {"service", 4}},
			errCode: EINVALID, field: "input.scores[1].key"},
		{name: "ErrMissingIndicator", scores: []IndicatorScore{{"service", 4}, {"repeat", 7}},
			errCode: EINVALID, field: "input.scores"},
		{name: "ErrNaN", scores: []IndicatorScore{{"service", math.NaN()}, {"repeat", 7}, {"price", 1}},
			errCode: EINVALID, field: "input.scores[0].value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			overall, dims, err := ScoreEvaluation(satisfactionTemplate(), tt.scores)
			if tt.errCode != "" {
				e, ok := err.(*Error)
				if !ok || e.Code != tt.errCode || e.Field != tt.field {
					t.Fatalf("err = %v, want %s on %s", err, tt.errCode, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if overall != tt.overall {
				t.Errorf("overall = %v, want %v", overall, tt.overall)
			}
			if len(dims) != len(tt.dims) {
				t.Fatalf("dims = %v, want %v", dims, tt.dims)
			}
			for _, d := range dims {
				if d.Score != tt.dims[d.Dimension] {
					t.Errorf("%s = %v, want %v", d.Dimension, d.Score, tt.dims[d.Dimension])
				}
			}
		})
	}
}

// Property: for any template with normalized weights and any in-scale
// scores, every score lies in [0, 100], and scaling all weights' ratios
// leaves the overall score a weighted mean of the dimension scores.
func TestScoreEvaluationProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		n := 1 + r.IntN(8)
		tpl := &Template{ID: "p", Version: 1}
		raw := make([]float64, n)
		sum := 0.0
		for j := range raw {
			raw[j] = 0.01 + r.Float64()
			sum += raw[j]
		}
		scores := make([]IndicatorScore, n)
		for j := range n {
			lo := float64(r.IntN(10)) - 5
			hi := lo + 1 + float64(r.IntN(100))
			tpl.Indicators = append(tpl.Indicators, Indicator{
				Key: string(rune('a' + j)), Dimension: Dimensions[r.IntN(len(Dimensions))],
				Weight: raw[j] / sum, ScaleMin: lo, ScaleMax: hi,
			})
			scores[j] = IndicatorScore{Key: string(rune('a' + j)), Value: lo + r.Float64()*(hi-lo)}
		}
		if err := validateTemplate(&TemplateInput{Name: "p", Indicators: withNames(tpl.Indicators)}); err != nil {
			t.Fatalf("case %d: normalized weights refused: %v", i, err)
		}
		overall, dims, err := ScoreEvaluation(tpl, scores)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if overall < 0 || overall > 100 {
			t.Fatalf("case %d: overall %v out of bounds", i, overall)
		}
		mean := 0.0
		for _, d := range dims {
			if d.Score < 0 || d.Score > 100 {
				t.Fatalf("case %d: %s %v out of bounds", i, d.Dimension, d.Score)
			}
			w := 0.0
			for _, ind := range tpl.Indicators {
				if ind.Dimension == d.Dimension {
					w += ind.Weight
				}
			}
			mean += w * d.Score
		}
		if math.Abs(mean-overall) > 0.02 {
			t.Fatalf("case %d: overall %v is not the weighted mean of dimensions %v", i, overall, mean)
		}
	}
}

func withNames(in []Indicator) []Indicator {
	out := make([]Indicator, len(in))
	for i, ind := range in {
		ind.Name = "n" + ind.Key
		out[i] = ind
	}
	return out
}
