// Package stream applies what the table's writes imply, from the table's
// DynamoDB stream, exactly once: a customer's activity (counts, latest
// interaction, next follow-up, open cases, evaluation indexes) and watch
// list positions, the grade its appended history earns and a pool claim's
// conversion (crm.Service.Settle), the analytics aggregates
// (crm.AggregateDeltas) and the list counters.
//
// Requests write appends (interactions, case moves, evaluations) as items
// of their own with their audit entry, conditioned on nothing another
// writer touches; the consumer derives the rest. It takes one shard's
// batch at a time (the deployed stream function, cmd/stream, or the local
// poller infra/ddbstream) and:
//
//  1. reads the state of the batch's customers (profile and activity,
//     creating the activity of a customer that has none);
//  2. folds each record into its customer's activity, unless the
//     activity's own mark for the shard says it is already in, and plans
//     each customer's follow-up schedule from its activity and profile
//     (crm.Service.PlanFollowUp): a new grade, owner or status moves it;
//  3. writes each changed activity, conditioned on the revision read,
//     with its mark moved to the last record it took;
//  4. settles each customer's profile with its new activity (grade,
//     claim), a function of the state;
//  5. adds the records' aggregate and counter deltas to each shared item
//     it touches, with one write per item carrying the item's own mark of
//     the shard: an item takes a record's deltas once or not at all;
//  6. when the store keeps one (LookupWriter), brings the caller lookup
//     in step with the profiles and contacts the batch wrote;
//  7. when the store keeps inboxes (NotificationWriter), writes the
//     notifications the changes mean (crm.Service.Notices);
//  8. runs its handlers (Handler) with the batch's changes: the domain
//     events' publisher (Publisher), and whatever else follows from a
//     change without being state the steps above keep.
//
// There is no checkpoint of the shard to keep in step, and so no
// transaction: every write says by itself what it has taken. A failure
// anywhere leaves the batch to be delivered again; what was done is
// skipped by the marks or the state, and the rest is done.
package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/crm"
)

// Kind is what kind of item a record is about.
type Kind int

const (
	KindOther Kind = iota
	KindProfile
	KindInteraction
	KindCase
	KindEvaluation
	KindStageChange
	// KindContact: a contact person (its phones and emails feed the
	// caller lookup; nothing else follows from it).
	KindContact
	// KindOpportunity: a deal of the sales pipeline (its counters moved
	// in its own transaction; only its events follow from it).
	KindOpportunity
	// KindTask: a task (its agenda entry and counter moved in its own
	// transaction; only its notifications and events follow from it).
	KindTask
	// KindLead: a lead handed from telesales to sales (only its
	// notifications and events follow from it).
	KindLead
	// KindContract: a contract (its revenue counters moved in its own
	// transaction; only its events follow from it).
	KindContract
)

// Change is one record of the stream, decoded into the domain values the
// write left before and after it. Decoding is the store's (Store.Decode);
// the change feed reads the same changes.
type Change struct {
	// ID is the record's event id, the same on every delivery of it.
	ID string
	// Seq is the record's sequence number in its shard.
	Seq string
	// At is when the write happened (the record's approximate creation
	// time, to the second).
	At time.Time
	// Event is INSERT, MODIFY or REMOVE.
	Event      string
	Kind       Kind
	CustomerID string

	CustomerBefore, Customer       *crm.Customer
	InteractionBefore, Interaction *crm.Interaction
	CaseBefore, Case               *crm.Case
	Evaluation                     *crm.Evaluation
	StageChange                    *crm.StageChange
	ContactBefore, Contact         *crm.Contact
	OpportunityBefore, Opportunity *crm.Opportunity
	TaskBefore, Task               *crm.Task
	LeadBefore, Lead               *crm.Lead
	ContractBefore, Contract       *crm.Contract

	// Scope is the customer as the write of an append or history entry
	// saw it (its owner, team and grade: what the event counts for). Items
	// written before the stream applied their effects carry none, and
	// nothing is derived from them: their own transaction applied it.
	Scope *crm.Customer
	// Moved: the item was moved by a merge (its copy under the survivor, or
	// its removal from the merged customer): nothing new happened.
	Moved bool
	// Legacy: a profile written by the release before activity items,
	// whose own transaction applied what followed from it.
	Legacy bool
	// Unfinished, on the INSERT of an append its request wrote without a
	// transaction, is what the store needs to finish writing it
	// (AppendFinisher); its request may have stopped before.
	Unfinished any
}

