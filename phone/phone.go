// Package phone turns the ways people write a telephone number into one
// canonical number, China (+86) being the country of a number written
// without one. Uniqueness, duplicate detection, the caller-ID lookup and
// search all compare numbers in this form; docs/search.md lists the rules
// with examples.
package phone

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// China is the country of a number written without a country code.
const China = "86"

// Number is a parsed telephone number.
type Number struct {
	// CountryCode is the ITU-T E.164 country code, digits only: "86".
	CountryCode string
	// Significant is the national significant number: the digits after the
	// country code, without a trunk prefix ("1065521234" for Beijing's
	// 010-6552 1234).
	Significant string
	// Extension is the extension dialled after the number is reached, digits
	// only, or "". It is not part of E164.
	Extension string
}

// Error is why a written number was refused. Its text is a rule that reads
// after the name of the field: "input.phones[0]: lacks an area code: ...".
type Error struct{ rule string }

func (e *Error) Error() string { return e.rule }

// The rules a number can break.
var (
	ErrEmpty      = &Error{"must not be empty"}
	ErrCharacters = &Error{"must hold only digits, spaces and + - . ( ), optionally followed by an extension such as 转8001 or ext. 8001"}
	ErrExtension  = &Error{"has an extension marker (转, 分机, ext., x, #) that must be followed by an extension of 1 to 6 digits"}
	ErrNoAreaCode = &Error{"lacks its area code: write a landline with it, like 010-6552 1234 or 0755-8601 3388"}
	ErrChina      = &Error{"is not a Chinese number: a mobile has 11 digits starting with 1, a landline 0, a 2- or 3-digit area code and 7 or 8 digits, a service number 400 or 800 and 7 more digits; write other countries' numbers with + and their country code"}
	ErrCountry    = &Error{"has no country code after + or 00: a country code starts with 1 to 9"}
	ErrLength     = &Error{"must have 4 to 14 digits after the country code and at most 15 in all (ITU-T E.164); +1 numbers have 10, +852 and +853 numbers 8"}
)

// MaxExtension is the most digits an extension may have.
const MaxExtension = 6

// Canonical returns the canonical form of a written number: "+" and the
// E.164 digits, then ";ext=" and the extension if there is one
// ("+861065521234;ext=8001", the form of RFC 3966). Canonical of a canonical
// form is the same form.
func Canonical(s string) (string, error) {
	n, err := Parse(s)
	if err != nil {
		return "", err
	}
	return n.String(), nil
}

// Parse reads a number written in any of the forms docs/search.md lists:
// with +cc or 00cc, or Chinese with the trunk prefix 0 and an area code, a
// mobile or a 400/800 number; separators, full-width characters, a leading
// label ("电话:", "Tel.") and an extension (转8001, 分机8001, ext. 8001,
// x8001, #8001, ;ext=8001, or the last dash group of a complete Chinese
// landline: 010-6552 1234-8001) are understood. It returns an *Error when s
// is not a number it can make canonical.
func Parse(s string) (Number, error) {
	s = fold(s)
	s = trimLabel(s)
	if s == "" {
		return Number{}, ErrEmpty
	}
	main, ext, err := splitExtension(s)
	if err != nil {
		return Number{}, err
	}
	w, err := scan(main)
	if err != nil {
		return Number{}, err
	}
	n, err := w.number()
	if err != nil {
		return Number{}, err
	}
	if ext != "" {
		if n.Extension != "" {
			return Number{}, ErrExtension
		}
		n.Extension = ext
	}
	return n, nil
}

// fold maps full-width digits, letters and punctuation to ASCII (NFKC),
// lower-cases, and trims.
func fold(s string) string {
	return strings.TrimSpace(strings.ToLower(norm.NFKC.String(s)))
}

// labels are words written before a number that say what it is.
var labels = []string{"联系电话", "电话号码", "手机号码", "手机号", "电话", "手机", "座机", "固话", "telephone", "mobile", "phone", "tel", "mob"}

// trimLabel removes one leading label and the ':' or '.' after it; "tel:" is
// also RFC 3966's scheme.
func trimLabel(s string) string {
	for _, l := range labels {
		if rest, ok := strings.CutPrefix(s, l); ok {
			rest = strings.TrimLeft(rest, " .:")
			if rest != "" && !unicode.IsLetter([]rune(rest)[0]) {
				return rest
			}
		}
	}
	return s
}

// extMarkers start an extension, longest first where one contains another.
var extMarkers = []string{";ext=", "extension", "ext.", "ext", "分机号", "分机", "分機", "转", "轉", "x", "#"}

