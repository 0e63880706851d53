package crm

import (
	"strings"
	"testing"
	"time"
)

// creditContract is a contract of 36,000.00 CNY signed on 1 March 2026 in
// three instalments of 12,000.00 due on the last days of March, April and
// May, with the given payments (date, hundredths).
func creditContract(id string, pays ...Payment) *Contract {
	return &Contract{ID: id, CustomerID: "c1", Amount: 36_000_00, Currency: "CNY", SignedOn: date(2026, 3, 1),
		Instalments: []Instalment{{date(2026, 3, 31), 12_000_00}, {date(2026, 4, 30), 12_000_00}, {date(2026, 5, 31), 12_000_00}},
		Payments:    pays}
}

func paid(y, m, d int, amount Money) Payment {
	return Payment{PaidOn: date(y, monthOf(m), d), Amount: amount}
}

func monthOf(m int) time.Month { return time.Month(m) }

// TestCreditRuleGivesTheBestLevelWhoseConditionsHoldAndSaysWhy reads the
// default policy's verdict on payment histories, with the words it gives.
func TestCreditRuleGivesTheBestLevelWhoseConditionsHoldAndSaysWhy(t *testing.T) {
	p := &DefaultCreditPolicy
	tests := []struct {
		name      string
		contracts []*Contract
		today     [3]int
		level     string
		says      []string
	}{
		{"NoHistoryIsBBB", nil, [3]int{2026, 3, 1}, "BBB",
			[]string{"no instalment paid yet", "not A: 0 instalments paid on time, it needs 1"}},
		{"NothingDueYetIsBBB", []*Contract{creditContract("K1")}, [3]int{2026, 3, 15}, "BBB",
			[]string{"no instalment paid yet"}},
		{"OnePaidOnTimeIsA", []*Contract{creditContract("K1", paid(2026, 3, 30, 12_000_00))}, [3]int{2026, 4, 10}, "A",
			[]string{"1 instalments paid on time, none late in the last 365 days", "not AA: 1 instalments paid on time, it needs 3"}},
		{"AllThreeOnTimeIsAA", []*Contract{creditContract("K1", paid(2026, 3, 31, 36_000_00))}, [3]int{2026, 6, 10}, "AA",
			[]string{"3 instalments paid on time", "not AAA: 3 instalments paid on time, it needs 6"}},
		{"PaidTenDaysLateIsBBB", []*Contract{creditContract("K1", paid(2026, 4, 10, 12_000_00))}, [3]int{2026, 4, 20}, "BBB",
			[]string{"instalment 1 of contract K1 paid 10 days late", "not A: 0 instalments paid on time, it needs 1"}},
		{"HalfPaidAndFortyFiveDaysOverdueIsBB",
			[]*Contract{creditContract("K1", paid(2026, 3, 31, 12_000_00), paid(2026, 5, 20, 6_000_00))}, [3]int{2026, 6, 14}, "BB",
			[]string{"instalment 2 of contract K1 45 days overdue, 6,000.00 CNY outstanding", "not BBB: 45 days late, it allows 30"}},
		{"NinetyOneDaysOverdueIsC", []*Contract{creditContract("K1")}, [3]int{2026, 6, 30}, "C",
			[]string{"instalment 1 of contract K1 91 days overdue, 12,000.00 CNY outstanding", "36,000.00 CNY overdue in all", "not B: 91 days late, it allows 90"}},
		{"LatenessOutsideTheLookbackIsForgotten", []*Contract{creditContract("K1", paid(2026, 5, 30, 36_000_00))}, [3]int{2027, 6, 1}, "A",
			[]string{"1 instalments paid on time"}},
		{"OverdueAmountAboveBBBsBoundIsBB",
			[]*Contract{{ID: "K2", Amount: 200_000_00, Currency: "CNY", SignedOn: date(2026, 3, 1), Instalments: []Instalment{{date(2026, 3, 31), 200_000_00}}}},
			[3]int{2026, 4, 5}, "BB", []string{"200,000.00 CNY overdue in all", "not BBB: 200,000.00 CNY overdue, it allows 100,000.00"}},
		{"AContractAwaitingApprovalCountsNothing",
			[]*Contract{{ID: "K3", Amount: 1000, Currency: "CNY", SignedOn: date(2026, 3, 1), Instalments: []Instalment{{date(2026, 3, 2), 1000}},
				Approval: &ContractApproval{Status: ApprovalPending}}}, [3]int{2026, 6, 1}, "BBB", []string{"no instalment paid yet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			today := date(tt.today[0], monthOf(tt.today[1]), tt.today[2])
			v := p.Evaluate(CreditFactsOf(p, tt.contracts, today))
			if v.Level != tt.level {
				t.Fatalf("level %s (%s), want %s", v.Level, v.Explanation, tt.level)
			}
			for _, s := range tt.says {
				if !strings.Contains(v.Explanation, s) {
					t.Errorf("explanation %q does not say %q", v.Explanation, s)
				}
			}
		})
	}
}

// TestCreditFactsSayWhenTimeAloneChangesThem: the day after the next due
// date while nothing is overdue, tomorrow while something is.
func TestCreditFactsSayWhenTimeAloneChangesThem(t *testing.T) {
	p := &DefaultCreditPolicy
	for _, tt := range []struct {
		name  string
		k     *Contract
		today [3]int
		want  [3]int
	}{
		{"NextDueDate", creditContract("K1", paid(2026, 3, 31, 12_000_00)), [3]int{2026, 4, 10}, [3]int{2026, 5, 1}},
		{"TomorrowWhileOverdue", creditContract("K1"), [3]int{2026, 4, 10}, [3]int{2026, 4, 11}},
		{"LatenessLeavingTheLookback", creditContract("K1", paid(2026, 6, 30, 36_000_00)), [3]int{2026, 7, 1}, [3]int{2027, 4, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := CreditFactsOf(p, []*Contract{tt.k}, date(tt.today[0], monthOf(tt.today[1]), tt.today[2]))
			if want := date(tt.want[0], monthOf(tt.want[1]), tt.want[2]); !f.ReviewAt.Equal(want) {
				t.Fatalf("review on %v, want %v", f.ReviewAt, want)
			}
		})
	}
}

