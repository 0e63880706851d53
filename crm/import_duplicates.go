package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// What an import does with a row that names a customer we already have
// (DuplicatePolicy): how the duplicate is found, and skipping, filling or
// flagging.

// apply carries out the import's policy for a row whose duplicate (if
// any) is known.
func (r *importRun) apply(ctx context.Context, i int, in CustomerInput, c *Customer, contacts []ContactInput, dup *duplicate) (ImportRowResult, error) {
	switch {
	case dup == nil:
		return r.create(ctx, i, in, c, contacts, nil)
	case dup.hidden:
		return ImportRowResult{Status: ImportRejected, DuplicateOn: dup.field, Problems: []*Error{dup.problem(r.rowPath(i))}}, nil
	}
	switch r.in.Duplicates {
	case DuplicateUpdateEmpty:
		return r.fill(ctx, i, in, c, contacts, dup)
	case DuplicateFlag:
		return r.create(ctx, i, flagged(in, c, dup), c, contacts, dup)
	}
	return dup.result(r.rowPath(i), ImportSkipped), nil
}

// duplicate is the customer a row names, and how it was found.
type duplicate struct {
	// existing is the customer; nil when hidden, or when it is the
	// customer an earlier row of a dry run would create (earlierRow).
	existing   *Customer
	hidden     bool // held by a customer the caller may not read
	earlierRow int
	field      string // phones[i], emails[i] or name
	value      string
}

func (d *duplicate) id() string {
	if d.existing == nil {
		return ""
	}
	return d.existing.ID
}

// problem describes the match, as a DUPLICATE problem of the row.
func (d *duplicate) problem(path string) *Error {
	p := &Error{Code: EDUPLICATE, Field: path + "." + d.field, ExistingID: d.id()}
	switch {
	case d.hidden:
		p.Message = "is already used by another customer"
	case d.earlierRow > 0:
		p.Message = fmt.Sprintf("%s is also in row %d of this import", d.value, d.earlierRow)
	case d.field == "name":
		p.Message = fmt.Sprintf("customer %s has the same name", d.id())
	default:
		p.Message = fmt.Sprintf("%s is already used by customer %s", d.value, d.id())
	}
	return p
}

func (d *duplicate) result(path string, st ImportStatus) ImportRowResult {
	return ImportRowResult{Status: st, ExistingID: d.id(), DuplicateOn: d.field, Problems: []*Error{d.problem(path)}}
}

// duplicate finds the customer row i names: one holding one of its phones
// or emails (read consistently when the call began, so a row created a
// moment before counts), an earlier row of this call with the same values,
// or, for an organization, an organization of the same name
// (duplicateCandidates, score 1). A value taken after the call began is
// found when the create is refused as DUPLICATE.
func (r *importRun) duplicate(ctx context.Context, i int, c *Customer) (*duplicate, error) {
	type held struct{ field, value, holder string }
	var values []held
	for k, p := range c.Phones {
		values = append(values, held{fmt.Sprintf("phones[%d]", k), p, r.phoneHolders[p]})
	}
	for k, e := range c.Emails {
		values = append(values, held{fmt.Sprintf("emails[%d]", k), e, r.emailHolders[e]})
	}
	for _, v := range values {
		if v.holder == "" {
			continue
		}
		holder, err := r.s.Store.Customer(ctx, v.holder)
		switch {
		case ErrorCode(err) == ENOTFOUND || err == nil && !holdsField(holder, v.field, v.value):
			continue // released since, or given up and not yet released
		case err != nil:
			return nil, err
		case !canRead(r.u, holder):
			return &duplicate{hidden: true, field: v.field, value: v.value}, nil
		}
		return &duplicate{existing: holder, field: v.field, value: v.value}, nil
	}
	for _, v := range values {
		if s, ok := r.seen[strings.SplitN(v.field, "[", 2)[0]+":"+v.value]; ok {
			return &duplicate{existing: s.customer, earlierRow: s.row, field: v.field, value: v.value}, nil
		}
	}
	if c.Kind != KindOrganization {
		return nil, nil
	}
	if s, ok := r.seen["name:"+nameKey(c.Name)]; ok {
		return &duplicate{existing: s.customer, earlierRow: s.row, field: "name", value: c.Name}, nil
	}
	cands, err := r.s.DuplicateCandidates(ctx, c.Name, "", DefaultDuplicateCandidates)
	if err != nil && !rowFault(err) {
		return nil, err
	}
	for _, cand := range cands.Candidates {
		if cand.Score == 1 && cand.Customer.Kind == KindOrganization {
			return &duplicate{existing: cand.Customer, field: "name", value: c.Name}, nil
		}
	}
	return nil, nil
}

// nameKey is what two names with a similarity of 1 share: their words,
// legal forms left out, in order.
func nameKey(name string) string {
	t := nameTokens(name)
	slices.Sort(t)
	return strings.Join(slices.Compact(t), " ")
}

// remember notes what row i holds, for the rows after it in this call.
func (r *importRun) remember(i int, c *Customer, created *Customer) {
	s := seenRow{row: r.in.Rows[i].Row, customer: created}
	for _, p := range c.Phones {
		r.seen["phones:"+p] = s
	}
	for _, e := range c.Emails {
		r.seen["emails:"+e] = s
	}
	if c.Kind == KindOrganization {
		r.seen["name:"+nameKey(c.Name)] = s
	}
}

