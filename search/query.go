package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/names"
	"github.com/rapportcrm/rapport/phone"
)

// Lookup is one read of the search index: the keys in Bucket whose value
// starts with Prefix, among the phone keys when Phone is set and the text
// keys otherwise.
type Lookup struct {
	Phone  bool
	Bucket string
	Prefix string
}

// Bucket returns the part of a key's value an index can partition by, and
// a lookup must name: for text, the first character when it is Chinese and
// the first two otherwise; for a phone, the first 4 digits of the reversed
// number (its last 4). It returns "" when the value is shorter than that.
func Bucket(phoneKey bool, value string) string {
	n := 2
	if phoneKey {
		n = 4
	} else if r, _ := utf8.DecodeRuneInString(value); unicode.Is(unicode.Han, r) {
		n = 1
	}
	if utf8.RuneCountInString(value) < n {
		return ""
	}
	return string([]rune(value)[:n])
}

// Query is a search string read for the index.
type Query struct {
	// Text is the folded search string, cut to MaxValueRunes: a Name key
	// equal to it is an exact match.
	Text string
	// Lookups are the reads that find every match: one, so that a first
	// page costs one read of the index.
	Lookups []Lookup
	// Phone is the E.164 number the string is, when it is a whole phone
	// number; its Phone lookup then holds the whole significant number.
	Phone string

	own  []string // text prefixes that are what was typed, compacted
	core string   // the core of what was typed, compacted, when it differs, or ""
}

// Rules a search string can break; their text reads after the field name.
var (
	ErrQueryShort = &queryError{"must hold at least 2 letters or digits, or a Chinese character"}
	ErrQueryLong  = &queryError{"must be at most 200 characters"}
)

// MaxQueryRunes is the longest search string.
const MaxQueryRunes = 200

type queryError struct{ rule string }

func (e *queryError) Error() string { return e.rule }

// ParseQuery reads a search string into one lookup, so that a first page
// costs one read of the index.
//
// A string that is a whole phone number (phone.Parse) is looked up by
// that number; a string of at least 4 digits, with phone separators if
// any, as the last digits of a phone. Any other text is looked up, folded
// (names.Fold) and without spaces (Compact), by prefix: by its core when
// that differs from what was typed (华信科技有限公司 looks up 华信科技, 北京华信
// 华信: a name that starts with what was typed has a core that starts with
// the core of it), else as typed. Spaces are left out of text keys and
// lookups alike, so hua xin finds huaxinkeji and acme tr finds Acme
// Trading.
func ParseQuery(s string) (Query, error) {
	if utf8.RuneCountInString(s) > MaxQueryRunes {
		return Query{}, ErrQueryLong
	}
	q := Query{Text: cut(names.Fold(s))}
	if n, err := phone.Parse(s); err == nil && !strings.ContainsFunc(s, unicode.IsLetter) {
		q.Phone = n.E164()
		q.Lookups = []Lookup{{Phone: true, Bucket: Bucket(true, n.SuffixKey()), Prefix: n.SuffixKey()}}
		return q, nil
	}
	if d := phone.Reverse(q.Text); len(d) >= 4 && strings.Trim(q.Text, "0123456789 ") == "" {
		q.Lookups = []Lookup{{Phone: true, Bucket: Bucket(true, d), Prefix: d}}
		return q, nil
	}
	text := Compact(q.Text)
	if Bucket(false, text) == "" {
		return Query{}, ErrQueryShort
	}
	q.own = []string{text}
	prefix := text
	if c := Compact(cut(names.Core(s))); c != text && Bucket(false, c) != "" {
		q.core, prefix = c, c
	}
	q.Lookups = []Lookup{{Bucket: Bucket(false, prefix), Prefix: prefix}}
	return q, nil
}

// Compact is a text value as the index orders it: without spaces.
func Compact(s string) string { return strings.ReplaceAll(s, " ", "") }

// IndexValue is what an index stores of a key and a lookup's prefix is
// compared with: a text key's value without spaces, a phone key's as it
// is. Its bucket is Bucket(k.Kind == Phone, IndexValue(k)).
func IndexValue(k Key) string {
	if k.Kind == Phone {
		return k.Value
	}
	return Compact(k.Value)
}

// latin reports whether s has no Chinese character.
func latin(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
}

// Rank is how well a key matches a query; lower is better.
type Rank int

// The ranks, best first.
const (
	// RankExact: the query is the whole name, or the whole phone number.
	RankExact Rank = iota
	// RankPrefix: the name or one of its later words starts with the query.
	RankPrefix
	// RankCore: the core name, a pinyin reading or its initials start with
	// the query, or the name starts with the query's core.
	RankCore
	// RankContact: a contact person's name or reading starts with it.
	RankContact
	// RankPhone: a phone number ends with the query's digits.
	RankPhone
)

// Match reports whether k matches q, and how well. A customer found by
// several keys ranks by its best; customers of one rank are ordered as the
// caller likes (by name, say).
func (q Query) Match(k Key) (Rank, bool) {
	if k.Kind == Phone {
		for _, l := range q.Lookups {
			if l.Phone && strings.HasPrefix(k.Value, l.Prefix) {
				if q.Phone != "" && k.Value == l.Prefix {
					return RankExact, true
				}
				return RankPhone, true
			}
		}
		return 0, false
	}
	v := Compact(k.Value)
	own := false
	for _, p := range q.own {
		own = own || strings.HasPrefix(v, p)
	}
	if !own && (q.core == "" || !strings.HasPrefix(v, q.core)) {
		return 0, false
	}
	switch {
	case k.Kind == Contact:
		return RankContact, true
	case k.Kind == Name && v == Compact(q.Text):
		return RankExact, true
	case own && (k.Kind == Name || k.Kind == Word):
		return RankPrefix, true
	}
	return RankCore, true
}

// MatchFound ranks a key a lookup found, knowing the Name key value of the
// customer holding it: the lookup by a query's core finds 北京华信科技有限公司
// by its core, and its name, which starts with 北京华信, ranks it a prefix
// match of 北京华信. A customer's rank is the best of its keys'.
func (q Query) MatchFound(k Key, name string) (Rank, bool) {
	r, ok := q.Match(k)
	if k.Kind == Phone || name == "" {
		return r, ok
	}
	if rn, okn := q.Match(Key{Name, name}); okn && (!ok || rn < r) {
		return rn, true
	}
	return r, ok
}
