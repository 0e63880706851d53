package crm

import (
	"math/big"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for refused
	}{
		{"0", "0.00"}, {"120000", "120000.00"}, {"8000.5", "8000.50"}, {"8000.50", "8000.50"}, {"0.07", "0.07"},
		{"0001.10", "1.10"}, {"10000000000000", "10000000000000.00"},
		{"10000000000000.01", ""}, {"", ""}, {".5", ""}, {"5.", ""}, {"1.005", ""}, {"-1", ""}, {"+1", ""},
		{"1e5", ""}, {"1,000", ""}, {" 1", ""}, {"1 ", ""}, {"１２", ""}, {"NaN", ""}, {"0x10", ""},
	}
	for _, tt := range tests {
		m, ok := ParseMoney(tt.in)
		got := ""
		if ok {
			got = m.String()
		}
		if got != tt.want {
			t.Errorf("ParseMoney(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWeightedRoundsHalfUp(t *testing.T) {
	tests := []struct {
		amount  Money
		percent int
		want    string
	}{
		{333333, 25, "833.33"}, // 833.3325
		{1, 50, "0.01"},        // 0.005
		{3, 50, "0.02"},        // 0.015
		{800050, 50, "4000.25"},
		{MaxMoneyHundredths, 100, MaxMoneyHundredths.String()},
		{12345, 0, "0.00"},
	}
	for _, tt := range tests {
		if got := tt.amount.Weighted(tt.percent).String(); got != tt.want {
			t.Errorf("%s × %d%% = %s, want %s", tt.amount, tt.percent, got, tt.want)
		}
	}
}

// FuzzParseMoney checks that an accepted amount is exactly the decimal
// written, and that its canonical form reads back as itself.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "8000.5", "120000.00", "1.005", "-1", "1e5", "10000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := ParseMoney(s)
		if !ok {
			return
		}
		exact, valid := new(big.Rat).SetString(s)
		if !valid || exact.Cmp(big.NewRat(int64(m), 100)) != 0 {
			t.Fatalf("ParseMoney(%q) = %s, not the decimal written", s, m)
		}
		if m < 0 || m > MaxMoneyHundredths {
			t.Fatalf("ParseMoney(%q) = %s, out of range", s, m)
		}
		back, ok := ParseMoney(m.String())
		if !ok || back != m {
			t.Fatalf("%q read as %s, which reads back as %s (%v)", s, m, back, ok)
		}
	})
}