// TestCreditExceededNamesTheRuleAndByHowMuch checks a new contract against
// a level's terms and limit.
func TestCreditExceededNamesTheRuleAndByHowMuch(t *testing.T) {
	p := &DefaultCreditPolicy
	level := func(code string) CreditLevel { l, _ := p.Level(code); return l }
	k := func(amount Money, cur string, dues ...[3]int) *Contract {
		c := &Contract{ID: "N", Amount: amount, Currency: cur, SignedOn: date(2026, 3, 1)}
		for _, d := range dues {
			c.Instalments = append(c.Instalments, Instalment{DueOn: date(d[0], monthOf(d[1]), d[2]), Amount: amount / Money(len(dues))})
		}
		return c
	}
	for _, tt := range []struct {
		name  string
		level string
		c     *Contract
		owed  Money
		want  []string
	}{
		{"WithinTermsAndLimit", "BBB", k(500_000_00, "CNY", [3]int{2026, 3, 31}, [3]int{2026, 6, 30}), 100_000_00, nil},
		{"OverTheLimit", "BBB", k(800_000_00, "CNY", [3]int{2026, 4, 1}), 450_000_00,
			[]string{"limit: 450,000.00 CNY outstanding plus this contract's 800,000.00 is 1,250,000.00, credit level BBB's limit is 1,000,000.00 (250,000.00 over)"}},
		{"OverTheTerms", "BB", k(1000_00, "CNY", [3]int{2026, 3, 31}, [3]int{2026, 6, 30}), 0,
			[]string{"terms: the plan gives 91 credit days, credit level BB allows 60 (31 over)"}},
		{"AnyCreditToAPrepaymentLevel", "C", k(1000_00, "CNY", [3]int{2026, 3, 2}), 0,
			[]string{"terms: credit level C pays in advance, the plan gives 1 credit days"}},
		{"PrepaidOnSigning", "C", k(9_000_000_00, "CNY", [3]int{2026, 3, 1}), 0, nil},
		{"BothAtOnce", "B", k(200_000_00, "CNY", [3]int{2026, 5, 1}), 0, []string{"terms:", "limit:"}},
		{"AnotherCurrencyCountsForTermsOnly", "B", k(9_000_000_00, "USD", [3]int{2026, 3, 20}), 0, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := CreditExceeded(p, level(tt.level), tt.c, tt.owed)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("got %q, want %q", got[i], tt.want[i])
				}
			}
		})
	}
}

// TestParseCreditPolicyReadsLevelsAndRefusesBadOnes checks CREDIT_LEVELS.
func TestParseCreditPolicyReadsLevelsAndRefusesBadOnes(t *testing.T) {
	p, err := ParseCreditPolicy("A:90:2000000:15:0:1,B:30:100000:-:-:0,C:PREPAY:0")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.Level("A")
	if a.CreditDays != 90 || a.Limit != 2_000_000_00 || a.MaxDaysLate != 15 || a.MaxOverdue != 0 || a.MinPaidOnTime != 1 {
		t.Fatalf("A: %+v", a)
	}
	if c, _ := p.Level("C"); !c.Prepayment || c.MaxDaysLate >= 0 {
		t.Fatalf("C: %+v", c)
	}
	for _, bad := range []string{"A:30:1", "A:x:1,C:PREPAY:0", "A:30:1:a:0:0,C:PREPAY:0", "A:30:1,C:PREPAY:0:5:0:0", "A:30:1,A:20:1"} {
		if _, err := ParseCreditPolicy(bad); ErrorCode(err) != EINVALID {
			t.Errorf("%q: %v, want BAD_USER_INPUT", bad, err)
		}
	}
}

// TestCreditFactsAreForThoseWhoWorkTheCustomersSales: the rule's facts
// name contracts and their amounts, so a salesperson who reads a pool
// customer (or a colleague's, where allowed) gets the level without them.
func TestCreditFactsAreForThoseWhoWorkTheCustomersSales(t *testing.T) {
	owned := &Customer{ID: "C1", Team: "north", OwnerID: "sales-1"}
	pool := &Customer{ID: "C2", Team: "north"}
	for _, tc := range []struct {
		name string
		u    *User
		cu   *Customer
		want bool
	}{
		{"TheOwner", &User{ID: "sales-1", Roles: []Role{RoleSales}, Teams: []string{"north"}}, owned, true},
		{"ASalespersonOnAPoolCustomer", &User{ID: "sales-2", Roles: []Role{RoleSales}, Teams: []string{"north"}}, pool, false},
		{"TheTeamsManager", &User{ID: "m", Roles: []Role{RoleManager}, Teams: []string{"north"}}, pool, true},
		{"AnotherTeamsManager", &User{ID: "m2", Roles: []Role{RoleManager}, Teams: []string{"south"}}, owned, false},
		{"AnAuditor", &User{ID: "a", Roles: []Role{RoleAuditor}}, owned, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := readsCreditFacts(tc.u, tc.cu); got != tc.want {
				t.Fatalf("reads the facts = %v, want %v", got, tc.want)
			}
		})
	}
}
