package names

import (
	"testing"

	"github.com/mozillazg/go-pinyin"
)

// The generated table reads every character as the library it was
// generated from does (names.Pinyin called pinyin.SinglePinyin with these
// arguments before): the library's characters, the neighbours of each
// (where a run of the table starts or ends), and characters of other
// scripts. A table generated from another version of the library fails
// here until `go generate ./names` is run.
func TestCharReadingIsTheLibrarys(t *testing.T) {
	args := pinyin.Args{Style: pinyin.Normal}
	want := func(r rune) string {
		if p := pinyin.SinglePinyin(r, args); len(p) > 0 {
			return p[0]
		}
		return ""
	}
	checked := map[rune]bool{}
	check := func(r rune) {
		if checked[r] {
			return
		}
		checked[r] = true
		if got, w := charReading(r), want(r); got != w {
			t.Errorf("charReading(%U %q) = %q, want the library's %q", r, r, got, w)
		}
	}
	for k := range pinyin.PinyinDict {
		for _, r := range []rune{rune(k) - 1, rune(k), rune(k) + 1} {
			check(r)
		}
	}
	for _, r := range []rune{0, 'a', 'Z', '0', 'é', 'ü', '〆', 0x2FFF, 0x3000, 0x10FFFF, -1} {
		check(r)
	}
	if len(checked) < len(pinyin.PinyinDict) {
		t.Fatalf("checked %d characters, fewer than the library's %d", len(checked), len(pinyin.PinyinDict))
	}
}
