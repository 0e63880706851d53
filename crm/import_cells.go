package crm

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A spreadsheet's cells are what people typed: codes such as ORGANIZATION,
// or the words a Chinese office writes for them (企业, 存续, 稳定期), and
// amounts such as 1,200,000 or 120万. An import reads those into
// createCustomer's input; a value it does not recognize is passed on as
// it is, so that createCustomer refuses it with its own rule.

// cellWords maps the words people write for a code (lower case) to it.
type cellWords[T ~string] map[string]T

var kindWords = cellWords[CustomerKind]{
	"个人": KindPerson, "自然人": KindPerson, "person": KindPerson, "individual": KindPerson,
	"企业": KindOrganization, "公司": KindOrganization, "单位": KindOrganization, "组织": KindOrganization,
	"机构": KindOrganization, "organization": KindOrganization, "organisation": KindOrganization,
	"company": KindOrganization, "org": KindOrganization,
}

var sourceWords = cellWords[Source]{
	"电销": SourceTelesales, "电话销售": SourceTelesales, "电话营销": SourceTelesales,
	"转介绍": SourceReferral, "推荐": SourceReferral, "介绍": SourceReferral, "老客户介绍": SourceReferral,
	"网站": SourceWeb, "官网": SourceWeb, "网络": SourceWeb, "线上": SourceWeb, "online": SourceWeb,
	"合作伙伴": SourcePartner, "渠道": SourcePartner, "代理商": SourcePartner,
	"导入": SourceImport, "展会": SourceEvent, "活动": SourceEvent, "会议": SourceEvent,
	"上门": SourceWalkIn, "到店": SourceWalkIn, "自然到访": SourceWalkIn, "walk in": SourceWalkIn,
	"其他": SourceOther, "其它": SourceOther,
}

var stageWords = cellWords[Stage]{
	"考察期": StageExploration, "探索期": StageExploration, "初期": StageExploration,
	"形成期": StageFormation, "稳定期": StageStability, "stable": StageStability,
	"衰退期": StageDecline, "流失": StageLost, "已流失": StageLost,
	"挽回": StageWonBack, "赢回": StageWonBack, "won back": StageWonBack,
}

var companyStatusWords = cellWords[CompanyStatus]{
	"存续": CompanyActive, "在业": CompanyActive, "开业": CompanyActive, "正常": CompanyActive,
	"在营": CompanyActive, "吊销": CompanyRevoked, "注销": CompanyDeregistered,
	"破产": CompanyBankrupt, "清算": CompanyBankrupt, "liquidation": CompanyBankrupt,
	"无效": CompanyInvalid,
}

var contactRoleWords = cellWords[ContactRole]{
	"决策人": ContactDecisionMaker, "决策者": ContactDecisionMaker, "decision maker": ContactDecisionMaker,
	"技术负责人": ContactTechnicalLead, "技术": ContactTechnicalLead, "technical lead": ContactTechnicalLead,
	"采购": ContactPurchaser, "采购员": ContactPurchaser, "procurement": ContactPurchaser,
	"财务": ContactFinance, "使用者": ContactUser, "用户": ContactUser,
	"其他": ContactOther, "其它": ContactOther,
}

// read returns the code a cell names: the code itself in any case (with
// '_' or ' '), one of words, or the cell as it is when it names none.
func (w cellWords[T]) read(cell string, codes []T) T {
	v := strings.TrimSpace(cell)
	key := strings.ToLower(strings.Join(strings.Fields(v), " "))
	code := strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(key, "-", "_"), " ", "_"))
	if slices.Contains(codes, T(code)) {
		return T(code)
	}
	if t, ok := w[key]; ok {
		return t
	}
	return T(v)
}

// readGrade reads a grade cell: a level code in either case, with or
// without 级 ("A级").
func readGrade(cell string) string {
	return strings.ToUpper(strings.TrimSuffix(strings.TrimSpace(cell), "级"))
}

