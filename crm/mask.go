package crm

import (
	"maps"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/phone"
)

// What a partner principal reads passes through the view functions below
// on every path of the Service: a copy with the organization's masking
// policy applied and no trace of other partner organizations. Staff get
// the values themselves, never masked. Views are applied to what is
// returned, never to what is written.

// masked is what a masked text reads as.
const masked = "***"

func (u *User) masks(f MaskField) bool { return u.IsPartner() && slices.Contains(u.Masked, f) }

// MaskPhone masks a stored phone number: a canonical one keeps its
// country code and last 4 digits, grouped as it is displayed, without its
// extension (phone.Number.Masked: "+86 *** **** 5678"); one stored before
// numbers were canonical and that does not read as one keeps its "+", its
// first two digits and its last four ("+12******5678"), short ones only
// their last two.
func MaskPhone(p string) string {
	if n, err := phone.Parse(p); err == nil {
		return n.Masked()
	}
	plus, digits := "", p
	if strings.HasPrefix(p, "+") {
		plus, digits = "+", p[1:]
	}
	if len(digits) < 10 {
		return plus + "******" + digits[max(0, len(digits)-2):]
	}
	return plus + digits[:2] + "******" + digits[len(digits)-4:]
}

// MaskEmail keeps an address's first character and its domain:
// "li.wei@example.com" reads "l***@example.com".
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at < 1 {
		return masked
	}
	r := []rune(e[:at])
	return string(r[0]) + masked + e[at:]
}

func maskText(s string) string {
	if s == "" {
		return ""
	}
	return masked
}

func maskAll(vals []string, mask func(string) string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = mask(v)
	}
	return out
}

// viewCustomer returns what u may see of c.
func viewCustomer(u *User, c *Customer) *Customer {
	if !u.IsPartner() || c == nil {
		return c
	}
	v := c.Clone()
	v.Partners = slices.DeleteFunc(v.Partners, func(p PartnerShare) bool { return p.OrgID != u.PartnerOrgID })
	v.PoolWarning = nil
	if u.masks(MaskPhones) {
		v.Phones = maskAll(v.Phones, MaskPhone)
	}
	if u.masks(MaskEmails) {
		v.Emails = maskAll(v.Emails, MaskEmail)
	}
	if u.masks(MaskAddresses) {
		for i := range v.Addresses {
			a := &v.Addresses[i]
			a.Line1, a.Line2, a.PostalCode = maskText(a.Line1), maskText(a.Line2), maskText(a.PostalCode)
		}
	}
	if u.masks(MaskAttributes) {
		for i := range v.Attributes {
			v.Attributes[i].Value = maskText(v.Attributes[i].Value)
		}
	}
	if hidesAmounts(u) {
		v.Transactions.Total = 0
		v.Grade.Metrics = withoutAmounts(v.Grade.Metrics)
	}
	if u.masks(MaskInteractionContent) || hidesAmounts(u) {
		if v.LastInteraction != nil {
			v.LastInteraction = viewInteraction(u, v.LastInteraction)
		}
	}
	if u.masks(MaskInteractionContent) {
		for i := range v.RecentEvaluations {
			v.RecentEvaluations[i].Comment = maskText(v.RecentEvaluations[i].Comment)
		}
		if v.Grade.Source == GradeManual {
			v.Grade.Reason = maskText(v.Grade.Reason)
		}
		if h := v.LastHandover; h != nil {
			masked := *h
			masked.Reason = maskText(h.Reason)
			v.LastHandover = &masked
		}
	}
	return v
}

// viewGradeChange masks the free text of a grade set by hand; a rule's
// reason is its own wording, not the staff's.
func viewGradeChange(u *User, g *GradeChange) *GradeChange {
	maskReason := u.masks(MaskInteractionContent) && g != nil && g.Source == GradeManual
	if g == nil || (!maskReason && !hidesAmounts(u)) {
		return g
	}
	v := *g
	if maskReason {
		v.Reason = maskText(v.Reason)
	}
	if hidesAmounts(u) {
		v.Metrics = withoutAmounts(v.Metrics)
	}
	return &v
}

