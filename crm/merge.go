package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Merging two records of the same customer (data quality). The
// merged customer's whole history moves to the survivor, which takes over
// its phones, emails and tags; the merged customer stays behind as a
// tombstone that points to the survivor. Partner shares are access, not
// history: the tombstone's end, and the survivor keeps only its own.
//
// A customer's history can exceed what one transaction writes, so a merge
// runs in steps, each atomic, and every step leaves each item in exactly one
// place:
//
//  1. start: the merged customer is marked as merging into the survivor
//     (MergedInto) and the survivor as receiving it (MergingFrom), in one
//     write conditioned on both versions. From then on the merged customer
//     refuses writes, and the survivor cannot be merged away.
//  2. move: history items move in batches (Store.MoveHistory), each batch
//     one transaction that copies the items under the survivor and deletes
//     the originals, conditioned on the marks.
//  3. finish: both profiles are written in one transaction: the survivor's
//     counters and derived fields recomputed, the unique claims passed
//     over, a merge record in both histories, the merged customer a
//     tombstone (status MERGED).
//
// Calling MergeCustomers again for the same pair resumes wherever an
// interrupted merge stopped.

// MergeInput asks to merge one customer into another.
type MergeInput struct {
	SurvivorID string
	MergedID   string
	// The versions the caller read; checked when the merge starts.
	ExpectedSurvivorVersion int
	ExpectedMergedVersion   int
	Reason                  string
}

// MergeResult is what a merge call did.
type MergeResult struct {
	Survivor *Customer
	// Merged is the tombstone left behind.
	Merged *Customer
	// Moved counts the history items this call moved; a call that resumed
	// an interrupted merge counts only what was left to move.
	Moved int
}

// MergeRecord is the entry a merge leaves in the history of both customers.
type MergeRecord struct {
	ID string // ULID, time part = At
	// CustomerID is the customer whose history holds the record.
	CustomerID string
	SurvivorID string
	MergedID   string
	MergedName string
	Reason     string
	By         string
	At         time.Time
	// What the merged customer brought to the survivor.
	Interactions int
	Contacts     int
	Phones       []string
	Emails       []string
	Tags         []string
}

// MergeChange is one atomic step of a merge: both profiles are written
// together, with what the store derives from them (tag entries, counters,
// unique claims). The phones and emails the merged customer gives up and
// the survivor gains pass to the survivor in the same transaction.
type MergeChange struct {
	SurvivorPrev, Survivor *Customer
	MergedPrev, Merged     *Customer
	// ClaimQuota ends the merged customer's pool claim, if it had one.
	ClaimQuota *ClaimQuota
	// GradeChange regrades the survivor, whose data the merge changed.
	GradeChange *GradeChange
	Records     []*MergeRecord
}

// Writable refuses writes to a customer that was merged, or is being
// merged, into another, naming that other customer, and to a survivor
// while a merge into it is under way.
func Writable(c *Customer) error {
	switch {
	case c.Status == StatusMerged:
		return &Error{Code: ECONFLICT, ExistingID: c.MergedInto, Message: fmt.Sprintf(
			"customer %s was merged into customer %s and accepts no changes; use customer %s", c.ID, c.MergedInto, c.MergedInto)}
	case c.MergedInto != "":
		return &Error{Code: ECONFLICT, ExistingID: c.MergedInto, Message: fmt.Sprintf(
			"customer %s is being merged into customer %s and accepts no changes; use customer %s", c.ID, c.MergedInto, c.MergedInto)}
	case c.MergingFrom != "":
		// Until the merge finishes, the history moved in so far and the
		// counts the finish step adds up must not drift apart.
		return Errorf(ECONFLICT, "customer %s is taking over another customer's history in a merge; retry when the merge completes", c.ID)
	}
	return nil
}

