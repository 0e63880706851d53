package crm

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/uscc"
)

// Limits on input sizes. They keep every item far below DynamoDB's 400 KB and
// every write within one transaction of at most 100 items.
const (
	MaxNameLen      = 200
	MaxShortText    = 100
	MaxSubjectLen   = 200
	MaxContentLen   = 10000
	MaxOutcomeLen   = 2000
	MaxPhones       = 5
	MaxEmails       = 5
	MaxAddresses    = 5
	MaxTags         = 10
	MaxAttributes   = 50
	MaxAttrKeyLen   = 64
	MaxAttrValueLen = 2000
	MaxAttachments  = 20
	MaxURLLen       = 2000
	MaxIndicators   = 50
	MaxCommentLen   = 4000
	MaxReasonLen    = 1000
	MaxDurationSecs = 7 * 24 * 3600
	MaxMoney        = 1e15

	// MaxCreditRatingLen bounds a credit rating such as AA or BBB+.
	MaxCreditRatingLen = 20
)

// checker collects the rules an input breaks: the first is the error, the
// others ride along in its Also, for callers that report every problem
// (an import's rows).
type checker struct{ err *Error }

func (c *checker) fail(field, format string, args ...any) {
	e := Invalid(field, format, args...)
	if c.err == nil {
		c.err = e
		return
	}
	c.err.Also = append(c.err.Also, e)
}

func (c *checker) result() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

// text checks that s has between min and max characters and no control
// characters other than new lines and tabs.
func (c *checker) text(field, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		c.fail(field, "must be valid UTF-8")
	case n < min && min == 1:
		c.fail(field, "is required")
	case n < min:
		c.fail(field, "must be at least %d characters", min)
	case n > max:
		c.fail(field, "must be at most %d characters (got %d)", max, n)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' && r != '\r' }):
		c.fail(field, "must not contain control characters")
	}
}

func checkEnum[T ~string](c *checker, field string, v T, all []T) {
	if !slices.Contains(all, v) {
		c.fail(field, "must be one of %v (got %q)", all, string(v))
	}
}

func (c *checker) count(field string, n, max int) {
	if n > max {
		c.fail(field, "must have at most %d entries (got %d)", max, n)
	}
}

func (c *checker) number(field string, v *float64, min, max float64) {
	if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || *v < min || *v > max) {
		c.fail(field, "must be between %s and %s", FormatNumber(min), FormatNumber(max))
	}
}

// normalized normalizes a list in place with norm and refuses invalid or
// repeated values; rule says what a valid value is.
func (c *checker) normalized(field string, vals []string, max int, norm func(string) (string, bool), rule string) {
	c.count(field, len(vals), max)
	for i, v := range vals {
		n, ok := norm(v)
		if !ok {
			c.fail(fmt.Sprintf("%s[%d]", field, i), "%s", rule)
			return
		}
		if slices.Contains(vals[:i], n) {
			c.fail(fmt.Sprintf("%s[%d]", field, i), "repeats %s", n)
		}
		vals[i] = n
	}
}

func (c *checker) phones(field string, phones []string, max int) {
	c.count(field, len(phones), max)
	for i, v := range phones {
		n, err := NormalizePhone(v)
		if err != nil {
			c.fail(fmt.Sprintf("%s[%d]", field, i), "%s", err.Error())
			return
		}
		if slices.Contains(phones[:i], n) {
			c.fail(fmt.Sprintf("%s[%d]", field, i), "repeats %s", n)
		}
		phones[i] = n
	}
}

func (c *checker) emails(field string, emails []string, max int) {
	c.normalized(field, emails, max, NormalizeEmail, "must be an email address like name@example.com")
}

