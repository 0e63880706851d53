package search

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestNameKeys(t *testing.T) {
	tests := []struct {
		name         string
		organization bool
		want         []Key
	}{
		{"北京华信科技有限公司", true, []Key{
			{Name, "北京华信科技有限公司"}, {Core, "华信科技"}, {Pinyin, "huaxinkeji"}, {Initials, "hxkj"}}},
		{"华信科技（北京）有限公司", true, []Key{
			{Name, "华信科技北京有限公司"}, {Core, "华信科技"}, {Pinyin, "huaxinkeji"}, {Initials, "hxkj"}}},
		{"ACME Trading Co., Ltd.", true, []Key{
			{Name, "acme trading co ltd"}, {Word, "trading"}, {Core, "acme trading"}}},
		{"北京银行", true, []Key{{Name, "北京银行"}, {Pinyin, "beijingyinhang"}, {Initials, "bjyh"}}},
		{"曾伟", false, []Key{{Name, "曾伟"}, {Pinyin, "zengwei"}, {Initials, "zw"}}},
		{"吕芳", false, []Key{{Name, "吕芳"}, {Pinyin, "lufang"}, {Pinyin, "lvfang"}, {Initials, "lf"}}},
		{"John Smith", false, []Key{{Name, "john smith"}, {Word, "smith"}}},
		{"  ", true, nil},
	}
	for _, tt := range tests {
		if got := NameKeys(tt.name, tt.organization); !slices.Equal(got, tt.want) {
			t.Errorf("NameKeys(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestContactAndPhoneKeys(t *testing.T) {
	got := ContactKeys(Person{Name: "王芳", Phones: []string{"138 1234 5678", "+86 13812345678", "6552 1234", "12"}})
	want := []Key{{Contact, "wangfang"}, {Contact, "wf"}, {Contact, "王芳"}, {Phone, "43212556"}, {Phone, "87654321831"}}
	if !slices.Equal(got, want) {
		t.Errorf("ContactKeys = %v, want %v", got, want)
	}
}

func TestCustomerKeysKeepTheBestKind(t *testing.T) {
	keys := CustomerKeys(Customer{Name: "Acme", Organization: true, Contacts: []Person{{Name: "Acme"}}})
	if want := []Key{{Name, "acme"}}; !slices.Equal(keys, want) {
		t.Errorf("CustomerKeys = %v, want %v", keys, want)
	}
}

// TestCustomerKeysAreBounded builds the largest customer Rapport allows
// (a 200-character name, 50 contacts, 5 phones each) and checks MaxKeys.
func TestCustomerKeysAreBounded(t *testing.T) {
	long := strings.Repeat("Alpha Beta 长乐吕 ", 12)[:200]
	c := Customer{Name: long, Organization: true}
	for i := range 5 {
		c.Phones = append(c.Phones, fmt.Sprintf("+86 139 0000 %04d", i))
	}
	for i := range 50 {
		p := Person{Name: fmt.Sprintf("Zhang Wei Li Na %d 长乐吕%d", i, i)}
		for j := range 5 {
			p.Phones = append(p.Phones, fmt.Sprintf("+86 138 %04d %04d", i, j))
		}
		c.Contacts = append(c.Contacts, p)
	}
	keys := CustomerKeys(c)
	if n, max := len(keys), MaxKeys(50, 255); n > max || max != 666 {
		t.Fatalf("%d keys, bound %d", n, max)
	}
	for _, k := range keys {
		if len([]rune(k.Value)) > MaxValueRunes {
			t.Fatalf("key %v is longer than %d", k, MaxValueRunes)
		}
	}
	if n := len(NameKeys(long, true)); n > MaxNameKeys {
		t.Fatalf("%d name keys, bound %d", n, MaxNameKeys)
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		in      string
		lookups []Lookup
		phone   string
		err     error
	}{
		{in: "华信科技", lookups: []Lookup{{Bucket: "华", Prefix: "华信科技"}}},
		{in: "华", lookups: []Lookup{{Bucket: "华", Prefix: "华"}}},
		{in: "华信科技有限公司", lookups: []Lookup{{Bucket: "华", Prefix: "华信科技"}}},
		{in: "北京华信", lookups: []Lookup{{Bucket: "华", Prefix: "华信"}}},
		{in: "北京", lookups: []Lookup{{Bucket: "北", Prefix: "北京"}}},
		{in: "ａｃｍｅ", lookups: []Lookup{{Bucket: "ac", Prefix: "acme"}}},
		{in: "Hua Xin", lookups: []Lookup{{Bucket: "hu", Prefix: "huaxin"}}},
		{in: "h xin", lookups: []Lookup{{Bucket: "hx", Prefix: "hxin"}}},
		{in: "Acme Co., Ltd.", lookups: []Lookup{{Bucket: "ac", Prefix: "acme"}}},
		{in: "5678", lookups: []Lookup{{Phone: true, Bucket: "8765", Prefix: "8765"}}},
		{in: "1234 5678", lookups: []Lookup{{Phone: true, Bucket: "8765", Prefix: "87654321"}}},
		{in: "１２３４５", lookups: []Lookup{{Phone: true, Bucket: "5432", Prefix: "54321"}}},
		{in: "+86 138 1234 5678", phone: "+8613812345678", lookups: []Lookup{{Phone: true, Bucket: "8765", Prefix: "87654321831"}}},
		{in: "(010) 6552 1234", phone: "+861065521234", lookups: []Lookup{{Phone: true, Bucket: "4321", Prefix: "4321255601"}}},
		{in: "123", lookups: []Lookup{{Bucket: "12", Prefix: "123"}}},
		{in: "a", err: ErrQueryShort},
		{in: " .- ", err: ErrQueryShort},
		{in: strings.Repeat("x", MaxQueryRunes+1), err: ErrQueryLong},
	}
	for _, tt := range tests {
		q, err := ParseQuery(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseQuery(%q): %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(q.Lookups, tt.lookups) || q.Phone != tt.phone {
			t.Errorf("ParseQuery(%q) = %+v, %v; want lookups %v, phone %q", tt.in, q, err, tt.lookups, tt.phone)
		}
	}
}

// index is what a search index does with the keys, kept in memory: the
// test of the rules is that the lookups find what the issue asks.
type index map[string][]Key // customer → keys

func (ix index) search(tb testing.TB, s string) []string {
	tb.Helper()
	q, err := ParseQuery(s)
	if err != nil {
		tb.Fatalf("ParseQuery(%q): %v", s, err)
	}
	best := map[string]Rank{}
	for id, keys := range ix {
		name := ""
		if len(keys) > 0 && keys[0].Kind == Name {
			name = keys[0].Value
		}
		for _, l := range q.Lookups {
			for _, k := range keys {
				phoneKey, v := k.Kind == Phone, IndexValue(k)
				if phoneKey != l.Phone || Bucket(phoneKey, v) != l.Bucket || !strings.HasPrefix(v, l.Prefix) {
					continue
				}
				r, ok := q.MatchFound(k, name)
				if !ok {
					tb.Fatalf("%q: lookup %v found %v, which does not match", s, l, k)
				}
				if b, seen := best[id]; !seen || r < b {
					best[id] = r
				}
			}
		}
	}
	var out []string
	for id := range best {
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(best[a], best[b]), strings.Compare(a, b)) })
	return out
}

func TestSearchFinds(t *testing.T) {
	ix := index{}
	for id, c := range map[string]Customer{
		"bj-huaxin":  {Name: "北京华信科技有限公司", Organization: true, Phones: []string{"010-6552 1234"}},
		"huaxin-bj":  {Name: "华信科技(北京)有限公司", Organization: true},
		"huaxin":     {Name: "华信科技有限公司", Organization: true},
		"huaxin-dz":  {Name: "华信电子", Organization: true},
		"acme":       {Name: "Acme Trading Co., Ltd.", Organization: true, Contacts: []Person{{Name: "王芳", Phones: []string{"138 1234 5678"}}}},
		"zhang":      {Name: "张伟", Phones: []string{"+86 139 8765 5678"}},
		"bank":       {Name: "北京银行", Organization: true},
		"changcheng": {Name: "长城汽车股份有限公司", Organization: true},
	} {
		ix[id] = CustomerKeys(c)
	}
	tests := []struct {
		query string
		want  []string // best first
	}{
		{"华信科技", []string{"huaxin", "huaxin-bj", "bj-huaxin"}},
		{"华信", []string{"huaxin", "huaxin-bj", "huaxin-dz", "bj-huaxin"}},
		{"北京华信", []string{"bj-huaxin", "huaxin", "huaxin-bj", "huaxin-dz"}},
		{"北京华信科技有限公司", []string{"bj-huaxin", "huaxin", "huaxin-bj"}},
		{"华信科技有限公司", []string{"huaxin", "bj-huaxin", "huaxin-bj"}},
		{"huaxin", []string{"bj-huaxin", "huaxin", "huaxin-bj", "huaxin-dz"}},
		{"hxkj", []string{"bj-huaxin", "huaxin", "huaxin-bj"}},
		{"Hua Xin", []string{"bj-huaxin", "huaxin", "huaxin-bj", "huaxin-dz"}},
		{"ａｃｍｅ", []string{"acme"}},
		{"trad", []string{"acme"}},
		{"acme tr", []string{"acme"}},
		{"王芳", []string{"acme"}},
		{"wangf", []string{"acme"}},
		{"zhangwei", []string{"zhang"}},
		{"5678", []string{"acme", "zhang"}},
		{"12345678", []string{"acme"}},
		{"138 1234 5678", []string{"acme"}},
		{"+86 10 6552 1234", []string{"bj-huaxin"}},
		{"6552 1234", []string{"bj-huaxin"}},
		{"北京", []string{"bank", "bj-huaxin"}},
		{"bjyh", []string{"bank"}},
		{"changcheng", []string{"changcheng"}},
		{"长城", []string{"changcheng"}},
		{"xyz", nil},
	}
	for _, tt := range tests {
		if got := ix.search(t, tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("search %q = %v, want %v", tt.query, got, tt.want)
		}
	}
}

func FuzzQuery(f *testing.F) {
	for _, s := range []string{"华信科技", "北京华信", "Hua Xin", "ａｃｍｅ", "5678", "+86 138 1234 5678", "a", "Acme Co., Ltd.", "1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			return
		}
		if len(q.Lookups) != 1 {
			t.Fatalf("ParseQuery(%q): %d lookups", s, len(q.Lookups))
		}
		for _, l := range q.Lookups {
			if l.Bucket == "" || !strings.HasPrefix(l.Prefix, l.Bucket) || Bucket(l.Phone, l.Prefix) != l.Bucket {
				t.Fatalf("ParseQuery(%q): lookup %+v cannot be read", s, l)
			}
		}
		// A customer is found by its own name, as an exact match, unless
		// the string is digits only: those are looked up among phones.
		if q.Lookups[0].Phone {
			return
		}
		ix := index{"c": NameKeys(s, true)}
		if got := ix.search(t, s); !slices.Equal(got, []string{"c"}) {
			t.Fatalf("%q is not found by its name: %v", s, got)
		}
		if r, ok := q.Match(Key{Name, q.Text}); !ok || r != RankExact {
			t.Fatalf("%q: its own name ranks %v", s, r)
		}
	})
}

