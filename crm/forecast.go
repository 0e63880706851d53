package crm

import (
	"context"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The forecast, the cycle time and the customers won are read from the
// pipeline's counter items too (pipeline_counts.go), from counters that
// the same deltas move in the deal's own transaction:
//
//	fc.<yyyy-mm>.<stage>.<currency>  open deals' amounts by expected close
//	                                 month and stage, in hundredths
//	fcn.<yyyy-mm>                    how many open deals close that month
//	won.days                         whole days from opening to WON, summed
//	won.within.<bucket>              won deals by cycle time (CycleBuckets)
//	custwon.<yyyy-mm>                customers won that month: deals whose
//	                                 win was the customer's first deal
//
// The amounts are kept by stage and not weighted: the stages'
// probabilities are configuration, so the forecast is weighted on read
// with the probabilities in force, as the pipeline is.
const (
	cntForecast   = "fc."
	cntForecastN  = "fcn."
	cntWonDays    = "won.days"
	cntWonWithin  = "won.within."
	cntCustomers  = "custwon."
	cycleOverflow = "more"
)

// CycleBuckets are the upper bounds, in days, of the cycle-time buckets:
// a deal won within 7 days, 8–30, 31–90, 91–180, and more than 180.
var CycleBuckets = []int{7, 30, 90, 180}

// forecastCounts adds to out what o holds in the forecast, cycle-time and
// customers-won counters.
func forecastCounts(o *Opportunity, out map[string]int64) {
	switch {
	case o.Open():
		month := o.ExpectedClose.Format(monthLayout)
		out[cntForecast+month+"."+o.Stage+"."+o.Currency] += int64(o.Amount)
		out[cntForecastN+month]++
	case o.Stage == StageWon && o.ClosedAt != nil:
		days := CycleDays(o)
		out[cntWonDays] += int64(days)
		out[cntWonWithin+cycleBucket(days)]++
		if o.NewCustomer {
			out[cntCustomers+o.ClosedAt.UTC().Format(monthLayout)]++
		}
	}
}

// CycleDays is how many whole days a closed deal took from its opening to
// its close.
func CycleDays(o *Opportunity) int {
	if o.ClosedAt == nil {
		return 0
	}
	return max(0, int(o.ClosedAt.Sub(o.CreatedAt)/(24*time.Hour)))
}

func cycleBucket(days int) string {
	for _, b := range CycleBuckets {
		if days <= b {
			return strconv.Itoa(b)
		}
	}
	return cycleOverflow
}

// CycleTime is how long a scope's won deals took from opening to WON.
// An average and a histogram are what sums can give: the median needs
// every deal's days, which no counter keeps, so MedianWithin names the
// bucket that holds the median instead.
type CycleTime struct {
	Won int
	// AverageDays is the won deals' days summed over their number, to
	// one decimal; nil before any deal was won.
	AverageDays *float64
	// Buckets counts the won deals per CycleBuckets bucket, the last
	// (UpTo 0) for the deals that took longer than the last bound.
	Buckets []CycleBucket
	// MedianWithin is the upper bound of the bucket holding the median
	// deal (0: the open-ended last one); nil before any deal was won.
	MedianWithin *int
}

// CycleBucket counts the deals won within UpTo days (more than the last
// bound when UpTo is 0) and more than the bound before.
type CycleBucket struct {
	UpTo  int
	Count int
}

// CycleTimeFrom reads summed counters as a cycle time.
func CycleTimeFrom(c map[string]int64) CycleTime {
	ct := CycleTime{Won: int(c[cntWon])}
	var counted int
	for _, b := range append(slices.Clone(CycleBuckets), 0) {
		name := cycleOverflow
		if b > 0 {
			name = strconv.Itoa(b)
		}
		n := int(c[cntWonWithin+name])
		ct.Buckets = append(ct.Buckets, CycleBucket{UpTo: b, Count: n})
		counted += n
	}
	if counted == 0 {
		return ct
	}
	ct.AverageDays = ptr(math.Round(float64(c[cntWonDays])/float64(counted)*10) / 10)
	var seen int
	for _, b := range ct.Buckets {
		if seen += b.Count; 2*seen >= counted {
			ct.MedianWithin = ptr(b.UpTo)
			break
		}
	}
	return ct
}

// ForecastMonth is the open deals expected to close in one month (or, for
// Forecast.Overdue and Forecast.Later, in several).
type ForecastMonth struct {
	Month string // YYYY-MM; empty for Overdue and Later
	Count int
	// Amounts per currency, sorted by currency; Weighted sums each
	// stage's amount times its probability in force (a stage no longer
	// configured weighs 0).
	Amounts []CurrencyAmount
}

// Forecast is a scope's open deals by expected close month: the months
// from this one on, what should have closed before this month and has
// not (overdue), and what is expected after the months read.
type Forecast struct {
	// AsOf is the clock's today; its month is the first of Months.
	AsOf    time.Time
	Overdue ForecastMonth
	Months  []ForecastMonth
	Later   ForecastMonth
}

// Bounds of a forecast read, in months from this one.
const (
	DefaultForecastMonths = 6
	MaxForecastMonths     = 24
)

// ForecastFrom reads summed counters as a forecast of months months from
// today's, weighted under policy p.
func ForecastFrom(p PipelinePolicy, c map[string]int64, today time.Time, months int) *Forecast {
	today = closeDate(today)
	first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	f := &Forecast{AsOf: today}
	byMonth := map[string]*ForecastMonth{}
	var keys []string
	for m := range months {
		key := first.AddDate(0, m, 0).Format(monthLayout)
		byMonth[key] = &ForecastMonth{Month: key}
		keys = append(keys, key)
	}
	last := first.AddDate(0, months, 0).Format(monthLayout)
	bucket := func(month string) *ForecastMonth {
		switch {
		case month < first.Format(monthLayout):
			return &f.Overdue
		case month >= last:
			return &f.Later
		}
		return byMonth[month]
	}
	prob := map[string]int{}
	for _, s := range p.Open {
		prob[s.Code] = s.Probability
	}
	amounts := map[*ForecastMonth]map[string]CurrencyAmount{}
	for _, name := range slices.Sorted(maps.Keys(c)) {
		n := c[name]
		if n == 0 {
			continue
		}
		if month, ok := strings.CutPrefix(name, cntForecastN); ok {
			bucket(month).Count += int(n)
			continue
		}
		rest, ok := strings.CutPrefix(name, cntForecast)
		if !ok {
			continue
		}
		month, rest, _ := strings.Cut(rest, ".")
		i := strings.LastIndexByte(rest, '.')
		if i < 0 || !isCurrency(rest[i+1:]) {
			continue
		}
		stage, cur := rest[:i], rest[i+1:]
		fm := bucket(month)
		if amounts[fm] == nil {
			amounts[fm] = map[string]CurrencyAmount{}
		}
		a := amounts[fm][cur]
		a.Currency, a.Amount, a.Weighted = cur, a.Amount+Money(n), a.Weighted+Money(n).Weighted(prob[stage])
		amounts[fm][cur] = a
	}
	for fm, byCur := range amounts {
		for _, cur := range slices.Sorted(maps.Keys(byCur)) {
			fm.Amounts = append(fm.Amounts, byCur[cur])
		}
	}
	for _, key := range keys {
		f.Months = append(f.Months, *byMonth[key])
	}
	return f
}

// SalesForecast reads a scope's open deals by expected close month, from
// this month on for months months (default DefaultForecastMonths), with
// the overdue ones (expected before this month, still open) and the later
// ones apart, amounts weighted by the stages' probabilities in force.
// Scopes as PipelineAnalytics.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) SalesForecast(ctx context.Context, q PipelineQuery, months int) (*Forecast, error) {
	if months == 0 {
		months = DefaultForecastMonths
	}
	if months < 1 || months > MaxForecastMonths {
		return nil, Invalid("months", "must be between 1 and %d (got %d)", MaxForecastMonths, months)
	}
	counters, err := s.scopedCounters(ctx, q, s.Store.PipelineCounters)
	if err != nil {
		return nil, err
	}
	return ForecastFrom(s.Pipeline, counters, s.now(), months), nil
}

// scopedCounters sums, with read, the counter items of the scope q names,
// as salesScope lets the caller read it: the pipeline's, the forecast's
// and the revenue's reads alike.
func (s *Service) scopedCounters(ctx context.Context, q PipelineQuery, read func(context.Context, PipelineCounterQuery) (map[string]int64, error)) (map[string]int64, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	scope, err := salesScope(u, q)
	if err != nil {
		return nil, err
	}
	return read(ctx, scope)
}