// MergeCustomers merges in.MergedID into in.SurvivorID: ADMIN, or a
// MANAGER of both customers' teams. The survivor's own values win; the
// merged customer's fill what the survivor lacks and join its phones,
// emails, tags, addresses and attributes. The versions are checked when the
// merge starts; a call for a pair whose merge is under way resumes it, and
// one for a pair already merged returns the result.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT (the union
// exceeds a limit, e.g. 50 contacts), CONFLICT (stale version; either
// customer is in another merge or already merged; the survivor is archived).
func (s *Service) MergeCustomers(ctx context.Context, in MergeInput) (*MergeResult, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var c checker
	in.Reason = strings.TrimSpace(in.Reason)
	c.text("input.reason", in.Reason, 1, MaxReasonLen)
	if err := c.result(); err != nil {
		return nil, err
	}
	for _, id := range [][2]string{{"input.survivorId", in.SurvivorID}, {"input.mergedId", in.MergedID}} {
		if err := checkID(id[0], id[1]); err != nil {
			return nil, err
		}
	}
	if in.SurvivorID == in.MergedID {
		return nil, Invalid("input.mergedId", "must differ from survivorId")
	}
	p, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	res := &MergeResult{}
	var sv, m *Customer // as stored; nil: read them
	for conflicts := 0; ; {
		if sv == nil {
			if sv, m, err = s.mergePair(ctx, u, in); err != nil {
				return nil, err
			}
		}
		var step error
		switch {
		case m.Status == StatusMerged:
			res.Survivor, res.Merged = sv, m
			return res, nil
		case m.MergedInto == "":
			ch, err := s.startMerge(u, sv, m, in)
			if err != nil {
				return nil, err
			}
			if step = s.Store.ApplyMerge(ctx, ch); step == nil {
				sv, m = ch.Survivor, ch.Merged
				continue
			}
		default:
			if step = s.demoteMergedPrimary(ctx, u, sv, m); step != nil {
				break
			}
			var n int
			n, step = s.moveHistory(ctx, m.ID, sv.ID)
			res.Moved += n
			if step != nil {
				break
			}
			ch, err := s.finishMerge(p, u, sv, m, in.Reason)
			if err != nil {
				return nil, err
			}
			if step = s.Store.ApplyMerge(ctx, ch); step == nil {
				res.Survivor, res.Merged = ch.Survivor, ch.Merged
				return res, nil
			}
		}
		if ErrorCode(step) != ECONFLICT || conflicts >= maxRetries || ctx.Err() != nil {
			// Steps before this one may have been applied: calling again
			// resumes the merge.
			return nil, partly(step, res.Moved > 0 || m.MergedInto != "")
		}
		conflicts++ // another writer got in between: read again
		sv, m = nil, nil
	}
}

// mergePair reads both customers, checks the caller may merge them and that
// the pair is in a state this merge can start, resume or report.
func (s *Service) mergePair(ctx context.Context, u *User, in MergeInput) (sv, m *Customer, err error) {
	if sv, err = s.readable(ctx, u, in.SurvivorID); err != nil {
		return nil, nil, err
	}
	if m, err = s.readable(ctx, u, in.MergedID); err != nil {
		return nil, nil, err
	}
	if !canAssign(u, sv) || !canAssign(u, m) {
		return nil, nil, Errorf(EFORBIDDEN, "only an admin or a manager of both customers' teams may merge customers %s and %s", sv.ID, m.ID)
	}
	switch {
	case m.MergedInto == sv.ID:
		return sv, m, nil // under way or done: resume or report
	case m.MergedInto != "":
		return nil, nil, Writable(m)
	case sv.MergedInto != "":
		return nil, nil, Writable(sv)
	case sv.MergingFrom != "":
		return nil, nil, Errorf(ECONFLICT, "customer %s is taking over another customer in a merge; finish that merge first", sv.ID)
	case m.MergingFrom != "":
		return nil, nil, Errorf(ECONFLICT, "customer %s is taking over another customer in a merge; finish that merge first", m.ID)
	case sv.Status != StatusActive:
		return nil, nil, Errorf(ECONFLICT, "customer %s is archived; restore it before merging into it", sv.ID)
	case sv.Version != in.ExpectedSurvivorVersion:
		return nil, nil, staleVersion("customer", sv.ID, in.ExpectedSurvivorVersion, sv.Version)
	case m.Version != in.ExpectedMergedVersion:
		return nil, nil, staleVersion("customer", m.ID, in.ExpectedMergedVersion, m.Version)
	}
	return sv, m, nil
}

// startMerge checks the union of the two customers against the limits and
// marks both. The survivor reserves room for the merged contacts at once,
// so that contacts added during the merge cannot break the limit.
func (s *Service) startMerge(u *User, sv, m *Customer, in MergeInput) (*MergeChange, error) {
	if n := sv.ContactCount + m.ContactCount; n > MaxContacts {
		return nil, Invalid("input.mergedId", "together the customers have %d contacts, more than the %d a customer may have; remove some first", n, MaxContacts)
	}
	if _, err := mergedProfile(sv, m); err != nil {
		return nil, err
	}
	nm, nsv := m.Clone(), sv.Clone()
	nm.MergedInto, nm.Claim = sv.ID, nil
	nsv.MergingFrom = m.ID
	nsv.ContactCount += m.ContactCount
	s.touch(nm, u)
	s.touch(nsv, u)
	return &MergeChange{SurvivorPrev: sv, Survivor: nsv, MergedPrev: m, Merged: nm, ClaimQuota: endClaim(m)}, nil
}

