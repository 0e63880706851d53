package names

import (
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
)

// foldCase stands in for x/text/cases.Fold: it must fold every character,
// and strings of them, exactly as it does.
func TestFoldCaseFoldsEveryCharacterAsXTextCasesDoes(t *testing.T) {
	fold := cases.Fold()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		if got, want := foldCase(string(r)), fold.String(string(r)); got != want {
			t.Errorf("foldCase(%q U+%04X) = %q, cases.Fold = %q", r, r, got, want)
		}
	}
	for _, s := range []string{"", "ACME Trading", "Straße MÜLLER", "ΣΊΣΥΦΟΣ ς", "İstanbul ǅ ﬀ", "华信 IBM中国 ＡＣＭＥ", "Ꭰꭰ"} {
		if got, want := foldCase(s), fold.String(s); got != want {
			t.Errorf("foldCase(%q) = %q, cases.Fold = %q", s, got, want)
		}
	}
}
