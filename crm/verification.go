package crm

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CustomerField names a staff-entered field of a customer that a reviewer
// can mark as verified (data quality).
type CustomerField string

const (
	FieldName          CustomerField = "NAME"
	FieldPhones        CustomerField = "PHONES"
	FieldEmails        CustomerField = "EMAILS"
	FieldAddresses     CustomerField = "ADDRESSES"
	FieldIndustry      CustomerField = "INDUSTRY"
	FieldRegion        CustomerField = "REGION"
	FieldAnnualRevenue CustomerField = "ANNUAL_REVENUE"
	FieldCreditRating  CustomerField = "CREDIT_RATING"
	FieldCompanyStatus CustomerField = "COMPANY_STATUS"
	FieldAttributes    CustomerField = "ATTRIBUTES"
)

// VerifiableFields lists every field a reviewer can verify.
var VerifiableFields = []CustomerField{FieldName, FieldPhones, FieldEmails, FieldAddresses, FieldIndustry,
	FieldRegion, FieldAnnualRevenue, FieldCreditRating, FieldCompanyStatus, FieldAttributes}

// FieldVerification says that a reviewer checked a field's current value.
type FieldVerification struct {
	Field CustomerField
	By    string
	At    time.Time
}

// fieldValue renders a field's value canonically, so that two customers'
// values compare as equal when they hold the same data (lists in any
// order). It is "" when the field is empty.
func fieldValue(c *Customer, f CustomerField) string {
	set := func(vals []string) string {
		vals = slices.Clone(vals)
		slices.Sort(vals)
		return strings.Join(vals, "\x00")
	}
	switch f {
	case FieldName:
		return c.Name
	case FieldPhones:
		return set(c.Phones)
	case FieldEmails:
		return set(c.Emails)
	case FieldAddresses:
		return set(mapStrings(c.Addresses, func(a Address) string { return fmt.Sprintf("%q", a) }))
	case FieldIndustry:
		return c.Industry
	case FieldRegion:
		return c.Region
	case FieldAnnualRevenue:
		if c.AnnualRevenue == nil {
			return ""
		}
		return strconv.FormatFloat(*c.AnnualRevenue, 'g', -1, 64)
	case FieldCreditRating:
		return c.CreditRating
	case FieldCompanyStatus:
		return string(c.CompanyStatus)
	case FieldAttributes:
		return set(mapStrings(c.Attributes, func(a Attribute) string { return a.Key + "\x01" + a.Value }))
	}
	return ""
}

func mapStrings[T any](in []T, f func(T) string) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// mark returns c's verification mark of f, if it has one.
func (c *Customer) mark(f CustomerField) (FieldVerification, bool) {
	i := slices.IndexFunc(c.FieldVerifications, func(v FieldVerification) bool { return v.Field == f })
	if i < 0 {
		return FieldVerification{}, false
	}
	return c.FieldVerifications[i], true
}

// carryMarks sets next's marks from the customers its data came from: a
// field keeps the mark of the first source whose value it still has, so a
// mark never outlives the value it vouched for.
func carryMarks(next *Customer, sources ...*Customer) {
	var marks []FieldVerification
	for _, f := range VerifiableFields {
		v := fieldValue(next, f)
		for _, src := range sources {
			if fieldValue(src, f) != v {
				continue
			}
			if m, ok := src.mark(f); ok && v != "" {
				marks = append(marks, m)
				break
			}
		}
	}
	next.FieldVerifications = marks
}

// settleVerification derives the whole-record verification from the field
// marks: VERIFIED, by the latest reviewer, when every non-empty verifiable
// field is marked; UNVERIFIED otherwise.
func settleVerification(c *Customer) {
	c.Verification, c.VerifiedBy, c.VerifiedAt = Verified, "", nil
	for _, f := range VerifiableFields {
		m, ok := c.mark(f)
		switch {
		case fieldValue(c, f) == "":
		case !ok:
			c.Verification, c.VerifiedBy, c.VerifiedAt = Unverified, "", nil
			return
		case c.VerifiedAt == nil || m.At.After(*c.VerifiedAt):
			c.VerifiedBy, c.VerifiedAt = m.By, ptr(m.At)
		}
	}
}

