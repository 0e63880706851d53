// Package uscc checks China's unified social credit code (统一社会信用代码),
// the 18-character identifier of every registered organization, defined by
// the national standard GB 32100-2015.
//
// A code is: 1 character for the registration authority, 1 for the kind of
// organization, 6 digits for the registering authority's administrative
// division (GB/T 2260), 9 for the organization's identifier (GB 11714), and
// a check character computed from the first 17. Its characters are the
// digits and the capital letters except I, O, S, V and Z, so that none can
// be mistaken for another.
package uscc

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Len is the length of a code.
const Len = 18

// charset lists the characters of a code in the order of their values 0–30.
const charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// Error is why a code was refused. Its text is a rule that reads after the
// name of the field: "input.creditCode: must have 18 characters".
type Error struct{ rule string }

func (e *Error) Error() string { return e.rule }

// The rules a code can break.
var (
	ErrLength     = &Error{"must have 18 characters"}
	ErrCharacters = &Error{"must hold only digits and the capital letters other than I, O, S, V and Z"}
	ErrDivision   = &Error{"must have digits in places 3 to 8, the registering authority's administrative division code"}
	ErrCheck      = &Error{"does not end in the check character of its first 17 characters (GB 32100-2015): one of them is mistyped"}
)

// Normalize returns the code in its canonical form, or the rule it breaks.
// Full-width characters are read as their ASCII forms, letters are
// upper-cased, and spaces and dashes, which some print as separators, are
// removed.
func Normalize(s string) (string, error) {
	s = strings.ToUpper(norm.NFKC.String(s))
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
	if len(s) != Len {
		if strings.IndexFunc(s, func(r rune) bool { return value(r) < 0 }) >= 0 {
			return "", ErrCharacters
		}
		return "", ErrLength
	}
	for _, r := range s {
		if value(r) < 0 {
			return "", ErrCharacters
		}
	}
	for _, r := range s[2:8] {
		if r < '0' || r > '9' {
			return "", ErrDivision
		}
	}
	if CheckChar(s[:Len-1]) != s[Len-1] {
		return "", ErrCheck
	}
	return s, nil
}

// value is the value of a code character, or -1 for a character a code
// cannot hold.
func value(r rune) int {
	if r > 'Z' {
		return -1
	}
	return strings.IndexRune(charset, r)
}

// CheckChar computes the check character of the first 17 characters of a
// code, which must be characters a code may hold: 31 minus the sum of each
// character's value weighted by 3^i mod 31 (i its 0-based position), mod 31.
func CheckChar(first17 string) byte {
	sum, weight := 0, 1
	for _, r := range first17 {
		sum += value(r) * weight
		weight = weight * 3 % 31
	}
	return charset[(31-sum%31)%31]
}
