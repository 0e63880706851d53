package crm

import (
	"context"
	"math"
	"slices"
	"time"
)

// maxFutureSkew is how far in the future an occurrence time may lie, to
// absorb clock differences between devices and the server.
const maxFutureSkew = 24 * time.Hour

// LogInteraction records a contact with a customer on its timeline, with
// its audit entry (the store may write it after the interaction, or the
// stream for it: never the interaction alone). The customer's lastInteractionAt,
// interaction counter and nextFollowUpAt follow from it exactly once,
// within seconds (the customer 360 shows it at once). Crediting someone
// else with it (handledBy) is for ADMIN and the team's MANAGER, and names
// an active user of the directory who works customers.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) LogInteraction(ctx context.Context, in InteractionInput) (*Interaction, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	it := &Interaction{
		CustomerID: in.CustomerID, Channel: in.Channel, Direction: in.Direction, Type: in.Type,
		Subject: in.Subject, Content: in.Content, OccurredAt: now, DurationSeconds: in.DurationSeconds,
		HandledBy: in.HandledBy, ContactID: in.ContactID, Outcome: in.Outcome,
		Attachments: slices.Clone(in.Attachments), Amount: in.Amount, Currency: in.Currency,
		Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID,
	}
	if in.OccurredAt != nil {
		it.OccurredAt = in.OccurredAt.UTC().Truncate(time.Millisecond)
	}
	if in.NextFollowUpAt != nil {
		it.NextFollowUpAt = ptr(in.NextFollowUpAt.UTC())
	}
	if it.HandledBy == "" {
		it.HandledBy = u.ID
	}
	if it.Direction == "" {
		it.Direction = Outbound
	}
	if err := validateInteraction(it); err != nil {
		return nil, err
	}
	if err := checkEventTime("input.occurredAt", it.OccurredAt, now); err != nil {
		return nil, err
	}
	if err := checkID("input.customerId", it.CustomerID); err != nil {
		return nil, err
	}
	priority := in.Priority
	switch {
	case priority != "" && !IsCaseType(it.Type):
		return nil, Invalid("input.priority", "is only for interactions that open a case (%v)", caseTypes)
	case priority == "":
		priority = PriorityNormal
	case !slices.Contains(Priorities, priority):
		return nil, Invalid("input.priority", "must be one of %v", Priorities)
	}
	it.ID = s.newID(it.OccurredAt)
	p, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	idem, err := s.idempotency(u, "logInteraction", in.IdempotencyKey, in, it.ID)
	if err != nil {
		return nil, err
	}
	c, err := s.editable(ctx, u, it.CustomerID, canWork, "log an interaction on")
	if err != nil {
		return nil, err
	}
	// Crediting someone else with the interaction (which can satisfy
	// their pool claim) is for those who assign work.
	if it.HandledBy != u.ID && !canAssign(u, c) {
		return nil, &Error{Code: EFORBIDDEN, Field: "input.handledBy", Message: "you may log only interactions you handled"}
	}
	if err := s.checkContact(ctx, it.CustomerID, it.ContactID); err != nil {
		return nil, err
	}
	if it.HandledBy != u.ID {
		if err := s.CheckAssignee(ctx, "input.handledBy", it.HandledBy, WorkerRoles...); err != nil {
			return nil, err
		}
	}
	// An append: the interaction (and the case it opens) with its audit
	// entry, conditioned on nothing another writer touches, so concurrent
	// appends to one customer never conflict. The customer's counters,
	// latest interaction, next follow-up, open cases, grade and a pool
	// claim's conversion follow from the stream.
	level := levelOf(p, c.Grade.Level)
	appendOf := func(it *Interaction) *Change {
		ch := &Change{Scope: c, Interaction: it}
		if IsCaseType(it.Type) {
			ch.Case = newCase(it, level, priority)
		}
		return ch
	}
	ch := appendOf(it)
	ch.Idempotency = idem
	err = s.Store.Apply(ctx, ch)
	load := func(ctx context.Context, id string) (*Interaction, error) {
		return s.Store.Interaction(ctx, InteractionKey{CustomerID: in.CustomerID, ID: id})
	}
	if id, ok := replayed(err); ok && id != it.ID {
		// The store may write an append without a transaction, its key's
		// record first: a first request that stopped after the record left
		// no interaction, and this one writes it, under the first's id
		// (and occurrence, unless the input gives it).
		first, lerr := load(ctx, id)
		if ErrorCode(lerr) != ENOTFOUND {
			return first, lerr
		}
		resumed := *it
		resumed.ID = id
		if in.OccurredAt == nil {
			resumed.OccurredAt = TimeOfID(id)
		}
		// With the key's record, in one write: a first request that
		// answered NO may be deleting the record meanwhile.
		key := *idem
		key.ResultID, key.Resume = id, true
		ch := appendOf(&resumed)
		ch.Idempotency = &key
		it, err = &resumed, s.Store.Apply(ctx, ch)
		if ErrorCode(err) == ECONFLICT {
			// Written meanwhile, by the first request.
			if first, lerr := load(ctx, id); lerr == nil {
				return first, nil
			}
		}
	}
	if first, err, ok := replay(ctx, err, load); ok {
		return first, err
	}
	if err != nil {
		return nil, err
	}
	return it, nil
}

func (s *Service) checkContact(ctx context.Context, customerID, contactID string) error {
	if contactID == "" {
		return nil
	}
	if _, err := s.Store.Contact(ctx, customerID, contactID); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return Invalid("input.contactId", "customer %s has no contact %s", customerID, contactID)
		}
		return err
	}
	return nil
}

