package names

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// places are the forms of the regions' names that Core removes, built once
// from the regions table.
type places struct {
	// han holds the Chinese forms: 深圳, 深圳市, 广西壮族自治区, 延边州…, and
	// 中国; maxHan is the longest, in characters.
	han    map[string]bool
	maxHan int
	// latin holds the Latin forms of the provincial-level divisions and the
	// prefecture-level cities, words separated by spaces: beijing, hong kong,
	// and china; maxLatin is the most words one has.
	latin    map[string]bool
	maxLatin int
	// readings maps the Chinese short names of all regions to their pinyin
	// syllables, which read them right where the library's first reading
	// would not (重庆 chong qing).
	readings map[string][]string
}

// country are the names of China itself, removed like a region's.
var country = []string{"中国", "中华人民共和国"}

var placeTable = sync.OnceValue(func() *places {
	p := &places{han: map[string]bool{}, latin: map[string]bool{}, readings: map[string][]string{}}
	addHan := func(f string) {
		p.han[f] = true
		p.maxHan = max(p.maxHan, utf8.RuneCountInString(f))
	}
	addLatin := func(f string) {
		f = strings.Join(strings.Fields(f), " ")
		p.latin[f] = true
		p.maxLatin = max(p.maxLatin, len(strings.Fields(f)))
	}
	for _, c := range country {
		addHan(c)
	}
	addLatin("china")
	addLatin("prc")
	for _, r := range regions {
		for _, f := range r.forms() {
			addHan(f)
		}
		p.readings[r.short] = strings.Fields(r.pinyin)
		if r.level == prefecture || r.level == league || r.level == autonomousPrefecture || !r.shortStrips {
			continue // their Latin names are too often other words
		}
		addLatin(strings.ReplaceAll(strings.ReplaceAll(r.pinyin, " ", ""), "v", "u"))
		for _, l := range strings.Split(r.latin, ",") {
			if l = strings.TrimSpace(l); l != "" {
				addLatin(l)
			}
		}
	}
	return p
})

// forms returns the Chinese names of r that Core takes for it.
func (r region) forms() []string {
	var f []string
	if r.shortStrips {
		f = append(f, r.short)
	}
	if r.full != "" {
		f = append(f, r.full)
	}
	suffix := map[level]string{municipality: "市", province: "省", autonomousRegion: "自治区", specialRegion: "特别行政区",
		city: "市", prefecture: "地区", league: "盟", autonomousPrefecture: "州"}[r.level]
	return append(f, r.short+suffix)
}

// hanPlacePrefix returns the longest place name w starts with, or "".
func (p *places) hanPlacePrefix(w string) string {
	r := []rune(w)
	for n := min(len(r), p.maxHan); n >= 2; n-- {
		if s := string(r[:n]); p.han[s] {
			return s
		}
	}
	return ""
}

// hanPlaceSuffix returns the longest place name w ends with, or "".
func (p *places) hanPlaceSuffix(w string) string {
	r := []rune(w)
	for n := min(len(r), p.maxHan); n >= 2; n-- {
		if s := string(r[len(r)-n:]); p.han[s] {
			return s
		}
	}
	return ""
}

// latinPlaceWords returns how many of the first words of ws name a place,
// or 0.
func (p *places) latinPlaceWords(ws []string) int {
	for n := min(len(ws), p.maxLatin); n >= 1; n-- {
		if p.latin[strings.Join(ws[:n], " ")] {
			return n
		}
	}
	return 0
}

// isPlace reports whether ws, the words in a bracket, name a place.
func (p *places) isPlace(ws []string) bool {
	if len(ws) == 1 && p.han[ws[0]] {
		return true
	}
	return len(ws) > 0 && p.latinPlaceWords(ws) == len(ws)
}