func BenchmarkCustomerKeys(b *testing.B) {
	c := Customer{Name: "北京华信科技有限公司", Organization: true, Phones: []string{"010-6552 1234", "138 1234 5678"},
		Contacts: []Person{{Name: "王芳", Phones: []string{"139 8765 4321"}}, {Name: "李强"}}}
	for b.Loop() {
		CustomerKeys(c)
	}
}

func BenchmarkParseQuery(b *testing.B) {
	for b.Loop() {
		ParseQuery("北京华信")
	}
}

func TestDuplicateLookupReadsTheCoreNotTheRawName(t *testing.T) {
	tests := []struct {
		name, bucket, prefix, core string
	}{
		{"北京华信科技有限公司", "华", "华信科技", "华信科技"},
		{"华信科技(北京)有限公司", "华", "华信科技", "华信科技"},
		{"华信科技有限公司", "华", "华信科技", "华信科技"},
		{"上海市华信科技集团股份有限公司", "华", "华信科技", "华信科技"},
		{"北京银行股份有限公司", "北", "北京银行", "北京银行"},
		{"ACME Power Co., Ltd.", "ac", "acme", "acmepower"},
		{"Acme Powr", "ac", "acme", "acmepowr"},
		{"ａｃｍｅ　ｌｔｄ", "ac", "acme", "acme"},
		{"A Plus Trading", "ap", "aplustrading", "aplustrading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, core, err := DuplicateLookup(tt.name)
			if err != nil || l.Phone || l.Bucket != tt.bucket || l.Prefix != tt.prefix || core != tt.core {
				t.Fatalf("DuplicateLookup = %+v, %q, %v; want bucket %q prefix %q core %q", l, core, err, tt.bucket, tt.prefix, tt.core)
			}
		})
	}
	for _, bad := range []string{"", " ", "()", "--"} {
		if _, _, err := DuplicateLookup(bad); err != ErrQueryShort {
			t.Errorf("DuplicateLookup(%q) = %v, want %v", bad, err, ErrQueryShort)
		}
	}
}

