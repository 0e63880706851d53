package crm

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Credit levels (docs/credit.md): each customer stands at one level of the
// credit policy, which carries its payment terms (credit days, or
// prepayment) and its credit limit. A rule sets the level from the
// customer's payment history; ADMIN or the team's MANAGER may set it by
// hand with a reason. A contract that goes beyond the level's terms or
// limit waits for a manager's approval before it counts.

// CreditLevel is one level of the credit policy: its terms, and the
// conditions of the rule that gives it.
type CreditLevel struct {
	Code  string
	Label string
	// Prepayment: the customer pays before delivery; no credit is given,
	// so every instalment must be due on the signed date and the limit
	// does not apply.
	Prepayment bool
	// CreditDays is the longest the level lets any instalment wait: from
	// the signed date to the first due date, and between two due dates.
	CreditDays int
	// Limit bounds what the customer may owe in the policy's currency: the
	// outstanding amounts of its contracts plus a new contract's.
	Limit Money
	// The rule's conditions, all of which must hold for the level; the
	// policy's last level has none (it is where the others end).
	// MaxDaysLate bounds the worst lateness within the policy's lookback:
	// of instalments paid late, and of open ones overdue today. Negative:
	// no bound.
	MaxDaysLate int
	// MaxOverdue bounds what is overdue today, in the policy's currency.
	// Negative: no bound.
	MaxOverdue Money
	// MinPaidOnTime is how many instalments, ever, must have been paid in
	// full by their due date.
	MinPaidOnTime int
}

// Terms says the level's payment terms in words.
func (l CreditLevel) Terms() string {
	if l.Prepayment {
		return "prepayment"
	}
	return fmt.Sprintf("%d credit days", l.CreditDays)
}

// CreditPolicy is the credit levels in force, best first.
type CreditPolicy struct {
	// Currency is the currency of the limits and of the overdue amounts
	// the rule counts; contracts in another currency count for the terms
	// and the days late, not for the limit (no exchange rates are kept).
	Currency string
	// LookbackDays is how far back a late payment still counts.
	LookbackDays int
	Levels       []CreditLevel
}

// DefaultCreditPolicy is the built-in policy: seven levels from AAA to C.
// A customer without payment history meets BBB's conditions and none
// better: quarterly instalments and a million yuan, the terms a new
// customer is given. Paying on time earns longer terms and more credit;
// lateness loses them; C pays in advance.
var DefaultCreditPolicy = CreditPolicy{Currency: DefaultCurrency, LookbackDays: 365, Levels: []CreditLevel{
	{Code: "AAA", Label: "Excellent", CreditDays: 180, Limit: 10_000_000_00, MaxDaysLate: 0, MaxOverdue: 0, MinPaidOnTime: 6},
	{Code: "AA", Label: "Very good", CreditDays: 150, Limit: 5_000_000_00, MaxDaysLate: 7, MaxOverdue: 0, MinPaidOnTime: 3},
	{Code: "A", Label: "Good", CreditDays: 120, Limit: 2_000_000_00, MaxDaysLate: 15, MaxOverdue: 0, MinPaidOnTime: 1},
	{Code: "BBB", Label: "Standard", CreditDays: 100, Limit: 1_000_000_00, MaxDaysLate: 30, MaxOverdue: 100_000_00},
	{Code: "BB", Label: "Watch", CreditDays: 60, Limit: 500_000_00, MaxDaysLate: 60, MaxOverdue: 500_000_00},
	{Code: "B", Label: "Weak", CreditDays: 30, Limit: 100_000_00, MaxDaysLate: 90, MaxOverdue: -1},
	{Code: "C", Label: "Prepayment only", Prepayment: true, MaxDaysLate: -1, MaxOverdue: -1},
}}

// Level returns the policy's level with the code.
func (p *CreditPolicy) Level(code string) (CreditLevel, bool) {
	i := slices.IndexFunc(p.Levels, func(l CreditLevel) bool { return l.Code == code })
	if i < 0 {
		return CreditLevel{}, false
	}
	return p.Levels[i], true
}

func (p *CreditPolicy) codes() string {
	var cs []string
	for _, l := range p.Levels {
		cs = append(cs, l.Code)
	}
	return strings.Join(cs, ", ")
}