// setMarks marks fields as verified by u at t (or removes their marks).
func setMarks(c *Customer, fields []CustomerField, verified bool, by string, at time.Time) {
	c.FieldVerifications = slices.DeleteFunc(c.FieldVerifications, func(v FieldVerification) bool {
		return slices.Contains(fields, v.Field)
	})
	if verified {
		for _, f := range fields {
			c.FieldVerifications = append(c.FieldVerifications, FieldVerification{Field: f, By: by, At: at})
		}
	}
	slices.SortFunc(c.FieldVerifications, func(a, b FieldVerification) int {
		return slices.Index(VerifiableFields, a.Field) - slices.Index(VerifiableFields, b.Field)
	})
}

// nonEmptyFields lists the verifiable fields c has a value for.
func nonEmptyFields(c *Customer) []CustomerField {
	return slices.DeleteFunc(slices.Clone(VerifiableFields), func(f CustomerField) bool { return fieldValue(c, f) == "" })
}

// reviewEdit keeps the verification marks of a profile edited from prev to
// next true to its data: the marks of changed fields are dropped. whole,
// the legacy whole-record flag of updateCustomer, marks every non-empty
// field (VERIFIED) or removes every mark (UNVERIFIED); like a field mark,
// it needs ADMIN or the team's MANAGER, unless it asks for what the record
// already is.
func (s *Service) reviewEdit(u *User, prev, next *Customer, whole *Verification) error {
	carryMarks(next, prev)
	settleVerification(next)
	if whole == nil || *whole == next.Verification {
		return nil
	}
	if !canAssign(u, prev) {
		return &Error{Code: EFORBIDDEN, Field: "input.verification", Message: "only an admin or the team's manager may verify data"}
	}
	setMarks(next, VerifiableFields, false, "", time.Time{})
	if *whole == Verified {
		setMarks(next, nonEmptyFields(next), true, u.ID, s.now())
	}
	settleVerification(next)
	return nil
}

// AdoptLegacyVerification upgrades a profile stored before field marks
// existed: verified as a whole, it reads as every non-empty field verified
// by its VerifiedBy at VerifiedAt.
func AdoptLegacyVerification(c *Customer) {
	if c.Verification != Verified || len(c.FieldVerifications) > 0 || c.VerifiedAt == nil {
		return
	}
	setMarks(c, nonEmptyFields(c), true, c.VerifiedBy, *c.VerifiedAt)
}

// ReviewCustomerFields marks fields of a customer as verified by the
// caller (verified true) or withdraws their marks (false). Only ADMIN or
// the team's MANAGER review data; an empty field cannot be verified.
// expectedVersion must be the customer's current version.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) ReviewCustomerFields(ctx context.Context, id string, expectedVersion int, fields []CustomerField, verified bool) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	var c checker
	if len(fields) == 0 {
		c.fail("fields", "must name at least one field")
	}
	for i, f := range fields {
		checkEnum(&c, fmt.Sprintf("fields[%d]", i), f, VerifiableFields)
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	var uniq []CustomerField
	for _, f := range fields {
		if !slices.Contains(uniq, f) {
			uniq = append(uniq, f)
		}
	}
	fields = uniq
	prev, err := s.editable(ctx, u, id, canAssign, "review the data of")
	if err != nil {
		return nil, err
	}
	if prev.Version != expectedVersion {
		return nil, staleVersion("customer", id, expectedVersion, prev.Version)
	}
	if verified {
		for i, f := range fields {
			if fieldValue(prev, f) == "" {
				return nil, Invalid(fmt.Sprintf("fields[%d]", i), "%s is empty: there is nothing to verify", f)
			}
		}
	}
	next := prev.Clone()
	setMarks(next, fields, verified, u.ID, s.now())
	settleVerification(next)
	s.touch(next, u)
	if err := s.Store.Apply(ctx, &Change{CustomerPrev: prev, Customer: next}); err != nil {
		return nil, err
	}
	return next, nil
}