// splitExtension cuts s at the first extension marker. The extension is
// the digits after it (separators allowed before them).
func splitExtension(s string) (main, ext string, err error) {
	at, marker := -1, ""
	for _, m := range extMarkers {
		if i := strings.Index(s, m); i >= 0 && (at < 0 || i < at) {
			at, marker = i, m
		}
	}
	if at < 0 {
		return s, "", nil
	}
	main, rest := s[:at], strings.Trim(s[at+len(marker):], " .:-")
	if rest == "" || len(rest) > MaxExtension || strings.TrimFunc(rest, isDigit) != "" {
		return "", "", ErrExtension
	}
	return strings.TrimSpace(main), rest, nil
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// written is what scan reads of the number part.
type written struct {
	digits string
	// plus says the number was written with "+" before its country code.
	plus bool
	// lastDash is how many digits came before the last dash, or -1.
	lastDash int
}

func isDash(r rune) bool { return r == '-' || r == '–' || r == '—' || r == '‐' }

// scan reads the digits of the number part, which may start with "+" or
// "(+" and use spaces, dashes, dots and brackets as separators.
// "(0)", the trunk prefix some countries print after the country code
// ("+44 (0)20 7946 0958"), is dropped from international numbers.
func scan(s string) (written, error) {
	w := written{lastDash: -1}
	if rest, ok := strings.CutPrefix(s, "(+"); ok {
		w.plus, s = true, rest
	} else if rest, ok := strings.CutPrefix(s, "+"); ok {
		w.plus, s = true, rest
	}
	if w.plus || strings.HasPrefix(s, "00") {
		if i := strings.Index(s, "(0)"); i > 0 {
			s = s[:i] + " " + s[i+3:]
		}
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case isDigit(r):
			b.WriteRune(r)
		case isDash(r):
			w.lastDash = b.Len()
		case strings.ContainsRune(" .()", r):
		default:
			return written{}, ErrCharacters
		}
	}
	if w.digits = b.String(); w.digits == "" {
		return written{}, ErrCharacters
	}
	return w, nil
}

// number reads the digits as a number. A Chinese number too long to be
// one whose last dash group could be an extension ("0755-8601 3388-8001")
// is read as a landline or service number and that extension.
func (w written) number() (Number, error) {
	n, err := w.read()
	if err == nil || w.lastDash <= 0 || w.lastDash >= len(w.digits) || len(w.digits)-w.lastDash > MaxExtension {
		return n, err
	}
	head := written{digits: w.digits[:w.lastDash], plus: w.plus, lastDash: -1}
	if m, e := head.read(); e == nil && m.CountryCode == China && (m.Kind() == Landline || m.Kind() == Service) {
		m.Extension = w.digits[w.lastDash:]
		return m, nil
	}
	return n, err
}

func (w written) read() (Number, error) {
	switch d := w.digits; {
	case w.plus:
		return international(strings.TrimPrefix(d, "00"))
	case strings.HasPrefix(d, "00"):
		return international(d[2:])
	default:
		return domestic(d)
	}
}

// international reads the digits after + or 00.
func international(d string) (Number, error) {
	if d == "" || d[0] == '0' {
		return Number{}, ErrCountry
	}
	cc := d[:countryCodeLen(d)]
	nsn := d[len(cc):]
	if cc == China {
		return chinese(strings.TrimPrefix(nsn, "0"), true)
	}
	if len(nsn) < 4 || len(cc)+len(nsn) > 15 || (cc == "1" && len(nsn) != 10) ||
		((cc == "852" || cc == "853") && len(nsn) != 8) {
		return Number{}, ErrLength
	}
	return Number{CountryCode: cc, Significant: nsn}, nil
}

// domestic reads digits written without + or 00: a Chinese number with its
// trunk prefix 0, a mobile or service number, or one written with 86 but
// without the +.
func domestic(d string) (Number, error) {
	if rest, ok := strings.CutPrefix(d, "0"); ok {
		return chinese(rest, true)
	}
	if rest, ok := strings.CutPrefix(d, China); ok && len(d) >= 12 && len(d) <= 14 {
		if n, err := chinese(strings.TrimPrefix(rest, "0"), true); err == nil {
			return n, nil
		}
	}
	if n, err := chinese(d, false); err == nil {
		return n, nil
	}
	if (len(d) == 7 || len(d) == 8) && d[0] >= '2' {
		return Number{}, ErrNoAreaCode
	}
	return Number{}, ErrChina
}

// chinese reads a Chinese national significant number; a landline (area
// code first) only when withArea says the digits were written in a form
// that carries one (after +86 or the trunk 0).
func chinese(nsn string, withArea bool) (Number, error) {
	n := Number{CountryCode: China, Significant: nsn}
	switch k := n.Kind(); {
	case k == Mobile || k == Service:
		return n, nil
	case k == Landline && withArea:
		return n, nil
	}
	return Number{}, ErrChina
}

// Kind says what a Chinese number is; numbers of other countries are Other.
type Kind int

// The kinds of number.
const (
	Other    Kind = iota
	Mobile        // 1[3-9] and 9 digits
	Landline      // area code, then a local number of 7 or 8 digits
	Service       // 400 or 800 and 7 digits, dialled without a trunk prefix
)

// Kind returns what n is.
func (n Number) Kind() Kind {
	s := n.Significant
	if n.CountryCode != China || s == "" || !allDigits(s) {
		return Other
	}
	switch {
	case len(s) == 11 && s[0] == '1' && s[1] >= '3':
		return Mobile
	case len(s) == 10 && (strings.HasPrefix(s, "400") || strings.HasPrefix(s, "800")):
		return Service
	}
	area := areaCodeLen(s)
	if area == 0 || len(s) <= area {
		return Other
	}
	local := s[area:]
	if local == "" || local[0] < '2' || len(local) > 8 || len(local) < 7 || (area == 2 && len(local) != 8) {
		return Other
	}
	return Landline
}