// ParseCreditPolicy reads CREDIT_LEVELS: the levels best first, separated
// by commas, each CODE:TERMS:LIMIT[:MAXLATE:MAXOVERDUE:MINONTIME] where
// TERMS is a number of credit days or PREPAY, LIMIT a decimal amount of
// CNY, MAXLATE days and MAXOVERDUE a decimal amount (empty or "-": no
// bound), MINONTIME a count. The last level takes no conditions.
func ParseCreditPolicy(s string) (CreditPolicy, error) {
	p := CreditPolicy{Currency: DefaultCurrency, LookbackDays: DefaultCreditPolicy.LookbackDays}
	for i, part := range strings.Split(s, ",") {
		f := strings.Split(strings.TrimSpace(part), ":")
		field := fmt.Sprintf("levels[%d]", i)
		if len(f) != 3 && len(f) != 6 {
			return p, Invalid(field, "must be CODE:TERMS:LIMIT or CODE:TERMS:LIMIT:MAXLATE:MAXOVERDUE:MINONTIME (got %q)", part)
		}
		l := CreditLevel{Code: strings.TrimSpace(f[0]), MaxDaysLate: -1, MaxOverdue: -1}
		l.Label = l.Code
		if l.Code == "" || len(l.Code) > 8 || strings.ContainsAny(l.Code, " #") {
			return p, Invalid(field, "needs a code of 1 to 8 characters without spaces (got %q)", f[0])
		}
		if _, dup := p.Level(l.Code); dup {
			return p, Invalid(field, "repeats the code %s", l.Code)
		}
		if strings.EqualFold(f[1], "PREPAY") {
			l.Prepayment = true
		} else if n, err := strconv.Atoi(f[1]); err != nil || n < 0 || n > 3650 {
			return p, Invalid(field, "terms must be PREPAY or 0 to 3650 credit days (got %q)", f[1])
		} else {
			l.CreditDays = n
		}
		var ok bool
		if l.Limit, ok = ParseMoney(f[2]); !ok {
			return p, Invalid(field, "limit must be a decimal amount (got %q)", f[2])
		}
		if len(f) == 6 {
			if f[3] != "" && f[3] != "-" {
				n, err := strconv.Atoi(f[3])
				if err != nil || n < 0 {
					return p, Invalid(field, "MAXLATE must be a number of days, or - for no bound (got %q)", f[3])
				}
				l.MaxDaysLate = n
			}
			if f[4] != "" && f[4] != "-" {
				if l.MaxOverdue, ok = ParseMoney(f[4]); !ok {
					return p, Invalid(field, "MAXOVERDUE must be a decimal amount, or - for no bound (got %q)", f[4])
				}
			}
			n, err := strconv.Atoi(f[5])
			if err != nil || n < 0 {
				return p, Invalid(field, "MINONTIME must be a count (got %q)", f[5])
			}
			l.MinPaidOnTime = n
		}
		p.Levels = append(p.Levels, l)
	}
	if len(p.Levels) < 2 {
		return p, Invalid("levels", "must list at least two levels")
	}
	if last := p.Levels[len(p.Levels)-1]; last.MaxDaysLate >= 0 || last.MaxOverdue >= 0 || last.MinPaidOnTime > 0 {
		return p, Invalid("levels", "the last level, %s, must take no conditions: it is where the rule ends", last.Code)
	}
	return p, nil
}

// CreditSource says what set a credit level.
type CreditSource string

const (
	// CreditRule: the rule, from the payment history.
	CreditRule CreditSource = "RULE"
	// CreditManual: set by hand, with a reason.
	CreditManual CreditSource = "MANUAL"
)

// CreditState is a customer's credit level and why it has it. The rule's
// own verdict is kept beside a level set by hand, so that what the history
// says is visible while the hand holds.
type CreditState struct {
	CustomerID string
	Level      string
	Source     CreditSource
	// Explanation says why: the rule's facts in words, or the reason
	// given with a level set by hand.
	Explanation string
	// Since is when the level took effect; By who set it (a user, or
	// "system" for the job).
	Since time.Time
	By    string
	// Until, on a level set by hand, is the day the rule takes over again
	// (nil: until cleared).
	Until *time.Time
	// RuleLevel and RuleExplanation are the rule's verdict at EvaluatedAt.
	RuleLevel       string
	RuleExplanation string
	EvaluatedAt     time.Time
	// ReviewAt is when time alone may change the verdict (an instalment
	// falling due, lateness leaving the lookback, a hand's hold ending):
	// the daily job evaluates the customer again then. Zero: never.
	ReviewAt time.Time
	// Reviewing: a write of one of the customer's contracts asked for an
	// evaluation that has not been stored since.
	Reviewing bool
	// Version is 0 for a customer never evaluated (nothing stored).
	Version int
	// ContractWrites counts the writes of the customer's contracts. A
	// credit check and a stored evaluation hold only while it stays what
	// they read (Change.CreditSeen): a contract written meanwhile makes
	// them read the contracts again.
	ContractWrites int
}

