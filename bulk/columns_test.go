package bulk

import (
	"slices"
	"strings"
	"testing"
)

func (t target) String() string {
	switch {
	case t.ignore:
		return "-"
	case t.attr != "":
		return "attribute:" + t.attr
	case t.field == nil:
		return ""
	}
	return t.field.Column("en", t.group)
}

func mapped(m *mapping) []string {
	out := make([]string, len(m.columns))
	for i, t := range m.columns {
		out[i] = t.String()
	}
	return out
}

func TestHeadersMapToFields(t *testing.T) {
	tests := []struct {
		name      string
		rows      [][]string
		overrides []string
		header    int
		want      []string
		unmapped  []string
	}{
		{"Chinese", [][]string{{"名称", "电话", "邮箱", "地区", "行业", "负责人", "等级", "标签", "联系人"}}, nil, 0,
			[]string{"name", "phone", "email", "region", "industry", "owner", "grade", "tags", "contact"}, nil},
		{"English", [][]string{{"Name", "Phone", "E-mail", "Region", "Industry", "Owner ID", "Grade", "Tags", "Contact Name", "Annual Revenue"}}, nil, 0,
			[]string{"name", "phone", "email", "region", "industry", "owner", "grade", "tags", "contact", "annualRevenue"}, nil},
		{"Aliases", [][]string{{"客户名称（必填）", "手机号码", "座机", "电子邮箱", "客户等级", "所属行业", "客户经理", "ＮＡＭＥ"}}, []string{"ＮＡＭＥ=-"}, 0,
			[]string{"name", "phone", "phone", "email", "grade", "industry", "owner", "-"}, nil},
		{"NumberedContactsAndLists", [][]string{{"公司名称", "电话1", "电话2", "联系人", "联系人电话", "联系人2", "联系人2电话", "联系人邮箱3", "contact3 role", "联系人4"}}, nil, 0,
			[]string{"name", "phone", "phone", "contact", "contactPhone", "contact2", "contact2Phone", "contact3Email", "contact3Role", ""}, []string{"联系人4"}},
		{"HeaderBelowATitle", [][]string{{"客户名单 2026"}, {}, {"序号", "客户名称", "统一社会信用代码", "备注"}}, nil, 2,
			[]string{"", "name", "", ""}, []string{"序号", "统一社会信用代码", "备注"}},
		{"Overrides", [][]string{{"公司", "座机", "设备", "备注", "统一社会信用代码"}}, []string{"公司=name,座机=电话", "设备=attribute:equipment", "备注=-", "统一社会信用代码=attr:creditCode"}, 0,
			[]string{"name", "phone", "attribute:equipment", "-", "attribute:creditCode"}, nil},
		{"OnlyNames", [][]string{{"姓名"}, {"张伟"}}, nil, 0, []string{"name"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mapColumns(tt.rows, tt.overrides)
			if err != nil {
				t.Fatal(err)
			}
			var unmapped []string
			for _, u := range m.unmapped {
				unmapped = append(unmapped, u.Column)
			}
			if m.header != tt.header || !slices.Equal(mapped(m), tt.want) || !slices.Equal(unmapped, tt.unmapped) {
				t.Fatalf("header row %d, columns %q, unmapped %q; want %d, %q, %q", m.header, mapped(m), unmapped, tt.header, tt.want, tt.unmapped)
			}
		})
	}
}

func TestUnmappedColumnsSayWhatToDo(t *testing.T) {
	m, err := mapColumns([][]string{{"名称", "统一社会信用代码", "备注", "序号"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	for _, u := range m.unmapped {
		why[u.Column] = u.Why
	}
	if !strings.Contains(why["统一社会信用代码"], "--map '统一社会信用代码=attribute:creditCode'") ||
		!strings.Contains(why["备注"], "--map '备注=attribute:KEY'") || why["序号"] != "a row number" {
		t.Fatalf("reasons %q", why)
	}
}

func TestBadHeadersAndOverridesAreRefused(t *testing.T) {
	tests := []struct {
		name      string
		rows      [][]string
		overrides []string
		want      string
	}{
		{"NoName", [][]string{{"电话", "邮箱"}}, nil, "--map 'HEADER=name'"},
		{"TwoNames", [][]string{{"名称", "客户名称"}}, nil, "both read as name"},
		{"MapMissingColumn", [][]string{{"名称"}}, []string{"座机=phone"}, "does not have"},
		{"MapUnknownField", [][]string{{"名称", "座机"}}, []string{"座机=fax"}, "is not a field"},
		{"MapMalformed", [][]string{{"名称"}}, []string{"phone"}, "HEADER=FIELD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := mapColumns(tt.rows, tt.overrides); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestCellsReadAsTheAPITakesThem(t *testing.T) {
	m, err := mapColumns([][]string{{"名称", "电话", "手机", "标签", "地址", "附加信息", "设备", "联系人2", "联系人2电话"}}, []string{"设备=attribute:equipment"})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := readRow([]string{" 好运来 ", "010-6552 1234", "13812345678/13912345678", "vip、华北;重点", "北京\n天津", "a=1\nb：2\nloose", "S5700", "李雷", "139 0000 0002"}, 7, m, "ORGANIZATION")
	if !ok {
		t.Fatal("row read as empty")
	}
	in := r.in
	if in.Row != 7 || in.Name != "好运来" || in.Kind != "ORGANIZATION" || !slices.Equal(in.Phones, []string{"010-6552 1234", "13812345678", "13912345678"}) ||
		!slices.Equal(in.Tags, []string{"vip", "华北", "重点"}) || len(in.Addresses) != 2 || in.Addresses[1].Line1 != "天津" ||
		!slices.Equal(in.Attributes, []attributeInput{{"a", "1"}, {"b", "2"}, {"附加信息", "loose"}, {"equipment", "S5700"}}) ||
		len(in.Contacts) != 1 || in.Contacts[0].Name != "李雷" || !slices.Equal(in.Contacts[0].Phones, []string{"139 0000 0002"}) {
		t.Fatalf("row read as %+v", in)
	}
	for path, want := range map[string]cell{
		"name": {"名称", "好运来"}, "phones[2]": {"手机", "13912345678"}, "phones": {"电话", "010-6552 1234"},
		"contacts[0].phones[0]": {"联系人2电话", "139 0000 0002"}, "addresses[1].line1": {"地址", "天津"}, "tags[9]": {"标签", "vip、华北;重点"},
	} {
		if got := r.origin(path); got != want {
			t.Errorf("origin of %s: %v, want %v", path, got, want)
		}
	}
	if _, ok := readRow([]string{"", " ", ""}, 8, m, ""); ok {
		t.Error("a row of blanks was read")
	}
}

// Any header row and cells are read without a panic.
func FuzzReadRows(f *testing.F) {
	f.Add("名称,电话,联系人2电话,附加信息", "好运来,010-6552 1234;138,王芳,{\"a\":1}")
	f.Add("name,phone", "x,y")
	f.Fuzz(func(t *testing.T, header, row string) {
		rows := [][]string{strings.Split(header, ","), strings.Split(row, ",")}
		m, err := mapColumns(rows, nil)
		if err != nil {
			return
		}
		for _, r := range readRows(rows, m, "") {
			for path := range r.origins {
				_ = r.origin(path + ".x[3]")
			}
		}
	})
}
