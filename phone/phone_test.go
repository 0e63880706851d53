package phone

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		// Chinese mobiles.
		{name: "MobileWithCountryCode", in: "+86 138 1234 5678", want: "+8613812345678"},
		{name: "MobileWith00", in: "0086-138-1234-5678", want: "+8613812345678"},
		{name: "MobileSpaced", in: "138 1234 5678", want: "+8613812345678"},
		{name: "MobileBare", in: "13812345678", want: "+8613812345678"},
		{name: "MobileWithTrunkZero", in: "013812345678", want: "+8613812345678"},
		{name: "MobileWith86WithoutPlus", in: "86 138 1234 5678", want: "+8613812345678"},
		{name: "MobileBracketedCountryCode", in: "(+86) 138-1234-5678", want: "+8613812345678"},
		{name: "MobileZeroAfterCountryCode", in: "+86 0138 1234 5678", want: "+8613812345678"},
		{name: "MobileFullWidth", in: "＋８６　１３８－１２３４－５６７８", want: "+8613812345678"},
		{name: "MobileDots", in: "138.1234.5678", want: "+8613812345678"},
		{name: "MobileLabel", in: "手机：138 1234 5678", want: "+8613812345678"},
		{name: "MobileTelScheme", in: "tel:+86-138-1234-5678", want: "+8613812345678"},
		{name: "Mobile19x", in: "199 0000 1111", want: "+8619900001111"},
		// Chinese landlines: 2-digit area codes (10, 2x) with 8-digit local numbers.
		{name: "BeijingBracketed", in: "(010) 6552 1234", want: "+861065521234"},
		{name: "BeijingDashed", in: "010-65521234", want: "+861065521234"},
		{name: "BeijingInternational", in: "+86 10 6552 1234", want: "+861065521234"},
		{name: "BeijingTrunkAfterCountryCode", in: "+86 010 6552 1234", want: "+861065521234"},
		{name: "BeijingTrunkInBrackets", in: "+86 (0)10 6552 1234", want: "+861065521234"},
		{name: "BeijingFullWidth", in: "（０１０）６５５２１２３４", want: "+861065521234"},
		{name: "Shanghai", in: "021-5058 8888", want: "+862150588888"},
		{name: "XiAn", in: "029 8888 6666", want: "+862988886666"},
		// Chinese landlines: 3-digit area codes with 7- or 8-digit local numbers.
		{name: "Shenzhen", in: "0755-8601 3388", want: "+8675586013388"},
		{name: "ShenzhenInternational", in: "+86 755 8601 3388", want: "+8675586013388"},
		{name: "SevenDigitLocal", in: "0571-871 2345", want: "+865718712345"},
		{name: "Landline86WithoutPlus", in: "86-755-86013388", want: "+8675586013388"},
		// Service numbers.
		{name: "Service400", in: "400-810-8888", want: "+864008108888"},
		{name: "Service800", in: "800 820 8820", want: "+868008208820"},
		// Extensions, kept apart.
		{name: "ExtZhuan", in: "010-65521234 转 8001", want: "+861065521234;ext=8001"},
		{name: "ExtZhuanTight", in: "010-65521234转8001", want: "+861065521234;ext=8001"},
		{name: "ExtZhuanTraditional", in: "010-65521234轉8001", want: "+861065521234;ext=8001"},
		{name: "ExtFenji", in: "010-65521234分机8001", want: "+861065521234;ext=8001"},
		{name: "ExtFenjiHao", in: "0755-86013388 分机号：8001", want: "+8675586013388;ext=8001"},
		{name: "ExtDot", in: "+86 10 6552 1234 ext. 8001", want: "+861065521234;ext=8001"},
		{name: "ExtWord", in: "010 6552 1234 Ext 8001", want: "+861065521234;ext=8001"},
		{name: "ExtExtension", in: "010 6552 1234 extension 8001", want: "+861065521234;ext=8001"},
		{name: "ExtX", in: "010-65521234 x8001", want: "+861065521234;ext=8001"},
		{name: "ExtCapitalX", in: "010-65521234X8001", want: "+861065521234;ext=8001"},
		{name: "ExtHash", in: "010-65521234#8001", want: "+861065521234;ext=8001"},
		{name: "ExtFullWidthHash", in: "０１０－６５５２１２３４＃８００１", want: "+861065521234;ext=8001"},
		{name: "ExtRFC3966", in: "+861065521234;ext=8001", want: "+861065521234;ext=8001"},
		{name: "ExtLastDashGroup", in: "0755-8601 3388-8001", want: "+8675586013388;ext=8001"},
		{name: "ExtLastDashGroupService", in: "400-810-8888-2", want: "+864008108888;ext=2"},
		{name: "ExtLastDashGroupInternational", in: "+86-10-65521234-801", want: "+861065521234;ext=801"},
		// Other countries, kept as written.
		{name: "UK", in: "+44 20 7946 0958", want: "+442079460958"},
		{name: "UKTrunkInBrackets", in: "+44 (0)20 7946 0958", want: "+442079460958"},
		{name: "US", in: "+1 (415) 555-0100", want: "+14155550100"},
		{name: "USWith00", in: "001 415 555 0100", want: "+14155550100"},
		{name: "Germany", in: "0049 30 1234567", want: "+49301234567"},
		{name: "HongKong", in: "+852 2345 6789", want: "+85223456789"},
		{name: "Taiwan", in: "+886 2 2345 6789", want: "+886223456789"},
		{name: "ItalyKeepsItsZero", in: "+39 06 1234 5678", want: "+390612345678"},
		{name: "ForeignExt", in: "+1 415 555 0100 x123", want: "+14155550100;ext=123"},
		// Refused.
		{name: "ErrEmpty", in: "  ", err: ErrEmpty},
		{name: "ErrLetters", in: "138abcd5678", err: ErrCharacters},
		{name: "ErrTwoNumbers", in: "13812345678/13987654321", err: ErrCharacters},
		{name: "ErrPlusInside", in: "138+12345678", err: ErrCharacters},
		{name: "ErrOnlyLabel", in: "电话:", err: ErrCharacters},
		{name: "ErrNoAreaCode8", in: "6552 1234", err: ErrNoAreaCode},
		{name: "ErrNoAreaCode7", in: "871-2345", err: ErrNoAreaCode},
		{name: "ErrAreaCodeWithoutTrunk", in: "10 6552 1234", err: ErrChina},
		{name: "ErrShortMobile", in: "138 1234 567", err: ErrChina},
		{name: "ErrLongMobile", in: "138 1234 56789", err: ErrChina},
		{name: "ErrMobile12x", in: "128 1234 5678", err: ErrChina},
		{name: "ErrShortCode", in: "95598", err: ErrChina},
		{name: "ErrBeijingSevenDigits", in: "010-6552123", err: ErrChina},
		{name: "ErrLocalStartsWith1", in: "0755-1601 3388", err: ErrChina},
		{name: "ErrTooLongChinese", in: "+86 138 1234 5678 9", err: ErrChina},
		{name: "ErrCountryZero", in: "+0 123 4567", err: ErrCountry},
		{name: "ErrCountryMissing", in: "00", err: ErrCountry},
		{name: "ErrForeignTooLong", in: "+44 20 7946 0958 12345", err: ErrLength},
		{name: "ErrForeignTooShort", in: "+44 123", err: ErrLength},
		{name: "ErrUSNineDigits", in: "+1 415 555 010", err: ErrLength},
		{name: "ErrExtEmpty", in: "010-65521234 转", err: ErrExtension},
		{name: "ErrExtLetters", in: "010-65521234 ext abc", err: ErrExtension},
		{name: "ErrExtTooLong", in: "010-65521234 转 12345678", err: ErrExtension},
		{name: "ErrTwoExtensions", in: "0755-8601 3388-8001 转 9", err: ErrExtension},
		{name: "ErrMobileDashGroup", in: "138-1234-5678-01", err: ErrChina},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Canonical(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Canonical(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		in, international, domestic, masked string
		kind                                Kind
		area                                string
	}{
		{"13812345678", "+86 138 1234 5678", "138 1234 5678", "+86 *** **** 5678", Mobile, ""},
		{"010-65521234", "+86 10 6552 1234", "010 6552 1234", "+86 ** **** 1234", Landline, "10"},
		{"0755 86013388 转 8001", "+86 755 8601 3388 ext. 8001", "0755 8601 3388 转 8001", "+86 *** **** 3388", Landline, "755"},
		{"0571-8712345", "+86 571 871 2345", "0571 871 2345", "+86 *** *** 2345", Landline, "571"},
		{"400-810-8888", "+86 400 810 8888", "400 810 8888", "+86 *** *** 8888", Service, ""},
		{"+1 415 555 0100", "+1 415 555 0100", "+1 415 555 0100", "+1 *** *** 0100", Other, ""},
		{"+44 20 7946 0958 ext 12", "+44 2079460958 ext. 12", "+44 2079460958 ext. 12", "+44 ******0958", Other, ""},
		{"+683 4002", "+683 4002", "+683 4002", "+683 **02", Other, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.International(); got != tt.international {
				t.Errorf("International = %q, want %q", got, tt.international)
			}
			if got := n.Domestic(); got != tt.domestic {
				t.Errorf("Domestic = %q, want %q", got, tt.domestic)
			}
			if got := n.Masked(); got != tt.masked {
				t.Errorf("Masked = %q, want %q", got, tt.masked)
			}
			if n.Kind() != tt.kind || n.AreaCode() != tt.area {
				t.Errorf("Kind, AreaCode = %v, %q; want %v, %q", n.Kind(), n.AreaCode(), tt.kind, tt.area)
			}
		})
	}
}

