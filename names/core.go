package names

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Core returns the core of an organization's name, folded: the name
// without what many names share and people leave out when they search or
// write it again.
//
//   - Brackets that hold a place or a note (北京, (Shanghai), 特殊普通合伙, 集团)
//     are removed wherever they stand, and a bracket that ends the name but
//     for legal forms whatever it holds: 华信科技(北京)有限公司 → 华信科技, Acme
//     (Asia Pacific) Pte. Ltd. → acme.
//   - Legal forms are removed from the end as often as they occur: 有限公司,
//     股份有限公司, 集团, 分公司… and Co., Ltd., Inc., GmbH, LLC…; a place
//     before a branch's ending goes with it (…深圳分公司).
//   - Up to three places are removed from the start: a province,
//     municipality, autonomous region or SAR, a prefecture-level division, or
//     China (北京市, 广东省深圳市, 中国, Beijing, Hong Kong), and a leading
//     "the" — unless only words saying what the organization does would
//     remain (北京银行 and Bank of Beijing's "Beijing Bank" keep theirs).
//
// What remains always has a Latin word or digit, or at least two Chinese
// characters; a step that would leave less is not taken. So 华信科技 is
// the core of 北京华信科技有限公司, 华信科技(北京)有限公司 and 北京市华信科技
// 集团股份有限公司, and "acme trading" that of ACME Trading (Shanghai) Co.,
// Ltd.
func Core(name string) string {
	ws := dropBrackets(words(name, true))
	ws = trimLegal(ws)
	ws = trimPlaces(ws)
	return strings.Join(ws, " ")
}

// enough reports whether ws is still a name: a word that is not Chinese, or
// two Chinese characters.
func enough(ws []string) bool {
	han := 0
	for _, w := range ws {
		if !hanWord(w) {
			return true
		}
		han += utf8.RuneCountInString(w)
	}
	return han >= 2
}

// dropBrackets removes the brackets of ws, and what they hold when it is a
// place or a note, or when they end the name (legal forms aside).
func dropBrackets(ws []string) []string {
	p := placeTable()
	var out []string
	for i := 0; i < len(ws); i++ {
		if ws[i] == ")" {
			continue
		}
		if ws[i] != "(" {
			out = append(out, ws[i])
			continue
		}
		end := closing(ws, i)
		if end < 0 {
			continue // an unclosed bracket: its words stay
		}
		inside := slices.DeleteFunc(slices.Clone(ws[i+1:end]), func(w string) bool { return w == "(" || w == ")" })
		last := len(out) > 0 && onlyLegal(ws[end+1:])
		if !last && !p.isPlace(inside) && !isNote(inside) {
			out = append(out, inside...)
		}
		i = end
	}
	return mergeHan(out)
}

// closing returns the index of the bracket that closes the one at i, or -1.
func closing(ws []string, i int) int {
	depth := 0
	for j := i; j < len(ws); j++ {
		switch ws[j] {
		case "(":
			depth++
		case ")":
			if depth--; depth == 0 {
				return j
			}
		}
	}
	return -1
}

// LegalForm reports whether a folded word is a legal form and nothing
// else: ltd, gmbh, 有限公司, 股份有限公司.
func LegalForm(word string) bool { return word != "" && onlyLegal([]string{word}) }

// onlyLegal reports whether ws are legal forms only (or none).
func onlyLegal(ws []string) bool {
	for _, w := range ws {
		for hanWord(w) && w != "" {
			suffix := hanLegalSuffix(w)
			if suffix == "" {
				return false
			}
			w = strings.TrimSuffix(w, suffix)
		}
		if w != "" && !latinLegal(w) {
			return false
		}
	}
	return true
}

func isNote(ws []string) bool {
	if len(ws) == 1 && slices.Contains(hanNotes, ws[0]) {
		return true
	}
	for _, w := range ws {
		if !latinLegal(w) {
			return false
		}
	}
	return len(ws) > 0
}

// trimLegal removes legal forms from the end of ws.
func trimLegal(ws []string) []string {
	p := placeTable()
	for len(ws) > 0 {
		n := len(ws)
		last := ws[n-1]
		next := ws[: n-1 : n-1]
		switch {
		case hanWord(last):
			suffix := hanLegalSuffix(last)
			if suffix == "" {
				return ws
			}
			rest := strings.TrimSuffix(last, suffix)
			if slices.Contains(hanBranch, suffix) && rest != "" {
				rest = branchParent(p, rest)
			}
			if rest != "" {
				next = append(next, rest)
			}
		case latinLegal(last):
		default:
			return ws
		}
		if !enough(next) {
			return ws
		}
		ws = next
	}
	return ws
}

// branchParent returns the parent's name in what is left of a branch's
// name: up to the parent's last 公司 or 集团 (…股份有限公司北京西城 → …股份有限公司),
// or else without a place at its end (招商银行北京 → 招商银行).
func branchParent(p *places, rest string) string {
	cut := -1
	for _, form := range []string{"公司", "集团"} {
		if i := strings.LastIndex(rest, form); i > 0 && i+len(form) < len(rest) {
			cut = max(cut, i+len(form))
		}
	}
	if cut > 0 {
		return rest[:cut]
	}
	if place := p.hanPlaceSuffix(rest); place != "" && place != rest {
		return strings.TrimSuffix(rest, place)
	}
	return rest
}

func hanLegalSuffix(w string) string {
	best := ""
	for _, s := range hanLegal {
		if len(s) > len(best) && strings.HasSuffix(w, s) {
			best = s
		}
	}
	return best
}

// trimPlaces removes up to three places, and a leading "the", from the
// start of ws.
func trimPlaces(ws []string) []string {
	p := placeTable()
	for range 3 {
		if len(ws) == 0 {
			return ws
		}
		var next []string
		switch first := ws[0]; {
		case first == "the":
			next = ws[1:]
		case hanWord(first):
			place := p.hanPlacePrefix(first)
			if place == "" {
				return ws
			}
			next = ws[1:]
			if rest := strings.TrimPrefix(first, place); rest != "" {
				next = append([]string{rest}, next...)
			}
		default:
			n := p.latinPlaceWords(ws)
			if n == 0 {
				return ws
			}
			next = ws[n:]
		}
		if !enough(next) || generic(next) {
			return ws
		}
		ws = next
	}
	return ws
}