// UpdateInteraction corrects a logged interaction; expectedVersion is the
// interaction's. Its occurrence time is fixed: it orders the timeline.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) UpdateInteraction(ctx context.Context, k InteractionKey, expectedVersion int, upd InteractionUpdate) (*Interaction, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", k.ID); err != nil {
		return nil, err
	}
	var next *Interaction
	err = s.applyFresh(ctx, func() (*Change, error) {
		c, err := s.editable(ctx, u, k.CustomerID, canWork, "update an interaction of")
		if err != nil {
			return nil, err
		}
		prev, err := s.Store.Interaction(ctx, k)
		if err != nil {
			return nil, err
		}
		if prev.Version != expectedVersion {
			return nil, staleVersion("interaction", k.ID, expectedVersion, prev.Version)
		}
		next = prev.Clone()
		set(&next.Channel, upd.Channel)
		set(&next.Direction, upd.Direction)
		set(&next.Type, upd.Type)
		set(&next.Subject, upd.Subject)
		set(&next.Content, upd.Content)
		set(&next.Outcome, upd.Outcome)
		set(&next.ContactID, upd.ContactID)
		set(&next.Currency, upd.Currency)
		if upd.DurationSeconds != nil {
			next.DurationSeconds = ptr(*upd.DurationSeconds)
		}
		if upd.Amount != nil {
			next.Amount = ptr(*upd.Amount)
		}
		if upd.Attachments != nil {
			next.Attachments = slices.Clone(upd.Attachments)
		}
		if err := validateInteraction(next); err != nil {
			return nil, err
		}
		if upd.ContactID != nil {
			if err := s.checkContact(ctx, k.CustomerID, next.ContactID); err != nil {
				return nil, err
			}
		}
		next.Version++
		next.UpdatedAt, next.UpdatedBy = s.now(), u.ID
		if upd.NextFollowUpAt != nil {
			next.NextFollowUpAt = ptr(upd.NextFollowUpAt.UTC())
		}
		// The customer's transaction totals and next follow-up follow from
		// the stream.
		return &Change{Scope: c, InteractionPrev: prev, Interaction: next}, nil
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// Interactions lists a customer's interactions in r, newest first.
// Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) Interactions(ctx context.Context, customerID string, r TimeRange, p PageRequest) (*Page[*Interaction], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	if !r.From.IsZero() && !r.To.IsZero() && r.To.Before(r.From) {
		return nil, Invalid("to", "must not be before from")
	}
	for _, t := range []struct {
		field string
		t     time.Time
	}{{"from", r.From}, {"to", r.To}} {
		if !t.t.IsZero() && t.t.Before(epoch) {
			return nil, Invalid(t.field, "must be after 1970")
		}
	}
	c, err := s.visible(ctx, u, customerID)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListInteractions(ctx, customerID, r, p)
	if err != nil {
		return nil, err
	}
	if r.From.IsZero() && r.To.IsZero() {
		// The activity's counter, with what the stream has yet to apply
		// (see Activity.FoldPending) not counted.
		n := c.InteractionCount
		page.Total = func(context.Context) (int, error) { return n, nil }
	}
	return viewPage(u, page, viewInteraction), nil
}

// InteractionsByKey loads interactions for a batch loader and authorizes
// each by its customer. customers resolves customer ids, typically through
// the request's customer loader, whose cache already holds customers the
// request listed, so no second read is spent on them.
func (s *Service) InteractionsByKey(ctx context.Context, keys []InteractionKey,
	customers func(context.Context, []string) ([]*Customer, error)) ([]*Interaction, []error) {
	out, errs := make([]*Interaction, len(keys)), make([]error, len(keys))
	fail := func(err error) ([]*Interaction, []error) {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	u, err := currentUser(ctx)
	if err != nil {
		return fail(err)
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.CustomerID
	}
	// Errors per customer (missing, not readable) are ignored here: such
	// interactions become NOT_FOUND below.
	cs, _ := customers(ctx, ids)
	readable := make([]InteractionKey, 0, len(keys))
	for i, k := range keys {
		if i < len(cs) && cs[i] != nil && canRead(u, cs[i]) {
			readable = append(readable, k)
		}
	}
	found, err := s.Store.Interactions(ctx, readable)
	if err != nil {
		return fail(err)
	}
	for i, k := range keys {
		if it, ok := found[k]; ok {
			out[i] = viewInteraction(u, it)
		} else {
			errs[i] = Errorf(ENOTFOUND, "interaction %s not found", k.ID)
		}
	}
	return out, errs
}

// countTransaction keeps a customer's transaction totals in step with an
// interaction created (prev nil) or corrected from prev to next, and
// reports whether they changed. A correction that removes a customer's
// last transaction clears the dates; otherwise dates only widen, since
// the dates of the remaining transactions are not at hand.
func countTransaction(st *TransactionStats, prev, next *Interaction) bool {
	before := *st
	if prev != nil && prev.Type == TypeTransaction {
		st.Count--
		st.Total -= val(prev.Amount)
	}
	if next.Type == TypeTransaction {
		st.Count++
		st.Total += val(next.Amount)
		if st.FirstAt == nil || next.OccurredAt.Before(*st.FirstAt) {
			st.FirstAt = ptr(next.OccurredAt)
		}
		if st.LastAt == nil || next.OccurredAt.After(*st.LastAt) {
			st.LastAt = ptr(next.OccurredAt)
		}
	}
	if st.Count <= 0 {
		*st = TransactionStats{}
	}
	st.Total = math.Round(st.Total*100) / 100
	return *st != before
}

func val[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
