// Package bulk moves customers between spreadsheets and a Rapport API, as
// any client does, over GraphQL with a token or a partner API key: Import
// reads a file's rows and sends them to importCustomers in calls of up to
// 200, with progress, a report of every rejected or flagged row and a state
// file to carry on after an interruption; Export pages through customers
// and writes the same columns, so that what it writes imports again.
// cmd/rapport is its command line; docs/import.md describes the files.
package bulk

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Field is a column an import reads and an export writes.
type Field struct {
	// Key is the column's English header, and what --map names it by.
	Key string
	// Header is its Chinese header.
	Header string
	// Aliases are other headers people give it, in either language.
	Aliases []string
	// List fields hold several values in a cell (separated by ; , 、 / or
	// new lines), and several columns may feed them.
	List bool
	// Help says what the cell holds, for the template's help sheet.
	Help string
	// Example is a value, for the template's help sheet.
	Example string

	contact bool // one of a contact person's columns (contactField)
}

// The fields, in the order of the template and of an export.
var (
	fieldKind         = &Field{Key: "kind", Header: "类型", Aliases: []string{"客户类型", "客户性质", "type", "customer type"}, Help: "企业 (ORGANIZATION, the default) or 个人 (PERSON)", Example: "企业"}
	fieldName         = &Field{Key: "name", Header: "名称", Aliases: []string{"客户名称", "公司名称", "企业名称", "单位名称", "客户", "姓名", "客户姓名", "customer name", "company", "company name"}, Help: "required: the person's or organization's name, 1–200 characters", Example: "好运来贸易有限公司"}
	fieldPhone        = &Field{Key: "phone", Header: "电话", Aliases: []string{"手机", "手机号", "手机号码", "电话号码", "联系电话", "座机", "固定电话", "phones", "mobile", "tel", "telephone"}, List: true, Help: "up to 5 phone numbers; unique across customers", Example: "010-6552 1234; 13812345678"}
	fieldEmail        = &Field{Key: "email", Header: "邮箱", Aliases: []string{"电子邮箱", "邮件", "电子邮件", "emails", "mail", "e-mail"}, List: true, Help: "up to 5 email addresses; unique across customers", Example: "sales@haoyunlai.cn"}
	fieldAddress      = &Field{Key: "address", Header: "地址", Aliases: []string{"详细地址", "联系地址", "通讯地址", "addresses"}, List: true, Help: "up to 5 addresses, one per line", Example: "北京市朝阳区建国路88号"}
	fieldIndustry     = &Field{Key: "industry", Header: "行业", Aliases: []string{"所属行业"}, Help: "at most 100 characters", Example: "贸易"}
	fieldRegion       = &Field{Key: "region", Header: "地区", Aliases: []string{"区域", "片区", "所在地区", "area"}, Help: "the sales region; a customer without owner is in the pool of its region", Example: "north"}
	fieldSource       = &Field{Key: "source", Header: "来源", Aliases: []string{"客户来源"}, Help: "电销, 转介绍, 网站, 合作伙伴, 展会, 上门, 其他 or a code such as TELESALES; default IMPORT", Example: "转介绍"}
	fieldRevenue      = &Field{Key: "annualRevenue", Header: "年营业额", Aliases: []string{"营业额", "年收入", "资产规模", "annual revenue", "revenue"}, Help: "1200000, 1,200,000 or 120万", Example: "120万"}
	fieldCredit       = &Field{Key: "creditRating", Header: "信用等级", Aliases: []string{"信用评级", "credit rating"}, Help: "at most 20 characters", Example: "AA"}
	fieldStatus       = &Field{Key: "companyStatus", Header: "经营状态", Aliases: []string{"登记状态", "企业状态", "company status"}, Help: "存续, 吊销, 注销, 破产, 无效 or a code such as ACTIVE", Example: "存续"}
	fieldStage        = &Field{Key: "stage", Header: "阶段", Aliases: []string{"客户阶段", "生命周期", "生命周期阶段", "lifecycle stage"}, Help: "考察期, 形成期, 稳定期, 衰退期, 流失 or a code such as STABILITY; default EXPLORATION", Example: "稳定期"}
	fieldStageReason  = &Field{Key: "stageReason", Header: "阶段原因", Aliases: []string{"阶段说明", "stage reason"}, Help: "why the customer is in its stage; for 流失 (LOST) and 挽回 (WON_BACK), default: the file and row", Example: ""}
	fieldOwner        = &Field{Key: "owner", Header: "负责人", Aliases: []string{"客户经理", "归属人", "业务员", "销售", "销售员", "owner id", "account manager"}, Help: "the owner's user id: an active salesperson or manager of the directory. Empty: yours if you are in sales, else the pool", Example: "sales-li"}
	fieldTeam         = &Field{Key: "team", Header: "团队", Aliases: []string{"所属团队", "部门", "所属部门"}, Help: "default: your first team", Example: "north"}
	fieldGrade        = &Field{Key: "grade", Header: "等级", Aliases: []string{"客户等级", "级别", "客户级别", "level"}, Help: "A–G, O or V: kept as a manual grade (admins and the team's managers only). Empty: graded by the grading policy", Example: "B"}
	fieldTags         = &Field{Key: "tags", Header: "标签", Aliases: []string{"客户标签", "tag"}, List: true, Help: "up to 10 tags", Example: "vip; 华北"}
	fieldAttributes   = &Field{Key: "attributes", Header: "附加信息", Aliases: []string{"扩展信息", "档案"}, Help: "archive entries, one key=value per line (or a JSON object)", Example: "设备=华为 S5700"}
	fieldContact      = &Field{Key: "contact", Header: "联系人", Aliases: []string{"联系人姓名", "contact name"}, Help: "a contact person's name; 联系人2…, 联系人3… for more (the first is the primary contact)", Example: "王芳", contact: true}
	fieldContactTitle = &Field{Key: "contactTitle", Header: "联系人职务", Aliases: []string{"职务", "职位", "title", "job title"}, Help: "the contact's job title", Example: "采购经理", contact: true}
	fieldContactRole  = &Field{Key: "contactRole", Header: "联系人角色", Aliases: []string{"角色", "role"}, Help: "决策人, 技术负责人, 采购, 财务, 使用者, 其他 or a code such as PURCHASER", Example: "采购", contact: true}
	fieldContactPhone = &Field{Key: "contactPhone", Header: "联系人电话", Aliases: []string{"联系人手机", "contact mobile"}, List: true, Help: "the contact's phone numbers", Example: "13812345678", contact: true}
	fieldContactEmail = &Field{Key: "contactEmail", Header: "联系人邮箱", Aliases: nil, List: true, Help: "the contact's email addresses", Example: "wang.fang@haoyunlai.cn", contact: true}
)

