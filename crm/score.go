package crm

import (
	"fmt"
	"math"
)

// weightTolerance absorbs the rounding of decimal weights such as 0.1+0.2.
const weightTolerance = 1e-6

// ScoreEvaluation computes an evaluation's overall and per-dimension scores
// from raw indicator scores: each score is normalized to 0–100 on its
// indicator's scale; the overall score is the weighted sum, and a dimension's
// score the weighted mean of its indicators. Every indicator must be scored
// exactly once, within its scale.
func ScoreEvaluation(t *Template, scores []IndicatorScore) (overall float64, dims []DimensionScore, err error) {
	byKey := make(map[string]int, len(t.Indicators))
	for i, ind := range t.Indicators {
		byKey[ind.Key] = i
	}
	seen := make([]bool, len(t.Indicators))
	for i, s := range scores {
		field := fmt.Sprintf("input.scores[%d]", i)
		idx, ok := byKey[s.Key]
		switch {
		case !ok:
			return 0, nil, Invalid(field+".key", "unknown indicator %q in template %s v%d", s.Key, t.ID, t.Version)
		case seen[idx]:
			return 0, nil, Invalid(field+".key", "indicator %q is scored twice", s.Key)
		}
		seen[idx] = true
		ind := t.Indicators[idx]
		if math.IsNaN(s.Value) || s.Value < ind.ScaleMin || s.Value > ind.ScaleMax {
			return 0, nil, Invalid(field+".value", "must be between %s and %s", FormatNumber(ind.ScaleMin), FormatNumber(ind.ScaleMax))
		}
		if ind.NPS && s.Value != math.Trunc(s.Value) {
			return 0, nil, Invalid(field+".value", "must be a whole number from 0 to 10 (indicator %q is an NPS question)", ind.Key)
		}
	}
	for i, ok := range seen {
		if !ok {
			return 0, nil, Invalid("input.scores", "indicator %q is not scored", t.Indicators[i].Key)
		}
	}

	weightSum := map[Dimension]float64{}
	weighted := map[Dimension]float64{}
	for _, s := range scores {
		ind := t.Indicators[byKey[s.Key]]
		norm := (s.Value - ind.ScaleMin) / (ind.ScaleMax - ind.ScaleMin) * 100
		overall += ind.Weight * norm
		weightSum[ind.Dimension] += ind.Weight
		weighted[ind.Dimension] += ind.Weight * norm
	}
	for _, d := range Dimensions {
		if w := weightSum[d]; w > 0 {
			dims = append(dims, DimensionScore{Dimension: d, Score: round2(weighted[d] / w)})
		}
	}
	return round2(clamp(overall, 0, 100)), dims, nil
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// round2 keeps scores to two decimals so that stored and recomputed values
// compare equal.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// NPSAnswer returns the answer to t's NPS indicator among scores (already
// checked by ScoreEvaluation), or nil when t has none.
func NPSAnswer(t *Template, scores []IndicatorScore) *int {
	for _, ind := range t.Indicators {
		if !ind.NPS {
			continue
		}
		for _, s := range scores {
			if s.Key == ind.Key {
				n := int(s.Value)
				return &n
			}
		}
	}
	return nil
}

// NetPromoterScore is the percentage of promoters (answers 9–10) minus
// the percentage of detractors (0–6), from -100 to 100.
func NetPromoterScore(answers []int) float64 {
	if len(answers) == 0 {
		return 0
	}
	promoters, detractors := 0, 0
	for _, a := range answers {
		switch {
		case a >= 9:
			promoters++
		case a <= 6:
			detractors++
		}
	}
	return round2(100 * float64(promoters-detractors) / float64(len(answers)))
}
