package crm

import (
	"net/mail"
	"strings"
	"unicode"

	"github.com/rapportcrm/rapport/phone"
)

// NormalizePhone returns a phone number's canonical form (phone.Canonical:
// "+8613812345678", "+861065521234;ext=8001"), the one form in which
// numbers are stored, claimed unique, deduplicated, looked up and masked:
// "+86 138 1234 5678", "0086-138-1234-5678" and "138 1234 5678" are one
// number. It returns the rule the number breaks when it has none.
func NormalizePhone(s string) (string, error) {
	return phone.Canonical(s)
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
