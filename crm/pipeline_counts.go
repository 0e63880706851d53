package crm

import (
	"maps"
	"slices"
	"strings"
)

// The pipeline's figures are read from counters that the write of an
// opportunity updates in its own transaction (never from the
// opportunities themselves): one counter item per team and one per owner.
// PipelineDeltas says what a write adds to them; PipelineFiguresFrom reads
// them back. Counter names:
//
//	n.<stage>                 open deals in a stage
//	amt.<stage>.<currency>    their amounts, in hundredths
//	won.n, won.amt.<currency> deals won and their amounts
//	lost.n, lost.amt.<currency>, lost.reason.<reason>  deals lost, why
const (
	cntOpen      = "n."
	cntOpenAmt   = "amt."
	cntWon       = "won.n"
	cntWonAmt    = "won.amt."
	cntLostN     = "lost.n"
	cntLostAmt   = "lost.amt."
	cntLostCause = "lost.reason."
)

// PipelineCounterScope is whose pipeline a counter item holds: a team's
// (OwnerID empty) or an owner's across teams (Team empty).
type PipelineCounterScope struct {
	Team    string
	OwnerID string
}

// PipelineDelta adds N to one counter of one scope.
type PipelineDelta struct {
	Scope   PipelineCounterScope
	Counter string
	N       int64
}

// pipelineCounts is what one version of an opportunity holds in the
// counters of each of its scopes.
func pipelineCounts(o *Opportunity) map[string]int64 {
	if o == nil {
		return nil
	}
	var out map[string]int64
	switch o.Stage {
	case StageWon:
		out = map[string]int64{cntWon: 1, cntWonAmt + o.Currency: int64(o.Amount)}
	case StageLostDeal:
		out = map[string]int64{cntLostN: 1, cntLostAmt + o.Currency: int64(o.Amount), cntLostCause + string(o.LossReason): 1}
	default:
		out = map[string]int64{cntOpen + o.Stage: 1, cntOpenAmt + o.Stage + "." + o.Currency: int64(o.Amount)}
	}
	if o.ForecastCounted {
		forecastCounts(o, out) // forecast.go
	}
	return out
}

// PipelineDeltas derives what the move of an opportunity from prev (nil
// for a new one) to next does to the pipeline counters of its team and
// owner, in a fixed order; counters that do not move are left out. A
// version's forecast and cycle-time share counts only when it is
// ForecastCounted: a deal stored before those counters takes out of them
// nothing it never put in, and its first write marked adds its share.
func PipelineDeltas(prev, next *Opportunity) []PipelineDelta {
	var before, after *scopedCounts
	if prev != nil {
		before = &scopedCounts{prev.Team, prev.OwnerID, pipelineCounts(prev)}
	}
	if next != nil {
		after = &scopedCounts{next.Team, next.OwnerID, pipelineCounts(next)}
	}
	return scopedDeltas(before, after)
}

// scopedCounts is what one version of a record holds in the counters of
// its team and of its owner.
type scopedCounts struct {
	team, owner string
	counts      map[string]int64
}

// scopedDeltas is after's counts minus before's (either nil), per scope,
// in a fixed order; counters that do not move are left out.
func scopedDeltas(before, after *scopedCounts) []PipelineDelta {
	sum := map[PipelineCounterScope]map[string]int64{}
	add := func(v *scopedCounts, sign int64) {
		if v == nil {
			return
		}
		for _, sc := range []PipelineCounterScope{{Team: v.team}, {OwnerID: v.owner}} {
			if sum[sc] == nil {
				sum[sc] = map[string]int64{}
			}
			for name, n := range v.counts {
				sum[sc][name] += sign * n
			}
		}
	}
	add(before, -1)
	add(after, 1)
	var out []PipelineDelta
	scopes := slices.SortedFunc(maps.Keys(sum), func(a, b PipelineCounterScope) int {
		return strings.Compare(a.Team+"\x00"+a.OwnerID, b.Team+"\x00"+b.OwnerID)
	})
	for _, sc := range scopes {
		for _, name := range slices.Sorted(maps.Keys(sum[sc])) {
			if n := sum[sc][name]; n != 0 {
				out = append(out, PipelineDelta{Scope: sc, Counter: name, N: n})
			}
		}
	}
	return out
}