// Marks are what the store keeps on an activity for exactly-once
// application: its revision (every write conditioned on the one read), the
// last sequence number applied per shard, and the profile version its list
// counters were counted at when the activity was created.
type Marks struct {
	Revision int
	Applied  map[string]string
	Counted  int
	// ValuesCounted: the customer is counted in the per-value counters
	// (kind, source, industry) at profile version ValuesAt, so a move to a
	// later version moves it there too; unset on a customer stored before
	// them, until the recount migration counts it.
	ValuesCounted bool
	ValuesAt      int
	// ForwardTo names the survivor of a finished merge: what is applied
	// to this customer afterwards goes to the survivor's activity.
	ForwardTo string
}

// State is a customer as the consumer holds it: the profile, the activity
// (on Customer) and its marks.
type State struct {
	Customer *crm.Customer
	Marks    Marks
	// Dirty: the activity must be written (what was folded in changed it,
	// or the store found its index keys behind the profile's).
	Dirty bool
	// Stored is what the store read, for its own use when writing.
	Stored any
	// Target is the survivor's state, for a merged customer whose merge
	// finished: what is applied to it goes there.
	Target *State
	// through is the last sequence number of this shard folded in.
	through string
	// Settling: what was folded in that may change the profile.
	evaluated bool
	followUps []*crm.Interaction
	// actor made the newest append folded in: a grade it earns is theirs.
	actor string
	// Moves are appends that landed on a merged customer after its merge
	// finished: they move to the survivor.
	Moves []Change
}

// Effects are what one record adds to shared items: analytics deltas and
// list counters (a profile's move from Before to After).
type Effects struct {
	Seq        string
	At         time.Time
	Aggregates []crm.AggregateDelta
	// Before and After are a profile whose counted dimensions move; nil
	// when the record moves none.
	Before, After *crm.Customer
	// Values: the move moves the per-value counters too (the customer is
	// counted there at a version before After's).
	Values bool
}

// Store is what the consumer reads and writes (package dynamo).
type Store interface {
	// Decode turns a record into a change.
	Decode(r events.DynamoDBEventRecord) (Change, error)
	// Load reads the customers' profiles and activities, consistently,
	// creating the activity (and counting the customer in the list
	// counters) of a customer that has none; it loads the survivors of
	// merged customers too. Missing customers are absent. created are the
	// customers whose creation (a profile's INSERT) is in the batch: their
	// activity starts uncounted, and the INSERT's effects count them.
	Load(ctx context.Context, ids []string, created map[string]bool) (map[string]*State, error)
	// WriteActivities writes the activities of states, each conditioned on
	// its revision, with this shard's mark at its last record; a merged
	// customer's mark and its survivor's activity in one transaction, with
	// the appends that move to the survivor.
	WriteActivities(ctx context.Context, shard string, states []*State) error
	// Advance adds the effects' deltas to the shared items, each item
	// once per record whatever was added before (by its marks).
	Advance(ctx context.Context, shard string, effects []Effects) error
}

// LookupWriter is what a Store may also do: keep the caller lookup
// (who holds a phone number or an email address: the screen pop's index)
// and the search index in step with the profiles and contacts the changes
// wrote, and release the unique claims of the values the profiles dropped
// that their requests left claimed. Writing it twice writes the same
// items, so a batch delivered again changes nothing.
type LookupWriter interface {
	WriteLookups(ctx context.Context, changes []Change) error
}

// AppendFinisher is what a Store that writes appends without a
// transaction also does: write what the requests of the changes'
// Unfinished appends did not write after them (their cases, their audit
// entries), each once whatever was written before.
type AppendFinisher interface {
	FinishAppends(ctx context.Context, changes []Change) error
}

// NotificationWriter is what a Store may also do: write the
// notifications the changes mean (crm.Notification), each once whatever
// was written before (their ids are derived from their causes).
type NotificationWriter interface {
	PutNotifications(ctx context.Context, ns []*crm.Notification) error
}

