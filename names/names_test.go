package names

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ａｃｍｅ", "acme"},
		{"ACME Trading", "acme trading"},
		{"  Acme   Trading, Co., Ltd. ", "acme trading co ltd"},
		{"Müller Café GmbH", "muller cafe gmbh"},
		{"Straße", "strasse"},
		{"McDonald's", "mcdonalds"},
		{"Acme S.A. de C.V.", "acme sa de cv"},
		{"Coca-Cola", "coca cola"},
		{"AT&T", "at t"},
		{"华信 科技", "华信科技"},
		{"北京华信科技有限公司", "北京华信科技有限公司"},
		{"华信科技（北京）有限公司", "华信科技北京有限公司"},
		{"IBM中国", "ibm 中国"},
		{"360安全科技", "360 安全科技"},
		{"约翰·史密斯", "约翰史密斯"},
		{"“华信”科技", "华信科技"},
		{"ＴＣＬ科技集团", "tcl 科技集团"},
		{"", ""},
		{"—·—", ""},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCore(t *testing.T) {
	tests := []struct{ in, want string }{
		// The names.
		{"北京华信科技有限公司", "华信科技"},
		{"华信科技(北京)有限公司", "华信科技"},
		{"华信科技（北京）有限公司", "华信科技"},
		{"华信科技", "华信科技"},
		// Places at the start, one or several, with or without their level.
		{"北京市华信科技有限公司", "华信科技"},
		{"上海市华信科技有限公司", "华信科技"},
		{"广东省深圳市华信科技有限公司", "华信科技"},
		{"广东深圳华信科技有限公司", "华信科技"},
		{"深圳华信科技有限公司", "华信科技"},
		{"内蒙古自治区华信科技有限公司", "华信科技"},
		{"内蒙古华信科技有限公司", "华信科技"},
		{"广西壮族自治区华信科技有限公司", "华信科技"},
		{"香港华信科技有限公司", "华信科技"},
		{"延边朝鲜族自治州华信科技有限公司", "华信科技"},
		{"延边州华信科技有限公司", "华信科技"},
		{"阿里地区华信科技有限公司", "华信科技"},
		{"中国华信科技有限公司", "华信科技"},
		{"(北京)华信科技有限公司", "华信科技"},
		// Legal forms at the end, as often as they occur.
		{"华信科技股份有限公司", "华信科技"},
		{"华信科技有限责任公司", "华信科技"},
		{"华信科技集团", "华信科技"},
		{"华信科技集团有限公司", "华信科技"},
		{"北京市华信科技集团股份有限公司", "华信科技"},
		{"华信科技股份公司", "华信科技"},
		{"华信科技 有限公司", "华信科技"},
		{"北京第一机床厂", "第一机床"},
		{"华信律师事务所(特殊普通合伙)", "华信"},
		{"华信科技有限公司(筹)", "华信科技"},
		// Branches: the branch's place goes with the branch.
		{"中国平安人寿保险股份有限公司深圳分公司", "平安人寿保险"},
		{"招商银行北京分行", "招商银行"},
		{"中国银行股份有限公司北京西城支行", "中国银行"},
		{"华信科技有限公司上海办事处", "华信科技"},
		// A place stays when only generic words would remain.
		{"北京银行", "北京银行"},
		{"北京银行股份有限公司", "北京银行"},
		{"中国银行", "中国银行"},
		{"中国人寿保险股份有限公司", "中国人寿保险"},
		{"北京大学", "北京大学"},
		{"黄山旅游发展股份有限公司", "黄山旅游发展"},
		{"中山大学", "中山大学"},
		// Short names that are also words are places only in full.
		{"阿里巴巴(中国)有限公司", "阿里巴巴"},
		{"大理石材料有限公司", "大理石材料"},
		{"大理州华信科技有限公司", "华信科技"},
		{"三明治餐饮有限公司", "三明治餐饮"},
		{"北海道食品有限公司", "北海道食品"},
		// Never less than two characters.
		{"北京华公司", "北京华"},
		{"有限公司", "有限公司"},
		{"北京", "北京"},
		// Latin-script names.
		{"Acme Co., Ltd.", "acme"},
		{"ACME Trading (Shanghai) Co., Ltd.", "acme trading"},
		{"Acme Inc.", "acme"},
		{"Acme GmbH & Co. KG", "acme"},
		{"Acme LLC", "acme"},
		{"Acme Holdings Ltd", "acme"},
		{"ａｃｍｅ　ｌｔｄ", "acme"},
		{"The Acme Company", "acme"},
		{"Shenzhen Huaxin Technology Co., Ltd.", "huaxin technology"},
		{"Hong Kong Acme Limited", "acme"},
		{"Beijing Bank", "beijing bank"},
		{"Acme (Asia Pacific) Pte. Ltd.", "acme"},
		{"Ltd", "ltd"},
		// Both scripts.
		{"IBM(中国)有限公司", "ibm"},
		{"北京TCL科技有限公司", "tcl 科技"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Core(tt.in); got != tt.want {
			t.Errorf("Core(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCoreIsIdempotent(t *testing.T) {
	for _, in := range []string{"北京华信科技有限公司", "ACME Trading (Shanghai) Co., Ltd.", "北京银行", "中国平安人寿保险股份有限公司深圳分公司"} {
		c := Core(in)
		if again := Core(c); again != c {
			t.Errorf("Core(%q) = %q, Core of that = %q", in, c, again)
		}
	}
}

func TestPinyin(t *testing.T) {
	tests := []struct {
		in     string
		person bool
		want   []Reading
	}{
		{"华信科技", false, []Reading{{"huaxinkeji", "hxkj"}}},
		{"华信", false, []Reading{{"huaxin", "hx"}}},
		{"北京银行", false, []Reading{{"beijingyinhang", "bjyh"}}},
		{"重庆银行", false, []Reading{{"chongqingyinhang", "cqyh"}}},
		{"厦门航空", false, []Reading{{"xiamenhangkong", "xmhk"}}},
		{"长城汽车", false, []Reading{{"changchengqiche", "ccqc"}}},
		{"长丰", false, []Reading{{"changfeng", "cf"}}},
		{"长乐", false, []Reading{{"zhangle", "zl"}, {"changyue", "cy"}}},
		{"绿地", false, []Reading{{"lvdi", "ld"}, {"ludi", "ld"}}},
		{"曾伟", true, []Reading{{"zengwei", "zw"}}},
		{"曾经", false, []Reading{{"cengjing", "cj"}, {"zengjing", "zj"}}},
		{"单田芳", true, []Reading{{"shantianfang", "stf"}}},
		{"尉迟恭", true, []Reading{{"yuchigong", "ycg"}}},
		{"吕伟", true, []Reading{{"lvwei", "lw"}, {"luwei", "lw"}}},
		{"TCL科技", false, []Reading{{"tclkeji", "tclkj"}}},
		{"360安全", false, []Reading{{"360anquan", "360aq"}}},
		{"ａｃｍｅ", false, nil},
		{"", false, nil},
	}
	for _, tt := range tests {
		got := Pinyin(tt.in, tt.person)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Pinyin(%q, %v) = %v, want %v", tt.in, tt.person, got, tt.want)
		}
	}
}

func TestPinyinIsBounded(t *testing.T) {
	name := strings.Repeat("长乐重行吕", 40)
	if got := Pinyin(name, true); len(got) > MaxReadings {
		t.Fatalf("%d readings", len(got))
	}
}

// TestRegions checks the table against the counts the Ministry of Civil
// Affairs publishes, and that no name is listed twice at one level.
func TestRegions(t *testing.T) {
	count := map[level]int{}
	seen := map[string]bool{}
	for _, r := range regions {
		count[r.level]++
		key := r.short + "/" + string(rune('0'+r.level))
		if seen[key] {
			t.Errorf("%s listed twice", r.short)
		}
		seen[key] = true
		if n := utf8.RuneCountInString(r.short); n < 2 || len(strings.Fields(r.pinyin)) != n {
			t.Errorf("%s: reading %q does not have one syllable per character", r.short, r.pinyin)
		}
	}
	want := map[level]int{municipality: 4, province: 23, autonomousRegion: 5, specialRegion: 2,
		city: 293, prefecture: 7, league: 3, autonomousPrefecture: 30}
	for l, n := range want {
		if count[l] != n {
			t.Errorf("level %d: %d regions, want %d", l, count[l], n)
		}
	}
}

func FuzzCore(f *testing.F) {
	for _, s := range []string{"北京华信科技有限公司", "华信科技(北京)有限公司", "ACME Trading (Shanghai) Co., Ltd.", "((", ")(", "中国平安人寿保险股份有限公司深圳分公司", "Ｓ.Ａ."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Core(s)
		if c != Fold(c) {
			t.Fatalf("Core(%q) = %q is not folded", s, c)
		}
		if Fold(s) != "" && c == "" {
			t.Fatalf("Core(%q) is empty", s)
		}
		if f := Fold(s); f != Fold(f) {
			t.Fatalf("Fold is not idempotent on %q: %q, %q", s, f, Fold(f))
		}
		if len(Pinyin(s, true)) > MaxReadings {
			t.Fatalf("too many readings of %q", s)
		}
	})
}

func BenchmarkCore(b *testing.B) {
	for b.Loop() {
		Core("中国平安人寿保险股份有限公司深圳分公司")
	}
}

func BenchmarkPinyin(b *testing.B) {
	for b.Loop() {
		Pinyin("北京华信科技有限公司", false)
	}
}