// validateCustomer normalizes and checks a customer about to be written.
func validateCustomer(cu *Customer) error {
	var c checker
	checkEnum(&c, "input.kind", cu.Kind, []CustomerKind{KindPerson, KindOrganization})
	cu.Name = strings.TrimSpace(cu.Name)
	c.text("input.name", cu.Name, 1, MaxNameLen)
	c.phones("input.phones", cu.Phones, MaxPhones)
	c.emails("input.emails", cu.Emails, MaxEmails)
	c.count("input.addresses", len(cu.Addresses), MaxAddresses)
	for i, a := range cu.Addresses {
		f := fmt.Sprintf("input.addresses[%d].", i)
		for _, p := range [][2]string{{"label", a.Label}, {"line1", a.Line1}, {"line2", a.Line2}, {"city", a.City},
			{"region", a.Region}, {"postalCode", a.PostalCode}, {"country", a.Country}} {
			c.text(f+p[0], p[1], 0, MaxNameLen)
		}
	}
	c.text("input.industry", cu.Industry, 0, MaxShortText)
	c.text("input.region", cu.Region, 0, MaxShortText)
	checkEnum(&c, "input.source", cu.Source, Sources)
	c.number("input.annualRevenue", cu.AnnualRevenue, 0, MaxMoney)
	c.text("input.creditRating", cu.CreditRating, 0, MaxCreditRatingLen)
	c.creditCode(cu)
	if cu.CompanyStatus != "" {
		checkEnum(&c, "input.companyStatus", cu.CompanyStatus, CompanyStatuses)
	}
	c.count("input.tags", len(cu.Tags), MaxTags)
	for i, t := range cu.Tags {
		n, ok := NormalizeTag(t)
		if !ok {
			c.fail(fmt.Sprintf("input.tags[%d]", i), "must be 1 to 40 letters, digits, '-' or '_'")
			break
		}
		cu.Tags[i] = n
	}
	cu.Tags = dedupe(cu.Tags)
	c.count("input.attributes", len(cu.Attributes), MaxAttributes)
	for i, a := range cu.Attributes {
		f := fmt.Sprintf("input.attributes[%d]", i)
		c.text(f+".key", a.Key, 1, MaxAttrKeyLen)
		c.text(f+".value", a.Value, 0, MaxAttrValueLen)
		if slices.ContainsFunc(cu.Attributes[:i], func(b Attribute) bool { return b.Key == a.Key }) {
			c.fail(f+".key", "repeats %q", a.Key)
		}
	}
	checkEnum(&c, "input.stage", cu.Stage, Stages)
	c.text("input.ownerId", cu.OwnerID, 0, MaxShortText)
	c.text("input.team", cu.Team, 0, MaxShortText)
	if _, ok := GradeLevelByCode(cu.Grade.Level); !ok {
		c.fail("input.grade", "must be one of the grade levels A, B, C, D, E, F, G, O, V (got %q)", cu.Grade.Level)
	}
	checkEnum(&c, "input.verification", cu.Verification, []Verification{Unverified, Verified})
	return c.result()
}

// MaxIDLen bounds ids taken from callers; ours are 26-character ULIDs.
const MaxIDLen = 64

// checkID refuses an id no record can have, before it reaches a key.
func checkID(field, id string) error {
	if id == "" || len(id) > MaxIDLen || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == '#' }) {
		return Invalid(field, "is not a valid id")
	}
	return nil
}

// epoch is the earliest time an id can carry (ULIDs start in 1970).
var epoch = time.Unix(0, 0).UTC()

// checkEventTime refuses times before 1970 or more than a day ahead.
func checkEventTime(field string, t, now time.Time) error {
	switch {
	case t.Before(epoch):
		return Invalid(field, "must be after 1970")
	case t.After(now.Add(maxFutureSkew)):
		return Invalid(field, "must not be more than a day in the future")
	}
	return nil
}

func validateContact(ct *Contact) error {
	var c checker
	ct.Name = strings.TrimSpace(ct.Name)
	c.text("input.name", ct.Name, 1, MaxNameLen)
	c.text("input.title", ct.Title, 0, MaxShortText)
	checkEnum(&c, "input.role", ct.Role, ContactRoles)
	c.phones("input.phones", ct.Phones, MaxPhones)
	c.emails("input.emails", ct.Emails, MaxEmails)
	return c.result()
}