// Fields are the customer's columns; contactFields are a contact person's,
// repeated for each of MaxContacts.
var (
	Fields = []*Field{fieldKind, fieldName, fieldPhone, fieldEmail, fieldAddress, fieldIndustry, fieldRegion, fieldSource,
		fieldRevenue, fieldCredit, fieldStatus, fieldStage, fieldStageReason, fieldOwner, fieldTeam, fieldGrade, fieldTags, fieldAttributes}
	contactFields = []*Field{fieldContact, fieldContactTitle, fieldContactRole, fieldContactPhone, fieldContactEmail}
)

// MaxContacts is how many contact persons a row holds (the API takes 3).
const MaxContacts = 3

// known are headers that name something the API does not take (yet), with
// what to do about them.
var known = map[string]string{
	"统一社会信用代码": "creditCode", "社会信用代码": "creditCode", "信用代码": "creditCode", "税号": "creditCode",
	"uscc": "creditCode", "creditcode": "creditCode", "taxid": "creditCode",
	"序号": "number", "编号": "number", "no": "number", "#": "number", "行号": "number",
}

var knownWhy = map[string]string{
	"creditCode": "Rapport does not keep credit codes yet: to keep them as an archive entry, use --map '%s=attribute:creditCode'",
	"number":     "a row number",
}

