package names

import (
	"sort"
	"strings"
	"unicode/utf8"
)

//go:generate go run ./internal/genpinyin -o pinyin_table.go

// MaxReadings is the most readings Pinyin returns for a name.
const MaxReadings = 3

// Reading is one way to read a name in pinyin, as typed on a keyboard:
// without tones, ü as v, syllables together.
type Reading struct {
	// Full is every syllable: huaxinkeji.
	Full string
	// Initials is the first letter of every syllable: hxkj.
	Initials string
}

// A character may have several readings (行 xing or hang, 长 chang or zhang).
// The pinyin library (go-pinyin) gives them all, its first being the most
// common; it reads character by character, with no dictionary of words. We
// keep only its first reading of each character, in a table generated from
// it (pinyin_table.go), so that no binary links the library, whose
// dictionary is a map built at package init. For names we
// read each character once, by these rules, in order:
//
//  1. the surname of a person by its surname reading (曾 zeng, 单 shan, 解
//     xie, 尉迟 yu chi);
//  2. a word of nameWords or a region's short name by its reading (银行 yin
//     hang, 长城 chang cheng, 重庆 chong qing, 厦门 xia men);
//  3. any other character by the library's first reading.
//
// Pinyin returns that reading first. A second reading reads the characters
// of alsoRead that rules 1 and 2 did not fix by their other common reading
// in names (长 chang, 行 hang, 乐 yue…), so that 长丰 is found by changfeng
// as well as zhangfeng; a third writes ü as u (lvdi, ludi). We do not
// return every combination of readings: a six-character name can have
// dozens, nearly all of which nobody types.

// surnames are the surnames read otherwise than by the library's first
// reading, compound ones included.
var surnames = map[string]string{
	"单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha", "盖": "ge",
	"乐": "yue", "覃": "qin", "翟": "zhai", "缪": "miao", "秘": "bi", "召": "shao", "员": "yun", "种": "chong",
	"折": "she", "句": "gou", "繁": "po", "薄": "bo", "阚": "kan", "隗": "wei", "都": "du", "藏": "zang",
	"长": "chang", "重": "chong",
	"尉迟": "yu chi", "万俟": "mo qi", "长孙": "zhang sun", "单于": "chan yu", "澹台": "tan tai",
}

// nameWords are words common in organization names with a character the
// library reads otherwise by default.
var nameWords = map[string]string{
	"银行": "yin hang", "商行": "shang hang", "车行": "che hang", "琴行": "qin hang", "分行": "fen hang",
	"支行": "zhi hang", "总行": "zong hang", "行业": "hang ye", "同行": "tong hang",
	"长城": "chang cheng", "长江": "chang jiang", "长虹": "chang hong", "长安": "chang an", "长征": "chang zheng",
	"长青": "chang qing", "长河": "chang he", "长远": "chang yuan", "长久": "chang jiu", "长兴": "chang xing",
	"长丰": "chang feng", "长信": "chang xin", "长盛": "chang sheng", "长荣": "chang rong", "长航": "chang hang",
	"音乐": "yin yue", "乐器": "yue qi", "乐团": "yue tuan", "藏族": "zang zu", "宝藏": "bao zang",
	"首都": "shou du", "都市": "du shi", "都会": "du hui", "佛教": "fo jiao", "会计": "kuai ji",
	"传记": "zhuan ji", "自传": "zi zhuan",
}

// alsoRead are characters whose other reading is common in names.
var alsoRead = map[rune]string{
	'长': "chang", '重': "chong", '行': "hang", '乐': "yue", '厦': "xia", '藏': "zang", '都': "du", '佛': "fo",
	'六': "lu", '曾': "zeng", '单': "shan", '解': "xie", '区': "ou", '查': "zha", '仇': "qiu", '朴': "piao",
	'盖': "ge", '翟': "zhai", '覃': "qin", '会': "kuai", '传': "zhuan", '调': "tiao",
}

