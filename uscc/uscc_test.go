package uscc

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// Codes published on the business licences of well-known companies:
// 深圳市腾讯计算机系统有限公司, 华为技术有限公司, 阿里巴巴(中国)有限公司.
var published = []string{"91440300708461136T", "914403001922038216", "91330100716105852F"}

// mustCode builds a valid code from 17 characters by the standard's rule.
func mustCode(tb testing.TB, first17 string) string {
	tb.Helper()
	if len(first17) != Len-1 {
		tb.Fatalf("%q is not 17 characters", first17)
	}
	return first17 + string(CheckChar(first17))
}

func TestNormalize(t *testing.T) {
	computed := mustCode(t, "91310000MA1FL4LX2")
	tests := []struct {
		name, in, want string
		err            error
	}{
		{name: "Published0", in: published[0], want: published[0]},
		{name: "Published1", in: published[1], want: published[1]},
		{name: "Published2", in: published[2], want: published[2]},
		{name: "Computed", in: computed, want: computed},
		{name: "LowerCase", in: "91440300708461136t", want: published[0]},
		{name: "FullWidth", in: "９１４４０３００７０８４６１１３６Ｔ", want: published[0]},
		{name: "Separators", in: " 9144 0300-7084 6113 6T ", want: published[0]},
		{name: "CheckCharacterZero", in: "1210000040000062A0", want: "1210000040000062A0"},
		{name: "ErrCheck", in: "91440300708461136U", err: ErrCheck},
		{name: "ErrTransposed", in: "91440300708461163T", err: ErrCheck},
		{name: "ErrShort", in: "9144030070846113", err: ErrLength},
		{name: "ErrLong", in: "91440300708461136T0", err: ErrLength},
		{name: "ErrEmpty", in: "", err: ErrLength},
		{name: "ErrLetterO", in: "91440300708461136O", err: ErrCharacters},
		{name: "ErrLetterI", in: "9144030070846113I6", err: ErrCharacters},
		{name: "ErrLetterZ", in: "Z1440300708461136T", err: ErrCharacters},
		{name: "ErrLetterS", in: "91440300708461S36T", err: ErrCharacters},
		{name: "ErrLetterV", in: "9V440300708461136T", err: ErrCharacters},
		{name: "ErrPunctuation", in: "914403007084611.6T", err: ErrCharacters},
		{name: "ErrShortWithLetters", in: "91O4403", err: ErrCharacters},
		{name: "ErrDivisionLetters", in: mustCode(t, "9144A300708461136"), err: ErrDivision},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestCheckCatchesTypos shows what the check character is for: every code
// built by the rule passes, and any one character replaced by another, or
// two neighbours swapped, fails (31 is prime and the weights differ).
func TestCheckCatchesTypos(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := []byte("91")
		for range 6 {
			b = append(b, charset[r.IntN(10)])
		}
		for range 9 {
			b = append(b, charset[r.IntN(len(charset))])
		}
		code := mustCode(t, string(b))
		if _, err := Normalize(code); err != nil {
			t.Fatalf("Normalize(%q): %v", code, err)
		}
		i := r.IntN(Len)
		typo := []byte(code)
		typo[i] = charset[(value(rune(typo[i]))+1+r.IntN(len(charset)-1))%len(charset)]
		if _, err := Normalize(string(typo)); err == nil {
			t.Fatalf("%q (from %q) passed", typo, code)
		}
		j := r.IntN(Len - 1)
		swap := []byte(code)
		swap[j], swap[j+1] = swap[j+1], swap[j]
		if _, err := Normalize(string(swap)); err == nil && swap[j] != swap[j+1] {
			t.Fatalf("%q (from %q, swapped at %d) passed", swap, code, j)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range append(published, "", "９１４４", "91440300708461136t", "ZZZZZZZZZZZZZZZZZZ") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := Normalize(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Normalize(%q): %v is not a rule", s, err)
			}
			return
		}
		if again, err := Normalize(code); err != nil || again != code {
			t.Fatalf("Normalize is not idempotent: %q gives %q, then %q, %v", s, code, again, err)
		}
		if len(code) != Len || code[Len-1] != CheckChar(code[:Len-1]) {
			t.Fatalf("Normalize(%q) = %q, not a valid code", s, code)
		}
	})
}