// Column is a column of a header in a language: "联系人2电话" or
// "contact2Phone" for the phone of the second contact (group 1).
func (f *Field) Column(lang string, group int) string {
	name := f.Header
	if lang == "en" {
		name = f.Key
	}
	if !f.contact || group == 0 {
		return name
	}
	n := fmt.Sprint(group + 1)
	if lang == "en" {
		return "contact" + n + strings.TrimPrefix(name, "contact")
	}
	return "联系人" + n + strings.TrimPrefix(name, "联系人")
}

// Header is the header row of the template and of an export.
func Header(lang string) []string {
	var out []string
	for _, f := range Fields {
		out = append(out, f.Column(lang, 0))
	}
	for g := range MaxContacts {
		for _, f := range contactFields {
			out = append(out, f.Column(lang, g))
		}
	}
	return out
}

// normHeader folds a header for matching: full-width letters to ASCII,
// lower case, without what is in brackets ("名称（必填）") and without
// spaces and punctuation.
func normHeader(h string) string {
	var b strings.Builder
	depth := 0
	for _, r := range h {
		if r >= 0xFF01 && r <= 0xFF5E && r != 0xFF08 && r != 0xFF09 { // full-width ASCII, not （）
			r -= 0xFEE0
		}
		switch {
		case strings.ContainsRune("(（[【", r):
			depth++
		case strings.ContainsRune(")）]】", r):
			depth = max(depth-1, 0)
		case depth > 0:
		case unicode.IsSpace(r) || strings.ContainsRune("_-.:：*/、'\"", r):
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// target is what a column feeds.
type target struct {
	field  *Field
	group  int    // the contact person, for a contact field
	attr   string // an archive entry's key (--map 'X=attribute:key')
	ignore bool   // --map 'X=-'
}

// aliasTable maps folded headers to fields.
var aliasTable = func() map[string]*Field {
	m := map[string]*Field{}
	for _, f := range append(slices.Clone(Fields), contactFields...) {
		for _, a := range append([]string{f.Key, f.Header}, f.Aliases...) {
			m[normHeader(a)] = f
		}
	}
	return m
}()

// resolve reads a header as a field: an alias, a numbered contact column
// (联系人2电话, contact2Phone, 联系人电话2) or a numbered column of a list
// field (电话2).
func resolve(header string) (target, bool) {
	h := normHeader(header)
	if h == "" {
		return target{}, false
	}
	if f, ok := aliasTable[h]; ok {
		return target{field: f}, true
	}
	digits := strings.IndexFunc(h, unicode.IsDigit)
	if digits < 0 {
		return target{}, false
	}
	end := digits
	for end < len(h) && h[end] >= '0' && h[end] <= '9' {
		end++
	}
	n := 0
	_, _ = fmt.Sscan(h[digits:end], &n)
	f, ok := aliasTable[h[:digits]+h[end:]]
	switch {
	case !ok:
		return target{}, false
	case f.contact && n >= 1 && n <= MaxContacts:
		return target{field: f, group: n - 1}, true
	case !f.contact && f.List:
		return target{field: f}, true
	}
	return target{}, false
}

// Unmapped is a column an import leaves out, and why.
type Unmapped struct {
	Column string
	Why    string
}

// mapping is what each column of a file feeds.
type mapping struct {
	header   int // the header row's index in the table
	columns  []target
	names    []string // the headers, as written
	unmapped []Unmapped
}

// headerSearch is how many rows may stand above the header (a title, a
// date, an empty row).
const headerSearch = 20

// mapColumns finds the header row (the first of the first rows in which
// the name column is recognized) and what each column feeds,
// after the --map overrides ("HEADER=target", several per entry separated
// by commas; target is a field as a header names it, attribute:KEY, or -
// to leave the column out).
func mapColumns(rows [][]string, overrides []string) (*mapping, error) {
	over := map[string]string{}
	for _, entry := range overrides {
		for _, kv := range strings.Split(entry, ",") {
			if strings.TrimSpace(kv) == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok || normHeader(k) == "" || strings.TrimSpace(v) == "" {
				return nil, fmt.Errorf("--map %q: write HEADER=FIELD, e.g. --map '公司=name,座机=phone'", kv)
			}
			over[normHeader(k)] = strings.TrimSpace(v)
		}
	}
	var best *mapping
	for i := 0; i < len(rows) && i < headerSearch; i++ {
		m, err := mapRow(rows[i], over)
		if err != nil {
			return nil, err
		}
		m.header = i
		if slices.ContainsFunc(m.columns, func(t target) bool { return t.field == fieldName }) {
			best = m
			break
		}
	}
	if best == nil {
		var first []string
		if len(rows) > 0 {
			first = rows[0]
		}
		return nil, fmt.Errorf("no header row naming the customer's name (名称, 客户名称, name…) among the first %d rows; "+
			"the first row reads %q: say which column holds the name with --map 'HEADER=name'", headerSearch, first)
	}
	for k := range over {
		if !slices.ContainsFunc(best.names, func(n string) bool { return normHeader(n) == k }) {
			return nil, fmt.Errorf("--map names a column %q the header row does not have (it has %s)", k, strings.Join(best.names, ", "))
		}
	}
	return best, checkTwice(best)
}

// mapRow reads one row as a header row.
func mapRow(row []string, over map[string]string) (*mapping, error) {
	m := &mapping{names: slices.Clone(row), columns: make([]target, len(row))}
	for j, h := range row {
		if strings.TrimSpace(h) == "" {
			continue
		}
		if v, ok := over[normHeader(h)]; ok {
			t, err := overrideTarget(v)
			if err != nil {
				return nil, err
			}
			m.columns[j] = t
			continue
		}
		if t, ok := resolve(h); ok {
			m.columns[j] = t
			continue
		}
		why := "no field of a customer has this name: to import it, use --map '%s=FIELD', or --map '%s=attribute:KEY' to keep it as an archive entry"
		if k, ok := known[normHeader(h)]; ok {
			why = knownWhy[k]
		}
		m.unmapped = append(m.unmapped, Unmapped{Column: h, Why: strings.ReplaceAll(why, "%s", h)})
	}
	return m, nil
}

func overrideTarget(v string) (target, error) {
	if v == "-" {
		return target{ignore: true}, nil
	}
	for _, p := range []string{"attribute:", "attr:", "附加:"} {
		if key, ok := strings.CutPrefix(v, p); ok {
			if key = strings.TrimSpace(key); key == "" {
				return target{}, fmt.Errorf("--map %q: name the archive entry, e.g. attribute:equipment", v)
			}
			return target{attr: key}, nil
		}
	}
	if t, ok := resolve(v); ok {
		return t, nil
	}
	return target{}, fmt.Errorf("--map: %q is not a field; fields are %s, attribute:KEY, or - to leave a column out",
		v, strings.Join(Header("en"), ", "))
}

// checkTwice refuses two columns feeding the same single-valued field.
func checkTwice(m *mapping) error {
	seen := map[string]int{}
	for j, t := range m.columns {
		if t.field == nil || t.field.List {
			continue
		}
		k := t.field.Column("en", t.group)
		if first, ok := seen[k]; ok {
			return fmt.Errorf("columns %q and %q both read as %s: leave one out with --map '%s=-'", m.names[first], m.names[j], k, m.names[j])
		}
		seen[k] = j
	}
	return nil
}
