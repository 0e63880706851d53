// Package names holds the rules by which Rapport compares and searches
// names: folding (width, case, diacritics), words, the core of a Chinese
// or Latin-script company name (without its place and legal form), and
// pinyin readings of Chinese names. It is pure: no storage, no transport.
// docs/search.md lists every rule with examples.
package names

//go:generate go run ./internal/genfold -o fold_table.go

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold returns s in the form names are compared and searched in:
//   - NFKC: full-width letters, digits and punctuation become ASCII (ａｃｍｅ →
//     acme), compatibility characters their plain forms;
//   - case-folded (ACME → acme, Straße → strasse);
//   - without the diacritics of Latin letters (Müller → muller);
//   - without apostrophes (McDonald's → mcdonalds), with abbreviations
//     written with dots joined (S.A. → sa);
//   - every other character that is not a letter or digit separates words;
//     words are separated by one space, Chinese characters are written
//     together (华信 科技 → 华信科技) and apart from other scripts (IBM中国 →
//     ibm 中国).
func Fold(s string) string { return strings.Join(Words(s), " ") }

// Words returns the words of Fold(s): its runs of Chinese characters and
// its words in other scripts.
func Words(s string) []string { return words(s, false) }

// combiningMarks are the diacritics Latin letters decompose into under NFD.
var combiningMarks = runes.In(&unicode.RangeTable{R16: []unicode.Range16{{Lo: 0x0300, Hi: 0x036f, Stride: 1}}})

// words splits s as Words does; with brackets, every opening bracket is
// the word "(" and every closing one ")".
func words(s string, brackets bool) []string {
	s = norm.NFKC.String(strings.ToValidUTF8(s, " "))
	s = foldCase(s)
	if t, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(combiningMarks), norm.NFC), s); err == nil {
		s = t
	}
	var chunks []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			chunks = append(chunks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc) || r == '.':
			cur.WriteRune(r)
		case strings.ContainsRune("'’‘ʼ`", r):
		case brackets && strings.ContainsRune("([{【〔〖〘", r):
			flush()
			chunks = append(chunks, "(")
		case brackets && strings.ContainsRune(")]}】〕〗〙", r):
			flush()
			chunks = append(chunks, ")")
		default:
			flush()
		}
	}
	flush()
	var out []string
	for _, c := range chunks {
		for _, w := range splitDots(c) {
			out = append(out, splitScripts(w)...)
		}
	}
	return mergeHan(out)
}

// foldException is a character whose case folding is not its
// unicode.ToLower (ß folds to ss, ς to σ).
type foldException struct {
	r    rune
	fold string
}

// foldCase returns s case-folded as golang.org/x/text/cases.Fold folds it
// (Unicode full case folding, which maps each character on its own):
// unicode.ToLower, but for the characters of foldExceptions
// (fold_table.go, generated from x/text/cases, whose package init and
// x/text/language's would otherwise run at every cold start).
func foldCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 0x80 || 'A' <= r && r <= 'Z' {
			if i, ok := slices.BinarySearchFunc(foldExceptions[:], r, func(e foldException, r rune) int { return int(e.r - r) }); ok {
				b.WriteString(foldExceptions[i].fold)
				continue
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// splitDots reads the dots in a chunk: an abbreviation of single letters
// (s.a., u.s.a) is one word, other dots separate words (co.,ltd).
func splitDots(c string) []string {
	if !strings.Contains(c, ".") {
		return []string{c}
	}
	parts := strings.FieldsFunc(c, func(r rune) bool { return r == '.' })
	single := len(parts) > 1
	for _, p := range parts {
		if r := []rune(p); len(r) != 1 || !unicode.IsLetter(r[0]) {
			single = false
		}
	}
	if single {
		return []string{strings.Join(parts, "")}
	}
	return parts
}

// isHan reports whether r is a Chinese character.
func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// hanWord reports whether w is a word of Chinese characters.
func hanWord(w string) bool {
	for _, r := range w {
		return isHan(r)
	}
	return false
}

// splitScripts splits a word where it passes between Chinese characters
// and other letters or digits.
func splitScripts(w string) []string {
	var out []string
	start, prev := 0, false
	for i, r := range w {
		h := isHan(r)
		if i > 0 && h != prev {
			out = append(out, w[start:i])
			start = i
		}
		prev = h
	}
	return append(out, w[start:])
}

// mergeHan joins neighbouring words of Chinese characters: Chinese is
// written without spaces, so 华信 科技 and 华信科技 are the same name.
func mergeHan(ws []string) []string {
	var out []string
	for _, w := range ws {
		if n := len(out); n > 0 && hanWord(w) && hanWord(out[n-1]) {
			out[n-1] += w
			continue
		}
		out = append(out, w)
	}
	return out
}
