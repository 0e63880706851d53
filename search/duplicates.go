package search

import (
	"strings"

	"github.com/rapportcrm/rapport/names"
)

// DuplicateLookup is how a name is looked up for customers that may be
// the same one (duplicate candidates), in the same index as a search:
// among the keys that start with the first word of the name's core
// (names.Core), so that every variant of a Chinese company name with that
// core is found whatever places and legal forms it was written with
// (北京华信科技有限公司, 华信科技(北京)有限公司 and 华信科技有限公司 all look up 华信科技),
// and a Latin name with a typo in a later word is found by its first
// (acme powr by acme). A Chinese core is one word: it is looked up whole.
// A first word shorter than a bucket (a, b) is looked up with the words
// after it. Core is the name's core, compacted (Compact), which candidates
// are compared on. It fails with ErrQueryShort when the name holds no
// letter or digit.
func DuplicateLookup(name string) (l Lookup, core string, err error) {
	c := cut(names.Core(name))
	core = Compact(c)
	prefix := core
	if ws := strings.Fields(c); len(ws) > 0 && Bucket(false, ws[0]) != "" {
		prefix = ws[0]
	}
	b := Bucket(false, prefix)
	if b == "" {
		return Lookup{}, "", ErrQueryShort
	}
	return Lookup{Bucket: b, Prefix: prefix}, core, nil
}
