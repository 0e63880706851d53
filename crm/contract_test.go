package crm

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// TestScheduleAllocatesPaymentsToTheOldestOpenInstalmentFirst pays a plan
// of three instalments out of order and in parts.
func TestScheduleAllocatesPaymentsToTheOldestOpenInstalmentFirst(t *testing.T) {
	plan := []Instalment{{date(2026, 3, 31), 4000000}, {date(2026, 6, 30), 4000000}, {date(2026, 9, 30), 4000000}}
	tests := []struct {
		name     string
		payments []Payment
		want     []string
	}{
		{"NothingPaid", nil, []string{"0.00 -", "0.00 -", "0.00 -"}},
		{"OnePaymentSpansTwo", []Payment{{PaidOn: date(2026, 4, 1), Amount: 5000000}}, []string{"40000.00 2026-04-01", "10000.00 -", "0.00 -"}},
		{"PaidInDateOrderNotRecordOrder", []Payment{{PaidOn: date(2026, 7, 10), Amount: 1500000}, {PaidOn: date(2026, 3, 30), Amount: 4000000}},
			[]string{"40000.00 2026-03-30", "15000.00 -", "0.00 -"}},
		{"AllPaid", []Payment{{PaidOn: date(2026, 3, 1), Amount: 12000000}}, []string{"40000.00 2026-03-01", "40000.00 2026-03-01", "40000.00 2026-03-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Contract{Amount: 12000000, Instalments: plan, Payments: tt.payments}
			var got []string
			for _, in := range c.Schedule() {
				paidOn := "-"
				if in.PaidOn != nil {
					paidOn = in.PaidOn.Format(time.DateOnly)
				}
				if in.Paid+in.Outstanding != in.Amount {
					t.Fatalf("instalment %v: paid %s + outstanding %s is not its amount", in.DueOn, in.Paid, in.Outstanding)
				}
				got = append(got, fmt.Sprintf("%s %s", in.Paid, paidOn))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("schedule %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAgingBucketsAtTheirEdges: due today is current; 1, 30, 31, 90 and
// 91 days overdue fall in their buckets.
func TestAgingBucketsAtTheirEdges(t *testing.T) {
	due := date(2026, 6, 30)
	tests := []struct {
		today time.Time
		want  AgingBucket
	}{
		{date(2026, 6, 1), AgingCurrent}, {due.Add(23 * time.Hour), AgingCurrent}, {date(2026, 7, 1), Aging1To30},
		{date(2026, 7, 30), Aging1To30}, {date(2026, 7, 31), Aging31To90}, {date(2026, 9, 28), Aging31To90}, {date(2026, 9, 29), AgingOver90},
	}
	for _, tt := range tests {
		if got := AgingBucketOf(due, tt.today); got != tt.want {
			t.Errorf("due %s, on %s: %s (%d days), want %s", due.Format(time.DateOnly), tt.today.Format(time.DateOnly), got, DaysOverdue(due, tt.today), tt.want)
		}
	}
}

// TestContractDeltasMoveRevenueAndReceivables: a payment moves collected
// and the outstanding of the instalment it covers; a change of owner
// moves everything between the owners' items and none of the team's.
func TestContractDeltasMoveRevenueAndReceivables(t *testing.T) {
	c := &Contract{OwnerID: "u1", Team: "north", Amount: 10000, Currency: "CNY", SignedOn: date(2026, 3, 5),
		Instalments: []Instalment{{date(2026, 4, 1), 6000}, {date(2026, 5, 1), 4000}}}
	lines := func(ds []PipelineDelta) []string {
		var out []string
		for _, d := range ds {
			out = append(out, fmt.Sprintf("%s%s %s %d", d.Scope.Team, d.Scope.OwnerID, d.Counter, d.N))
		}
		return out
	}
	if got, want := lines(ContractDeltas(nil, c)), []string{
		"u1 booked.2026-03.CNY 10000", "u1 due.2026-04-01.CNY 6000", "u1 due.2026-05-01.CNY 4000", "u1 signed.2026-03 1",
		"north booked.2026-03.CNY 10000", "north due.2026-04-01.CNY 6000", "north due.2026-05-01.CNY 4000", "north signed.2026-03 1",
	}; !slices.Equal(got, want) {
		t.Fatalf("a new contract: %v, want %v", got, want)
	}
	paid := c.Clone()
	paid.Payments = []Payment{{PaidOn: date(2026, 4, 20), Amount: 7000}}
	if got, want := lines(ContractDeltas(c, paid)), []string{
		"u1 collected.2026-04.CNY 7000", "u1 due.2026-04-01.CNY -6000", "u1 due.2026-05-01.CNY -1000",
		"north collected.2026-04.CNY 7000", "north due.2026-04-01.CNY -6000", "north due.2026-05-01.CNY -1000",
	}; !slices.Equal(got, want) {
		t.Fatalf("a payment of 70.00: %v, want %v", got, want)
	}
	moved := paid.Clone()
	moved.OwnerID = "u2"
	if got := lines(ContractDeltas(paid, moved)); len(got) != 8 || slices.ContainsFunc(got, func(l string) bool { return l[:5] == "north" }) {
		t.Fatalf("a change of owner: %v, want the owners' items only", got)
	}
}
