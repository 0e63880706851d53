package crm

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Contract is a signed sale to a customer: its amount, when it was signed
// and until when it runs, who owns it, the payment plan that splits the
// amount into instalments, and the payments received against it. It lives
// in its customer's item collection; instalments and payments travel with
// it (both bounded). A contract usually comes from a WON opportunity
// (OpportunityID), whose win already logged the customer's deal; one
// signed without a deal logs that deal itself.
type Contract struct {
	ID            string // ULID, time part = CreatedAt
	CustomerID    string
	OpportunityID string // the WON deal it came from, if any
	Title         string
	// OwnerID is the salesperson credited with the contract; Team is
	// whose revenue and receivables it counts in.
	OwnerID  string
	Team     string
	Amount   Money
	Currency string
	// Cost, when given, is what the sale costs: the contract's margin is
	// Amount - Cost (performance.go).
	Cost *Money
	// NewCustomer marks a contract signed without a deal that was its
	// customer's first deal: a customer won, credited to its owner.
	NewCustomer bool
	// SignedOn and EndsOn are UTC dates (midnight): the term.
	SignedOn time.Time
	EndsOn   time.Time
	// Instalments is the payment plan, by due date; their amounts sum to
	// Amount.
	Instalments []Instalment
	// Payments are the money received, in the order recorded.
	Payments []Payment
	// Approval is set on a contract beyond the customer's credit
	// (credit.go): until approved it counts nowhere.
	Approval  *ContractApproval
	Version   int
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// Instalment is one due amount of a payment plan.
type Instalment struct {
	DueOn  time.Time // UTC date
	Amount Money
}

// Payment is money received against a contract.
type Payment struct {
	ID         string // ULID, time part = RecordedAt
	PaidOn     time.Time
	Amount     Money
	Reference  string
	RecordedBy string
	RecordedAt time.Time
	// Request is the client's idempotency key of the request that
	// recorded it, scoped to its caller, and the request's hash: a retry
	// finds its payment on the contract, however late it comes.
	Request string
}

// Bounds of a contract's item.
const (
	MaxInstalments      = 60
	MaxContractPayments = 200
	MaxPaymentReference = 200
)

// Clone returns a deep copy.
func (c *Contract) Clone() *Contract {
	d := *c
	d.Instalments = slices.Clone(c.Instalments)
	d.Payments = slices.Clone(c.Payments)
	if c.Cost != nil {
		d.Cost = ptr(*c.Cost)
	}
	d.Approval = c.Approval.clone()
	return &d
}

// Paid sums the payments received.
func (c *Contract) Paid() Money {
	var sum Money
	for _, p := range c.Payments {
		sum += p.Amount
	}
	return sum
}

// Outstanding is what remains to be paid.
func (c *Contract) Outstanding() Money { return c.Amount - c.Paid() }

// InstalmentState is an instalment with what the payments cover of it.
type InstalmentState struct {
	Instalment
	Paid        Money
	Outstanding Money
	// PaidOn is the date of the payment that covered it in full, nil
	// while something is outstanding.
	PaidOn *time.Time
}

// Schedule allocates the payments, in the order they were made (by date,
// then as recorded), to the oldest open instalment first: a payment fills
// the earliest instalment due before the next. Each instalment says how
// much of it is paid, and when it was paid in full.
func (c *Contract) Schedule() []InstalmentState {
	out := make([]InstalmentState, len(c.Instalments))
	for i, in := range c.Instalments {
		out[i] = InstalmentState{Instalment: in, Outstanding: in.Amount}
	}
	pays := slices.Clone(c.Payments)
	slices.SortStableFunc(pays, func(a, b Payment) int { return a.PaidOn.Compare(b.PaidOn) })
	i := 0
	for _, p := range pays {
		left := p.Amount
		for left > 0 && i < len(out) {
			take := min(left, out[i].Outstanding)
			out[i].Paid += take
			out[i].Outstanding -= take
			left -= take
			if out[i].Outstanding == 0 {
				out[i].PaidOn = ptr(p.PaidOn)
				i++
			}
		}
	}
	return out
}

// AgingBucket is how long a receivable is overdue.
type AgingBucket string

const (
	AgingCurrent AgingBucket = "CURRENT"      // not yet due
	Aging1To30   AgingBucket = "DAYS_1_30"    // 1–30 days overdue
	Aging31To90  AgingBucket = "DAYS_31_90"   // 31–90 days overdue
	AgingOver90  AgingBucket = "DAYS_OVER_90" // more than 90 days overdue
)

// AgingBuckets lists the buckets, youngest first.
var AgingBuckets = []AgingBucket{AgingCurrent, Aging1To30, Aging31To90, AgingOver90}

// DaysOverdue is how many days past due an amount due on due is on the
// date today (0 when due today or later).
func DaysOverdue(due, today time.Time) int {
	d := int(closeDate(today).Sub(closeDate(due)).Hours() / 24)
	return max(d, 0)
}

// AgingBucketOf is the bucket of an amount due on due, on today.
func AgingBucketOf(due, today time.Time) AgingBucket {
	switch d := DaysOverdue(due, today); {
	case d == 0:
		return AgingCurrent
	case d <= 30:
		return Aging1To30
	case d <= 90:
		return Aging31To90
	}
	return AgingOver90
}

// ContractInput is a new contract.
type ContractInput struct {
	// IdempotencyKey, when set, makes a retry return the first result.
	IdempotencyKey string
	CustomerID     string
	// OpportunityID names the WON deal the contract comes from: its
	// title, amount, currency and owner are the defaults, and a deal has
	// at most one contract.
	OpportunityID string
	Title         string
	OwnerID       string
	// Amount is a decimal (ParseMoney); Currency defaults to the deal's,
	// else CNY.
	Amount   string
	Currency string
	// Cost is a decimal, empty when not known (no margin).
	Cost     string
	SignedOn time.Time
	EndsOn   time.Time
	// Instalments must sum to the amount.
	Instalments []InstalmentInput
}

// InstalmentInput is one instalment of a payment plan.
type InstalmentInput struct {
	DueOn  time.Time
	Amount string
}

// ContractUpdate changes the fields that are non-nil. A new Amount needs
// a new plan (Instalments) that sums to it.
type ContractUpdate struct {
	Title       *string
	OwnerID     *string
	EndsOn      *time.Time
	Amount      *string
	Instalments []InstalmentInput // nil keeps the plan
	// Cost sets the cost; empty removes it.
	Cost *string
}

// PaymentInput is money received against a contract.
type PaymentInput struct {
	// IdempotencyKey, when set, makes a retry return the first result
	// instead of recording the payment twice.
	IdempotencyKey string
	CustomerID     string
	ContractID     string
	Amount         string
	// PaidOn defaults to today; it may not be in the future nor before
	// the contract was signed.
	PaidOn    time.Time
	Reference string
}

// parsePlan reads a payment plan into c, sorted by due date, and checks
// it sums to c.Amount.
func parsePlan(ck *checker, c *Contract, plan []InstalmentInput) {
	if len(plan) == 0 || len(plan) > MaxInstalments {
		ck.fail("input.instalments", "must list 1 to %d instalments (got %d)", MaxInstalments, len(plan))
		return
	}
	c.Instalments = make([]Instalment, len(plan))
	var sum Money
	ok := true
	for i, in := range plan {
		f := fmt.Sprintf("input.instalments[%d]", i)
		m, valid := ParseMoney(in.Amount)
		if !valid || m == 0 {
			ck.fail(f+".amount", "must be a decimal amount above 0 with at most two decimals, such as 12500 or 12500.50 (got %q)", in.Amount)
			ok = false
		}
		due := closeDate(in.DueOn)
		if due.Before(c.SignedOn) || due.Year() > 9999 {
			ck.fail(f+".dueDate", "must be a date on or after the contract's signed date %s", c.SignedOn.Format(time.DateOnly))
			ok = false
		}
		c.Instalments[i] = Instalment{DueOn: due, Amount: m}
		sum += m
	}
	slices.SortStableFunc(c.Instalments, func(a, b Instalment) int { return a.DueOn.Compare(b.DueOn) })
	if ok && sum != c.Amount {
		ck.fail("input.instalments", "must sum to the contract's amount %s: the instalments sum to %s", c.Amount, sum)
	}
}

// validateContract checks what every version of a contract must hold.
func validateContract(ck *checker, c *Contract, today time.Time) {
	ck.text("input.title", strings.TrimSpace(c.Title), 1, MaxTitleLen)
	if c.Amount == 0 {
		ck.fail("input.amount", "must be above 0")
	}
	if c.SignedOn.Before(epoch) || c.SignedOn.After(closeDate(today)) {
		ck.fail("input.signedDate", "must be a date between 1970 and today: a contract is recorded once signed")
	}
	if c.EndsOn.Before(c.SignedOn) || c.EndsOn.Year() > 9999 {
		ck.fail("input.endDate", "must be on or after the signed date %s", c.SignedOn.Format(time.DateOnly))
	}
}