// Manual reports whether a level set by hand holds on today.
func (c *CreditState) Manual(today time.Time) bool {
	return c.Source == CreditManual && (c.Until == nil || closeDate(today).Before(*c.Until))
}

// CreditChange is one entry of a customer's credit history.
type CreditChange struct {
	ID         string // ULID, time part = At
	CustomerID string
	From       string // empty for the first
	To         string
	Source     CreditSource
	// Explanation is the rule's facts in words, or the reason given by
	// hand.
	Explanation string
	Until       *time.Time
	By          string
	At          time.Time
}

// CreditFacts are what the rule reads of a customer's payment history on
// a day.
type CreditFacts struct {
	// PaidOnTime counts instalments paid in full by their due date, ever.
	PaidOnTime int
	// WorstLate is the worst lateness in days within the lookback, of
	// instalments paid late or still open past their due date; Worst says
	// which instalment in words.
	WorstLate int
	Worst     string
	// Overdue is what is past due today, in the policy's currency.
	Overdue Money
	// Outstanding is everything still to be paid, in the policy's
	// currency: what counts against the limit.
	Outstanding Money
	// ReviewAt is the first day after today on which time alone changes
	// the facts; zero when none does.
	ReviewAt time.Time
}

// CreditFactsOf reads the facts from a customer's contracts on today; a
// contract awaiting approval or rejected has no instalments yet.
func CreditFactsOf(p *CreditPolicy, contracts []*Contract, today time.Time) CreditFacts {
	today = closeDate(today)
	since := today.AddDate(0, 0, -p.LookbackDays)
	var f CreditFacts
	review := func(t time.Time) {
		if t.After(today) && (f.ReviewAt.IsZero() || t.Before(f.ReviewAt)) {
			f.ReviewAt = t
		}
	}
	for _, c := range contracts {
		if !c.Booked() {
			continue
		}
		ours := c.Currency == p.Currency
		if ours {
			f.Outstanding += c.Outstanding()
		}
		for i, in := range c.Schedule() {
			late, what := 0, ""
			switch {
			case in.PaidOn != nil:
				late = DaysOverdue(in.DueOn, *in.PaidOn)
				if late == 0 {
					f.PaidOnTime++
				}
				if in.DueOn.Before(since) {
					late = 0 // out of the lookback
				} else if late > 0 {
					review(in.DueOn.AddDate(0, 0, p.LookbackDays+1))
					what = fmt.Sprintf("instalment %d of contract %s paid %d days late", i+1, c.ID, late)
				}
			case in.DueOn.Before(today):
				late = DaysOverdue(in.DueOn, today)
				if ours {
					f.Overdue += in.Outstanding
				}
				review(today.AddDate(0, 0, 1))
				what = fmt.Sprintf("instalment %d of contract %s %d days overdue, %s %s outstanding", i+1, c.ID, late, groupDigits(in.Outstanding), c.Currency)
			default:
				review(in.DueOn.AddDate(0, 0, 1))
			}
			if late > f.WorstLate {
				f.WorstLate, f.Worst = late, what
			}
		}
	}
	return f
}

// CreditVerdict is the rule's level for some facts, in words.
type CreditVerdict struct {
	Level       string
	Explanation string
}

// Evaluate gives the first level, best first, whose conditions the facts
// meet, and explains it: the facts, and what kept the customer from the
// level above.
func (p *CreditPolicy) Evaluate(f CreditFacts) CreditVerdict {
	for i, l := range p.Levels {
		if i < len(p.Levels)-1 && creditMiss(p, l, f) != "" {
			continue
		}
		var why []string
		switch {
		case f.Worst != "":
			why = append(why, f.Worst)
		case f.PaidOnTime == 0:
			why = append(why, "no instalment paid yet")
		default:
			why = append(why, fmt.Sprintf("%d instalments paid on time, none late in the last %d days", f.PaidOnTime, p.LookbackDays))
		}
		if f.Overdue > 0 {
			why = append(why, fmt.Sprintf("%s %s overdue in all", groupDigits(f.Overdue), p.Currency))
		}
		if i > 0 {
			why = append(why, "not "+p.Levels[i-1].Code+": "+creditMiss(p, p.Levels[i-1], f))
		}
		return CreditVerdict{Level: l.Code, Explanation: strings.Join(why, "; ")}
	}
	return CreditVerdict{} // unreachable: the last level always holds
}

