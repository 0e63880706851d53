package crm

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Activity is what a customer's appended history implies: its counts, the
// latest interaction, the next follow-up, transaction totals, the
// evaluation indexes and the open cases. Appends (interactions, case
// moves, evaluations) are written as items of their own, never conditioned
// on the customer, so they do not contend with each other; the table's
// stream applies what each one implies to the customer's activity exactly
// once, within seconds (see ApplyInteraction and its siblings, and the
// stream package). The customer 360 folds in the interactions logged since
// (FoldPending), so it shows them at once.
type Activity struct {
	InteractionCount int
	// LastInteraction is the newest interaction by occurrence, without its
	// content and attachments (LastInteractionID names it in full).
	LastInteraction   *Interaction
	LastInteractionAt *time.Time
	LastInteractionID string
	// NextFollowUpAt is when the owner should next be in touch: the
	// follow-up schedule (Customer.PlanFollowUp), the sooner of the last
	// contact plus the grade's interval and a date asked for since.
	NextFollowUpAt *time.Time
	// ContactedAt is when the customer was last in touch by anything but a
	// note (the newest by occurrence): what the schedule counts from.
	ContactedAt *time.Time
	// FollowUpEvery is the interval of the customer's grade the schedule
	// was planned with (0: no routine follow-up).
	FollowUpEvery time.Duration
	// FollowUpAsked is a follow-up date asked for explicitly (by an
	// interaction or a profile edit) since the last contact; a contact
	// that happens after it was asked for clears it.
	FollowUpAsked *time.Time
	// FollowUpSetAt is when FollowUpAsked was set or cleared: of two
	// settings, the later one wins, whichever is applied first.
	FollowUpSetAt *time.Time
	// Transactions sums the customer's TRANSACTION interactions: they feed
	// the recency, frequency and monetary parts of the value score.
	Transactions TransactionStats

	SatisfactionIndex *float64
	LoyaltyIndex      *float64
	TrustIndex        *float64
	AcceptanceIndex   *float64
	CreditIndex       *float64
	// NPS is the Net Promoter Score (-100 to 100) over the recent
	// evaluations that answered a would-recommend (NPS) indicator.
	NPS *float64
	// RecentEvaluations are the latest evaluations, newest first.
	RecentEvaluations []Evaluation

	// OpenCases are the open cases due soonest (at most OpenCasesKept),
	// OpenCaseCount all of them.
	OpenCases     []CaseSummary
	OpenCaseCount int

	// LoggedThrough is the log time of the newest interaction counted:
	// interactions logged after it are not counted yet.
	LoggedThrough *time.Time
	// Revision increases with every write of the stored activity; a write
	// is conditioned on the revision it read (0: none stored yet).
	Revision int
}

// FollowUpSetting is a next follow-up set at a time, by someone.
type FollowUpSetting struct {
	At    time.Time
	SetAt time.Time
	By    string
}

// Clone returns a deep copy.
func (a Activity) Clone() Activity {
	a.RecentEvaluations = slices.Clone(a.RecentEvaluations)
	a.OpenCases = slices.Clone(a.OpenCases)
	if a.LastInteraction != nil {
		a.LastInteraction = a.LastInteraction.Clone()
	}
	return a
}

// InteractionSummary is what the activity keeps of its latest
// interaction: what a list shows of it (the channel, type, subject, when,
// who handled it and the outcome), not its content, attachments, follow-up
// (the activity's own) or bookkeeping (version, created and updated), so
// the activity item stays under 1 KB. A query asking for more reads the
// interaction.
func InteractionSummary(it *Interaction) *Interaction {
	return &Interaction{ID: it.ID, CustomerID: it.CustomerID, Channel: it.Channel, Direction: it.Direction, Type: it.Type,
		Subject: it.Subject, OccurredAt: it.OccurredAt, DurationSeconds: it.DurationSeconds, HandledBy: it.HandledBy,
		ContactID: it.ContactID, Outcome: it.Outcome, Amount: it.Amount, Currency: it.Currency}
}

// ApplyInteraction counts an interaction logged (prev nil) or corrected
// from prev to next: its count, the latest interaction, the next follow-up
// it sets and the transaction totals.
func (a *Activity) ApplyInteraction(prev, next *Interaction) {
	if prev == nil {
		a.InteractionCount++
		if a.LoggedThrough == nil || next.CreatedAt.After(*a.LoggedThrough) {
			a.LoggedThrough = ptr(next.CreatedAt)
		}
		if a.LastInteractionAt == nil || next.OccurredAt.After(*a.LastInteractionAt) ||
			(next.OccurredAt.Equal(*a.LastInteractionAt) && next.ID > a.LastInteractionID) {
			a.LastInteractionAt, a.LastInteractionID = ptr(next.OccurredAt), next.ID
			a.LastInteraction = InteractionSummary(next)
		}
		if contact(next) {
			a.contacted(next)
		}
		if next.NextFollowUpAt != nil {
			// Asked for at the contact's time: a backdated call's ask is
			// older than a contact that happened after it, logged or not.
			a.SetFollowUp(*next.NextFollowUpAt, next.OccurredAt)
		}
	} else {
		if a.LastInteractionID == next.ID {
			a.LastInteraction = InteractionSummary(next)
		}
		if contact(next) && (a.ContactedAt == nil || next.OccurredAt.After(*a.ContactedAt)) {
			a.ContactedAt = ptr(next.OccurredAt.UTC())
		}
		if next.NextFollowUpAt != nil && (prev.NextFollowUpAt == nil || !prev.NextFollowUpAt.Equal(*next.NextFollowUpAt)) {
			a.SetFollowUp(*next.NextFollowUpAt, next.UpdatedAt)
		}
	}
	countTransaction(&a.Transactions, prev, next)
}

