// Package search turns a customer into the keys a search index stores for
// it, and a search string into what to look up in that index and how to
// rank what it finds. It holds rules only; where the keys are stored is the
// storage adapter's business. docs/search.md lists the rules with examples.
package search

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/names"
	"github.com/rapportcrm/rapport/phone"
)

// Kind says what a key is made from. Kinds are listed from the best match
// to the weakest: a customer found by several keys ranks by its best.
type Kind int

// The kinds of key.
const (
	// Name is the customer's whole name, folded: 北京华信科技有限公司, acme
	// trading co ltd.
	Name Kind = iota
	// Word is a later word of the name, for a search by the start of any
	// word: trading in "Acme Trading".
	Word
	// Core is the core of an organization's name (names.Core): 华信科技.
	Core
	// Pinyin is a full pinyin reading of an organization's core or of a
	// person's name: huaxinkeji.
	Pinyin
	// Initials are the initials of such a reading: hxkj.
	Initials
	// Contact is a contact person's name, a later word of it, or a reading
	// or initials of it.
	Contact
	// Phone is the significant number of a phone of the customer or of a
	// contact, digits reversed (phone.Number.SuffixKey), for a search by
	// its last digits.
	Phone
)

var kindNames = [...]string{"NAME", "WORD", "CORE", "PINYIN", "INITIALS", "CONTACT", "PHONE"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "UNKNOWN"
	}
	return kindNames[k]
}

// Key is one search key of a customer.
type Key struct {
	Kind  Kind
	Value string
}

// Customer is what search keys are made from.
type Customer struct {
	Name string
	// Organization says Name is an organization's, which has a core; a
	// person's name has none.
	Organization bool
	// Phones as stored; each is read by phone.Parse, and one it cannot read
	// gives a key of its digits (at least 4), so numbers stored before they
	// were canonical are found too.
	Phones   []string
	Contacts []Person
}

// Person is a contact person of a customer.
type Person struct {
	Name   string
	Phones []string
}

// Bounds on the keys of one customer.
const (
	// MaxValueRunes is the longest key value; longer ones are cut, and so
	// is a search string, so that prefixes still match.
	MaxValueRunes = 64
	// MaxWords is how many later words of a customer's name have a Word
	// key; MaxContactWords the same for a contact's name.
	MaxWords        = 4
	MaxContactWords = 2
	// MaxNameKeys is the most keys NameKeys returns: the name, MaxWords
	// words, the core, names.MaxReadings readings and their initials, of
	// which there are at most 2 different ones (the reading that writes ü
	// as u has the first reading's initials).
	MaxNameKeys = 1 + MaxWords + 1 + names.MaxReadings + 2
	// MaxPersonKeys is the most text keys of one contact: the name,
	// MaxContactWords words, the readings and 2 initials.
	MaxPersonKeys = 1 + MaxContactWords + names.MaxReadings + 2
)

// MaxKeys returns the most keys CustomerKeys returns for a customer with
// that many contacts and phones in all (the customer's and its contacts').
// With Rapport's limits, 50 contacts and 5 phones each, that is
// MaxKeys(50, 255) = 11 + 50×8 + 255 = 666; a customer with 2 contacts
// and 3 phones has at most 30.
func MaxKeys(contacts, phones int) int {
	return MaxNameKeys + contacts*MaxPersonKeys + phones
}

// CustomerKeys returns the set of search keys of a customer, each value
// once and with its best kind, sorted by kind and value. See MaxKeys for
// how many there are at most.
func CustomerKeys(c Customer) []Key {
	keys := NameKeys(c.Name, c.Organization)
	keys = append(keys, PhoneKeys(c.Phones)...)
	for _, p := range c.Contacts {
		keys = append(keys, ContactKeys(p)...)
	}
	return dedupe(keys)
}

// NameKeys returns the keys of a customer's own name (Name, Word, Core,
// Pinyin, Initials).
func NameKeys(name string, organization bool) []Key {
	ws := names.Words(name)
	if len(ws) == 0 {
		return nil
	}
	keys := []Key{{Name, cut(strings.Join(ws, " "))}}
	keys = append(keys, laterWords(ws, MaxWords, Word)...)
	read := name
	if organization {
		if c := names.Core(name); c != "" {
			keys = append(keys, Key{Core, cut(c)})
			read = c
		}
	}
	keys = append(keys, readings(read, !organization, Pinyin, Initials)...)
	return dedupe(keys)
}

// NameValue is the value of a name's Name key: the name folded, its words
// joined by spaces, cut to MaxValueRunes.
func NameValue(name string) string { return cut(strings.Join(names.Words(name), " ")) }

// ContactKeys returns the keys of a contact person: their name, its later
// words and readings (all of kind Contact), and their phones.
func ContactKeys(p Person) []Key {
	ws := names.Words(p.Name)
	var keys []Key
	if len(ws) > 0 {
		keys = append(keys, Key{Contact, cut(strings.Join(ws, " "))})
		keys = append(keys, laterWords(ws, MaxContactWords, Contact)...)
		keys = append(keys, readings(p.Name, true, Contact, Contact)...)
	}
	return dedupe(append(keys, PhoneKeys(p.Phones)...))
}

// PhoneKeys returns the Phone keys of phone numbers as stored.
func PhoneKeys(phones []string) []Key {
	var keys []Key
	for _, s := range phones {
		if n, err := phone.Parse(s); err == nil {
			keys = append(keys, Key{Phone, n.SuffixKey()})
		} else if d := phone.Reverse(s); len(d) >= 4 {
			keys = append(keys, Key{Phone, d})
		}
	}
	return dedupe(keys)
}

// laterWords returns keys of the words after the first (the Name key
// already starts with the first), up to limit, leaving out single
// characters and legal forms (co, ltd).
func laterWords(ws []string, limit int, kind Kind) []Key {
	var keys []Key
	for _, w := range ws[1:] {
		if len(keys) == limit {
			break
		}
		if utf8.RuneCountInString(w) > 1 && !names.LegalForm(w) {
			keys = append(keys, Key{kind, cut(w)})
		}
	}
	return keys
}

func readings(s string, person bool, full, initials Kind) []Key {
	var keys []Key
	for _, r := range names.Pinyin(s, person) {
		keys = append(keys, Key{full, cut(r.Full)}, Key{initials, cut(r.Initials)})
	}
	return keys
}

// cut shortens a value to MaxValueRunes.
func cut(s string) string {
	if utf8.RuneCountInString(s) <= MaxValueRunes {
		return s
	}
	return string([]rune(s)[:MaxValueRunes])
}

// dedupe keeps each value once, with its best kind (a phone key's value is
// apart from text values), sorted by kind and value.
func dedupe(keys []Key) []Key {
	space := func(k Key) bool { return k.Kind == Phone }
	slices.SortFunc(keys, func(a, b Key) int {
		if space(a) != space(b) {
			return cmp.Compare(a.Kind, b.Kind)
		}
		return cmp.Or(strings.Compare(a.Value, b.Value), cmp.Compare(a.Kind, b.Kind))
	})
	keys = slices.CompactFunc(keys, func(a, b Key) bool { return a.Value == b.Value && space(a) == space(b) })
	slices.SortFunc(keys, func(a, b Key) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), strings.Compare(a.Value, b.Value)) })
	return keys
}