// Noticer derives the notifications of a write (crm.Service.Notices).
type Noticer interface {
	Notices(ctx context.Context, src crm.NoticeSource) ([]*crm.Notification, error)
}

// The operations the audit log names for what the stream writes
// (crm.AsStream): settling a customer (a claim its follow-up makes
// ownership, the grade and the value score that follow from what was
// logged or evaluated), and moving an interaction, case or evaluation
// that reached a customer after it was merged to the survivor.
const (
	settle = "settle"
	move   = "move"
)

// Settler brings a customer's profile in step with its activity
// (crm.Service.Settle), and plans its follow-up schedule with its grade's
// interval (crm.Service.PlanFollowUp), reporting whether it moved.
type Settler interface {
	Settle(ctx context.Context, c *crm.Customer, by string, evaluated bool, followUps []*crm.Interaction) error
	PlanFollowUp(ctx context.Context, c *crm.Customer) (bool, error)
}

// Handler is told of a batch's changes, in order, once their derived
// state is applied (the domain events' publisher, Publisher). It must be
// idempotent: when it fails, or anything after it does, the batch comes
// again and it is told again.
type Handler interface {
	HandleChanges(ctx context.Context, shard string, changes []Change) error
}

// Consumer applies batches.
type Consumer struct {
	Store   Store
	Settler Settler
	// Handlers run in order after the derived state is applied.
	Handlers []Handler
	Log      *slog.Logger
}