// moveHistory moves the merged customer's history to the survivor, batch
// after batch, until nothing is left.
func (s *Service) moveHistory(ctx context.Context, from, to string) (int, error) {
	moved := 0
	for {
		n, done, err := s.Store.MoveHistory(ctx, from, to)
		moved += n
		if err != nil || done {
			// Contracts moved with the history count for the survivor's
			// credit: the store marked it for review, evaluated now (or
			// by the daily job, if this fails).
			if moved > 0 {
				if st, cerr := s.Store.CreditState(ctx, to); cerr == nil && st.Reviewing {
					s.afterContract(ctx, to)
				}
			}
			return moved, err
		}
	}
}

// demoteMergedPrimary keeps one primary contact: when the survivor has one,
// the merged customer's primary contacts lose the flag before they move.
func (s *Service) demoteMergedPrimary(ctx context.Context, u *User, sv, m *Customer) error {
	isPrimary := func(c *Contact) bool { return c.Primary }
	if m.ContactCount == 0 {
		return nil
	}
	mine, err := s.Store.Contacts(ctx, m.ID)
	if err != nil || !slices.ContainsFunc(mine, isPrimary) {
		return err
	}
	theirs, err := s.Store.Contacts(ctx, sv.ID)
	if err != nil || !slices.ContainsFunc(theirs, isPrimary) {
		return err
	}
	for _, c := range mine {
		if !c.Primary {
			continue
		}
		d := c.Clone()
		d.Primary = false
		d.Version++
		d.UpdatedAt, d.UpdatedBy = s.now(), u.ID
		if err := s.Store.Apply(ctx, &Change{DemotedContactPrev: c, DemotedContact: d}); err != nil {
			return err
		}
	}
	return nil
}

// finishMerge writes the survivor with the merged customer's data joined,
// regraded by policy p, and the merged customer as a tombstone, with a
// record in both histories.
func (s *Service) finishMerge(p *GradingPolicy, u *User, sv, m *Customer, reason string) (*MergeChange, error) {
	nsv, err := mergedProfile(sv, m)
	if err != nil {
		return nil, err
	}
	nsv.MergingFrom = ""
	gc := s.regrade(p, nsv, GradeRule, u.ID, false)
	now := s.now()
	tomb := m.Clone()
	tomb.Status, tomb.MergedAt = StatusMerged, ptr(now)
	tomb.Phones, tomb.Emails, tomb.Tags, tomb.CreditCode = nil, nil, nil, ""
	tomb.Activity, tomb.ContactCount, tomb.FollowUpSet = Activity{}, 0, nil
	// Its shares end: a partner sees only what was shared with it, and the
	// survivor was not.
	tomb.Partners = nil
	tomb.ValueScore, tomb.ValueTier = nil, ""
	carryMarks(tomb, m)
	settleVerification(tomb)
	s.touch(nsv, u)
	s.touch(tomb, u)
	rec := MergeRecord{SurvivorID: sv.ID, MergedID: m.ID, MergedName: m.Name, Reason: reason, By: u.ID, At: now,
		Interactions: m.InteractionCount, Contacts: m.ContactCount,
		Phones: slices.Clone(m.Phones), Emails: slices.Clone(m.Emails), Tags: removedFrom(m.Tags, sv.Tags)}
	forSurvivor, forMerged := rec, rec
	forSurvivor.ID, forSurvivor.CustomerID = s.newID(now), sv.ID
	forMerged.ID, forMerged.CustomerID = s.newID(now), m.ID
	return &MergeChange{SurvivorPrev: sv, Survivor: nsv, MergedPrev: m, Merged: tomb, GradeChange: gc,
		Records: []*MergeRecord{&forSurvivor, &forMerged}}, nil
}