// FuzzDuplicateLookup: an organization is found by a duplicate lookup of
// its own name, by a NAME or CORE key, and the lookup's core is the value
// of its CORE key (or of its NAME key, when the name is its own core).
func FuzzDuplicateLookup(f *testing.F) {
	for _, s := range []string{"北京华信科技有限公司", "华信科技(北京)有限公司", "Acme Power Co., Ltd.", "A Plus", "ａｃｍｅ", "北京银行", "x", "（）"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, core, err := DuplicateLookup(s)
		if err != nil {
			return
		}
		if l.Phone || Bucket(false, l.Prefix) != l.Bucket || !strings.HasPrefix(core, l.Prefix) {
			t.Fatalf("DuplicateLookup(%q) = %+v, %q", s, l, core)
		}
		found, coreOf := false, ""
		for _, k := range NameKeys(s, true) {
			v := IndexValue(k)
			if (k.Kind == Name || k.Kind == Core) && Bucket(false, v) == l.Bucket && strings.HasPrefix(v, l.Prefix) {
				found = true
			}
			if k.Kind == Core || (k.Kind == Name && coreOf == "") {
				coreOf = v
			}
		}
		if !found || coreOf != core {
			t.Fatalf("%q: lookup %+v, core %q; its keys %v", s, l, core, NameKeys(s, true))
		}
	})
}