// flagged is the input of a FLAG row: the row as a new customer, tagged
// as a merge candidate, naming the customer it duplicates, without the
// phones and emails that customer holds.
func flagged(in CustomerInput, c *Customer, dup *duplicate) CustomerInput {
	out := in
	out.Phones, out.Emails = nil, nil
	for k, p := range c.Phones {
		if dup.field != fmt.Sprintf("phones[%d]", k) && (dup.existing == nil || !slices.Contains(dup.existing.Phones, p)) {
			out.Phones = append(out.Phones, p)
		}
	}
	for k, e := range c.Emails {
		if dup.field != fmt.Sprintf("emails[%d]", k) && (dup.existing == nil || !slices.Contains(dup.existing.Emails, e)) {
			out.Emails = append(out.Emails, e)
		}
	}
	out.Tags = append(slices.Clone(in.Tags), MergeCandidateTag)
	out.Attributes = append(slices.DeleteFunc(slices.Clone(in.Attributes), func(a Attribute) bool { return a.Key == DuplicateOfAttribute }),
		Attribute{Key: DuplicateOfAttribute, Value: dup.id()})
	return out
}

// fill gives the customer a row duplicates the row's values of the fields
// it has empty (UPDATE_EMPTY). Owner and team are filled only by those who
// may assign them.
func (r *importRun) fill(ctx context.Context, i int, in CustomerInput, c *Customer, contacts []ContactInput, dup *duplicate) (ImportRowResult, error) {
	path := r.rowPath(i)
	out := dup.result(path, ImportSkipped)
	if dup.existing == nil {
		// An earlier row of a dry run: its customer does not exist.
		out.Status = ImportUpdated
		return out, nil
	}
	for attempt := 0; ; attempt++ {
		e := dup.existing
		if !canEdit(r.u, e) {
			out.Problems = append(out.Problems, &Error{Code: EFORBIDDEN, Field: path, ExistingID: e.ID,
				Message: fmt.Sprintf("you may not edit customer %s, so its empty fields were not filled", e.ID)})
			return out, nil
		}
		upd, filled := emptyFields(e, in, c)
		if (upd.OwnerID != nil || upd.Team != nil) && !canAssign(r.u, e) {
			upd.OwnerID, upd.Team = nil, nil
			filled = slices.DeleteFunc(filled, func(f string) bool { return f == "ownerId" || f == "team" })
			out.Problems = append(out.Problems, &Error{Code: EFORBIDDEN, Field: path + ".ownerId", ExistingID: e.ID,
				Message: "only an admin or the team's manager may give a customer an owner or a team; left empty"})
		}
		addContacts := e.ContactCount == 0 && len(contacts) > 0
		if addContacts {
			filled = append(filled, "contacts")
		}
		out.Filled = filled
		if len(filled) == 0 {
			return out, nil
		}
		out.Status, out.CustomerID = ImportUpdated, e.ID
		if r.in.DryRun {
			out.CustomerID = ""
			return out, nil
		}
		if len(filled) > 1 || !addContacts {
			_, err := r.s.UpdateCustomer(ctx, e.ID, e.Version, upd)
			if ErrorCode(err) == ECONFLICT && attempt < 3 {
				// Changed meanwhile: fill what is still empty.
				if dup.existing, err = r.s.readable(ctx, r.u, e.ID); err == nil {
					out = dup.result(path, ImportSkipped)
					continue
				}
			}
			if err != nil {
				if !rowFault(err) {
					return ImportRowResult{}, err
				}
				out = dup.result(path, ImportSkipped)
				out.Problems = append(out.Problems, problems(path, err)...)
				return out, nil
			}
		}
		if addContacts {
			probs, err := r.addContacts(ctx, i, e.ID, contacts)
			out.Problems = append(out.Problems, probs...)
			return out, err
		}
		return out, nil
	}
}

// emptyFields is the update giving e the row's values of the fields e
// has empty, and those fields' names.
func emptyFields(e *Customer, in CustomerInput, c *Customer) (CustomerUpdate, []string) {
	var upd CustomerUpdate
	var filled []string
	text := func(name string, have, give string, dst **string) {
		if have == "" && give != "" {
			*dst, filled = ptr(give), append(filled, name)
		}
	}
	list := func(name string, have, give []string, dst *[]string) {
		if len(have) == 0 && len(give) > 0 {
			*dst, filled = slices.Clone(give), append(filled, name)
		}
	}
	list("phones", e.Phones, c.Phones, &upd.Phones)
	list("emails", e.Emails, c.Emails, &upd.Emails)
	if len(e.Addresses) == 0 && len(c.Addresses) > 0 {
		upd.Addresses, filled = slices.Clone(c.Addresses), append(filled, "addresses")
	}
	text("industry", e.Industry, c.Industry, &upd.Industry)
	text("region", e.Region, c.Region, &upd.Region)
	if e.AnnualRevenue == nil && c.AnnualRevenue != nil {
		upd.AnnualRevenue, filled = ptr(*c.AnnualRevenue), append(filled, "annualRevenue")
	}
	text("creditRating", e.CreditRating, c.CreditRating, &upd.CreditRating)
	if e.CompanyStatus == "" && c.CompanyStatus != "" {
		upd.CompanyStatus, filled = ptr(c.CompanyStatus), append(filled, "companyStatus")
	}
	list("tags", e.Tags, c.Tags, &upd.Tags)
	if len(e.Attributes) == 0 && len(c.Attributes) > 0 {
		upd.Attributes, filled = slices.Clone(c.Attributes), append(filled, "attributes")
	}
	// Owner and team only as the row gives them, not the defaults a
	// create would take.
	if in.OwnerID != nil {
		text("ownerId", e.OwnerID, *in.OwnerID, &upd.OwnerID)
	}
	text("team", e.Team, in.Team, &upd.Team)
	return upd, filled
}