// readAmount reads an amount as people write it: 1200000, 1,200,000,
// ¥1,200,000.00, 120万, 1.5亿 or 1.2e6, with or without 元, in half- or
// full-width digits.
func readAmount(cell string) (*float64, bool) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return nil, true
	}
	s = strings.Map(func(r rune) rune {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width digits and signs, as a Chinese input method types them
			return r - 0xFEE0
		}
		return r
	}, s)
	s = strings.NewReplacer(",", "", "，", "", " ", "", "¥", "", "￥", "", "RMB", "", "CNY", "", "元", "").Replace(s)
	unit := 1.0
	switch {
	case strings.HasSuffix(s, "万"):
		s, unit = strings.TrimSuffix(s, "万"), 1e4
	case strings.HasSuffix(s, "亿"):
		s, unit = strings.TrimSuffix(s, "亿"), 1e8
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, false
	}
	v *= unit
	return &v, true
}

// read makes createCustomer's input and the contacts of row i, with the
// problems of cells it could not read at all.
func (r *importRun) read(i int) (CustomerInput, []ContactInput, []*Error) {
	row := r.in.Rows[i]
	path := r.rowPath(i)
	var probs []*Error
	in := CustomerInput{
		Kind: KindOrganization, Name: row.Name, Phones: slices.Clone(row.Phones), Emails: slices.Clone(row.Emails),
		Addresses: slices.Clone(row.Addresses), Industry: strings.TrimSpace(row.Industry), Region: strings.TrimSpace(row.Region),
		Source: SourceImport, CreditRating: strings.TrimSpace(row.CreditRating), Team: strings.TrimSpace(row.Team),
		Grade: readGrade(row.Grade), Tags: slices.Clone(row.Tags), Attributes: slices.Clone(row.Attributes),
		StageReason: strings.TrimSpace(row.StageReason),
	}
	if strings.TrimSpace(row.Kind) != "" {
		in.Kind = kindWords.read(row.Kind, []CustomerKind{KindPerson, KindOrganization})
	}
	if strings.TrimSpace(row.Source) != "" {
		in.Source = sourceWords.read(row.Source, Sources)
	}
	if strings.TrimSpace(row.Stage) != "" {
		in.Stage = stageWords.read(row.Stage, Stages)
	}
	if strings.TrimSpace(row.CompanyStatus) != "" {
		in.CompanyStatus = companyStatusWords.read(row.CompanyStatus, CompanyStatuses)
	}
	if owner := strings.TrimSpace(row.OwnerID); owner != "" {
		in.OwnerID = &owner
	}
	amount, ok := readAmount(row.AnnualRevenue)
	if !ok {
		probs = append(probs, Invalid(path+".annualRevenue", "must be an amount such as 1200000, 1,200,000 or 120万 (got %q)", row.AnnualRevenue))
	}
	in.AnnualRevenue = amount
	if (in.Stage == StageLost || in.Stage == StageWonBack) && in.StageReason == "" {
		// The file says so; why, it does not.
		in.StageReason = fmt.Sprintf("%s in %s, row %d (import %s)", in.Stage, r.fileName(), row.Row, r.in.ImportID)
	}
	if n := len(row.Contacts); n > MaxImportContacts {
		probs = append(probs, Invalid(path+".contacts", "must have at most %d contacts (got %d)", MaxImportContacts, n))
	}
	contacts := make([]ContactInput, 0, len(row.Contacts))
	for _, ct := range row.Contacts {
		c := ContactInput{Name: ct.Name, Title: strings.TrimSpace(ct.Title), Role: ContactOther,
			Phones: slices.Clone(ct.Phones), Emails: slices.Clone(ct.Emails)}
		if strings.TrimSpace(ct.Role) != "" {
			c.Role = contactRoleWords.read(ct.Role, ContactRoles)
		}
		contacts = append(contacts, c)
	}
	return in, contacts, probs
}