// Handle is the stream function's handler: it applies one shard's batch
// and, when that fails, reports the batch's records as failed from the
// first one not applied (a partial batch failure), so that the rest comes
// again; what was applied of it is skipped then by the marks. The shard's
// id comes with the event because the event source mapping has a tumbling
// window (template.yaml); the window's state is not used.
func (c *Consumer) Handle(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
	res := events.DynamoDBTimeWindowEventResponse{}
	res.State = map[string]string{}
	if len(ev.Records) == 0 {
		return res, nil
	}
	if ev.ShardID == "" {
		return res, errors.New("stream: the event names no shard; the event source mapping needs a tumbling window (TumblingWindowInSeconds)")
	}
	changes := make([]Change, len(ev.Records))
	for i, r := range ev.Records {
		ch, err := c.Store.Decode(r)
		if err != nil {
			return res, fmt.Errorf("stream: decode record %s: %w", r.Change.SequenceNumber, err)
		}
		changes[i] = ch
	}
	n, err := c.Apply(ctx, ev.ShardID, changes)
	if err != nil {
		c.log().ErrorContext(ctx, "stream batch failed", "shard", ev.ShardID, "records", len(changes), "applied", n, "err", err)
		for _, r := range ev.Records[n:] {
			res.BatchItemFailures = append(res.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		}
		return res, nil
	}
	c.log().InfoContext(ctx, "stream batch", "shard", ev.ShardID, "records", len(changes))
	return res, nil
}

func (c *Consumer) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// Apply applies one shard's changes, in order, and returns how many of
// them (a prefix) are now applied: all of them, or none when it fails
// (every write is idempotent, so the whole batch comes again).
func (c *Consumer) Apply(ctx context.Context, shard string, changes []Change) (int, error) {
	if len(changes) == 0 {
		return 0, nil
	}
	var ids []string
	created := map[string]bool{}
	for _, ch := range changes {
		if ch.CustomerID != "" && relevant(ch) && !slices.Contains(ids, ch.CustomerID) {
			ids = append(ids, ch.CustomerID)
		}
		if ch.Kind == KindProfile && ch.Event == "INSERT" && !ch.Legacy {
			created[ch.CustomerID] = true
		}
	}
	states, err := c.Store.Load(ctx, ids, created)
	if err != nil {
		return 0, err
	}
	effects := make([]Effects, 0, len(changes))
	for _, ch := range changes {
		effects = append(effects, fold(shard, states, ch))
	}
	var dirty, touched []*State
	for _, id := range slices.Sorted(maps.Keys(states)) {
		st := states[id]
		if st.Marks.ForwardTo == "" {
			// The schedule follows what was folded in and the profile as
			// read (its grade, owner and status): a regrade or a return to
			// the pool re-plans it.
			moved, err := c.Settler.PlanFollowUp(ctx, st.Customer)
			if err != nil {
				return 0, fmt.Errorf("stream: plan the follow-up of customer %s: %w", id, err)
			}
			st.Dirty = st.Dirty || moved
		}
		if st.Dirty {
			dirty = append(dirty, st)
		}
		if st.evaluated || len(st.followUps) > 0 || st.Dirty {
			touched = append(touched, st)
		}
	}
	if err := c.Store.WriteActivities(crm.AsStream(ctx, move), shard, dirty); err != nil {
		return 0, fmt.Errorf("stream: write activities: %w", err)
	}
	settling := crm.AsStream(ctx, settle)
	for _, st := range touched {
		if st.Marks.ForwardTo != "" {
			continue // its survivor settles
		}
		if err := c.Settler.Settle(settling, st.Customer, st.actor, st.evaluated, st.followUps); err != nil {
			return 0, fmt.Errorf("stream: settle customer %s: %w", st.Customer.ID, err)
		}
	}
	if err := c.Store.Advance(ctx, shard, effects); err != nil {
		return 0, fmt.Errorf("stream: add aggregates and counters: %w", err)
	}
	if af, ok := c.Store.(AppendFinisher); ok {
		if err := af.FinishAppends(ctx, changes); err != nil {
			return 0, fmt.Errorf("stream: finish appends: %w", err)
		}
	}
	if lw, ok := c.Store.(LookupWriter); ok {
		if err := lw.WriteLookups(ctx, changes); err != nil {
			return 0, fmt.Errorf("stream: caller lookup: %w", err)
		}
	}
	if err := c.notify(ctx, changes); err != nil {
		return 0, fmt.Errorf("stream: notifications: %w", err)
	}
	for _, h := range c.Handlers {
		if err := h.HandleChanges(ctx, shard, changes); err != nil {
			return 0, fmt.Errorf("stream: %T: %w", h, err)
		}
	}
	return len(changes), nil
}

// notify writes the notifications the changes mean, when the store keeps
// inboxes and the settler derives them (crm.Service does both): users'
// inboxes follow from the writes like the rest, so a notification is never
// lost once its cause is written, and never doubled by a redelivery.
func (c *Consumer) notify(ctx context.Context, changes []Change) error {
	w, ok := c.Store.(NotificationWriter)
	n, ok2 := c.Settler.(Noticer)
	if !ok || !ok2 {
		return nil
	}
	var all []*crm.Notification
	for _, ch := range changes {
		if ch.Moved || ch.Event == "REMOVE" || ch.Legacy {
			continue
		}
		var src crm.NoticeSource
		switch ch.Kind {
		case KindProfile:
			src.CustomerBefore, src.Customer = ch.CustomerBefore, ch.Customer
		case KindCase:
			src.CaseBefore, src.Case = ch.CaseBefore, ch.Case
		case KindTask:
			src.TaskBefore, src.Task = ch.TaskBefore, ch.Task
		case KindLead:
			src.LeadBefore, src.Lead = ch.LeadBefore, ch.Lead
		case KindContract:
			src.ContractBefore, src.Contract = ch.ContractBefore, ch.Contract
		default:
			continue
		}
		ns, err := n.Notices(ctx, src)
		if err != nil {
			return err
		}
		all = append(all, ns...)
	}
	if len(all) == 0 {
		return nil
	}
	return w.PutNotifications(ctx, all)
}

// relevant reports whether a change may touch its customer's state.
func relevant(ch Change) bool {
	return ch.Kind == KindProfile || (ch.Scope != nil && !ch.Moved && ch.Kind != KindOther && ch.Kind != KindTask)
}

// fold applies one change to its customer's state and returns what it
// adds to shared items.
func fold(shard string, states map[string]*State, ch Change) Effects {
	ef := Effects{Seq: ch.Seq, At: ch.At}
	st := states[ch.CustomerID]
	if ch.Kind == KindProfile {
		// List counters follow the profile's versions the activity did
		// not count when it was created.
		if ch.Customer != nil && st != nil && ch.Customer.Version > st.Marks.Counted {
			ef.Before, ef.After = ch.CustomerBefore, ch.Customer
			ef.Values = st.Marks.ValuesCounted && ch.Customer.Version > st.Marks.ValuesAt
		}
		if ch.Event == "INSERT" && ch.Customer != nil && !ch.Legacy {
			ef.Aggregates = crm.AggregateDeltas(&crm.Change{Customer: ch.Customer})
		}
		if st != nil && ch.Customer != nil && ch.Customer.FollowUpSet != nil {
			// A follow-up set by a profile edit: the later setting wins,
			// so taking it again changes nothing.
			target := st.target(states)
			f := ch.Customer.FollowUpSet
			before := target.Customer.FollowUpSetAt
			target.Customer.SetFollowUp(f.At, f.SetAt)
			if before == nil || !before.Equal(*target.Customer.FollowUpSetAt) {
				target.Dirty = true
			}
		}
		return ef
	}
	if ch.Scope == nil || ch.Moved || ch.Kind == KindTask {
		return ef
	}
	switch ch.Kind {
	case KindInteraction:
		if ch.InteractionBefore == nil && ch.Event == "INSERT" {
			ef.Aggregates = crm.AggregateDeltas(&crm.Change{Scope: ch.Scope, Interaction: ch.Interaction})
		}
	case KindCase:
		ef.Aggregates = crm.AggregateDeltas(&crm.Change{Scope: ch.Scope, CasePrev: ch.CaseBefore, Case: ch.Case})
	case KindEvaluation:
		if ch.Event == "INSERT" {
			ef.Aggregates = crm.AggregateDeltas(&crm.Change{Scope: ch.Scope, Evaluation: ch.Evaluation})
		}
	case KindStageChange:
		if ch.Event == "INSERT" {
			ef.Aggregates = crm.AggregateDeltas(&crm.Change{Scope: ch.Scope, StageChange: ch.StageChange})
		}
		return ef
	}
	if st == nil || ch.Event == "REMOVE" {
		return ef
	}
	target := st.target(states)
	if ch.Kind == KindInteraction && ch.Interaction != nil {
		// A claim's conversion and a regrade are settled from the state;
		// every interaction of the batch is offered, applied before or not.
		target.followUps = append(target.followUps, ch.Interaction)
	}
	if !fresh(st, shard, ch.Seq) {
		return ef
	}
	a := &target.Customer.Activity
	switch ch.Kind {
	case KindInteraction:
		a.ApplyInteraction(ch.InteractionBefore, ch.Interaction)
		target.actor = ch.Interaction.UpdatedBy
	case KindCase:
		a.ApplyCase(ch.CaseBefore, ch.Case)
		if n := len(ch.Case.Transitions); n > 0 {
			target.actor = ch.Case.Transitions[n-1].By
		}
	case KindEvaluation:
		if ch.Event == "INSERT" {
			a.ApplyEvaluation(*ch.Evaluation)
			target.evaluated = true
			target.actor = ch.Evaluation.EvaluatorID
		}
	}
	target.Dirty = true
	if target != st {
		st.Dirty = true
		if ch.Event == "INSERT" {
			st.Moves = append(st.Moves, ch)
		}
	}
	st.mark(shard, ch.Seq)
	return ef
}

// fresh reports whether st's activity has not taken seq in yet.
func fresh(st *State, shard, seq string) bool {
	return SeqAfter(seq, st.Marks.Applied[shard]) && SeqAfter(seq, st.through)
}

func (st *State) mark(shard, seq string) {
	st.through = seq
	st.Dirty = true
}

// Through is the last sequence number of the shard folded into the
// state's activity in this batch ("" when none).
func (st *State) Through() string { return st.through }

// target is the state whose activity takes what is applied to st: its
// survivor's, once st was merged.
func (st *State) target(states map[string]*State) *State {
	if f := st.Marks.ForwardTo; f != "" {
		if t := states[f]; t != nil {
			st.Target = t
			return t
		}
	}
	return st
}

// SeqAfter reports whether sequence number a comes after b ("" is before
// all). Sequence numbers are decimal strings of varying length.
func SeqAfter(a, b string) bool {
	if b == "" {
		return a != ""
	}
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}