// mergedProfile is the survivor with the merged customer's data joined: the
// survivor's values win; the merged customer's fill the survivor's empty
// fields and join its lists; counters and derived fields add up. Contacts
// were counted when the merge started. A union beyond a list's limit is
// refused (BAD_USER_INPUT on input.mergedId) rather than cut.
func mergedProfile(sv, m *Customer) (*Customer, error) {
	next := sv.Clone()
	var c checker
	over := func(what string, n, limit int) {
		if n > limit {
			c.fail("input.mergedId", "together the customers have %d %s, more than the %d a customer may have; remove some first", n, what, limit)
		}
	}
	union := func(what string, dst *[]string, add []string, limit int) {
		*dst = append(*dst, removedFrom(add, *dst)...)
		over(what, len(*dst), limit)
	}
	if sv.CreditCode != "" && m.CreditCode != "" && sv.CreditCode != m.CreditCode {
		c.fail("input.mergedId", "the customers have different unified social credit codes (%s, %s): they are two organizations", sv.CreditCode, m.CreditCode)
	}
	union("phone numbers", &next.Phones, m.Phones, MaxPhones)
	union("email addresses", &next.Emails, m.Emails, MaxEmails)
	union("tags", &next.Tags, m.Tags, MaxTags)
	for _, a := range m.Addresses {
		if !slices.Contains(next.Addresses, a) {
			next.Addresses = append(next.Addresses, a)
		}
	}
	over("addresses", len(next.Addresses), MaxAddresses)
	for _, a := range m.Attributes {
		if !slices.ContainsFunc(next.Attributes, func(b Attribute) bool { return b.Key == a.Key }) {
			next.Attributes = append(next.Attributes, a)
		}
	}
	over("attributes", len(next.Attributes), MaxAttributes)
	if err := c.result(); err != nil {
		return nil, err
	}
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&next.Industry, m.Industry)
	fill(&next.Region, m.Region)
	fill(&next.CreditRating, m.CreditRating)
	fill(&next.CreditCode, m.CreditCode)
	if next.CompanyStatus == "" {
		next.CompanyStatus = m.CompanyStatus
	}
	if next.AnnualRevenue == nil && m.AnnualRevenue != nil {
		next.AnnualRevenue = ptr(*m.AnnualRevenue)
	}

	// The activities add up; the store writes the survivor's from both as
	// they stand when the merge finishes (see Activity.Absorb).
	next.AbsorbActivity(m.Activity)

	carryMarks(next, sv, m)
	settleVerification(next)
	return next, nil
}

// AbsorbActivity adds a merged customer's activity to c's.
func (c *Customer) AbsorbActivity(o Activity) {
	theirs := o.Clone()
	for i := range theirs.RecentEvaluations {
		theirs.RecentEvaluations[i].CustomerID = c.ID
	}
	if theirs.LastInteraction != nil {
		theirs.LastInteraction.CustomerID = c.ID
	}
	c.Activity.Absorb(theirs)
}

// addTransactionStats sums two customers' transaction statistics.
func addTransactionStats(a, b TransactionStats) TransactionStats {
	// pick returns the earlier of two times (the later one if !earlier).
	pick := func(x, y *time.Time, earlier bool) *time.Time {
		switch {
		case x == nil:
			return y
		case y == nil:
			return x
		case x.Before(*y) == earlier:
			return x
		}
		return y
	}
	return TransactionStats{Count: a.Count + b.Count, Total: round2(a.Total + b.Total),
		FirstAt: pick(a.FirstAt, b.FirstAt, true), LastAt: pick(a.LastAt, b.LastAt, false)}
}

// removedFrom returns the values of a that are not in b.
func removedFrom(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// Merges lists the merges in a customer's history, newest first.
// Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) Merges(ctx context.Context, customerID string, p PageRequest) (*Page[*MergeRecord], error) {
	page, err := customerList(ctx, s, customerID, p, s.Store.ListMerges)
	return viewPage(UserFromContext(ctx), page, viewMergeRecord), err
}

// viewMergeRecord masks what a partner's policy masks: the phones and
// emails taken over, and the staff's reason as content.
func viewMergeRecord(u *User, r *MergeRecord) *MergeRecord {
	if !u.IsPartner() {
		return r
	}
	v := *r
	if u.masks(MaskPhones) {
		v.Phones = maskAll(v.Phones, MaskPhone)
	}
	if u.masks(MaskEmails) {
		v.Emails = maskAll(v.Emails, MaskEmail)
	}
	if u.masks(MaskInteractionContent) {
		v.Reason = maskText(v.Reason)
	}
	return &v
}
