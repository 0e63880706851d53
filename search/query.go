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
	// Lookups are the reads that find every match: at most 2, so that a
	// first page costs at most 2 index reads.
	Lookups []Lookup
	// Phone is the E.164 number the string is, when it is a whole phone
	// number; its Phone lookup then holds the whole significant number.
	Phone string

	own  []string // text prefixes that are what was typed
	core string   // text prefix that is the core of what was typed, or ""
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

// ParseQuery reads a search string.
//
// A string that is a whole phone number (phone.Parse) is looked up by
// that number only. A string of at least 4 digits, with phone separators
// if any, is also looked up as the last digits of a phone. Any other
// text is looked up, folded (names.Fold), by prefix: as typed; by its core
// when that differs (华信科技有限公司 also looks up 华信科技, 北京华信 also
// 华信); and, when it is Latin words only, also without its spaces (hua xin
// → huaxin, as pinyin keys are written), unless its core was already
// taken. A prefix that starts another is dropped (华信 finds all that 华信科技
// finds), and at most 2 lookups are made in all.
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
		q.Lookups = append(q.Lookups, Lookup{Phone: true, Bucket: Bucket(true, d), Prefix: d})
	}
	if Bucket(false, q.Text) == "" {
		if len(q.Lookups) > 0 {
			return q, nil
		}
		return Query{}, ErrQueryShort
	}
	q.own = []string{q.Text}
	if c := cut(names.Core(s)); c != q.Text && Bucket(false, c) != "" {
		q.core = c
	} else if nospace := strings.ReplaceAll(q.Text, " ", ""); nospace != q.Text && latin(q.Text) {
		q.own = append(q.own, nospace)
	}
	prefixes := minimal(append(q.own[:len(q.own):len(q.own)], q.core))
	for _, p := range prefixes[:min(len(prefixes), 2-len(q.Lookups))] {
		q.Lookups = append(q.Lookups, Lookup{Bucket: Bucket(false, p), Prefix: p})
	}
	return q, nil
}

// latin reports whether s has no Chinese character.
func latin(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
}

// minimal returns the non-empty prefixes that no other starts, in order.
func minimal(prefixes []string) []string {
	var out []string
	for i, p := range prefixes {
		if p == "" {
			continue
		}
		covered := false
		for j, o := range prefixes {
			if o != "" && j != i && strings.HasPrefix(p, o) && (o != p || j < i) {
				covered = true
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out
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
	own := false
	for _, p := range q.own {
		own = own || strings.HasPrefix(k.Value, p)
	}
	if !own && (q.core == "" || !strings.HasPrefix(k.Value, q.core)) {
		return 0, false
	}
	switch {
	case k.Kind == Contact:
		return RankContact, true
	case k.Kind == Name && k.Value == q.Text:
		return RankExact, true
	case own && (k.Kind == Name || k.Kind == Word):
		return RankPrefix, true
	}
	return RankCore, true
}