// PipelineFigures are a pipeline's state: its open deals by stage, and the
// deals won and lost since it began.
type PipelineFigures struct {
	// Stages are the pipeline's open stages in order; a stage no longer
	// configured that still holds deals follows them.
	Stages []StageFigures
	// Open sums the open stages; its amounts' Weighted sums theirs.
	Open StageFigures
	// Won and Lost count closed deals; WonAmounts and LostAmounts sum
	// them per currency.
	Won, Lost               int
	WonAmounts, LostAmounts []CurrencyAmount
	// LossReasons counts lost deals per reason.
	LossReasons map[LossReason]int
	// Cycle is how long the won deals took (forecast.go).
	Cycle CycleTime
}

// WinRate is won over closed deals, nil before any closed.
func (f *PipelineFigures) WinRate() *float64 {
	if f.Won+f.Lost == 0 {
		return nil
	}
	return ptr(round2(float64(f.Won) / float64(f.Won+f.Lost)))
}

// StageFigures are the open deals of one stage.
type StageFigures struct {
	Stage       string
	Probability int
	Count       int
	// Amounts per currency, sorted by currency.
	Amounts []CurrencyAmount
}

// CurrencyAmount is a sum of amounts in one currency; Weighted is the sum
// weighted by the stage's probability (each stage's sum times its
// probability, rounded half up to the hundredth).
type CurrencyAmount struct {
	Currency string
	Amount   Money
	Weighted Money
}

// PipelineFiguresFrom reads summed counters as figures under policy p.
func PipelineFiguresFrom(p PipelinePolicy, c map[string]int64) *PipelineFigures {
	f := &PipelineFigures{LossReasons: map[LossReason]int{}}
	stages := slices.Clone(p.Open)
	for name, n := range c {
		if code, ok := strings.CutPrefix(name, cntOpen); ok && n != 0 && !slices.ContainsFunc(stages, func(s PipelineStage) bool { return s.Code == code }) {
			stages = append(stages, PipelineStage{Code: code}) // retired from the configuration: weighted at 0
		}
	}
	open := map[string]CurrencyAmount{}
	for _, st := range stages {
		sf := StageFigures{Stage: st.Code, Probability: st.Probability, Count: int(c[cntOpen+st.Code])}
		for _, cur := range currencies(c, cntOpenAmt+st.Code+".") {
			amt := Money(c[cntOpenAmt+st.Code+"."+cur])
			ca := CurrencyAmount{Currency: cur, Amount: amt, Weighted: amt.Weighted(st.Probability)}
			sf.Amounts = append(sf.Amounts, ca)
			t := open[cur]
			t.Currency, t.Amount, t.Weighted = cur, t.Amount+ca.Amount, t.Weighted+ca.Weighted
			open[cur] = t
		}
		f.Stages = append(f.Stages, sf)
		f.Open.Count += sf.Count
	}
	for _, cur := range slices.Sorted(maps.Keys(open)) {
		f.Open.Amounts = append(f.Open.Amounts, open[cur])
	}
	f.Won, f.Lost = int(c[cntWon]), int(c[cntLostN])
	for _, cur := range currencies(c, cntWonAmt) {
		f.WonAmounts = append(f.WonAmounts, CurrencyAmount{Currency: cur, Amount: Money(c[cntWonAmt+cur]), Weighted: Money(c[cntWonAmt+cur])})
	}
	for _, cur := range currencies(c, cntLostAmt) {
		f.LostAmounts = append(f.LostAmounts, CurrencyAmount{Currency: cur, Amount: Money(c[cntLostAmt+cur])})
	}
	for _, r := range LossReasons {
		if n := c[cntLostCause+string(r)]; n != 0 {
			f.LossReasons[r] = int(n)
		}
	}
	f.Cycle = CycleTimeFrom(c)
	return f
}

// currencies lists the currencies of the non-zero counters named prefix +
// currency, sorted.
func currencies(c map[string]int64, prefix string) []string {
	var out []string
	for name, n := range c {
		if cur, ok := strings.CutPrefix(name, prefix); ok && n != 0 && isCurrency(cur) {
			out = append(out, cur)
		}
	}
	slices.Sort(out)
	return out
}