// contact reports whether an interaction is a contact with the customer,
// which the follow-up schedule counts from: anything but a note (as for a
// claim's qualifying follow-up).
func contact(it *Interaction) bool { return it.Type != TypeNote }

// contacted takes a contact logged: the schedule counts from the newest
// contact by occurrence, and a date asked for before the contact happened
// is done with (the contact is the follow-up it asked for); one asked for
// later (a backdated call logged after it) stays.
func (a *Activity) contacted(it *Interaction) {
	if a.ContactedAt == nil || it.OccurredAt.After(*a.ContactedAt) {
		a.ContactedAt = ptr(it.OccurredAt.UTC())
	}
	if a.FollowUpSetAt == nil || !a.FollowUpSetAt.After(it.OccurredAt) {
		a.FollowUpAsked, a.FollowUpSetAt = nil, ptr(it.OccurredAt.UTC())
	}
}

// SetFollowUp asks for a follow-up at at, unless a later setting is
// already in force. The schedule takes it when it is sooner than the
// grade's (Customer.PlanFollowUp).
func (a *Activity) SetFollowUp(at, setAt time.Time) {
	if a.FollowUpSetAt != nil && setAt.Before(*a.FollowUpSetAt) {
		return
	}
	a.FollowUpAsked, a.FollowUpSetAt = ptr(at.UTC()), ptr(setAt)
}

// ApplyEvaluation counts an evaluation among the recent ones and
// recomputes the indexes from them.
func (a *Activity) ApplyEvaluation(ev Evaluation) { a.addRecentEvaluation(ev) }

// ApplyCase keeps the open cases in step with a case opened (prev nil) or
// moved from prev to next.
func (a *Activity) ApplyCase(prev, next *Case) { a.trackCase(prev, next) }

// Absorb adds another customer's activity to this one (a merge).
func (a *Activity) Absorb(o Activity) {
	a.InteractionCount += o.InteractionCount
	if o.LastInteractionAt != nil && (a.LastInteractionAt == nil || o.LastInteractionAt.After(*a.LastInteractionAt)) {
		a.LastInteractionAt, a.LastInteractionID, a.LastInteraction = o.LastInteractionAt, o.LastInteractionID, o.LastInteraction
	}
	if o.NextFollowUpAt != nil && (a.NextFollowUpAt == nil || o.NextFollowUpAt.Before(*a.NextFollowUpAt)) {
		a.NextFollowUpAt = o.NextFollowUpAt
	}
	if o.FollowUpAsked != nil && (a.FollowUpAsked == nil || o.FollowUpAsked.Before(*a.FollowUpAsked)) {
		a.FollowUpAsked = o.FollowUpAsked
		if o.FollowUpSetAt != nil && (a.FollowUpSetAt == nil || o.FollowUpSetAt.After(*a.FollowUpSetAt)) {
			a.FollowUpSetAt = o.FollowUpSetAt
		}
	}
	if o.ContactedAt != nil && (a.ContactedAt == nil || o.ContactedAt.After(*a.ContactedAt)) {
		a.ContactedAt = o.ContactedAt
	}
	if o.LoggedThrough != nil && (a.LoggedThrough == nil || o.LoggedThrough.After(*a.LoggedThrough)) {
		a.LoggedThrough = o.LoggedThrough
	}
	for _, ev := range o.RecentEvaluations {
		a.addRecentEvaluation(ev)
	}
	a.Transactions = addTransactionStats(a.Transactions, o.Transactions)
	a.OpenCaseCount += o.OpenCaseCount
	a.OpenCases = append(a.OpenCases, o.OpenCases...)
	a.keepSoonestCases()
}

// FoldPending counts the interactions of its the activity has not counted
// yet (logged after LoggedThrough), so that a read shows what was logged a
// moment ago: the customer 360 reads the newest interactions with the
// activity and folds them in. Interactions it has counted are left alone.
func (a *Activity) FoldPending(its []*Interaction) {
	through := a.LoggedThrough
	for _, it := range its {
		if through == nil || it.CreatedAt.After(*through) {
			a.ApplyInteraction(nil, it)
		}
	}
}

// trackCase keeps the open cases in step with a case opened (prev nil) or
// moved from prev to next: OpenCaseCount counts every open case; the list
// holds the OpenCasesKept due soonest.
func (a *Activity) trackCase(prev, next *Case) {
	if prev != nil && prev.Status.IsOpen() {
		a.OpenCaseCount = max(0, a.OpenCaseCount-1)
	}
	a.OpenCases = slices.DeleteFunc(slices.Clone(a.OpenCases), func(o CaseSummary) bool { return o.ID == next.ID })
	if !next.Status.IsOpen() {
		return
	}
	a.OpenCaseCount++
	a.OpenCases = append(a.OpenCases, CaseSummary{ID: next.ID, Type: next.Type, Subject: next.Subject,
		Priority: next.Priority, Status: next.Status, DueAt: next.DueAt, Escalated: next.EscalatedAt != nil})
	a.keepSoonestCases()
}

// keepSoonestCases orders the open cases by due time and keeps the
// OpenCasesKept due soonest.
func (a *Activity) keepSoonestCases() {
	slices.SortFunc(a.OpenCases, func(x, y CaseSummary) int {
		return cmp.Or(x.DueAt.Compare(y.DueAt), strings.Compare(x.ID, y.ID))
	})
	if len(a.OpenCases) > OpenCasesKept {
		a.OpenCases = a.OpenCases[:OpenCasesKept]
	}
}