// areaCodeLen is the length of the area code a Chinese landline's
// significant number starts with: 2 for Beijing (10) and 20–29 (Guangzhou,
// Shanghai, Tianjin, Chongqing, Shenyang, Nanjing, Wuhan, Chengdu, Xi'an),
// 3 for the codes starting with 3 to 9 (755 Shenzhen, 571 Hangzhou…), 0
// when it starts with no area code.
func areaCodeLen(s string) int {
	switch {
	case strings.HasPrefix(s, "10") || s[0] == '2':
		return 2
	case s[0] >= '3':
		return 3
	}
	return 0
}

// AreaCode returns a Chinese landline's area code without its trunk
// prefix ("10", "755"), or "".
func (n Number) AreaCode() string {
	if n.Kind() != Landline {
		return ""
	}
	return n.Significant[:areaCodeLen(n.Significant)]
}

func allDigits(s string) bool { return strings.TrimFunc(s, isDigit) == "" }

// countryCodeLen is the length of the country code d starts with. E.164
// codes form a prefix code: 1 and 7 are one digit, the two-digit codes are
// listed, every other code has three digits.
func countryCodeLen(d string) int {
	if d[0] == '1' || d[0] == '7' {
		return 1
	}
	if len(d) >= 2 && strings.Contains(twoDigitCodes, d[:2]) {
		return 2
	}
	return min(3, len(d))
}

// twoDigitCodes are the two-digit ITU-T E.164 country codes.
const twoDigitCodes = "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 " +
	"60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98"

// E164 returns "+" and the digits of the number without its extension:
// "+861065521234". It is the key a caller ID is looked up by.
func (n Number) E164() string { return "+" + n.CountryCode + n.Significant }

// String returns the canonical form: E164, then ";ext=" and the extension
// when there is one.
func (n Number) String() string {
	if n.Extension == "" {
		return n.E164()
	}
	return n.E164() + ";ext=" + n.Extension
}

// groups returns the significant number in the groups it is read in:
// 138 1234 5678, 10 6552 1234, 755 8601 3388, 400 810 8888, 415 555 0100.
// Numbers of countries without a known grouping stay in one block.
func (n Number) groups() []string {
	s := n.Significant
	split := func(at ...int) []string {
		var out []string
		prev := 0
		for _, i := range at {
			out = append(out, s[prev:i])
			prev = i
		}
		return append(out, s[prev:])
	}
	switch n.Kind() {
	case Mobile:
		return split(3, 7)
	case Service:
		return split(3, 6)
	case Landline:
		a := areaCodeLen(s)
		return split(a, len(s)-4)
	}
	if n.CountryCode == "1" && len(s) == 10 {
		return split(3, 6)
	}
	return []string{s}
}

// International returns the number for display anywhere: "+86 138 1234
// 5678", "+86 10 6552 1234 ext. 8001".
func (n Number) International() string {
	s := "+" + n.CountryCode + " " + strings.Join(n.groups(), " ")
	if n.Extension != "" {
		s += " ext. " + n.Extension
	}
	return s
}

// Domestic returns a Chinese number as it is written in China, with the
// trunk prefix before an area code: "138 1234 5678", "010 6552 1234 转
// 8001", "400 810 8888". Other numbers are International.
func (n Number) Domestic() string {
	if n.CountryCode != China {
		return n.International()
	}
	g := n.groups()
	if n.Kind() == Landline {
		g[0] = "0" + g[0]
	}
	s := strings.Join(g, " ")
	if n.Extension != "" {
		s += " 转 " + n.Extension
	}
	return s
}

// Masked returns the international form with the country code and the
// last 4 digits kept, or the last 2 of a significant number shorter than 8
// digits, and without the extension: "+86 *** **** 5678".
func (n Number) Masked() string {
	keep := 4
	if len(n.Significant) < 8 {
		keep = 2
	}
	hide := len(n.Significant) - keep
	g := n.groups()
	for i, part := range g {
		b := []byte(part)
		for j := range b {
			if hide > 0 {
				b[j] = '*'
				hide--
			}
		}
		g[i] = string(b)
	}
	return "+" + n.CountryCode + " " + strings.Join(g, " ")
}

// SuffixKey returns the significant number's digits in reverse order. Its
// prefixes are the number's suffixes, so one stored key answers a search by
// the last 4, 5… digits with a prefix match: "8765" finds …5678, and its
// first 4 characters (the last 4 digits) can partition an index.
func (n Number) SuffixKey() string { return Reverse(n.Significant) }

// Reverse returns the digits of s, in reverse order, ignoring every other
// character.
func Reverse(s string) string {
	var b []byte
	for i := len(s) - 1; i >= 0; i-- {
		if c := s[i]; c >= '0' && c <= '9' {
			b = append(b, c)
		}
	}
	return string(b)
}