// syllable is one unit of a reading: a character's syllable, or a word in
// another script, which readings keep whole.
type syllable struct {
	text  string
	other string // the alsoRead reading, or ""
	latin bool
}

// Pinyin returns up to MaxReadings readings of s, the most likely first
// (see the rules above), or nil when s has no Chinese character. Words in
// other scripts are kept as they are, in both Full and Initials: TCL科技 →
// tclkeji, tclkj. person says s is a person's name, whose first characters
// may be a surname.
func Pinyin(s string, person bool) []Reading {
	var syl []syllable
	han := false
	for i, w := range Words(s) {
		if !hanWord(w) {
			syl = append(syl, syllable{text: w, latin: true})
			continue
		}
		han = true
		syl = append(syl, readWord(w, person && i == 0)...)
	}
	if !han {
		return nil
	}
	var out []Reading
	add := func(r Reading) {
		for _, o := range out {
			if o == r {
				return
			}
		}
		out = append(out, r)
	}
	first := reading(syl, false)
	add(first)
	add(reading(syl, true))
	add(Reading{Full: vToU(syl), Initials: first.Initials})
	return out
}

// vToU writes a reading's ü, v when typed, as u. Words in other scripts
// are kept as they are.
func vToU(syl []syllable) string {
	var b strings.Builder
	for _, s := range syl {
		if s.latin {
			b.WriteString(s.text)
		} else {
			b.WriteString(strings.ReplaceAll(s.text, "v", "u"))
		}
	}
	return b.String()
}

// reading joins syllables; other reads the alsoRead characters by their
// other reading.
func reading(syl []syllable, other bool) Reading {
	var full, initials strings.Builder
	for _, s := range syl {
		t := s.text
		if other && s.other != "" {
			t = s.other
		}
		full.WriteString(t)
		if s.latin {
			initials.WriteString(t)
		} else {
			initials.WriteByte(t[0])
		}
	}
	return Reading{Full: full.String(), Initials: initials.String()}
}

// readWord reads a word of Chinese characters; surname says it starts
// with a person's surname.
func readWord(w string, surname bool) []syllable {
	var out []syllable
	fixed := func(reading string) {
		for _, p := range strings.Fields(reading) {
			out = append(out, syllable{text: p})
		}
	}
	rest := w
	if surname {
		for _, n := range []int{2, 1} {
			if r := []rune(rest); len(r) > n {
				if p, ok := surnames[string(r[:n])]; ok {
					fixed(p)
					rest = string(r[n:])
					break
				}
			}
		}
	}
	places := placeTable().readings
	for rest != "" {
		if word, reading := knownWord(rest, places); word != "" {
			fixed(reading)
			rest = rest[len(word):]
			continue
		}
		r, size := utf8.DecodeRuneInString(rest)
		rest = rest[size:]
		if p := charReading(r); p != "" {
			out = append(out, syllable{text: p, other: alsoRead[r]})
		}
	}
	return out
}

// knownWord returns the longest word of nameWords or region name that s
// starts with, and its reading.
func knownWord(s string, places map[string][]string) (string, string) {
	r := []rune(s)
	for n := min(len(r), 8); n >= 2; n-- {
		w := string(r[:n])
		if p, ok := nameWords[w]; ok {
			return w, p
		}
		if p, ok := places[w]; ok {
			return w, strings.Join(p, " ")
		}
	}
	return "", ""
}

// pinyinRun is a range of consecutive characters that have a reading in
// the generated table: n characters from first, whose readings start at
// pinyinReadings[off].
type pinyinRun struct {
	first rune
	n     uint16
	off   uint16
}

// charReading returns the library's first reading of r without tones, ü
// written v (nv), or "" when it has none.
func charReading(r rune) string {
	i := sort.Search(len(pinyinRuns), func(i int) bool { return pinyinRuns[i].first > r }) - 1
	if i < 0 || r-pinyinRuns[i].first >= rune(pinyinRuns[i].n) {
		return ""
	}
	run := pinyinRuns[i]
	return pinyinSyllables[pinyinReadings[int(run.off)+int(r-run.first)]]
}