// creditMiss says which condition of l the facts fail, "" when none.
func creditMiss(p *CreditPolicy, l CreditLevel, f CreditFacts) string {
	switch {
	case l.MaxDaysLate >= 0 && f.WorstLate > l.MaxDaysLate:
		return fmt.Sprintf("%d days late, it allows %d", f.WorstLate, l.MaxDaysLate)
	case l.MaxOverdue >= 0 && f.Overdue > l.MaxOverdue:
		return fmt.Sprintf("%s %s overdue, it allows %s", groupDigits(f.Overdue), p.Currency, groupDigits(l.MaxOverdue))
	case f.PaidOnTime < l.MinPaidOnTime:
		return fmt.Sprintf("%d instalments paid on time, it needs %d", f.PaidOnTime, l.MinPaidOnTime)
	}
	return ""
}

// groupDigits writes an amount with thousands separators, e.g.
// "12,000.00": for explanations read by people.
func groupDigits(m Money) string {
	s := m.String()
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + "." + frac
}

// ApprovalStatus is where a contract stands with its approval.
type ApprovalStatus string

const (
	// ApprovalPending: the contract goes beyond the customer's credit
	// terms or limit and waits for a manager; it counts nowhere yet.
	ApprovalPending ApprovalStatus = "PENDING_APPROVAL"
	// ApprovalApproved: a manager approved it; it counts as signed.
	ApprovalApproved ApprovalStatus = "APPROVED"
	// ApprovalRejected: a manager rejected it; it never counts.
	ApprovalRejected ApprovalStatus = "REJECTED"
)

// ContractApproval is what a contract beyond the customer's credit needed
// and what became of it.
type ContractApproval struct {
	Status ApprovalStatus
	// Level is the customer's credit level when the contract was recorded;
	// Exceeded says which of its rules the contract breaks and by how much.
	Level     string
	Exceeded  []string
	DecidedBy string
	DecidedAt *time.Time
	// Reason is the approver's, required to reject.
	Reason string
}

// Booked reports whether the contract counts: signed, with its amount
// booked and its instalments in the receivables. A contract awaiting
// approval, or rejected, does not.
func (c *Contract) Booked() bool {
	return c.Approval == nil || c.Approval.Status == ApprovalApproved
}

func (a *ContractApproval) clone() *ContractApproval {
	if a == nil {
		return nil
	}
	b := *a
	b.Exceeded = slices.Clone(a.Exceeded)
	return &b
}

// PlanCreditDays is the longest an instalment of c waits: from the signed
// date to the first due date, or between two due dates.
func PlanCreditDays(c *Contract) int {
	longest, from := 0, c.SignedOn
	for _, in := range c.Instalments {
		longest = max(longest, DaysOverdue(from, in.DueOn))
		from = in.DueOn
	}
	return longest
}

// CreditExceeded says which of level's rules a new contract c breaks, for
// a customer who owes outstanding (the policy's currency) already, each
// with by how much; none when it stays within them.
func CreditExceeded(p *CreditPolicy, l CreditLevel, c *Contract, outstanding Money) []string {
	var out []string
	days := PlanCreditDays(c)
	switch {
	case l.Prepayment && days > 0:
		out = append(out, fmt.Sprintf("terms: credit level %s pays in advance, the plan gives %d credit days", l.Code, days))
	case !l.Prepayment && days > l.CreditDays:
		out = append(out, fmt.Sprintf("terms: the plan gives %d credit days, credit level %s allows %d (%d over)", days, l.Code, l.CreditDays, days-l.CreditDays))
	}
	if !l.Prepayment && c.Currency == p.Currency {
		if owed := outstanding + c.Outstanding(); owed > l.Limit {
			out = append(out, fmt.Sprintf("limit: %s %s outstanding plus this contract's %s is %s, credit level %s's limit is %s (%s over)",
				groupDigits(outstanding), p.Currency, groupDigits(c.Outstanding()), groupDigits(owed), l.Code, groupDigits(l.Limit), groupDigits(owed-l.Limit)))
		}
	}
	return out
}
