package crm

import (
	"slices"
	"testing"
	"time"
)

func TestParseSalesPeriodSpansItsMonths(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"2026-03", []string{"2026-03"}},
		{"2026-Q1", []string{"2026-01", "2026-02", "2026-03"}},
		{"2026-Q4", []string{"2026-10", "2026-11", "2026-12"}},
		{"2026", []string{"2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"}},
		{"2026-13", nil}, {"2026-Q5", nil}, {"26", nil}, {"1969", nil}, {"", nil},
	} {
		p, err := ParseSalesPeriod("period", c.in)
		if c.want == nil {
			if ErrorCode(err) != EINVALID {
				t.Errorf("%q: %v, want BAD_USER_INPUT", c.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(p.Months, c.want) {
			t.Errorf("%q: %v %v, want %v", c.in, p.Months, err, c.want)
		}
	}
}

func TestCycleTimeNamesTheMedianBucketFromCounts(t *testing.T) {
	for _, c := range []struct {
		name     string
		counters map[string]int64
		avg      *float64
		median   *int
	}{
		{"nothing won", map[string]int64{}, nil, nil},
		{"one quick deal", map[string]int64{cntWonDays: 3, cntWonWithin + "7": 1}, ptr(3.0), ptr(7)},
		{"median past the last bound", map[string]int64{cntWonDays: 800, cntWonWithin + "30": 1, cntWonWithin + "more": 2}, ptr(266.7), ptr(0)},
		{"two of four within 90", map[string]int64{cntWonDays: 200, cntWonWithin + "30": 1, cntWonWithin + "90": 1, cntWonWithin + "180": 2}, ptr(50.0), ptr(90)},
	} {
		ct := CycleTimeFrom(c.counters)
		if !eqPtr(ct.AverageDays, c.avg) || !eqPtr(ct.MedianWithin, c.median) {
			t.Errorf("%s: average %v median within %v, want %v %v", c.name, deref2(ct.AverageDays), deref2(ct.MedianWithin), deref2(c.avg), deref2(c.median))
		}
	}
}

func eqPtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func deref2[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestForecastWeighsOnReadAndKeepsOverdueApart(t *testing.T) {
	p := PipelinePolicy{Open: []PipelineStage{{"QUALIFY", 10}, {"PROPOSAL", 50}}}
	c := map[string]int64{}
	for _, o := range []*Opportunity{
		{Stage: "QUALIFY", Amount: 100000, Currency: "CNY", ExpectedClose: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
		{Stage: "PROPOSAL", Amount: 300, Currency: "CNY", ExpectedClose: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{Stage: "RETIRED", Amount: 5000, Currency: "CNY", ExpectedClose: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)},
		{Stage: "PROPOSAL", Amount: 700, Currency: "USD", ExpectedClose: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		forecastCounts(o, c)
	}
	f := ForecastFrom(p, c, time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC), 2)
	line := func(m ForecastMonth) []any {
		out := []any{m.Month, m.Count}
		for _, a := range m.Amounts {
			out = append(out, a.Currency, a.Amount.String(), a.Weighted.String())
		}
		return out
	}
	got := [][]any{line(f.Overdue), line(f.Months[0]), line(f.Months[1]), line(f.Later)}
	// The retired stage weighs 0; 3.00 at 50% is 1.50.
	want := [][]any{{"", 1, "CNY", "1000.00", "100.00"}, {"2026-03", 2, "CNY", "53.00", "1.50"}, {"2026-04", 0}, {"", 1, "USD", "7.00", "3.50"}}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("line %d: %v, want %v", i, got[i], want[i])
		}
	}
}