func validateInteraction(in *Interaction) error {
	var c checker
	checkEnum(&c, "input.channel", in.Channel, Channels)
	checkEnum(&c, "input.direction", in.Direction, []Direction{Inbound, Outbound})
	checkEnum(&c, "input.type", in.Type, InteractionTypes)
	c.text("input.subject", in.Subject, 0, MaxSubjectLen)
	c.text("input.content", in.Content, 0, MaxContentLen)
	c.text("input.outcome", in.Outcome, 0, MaxOutcomeLen)
	c.text("input.handledBy", in.HandledBy, 0, MaxShortText)
	if d := in.DurationSeconds; d != nil && (*d < 0 || *d > MaxDurationSecs) {
		c.fail("input.durationSeconds", "must be between 0 and %d", MaxDurationSecs)
	}
	c.count("input.attachments", len(in.Attachments), MaxAttachments)
	for i, a := range in.Attachments {
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(a) > MaxURLLen {
			c.fail(fmt.Sprintf("input.attachments[%d]", i), "must be an http(s) URL of at most %d characters", MaxURLLen)
		}
	}
	c.number("input.amount", in.Amount, 0, MaxMoney)
	switch {
	case in.Amount != nil && in.Type != TypeTransaction:
		c.fail("input.amount", "is only allowed on TRANSACTION interactions")
	case in.Amount == nil && in.Type == TypeTransaction:
		c.fail("input.amount", "is required on TRANSACTION interactions")
	case in.Amount != nil && !isCurrency(in.Currency):
		c.fail("input.currency", "must be an ISO 4217 code of three capital letters, e.g. CNY (got %q)", in.Currency)
	case in.Amount == nil && in.Currency != "":
		c.fail("input.currency", "is only allowed with an amount")
	}
	return c.result()
}

func isCurrency(s string) bool {
	return len(s) == 3 && strings.IndexFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }) < 0
}

func validateTemplate(t *TemplateInput) error {
	var c checker
	t.Name = strings.TrimSpace(t.Name)
	c.text("input.name", t.Name, 1, MaxNameLen)
	c.text("input.description", t.Description, 0, MaxContentLen)
	switch n := len(t.Indicators); {
	case n == 0:
		c.fail("input.indicators", "must have at least one indicator")
	case n > MaxIndicators:
		c.fail("input.indicators", "must have at most %d indicators (got %d)", MaxIndicators, n)
	}
	sum := 0.0
	for i, ind := range t.Indicators {
		f := fmt.Sprintf("input.indicators[%d]", i)
		if !isIndicatorKey(ind.Key) {
			c.fail(f+".key", "must be 1 to 40 lower-case letters, digits or '_', starting with a letter (got %q)", ind.Key)
		}
		if slices.ContainsFunc(t.Indicators[:i], func(o Indicator) bool { return o.Key == ind.Key }) {
			c.fail(f+".key", "repeats %q", ind.Key)
		}
		c.text(f+".name", ind.Name, 1, MaxNameLen)
		checkEnum(&c, f+".dimension", ind.Dimension, Dimensions)
		c.number(f+".weight", &ind.Weight, 0, 1)
		if ind.Weight == 0 {
			c.fail(f+".weight", "must be greater than 0")
		}
		c.number(f+".scaleMin", &ind.ScaleMin, -1e6, 1e6)
		c.number(f+".scaleMax", &ind.ScaleMax, -1e6, 1e6)
		if !(ind.ScaleMin < ind.ScaleMax) {
			c.fail(f+".scaleMax", "must be greater than scaleMin")
		}
		if ind.NPS && (ind.ScaleMin != 0 || ind.ScaleMax != 10) {
			c.fail(f+".nps", "an NPS indicator asks how likely the customer is to recommend us, on a scale of 0 to 10")
		}
		if ind.NPS && slices.ContainsFunc(t.Indicators[:i], func(o Indicator) bool { return o.NPS }) {
			c.fail(f+".nps", "a template has at most one NPS indicator")
		}
		sum += ind.Weight
	}
	if len(t.Indicators) > 0 && math.Abs(sum-1) > weightTolerance {
		c.fail("input.indicators", "weights must sum to 1 (got %s)", FormatNumber(sum))
	}
	return c.result()
}

func isIndicatorKey(s string) bool {
	if s == "" || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	}) < 0
}

func dedupe(s []string) []string {
	out := s[:0]
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// creditCode normalizes an organization's unified social credit code; a
// person has none.
func (c *checker) creditCode(cu *Customer) {
	if cu.CreditCode == "" {
		return
	}
	if cu.Kind != KindOrganization {
		c.fail("input.creditCode", "only an organization has a unified social credit code")
		return
	}
	n, err := uscc.Normalize(cu.CreditCode)
	if err != nil {
		c.fail("input.creditCode", "%s", err.Error())
		return
	}
	cu.CreditCode = n
}
