package crm

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Revenue and receivables are read from counters that every write of a
// contract moves in its own transaction (never from the contracts): one
// counter item per team and one per owner, as for the pipeline
// (pipeline_counts.go). ContractDeltas says what a write adds to them.
// Counter names:
//
//	signed.<yyyy-mm>                 contracts signed in a month
//	booked.<yyyy-mm>.<currency>      their amounts, in hundredths
//	collected.<yyyy-mm>.<currency>   payments received in a month
//	due.<yyyy-mm-dd>.<currency>      what is still outstanding of the
//	                                 instalments due that day
//
// Aging needs no counter of its own: the outstanding amounts by due date
// are bucketed on read by the clock's today, so they age without a write.
const (
	cntSigned    = "signed."
	cntBooked    = "booked."
	cntCollected = "collected."
	cntDue       = "due."
)

const monthLayout = "2006-01"

// contractCounts is what one version of a contract holds in the counters
// of each of its scopes.
func contractCounts(c *Contract) map[string]int64 {
	if !c.Booked() {
		return nil // awaiting approval, or rejected: counts nowhere
	}
	out := map[string]int64{
		cntSigned + c.SignedOn.Format(monthLayout):                    1,
		cntBooked + c.SignedOn.Format(monthLayout) + "." + c.Currency: int64(c.Amount),
	}
	for _, p := range c.Payments {
		out[cntCollected+p.PaidOn.Format(monthLayout)+"."+c.Currency] += int64(p.Amount)
	}
	for _, in := range c.Schedule() {
		if in.Outstanding > 0 {
			out[cntDue+in.DueOn.Format(time.DateOnly)+"."+c.Currency] += int64(in.Outstanding)
		}
	}
	marginCounts(c, out) // performance.go
	return out
}

// ContractDeltas derives what the write of a contract from prev (nil for
// a new one) to next does to the revenue counters of its team and owner,
// in a fixed order; counters that do not move are left out.
func ContractDeltas(prev, next *Contract) []PipelineDelta {
	var before, after *scopedCounts
	if prev != nil {
		before = &scopedCounts{prev.Team, prev.OwnerID, contractCounts(prev)}
	}
	if next != nil {
		after = &scopedCounts{next.Team, next.OwnerID, contractCounts(next)}
	}
	return scopedDeltas(before, after)
}

// AgingFigures are the receivables of one currency by how long they are
// overdue on AsOf.
type AgingFigures struct {
	Currency string
	// Buckets holds the outstanding amount of each of AgingBuckets, in
	// that order.
	Buckets [4]Money
	// Total is every outstanding amount, due or not.
	Total Money
	// Overdue is what is past due (all buckets but CURRENT).
	Overdue Money
}

// ReceivablesAging is a scope's receivables aged on a date.
type ReceivablesAging struct {
	AsOf       time.Time
	Currencies []AgingFigures
}

// ReceivablesAgingFrom buckets the outstanding amounts of summed counters
// by how long they are overdue on today.
func ReceivablesAgingFrom(c map[string]int64, today time.Time) *ReceivablesAging {
	byCur := map[string]*AgingFigures{}
	for name, n := range c {
		rest, ok := strings.CutPrefix(name, cntDue)
		day, cur, ok2 := strings.Cut(rest, ".")
		due, err := time.Parse(time.DateOnly, day)
		if !ok || !ok2 || err != nil || n == 0 || !isCurrency(cur) {
			continue
		}
		f := byCur[cur]
		if f == nil {
			f = &AgingFigures{Currency: cur}
			byCur[cur] = f
		}
		b := slices.Index(AgingBuckets, AgingBucketOf(due, today))
		f.Buckets[b] += Money(n)
		f.Total += Money(n)
		if b > 0 {
			f.Overdue += Money(n)
		}
	}
	out := &ReceivablesAging{AsOf: closeDate(today)}
	for _, cur := range slices.Sorted(maps.Keys(byCur)) {
		out.Currencies = append(out.Currencies, *byCur[cur])
	}
	return out
}

// RevenueMonth is what a scope signed and collected in one month.
type RevenueMonth struct {
	Month     string // YYYY-MM
	Contracts int
	// Booked and Collected are per currency, sorted by currency.
	Booked    []CurrencyAmount
	Collected []CurrencyAmount
}

// MaxRevenueMonths bounds a revenue read.
const MaxRevenueMonths = 36

// RevenueMonthsFrom reads summed counters as the months from to to, both
// inclusive and first of their month, oldest first (months with nothing
// included).
func RevenueMonthsFrom(c map[string]int64, from, to time.Time) []RevenueMonth {
	var out []RevenueMonth
	for m := from; !m.After(to); m = m.AddDate(0, 1, 0) {
		key := m.Format(monthLayout)
		rm := RevenueMonth{Month: key, Contracts: int(c[cntSigned+key])}
		for _, cur := range currencies(c, cntBooked+key+".") {
			n := Money(c[cntBooked+key+"."+cur])
			rm.Booked = append(rm.Booked, CurrencyAmount{Currency: cur, Amount: n, Weighted: n})
		}
		for _, cur := range currencies(c, cntCollected+key+".") {
			n := Money(c[cntCollected+key+"."+cur])
			rm.Collected = append(rm.Collected, CurrencyAmount{Currency: cur, Amount: n, Weighted: n})
		}
		out = append(out, rm)
	}
	return out
}
