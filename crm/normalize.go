package crm

import (
	"net/mail"
	"strings"
	"unicode"
)

// NormalizePhone reduces a phone number to "+" and digits so that the same
// number typed in different ways is one value: "+86 (10) 1234-5678" and
// "+861012345678" are equal. It reports false when the result is not a
// plausible phone number (6 to 15 digits, ITU E.164).
func NormalizePhone(s string) (string, bool) {
	var b strings.Builder
	digits := 0
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
			digits++
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", false
		}
	}
	if digits < 6 || digits > 15 {
		return "", false
	}
	return b.String(), true
}

// NormalizeEmail lower-cases an address and checks that it is a bare
// addr-spec (no display name), at most 254 characters, with a dotted domain.
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 254 || strings.ContainsAny(s, "<> ") {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "", false
	}
	return s, true
}

// NormalizeTag lower-cases a tag and folds inner white space to "-". Tags are
// 1–40 letters, digits, "-" or "_".
func NormalizeTag(s string) (string, bool) {
	s = strings.ToLower(strings.Join(strings.Fields(s), "-"))
	if s == "" || len([]rune(s)) > 40 {
		return "", false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
			return "", false
		}
	}
	return s, true
}

// NormalizeName folds white space in a name and lower-cases it, the key
// used to find duplicate candidates.
func NormalizeName(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