// withoutAmounts copies a grade's metrics without the transactions' sum,
// which a partner whose policy hides amounts may not read (the map itself
// is shared with the stored grade, so it is copied, not changed).
func withoutAmounts(m map[string]float64) map[string]float64 {
	if _, ok := m[MetricTransactionTotal]; !ok {
		return m
	}
	out := maps.Clone(m)
	delete(out, MetricTransactionTotal)
	return out
}

func viewStageChange(u *User, c *StageChange) *StageChange {
	if !u.masks(MaskInteractionContent) {
		return c
	}
	v := *c
	v.Reason = maskText(v.Reason)
	return &v
}

func viewContact(u *User, c *Contact) *Contact {
	if !u.masks(MaskContactPhones) && !u.masks(MaskContactEmails) {
		return c
	}
	v := c.Clone()
	if u.masks(MaskContactPhones) {
		v.Phones = maskAll(v.Phones, MaskPhone)
	}
	if u.masks(MaskContactEmails) {
		v.Emails = maskAll(v.Emails, MaskEmail)
	}
	return v
}

func viewInteraction(u *User, i *Interaction) *Interaction {
	hideAmount := hidesAmounts(u) && i.Amount != nil
	if !u.masks(MaskInteractionContent) && !hideAmount {
		return i
	}
	v := i.Clone()
	if u.masks(MaskInteractionContent) {
		v.Content, v.Outcome = maskText(v.Content), maskText(v.Outcome)
		v.Attachments = maskAll(v.Attachments, maskText)
	}
	if hideAmount {
		v.Amount, v.Currency = nil, ""
	}
	return v
}

// hidesAmounts reports whether u, a partner, may not read amounts: its
// organization's policy (PartnerOrg.ShowAmounts) is to hide them, as it
// is unless an admin says otherwise. A won deal or a contract logs a
// TRANSACTION of its amount on a shared customer's timeline: the pipeline
// itself is staff's, so is what it is worth.
func hidesAmounts(u *User) bool { return u.IsPartner() && !u.ShowAmounts }

func viewEvaluation(u *User, e *Evaluation) *Evaluation {
	if !u.masks(MaskInteractionContent) {
		return e
	}
	v := e.Clone()
	v.Comment = maskText(v.Comment)
	return &v
}

func viewCase(u *User, c *Case) *Case {
	if !u.masks(MaskInteractionContent) {
		return c
	}
	v := c.Clone()
	v.Plan = maskText(v.Plan)
	for i := range v.Transitions {
		v.Transitions[i].Note = maskText(v.Transitions[i].Note)
	}
	return v
}

func viewCustomer360(u *User, v *Customer360) *Customer360 {
	if !u.IsPartner() {
		return v
	}
	return &Customer360{
		Customer:           viewCustomer(u, v.Customer),
		Contacts:           viewAll(u, v.Contacts, viewContact),
		RecentInteractions: viewAll(u, v.RecentInteractions, viewInteraction),
	}
}

// viewAll returns what u may see of each item.
func viewAll[T any](u *User, items []T, view func(*User, T) T) []T {
	if !u.IsPartner() {
		return items
	}
	out := make([]T, len(items))
	for i, it := range items {
		out[i] = view(u, it)
	}
	return out
}

// viewPage is viewAll over a page; the page itself is not copied.
func viewPage[T any](u *User, p *Page[T], view func(*User, T) T) *Page[T] {
	if p != nil {
		p.Items = viewAll(u, p.Items, view)
	}
	return p
}

// PartnerView is what a principal of the organization org reads of c
// through the partner API: the same view, for what is sent to the
// organization outside a request (its webhooks).
func PartnerView(org *PartnerOrg, c *Customer) *Customer {
	return viewCustomer(&User{ID: "partner:" + org.ID, Roles: []Role{RolePartner}, PartnerOrgID: org.ID, Masked: org.Masked, ShowAmounts: org.ShowAmounts}, c)
}
