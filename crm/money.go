package crm

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount in hundredths of its currency's unit (fen for CNY,
// cents for USD): a fixed scale of two decimals, added and compared
// exactly, never held in floating point. Amounts are never negative.
type Money int64

// MaxMoneyHundredths bounds an amount: 10^15 hundredths, ten trillion units,
// far inside int64 and DynamoDB's 38 digits when summed.
const MaxMoneyHundredths Money = 1_000_000_000_000_000

// DefaultCurrency is the currency of an amount given without one.
const DefaultCurrency = "CNY"

// ParseMoney reads a decimal such as "12500", "12500.5" or "12500.50":
// digits, optionally a point and one or two more digits; no sign, no
// exponent, no thousands separators. ok is false for anything else and for
// amounts above MaxMoneyHundredths.
func ParseMoney(s string) (Money, bool) {
	whole, frac, dotted := strings.Cut(s, ".")
	if whole == "" || len(whole) > 14 || len(frac) > 2 || (dotted && frac == "") || !digits(whole) || !digits(frac) {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt((frac + "0")[:2], 10, 64)
	}
	m := Money(w*100 + f)
	if m > MaxMoneyHundredths {
		return 0, false
	}
	return m, true
}

func digits(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// String writes the amount with exactly two decimals, e.g. "12500.50".
func (m Money) String() string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%02d", sign, int64(m)/100, int64(m)%100)
}

// Weighted is the amount times a probability in percent, rounded half up
// to the hundredth.
func (m Money) Weighted(percent int) Money {
	return Money((int64(m)*int64(percent) + 50) / 100)
}

// Float is the amount as a float64, for the interaction amounts and the
// grading metrics that are kept as numbers; never for sums of money.
func (m Money) Float() float64 { return float64(m) / 100 }