func TestSuffixKey(t *testing.T) {
	n, err := Parse("138 1234 5678")
	if err != nil {
		t.Fatal(err)
	}
	key := n.SuffixKey()
	if key != "87654321831" {
		t.Fatalf("SuffixKey = %q", key)
	}
	for _, suffix := range []string{"5678", "45678", "12345678", "13812345678"} {
		if !strings.HasPrefix(key, Reverse(suffix)) {
			t.Errorf("the key does not answer the suffix %s", suffix)
		}
	}
	if strings.HasPrefix(key, Reverse("1234")) {
		t.Error("the key answers digits that are not a suffix")
	}
	if got := Reverse("+86 (10) 65-52"); got != "25560168" {
		t.Errorf("Reverse ignores non-digits: got %q", got)
	}
}

var canonicalForm = regexp.MustCompile(`^\+[1-9][0-9]{4,14}(;ext=[0-9]{1,6})?$`)

// checkForms asserts what holds for every number Parse accepts: the
// canonical form has E.164's shape, and it, the international and the
// domestic forms all read back as the same number.
func checkForms(t *testing.T, in string, n Number) {
	t.Helper()
	c := n.String()
	if !canonicalForm.MatchString(c) || len(n.E164()) > 16 {
		t.Fatalf("Parse(%q) gives %q, not E.164", in, c)
	}
	for _, form := range []string{c, n.International(), n.Domestic()} {
		back, err := Parse(form)
		if err != nil || back != n {
			t.Fatalf("Parse(%q) = %#v; its form %q reads back as %#v, %v", in, n, form, back, err)
		}
	}
}

func TestFormsReadBack(t *testing.T) {
	for _, in := range []string{"13812345678", "010-65521234 转 8001", "0755-8601 3388", "0571-871 2345",
		"400-810-8888-2", "+1 415 555 0100 x1", "+44 (0)20 7946 0958", "+683 4002", "+886 912 345 678"} {
		n, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		checkForms(t, in, n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"+86 138 1234 5678", "0086-138-1234-5678", "(010) 6552 1234", "010-65521234 转 8001",
		"０７５５－８６０１３３８８", "0755-8601 3388-8001", "+44 (0)20 7946 0958", "tel:+1-415-555-0100;ext=12",
		"6552 1234", "分机8001", "+", "00", "(+", "2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Error() == "" {
				t.Fatalf("Parse(%q) failed without a rule: %v", s, err)
			}
			return
		}
		checkForms(t, s, n)
		if c, _ := Canonical(n.String()); c != n.String() {
			t.Fatalf("Canonical is not idempotent on %q: %q", n.String(), c)
		}
		if m := n.Masked(); strings.Contains(m, n.Significant) && len(n.Significant) > 4 {
			t.Fatalf("Masked(%q) = %q shows the number", s, m)
		}
	})
}
