package webhooks

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/stream"
)

// Fanout is the stream consumer's handler (stream.Handler) that turns a
// batch's domain events into deliveries: for each event, each
// organization the customer was shared with when it happened, and each of
// its active endpoints that wants the event's type, one PENDING delivery,
// due at once. A delivery's id comes from the event's and the endpoint's,
// so a batch delivered again writes nothing new.
//
// When an event happened is the stream's order: a profile write carries
// its shares before and after; an append (interaction, case, evaluation,
// deal) is sent to the organizations the profile names after it, up to
// the next profile write of the batch, or as read now when there is none.
// A customer shared with an organization is sent to it as
// rapport.customer.shared, with the customer; one unshared as
// rapport.customer.unshared, with its id only, and nothing after that.
type Fanout struct {
	Store Store
	// Source is the events' CloudEvents source (events.DefaultSource).
	Source string
	// endpoints remembers that the stack has an endpoint: then a batch
	// reads its customers' shares without asking again.
	endpoints atomic.Bool
}

var _ stream.Handler = (*Fanout)(nil)

// planned is one event for one organization.
type planned struct {
	ev       events.Event
	org      string
	customer *crm.Customer
}

// HandleChanges writes the deliveries of a batch's changes.
func (f *Fanout) HandleChanges(ctx context.Context, _ string, changes []stream.Change) error {
	var plan []planned
	appends := map[string][]int{} // customer → indexes of appends with events
	derived := make([][]events.Event, len(changes))
	for i, ch := range changes {
		if ch.CustomerID == "" {
			continue
		}
		derived[i] = events.Derive(f.Source, stream.Record(ch))
		if ch.Kind != stream.KindProfile && len(derived[i]) > 0 {
			appends[ch.CustomerID] = append(appends[ch.CustomerID], i)
		}
	}
	if len(appends) > 0 {
		some, err := f.endpointsExist(ctx)
		if err != nil {
			return err
		}
		if !some {
			// Nothing to deliver to: an append sends nothing, and a
			// profile write only plans for the organizations it names,
			// whose endpoints deliveries reads.
			clear(appends)
		}
	}
	shares, err := f.sharesAtAppends(ctx, changes, appends)
	if err != nil {
		return err
	}
	for i, ch := range changes {
		if ch.Kind == stream.KindProfile {
			plan = append(plan, profilePlan(ch, derived[i])...)
			continue
		}
		for _, org := range shares[i] {
			for _, ev := range derived[i] {
				plan = append(plan, planned{ev: ev, org: org})
			}
		}
	}
	if len(plan) == 0 {
		return nil
	}
	ds, err := f.deliveries(ctx, plan)
	if err != nil {
		return err
	}
	if err := f.Store.AddDeliveries(ctx, ds); err != nil {
		return fmt.Errorf("webhooks: add %d deliveries: %w", len(ds), err)
	}
	return nil
}

// endpointsExist asks the store whether the stack has any endpoint,
// until the answer is yes. An endpoint is never deleted, so a yes stays
// true, and remembering it is safe: the batch then reads what it read
// before the marker existed. A no is never remembered: it is asked again,
// consistently, for each batch, so an endpoint registered before a batch
// is handled is seen by it, exactly as deliveries sees the endpoints as
// they are when the batch is handled.
func (f *Fanout) endpointsExist(ctx context.Context) (bool, error) {
	if f.endpoints.Load() {
		return true, nil
	}
	some, err := f.Store.EndpointsExist(ctx)
	if err != nil {
		return false, fmt.Errorf("webhooks: whether any endpoint exists: %w", err)
	}
	if some {
		f.endpoints.Store(true)
	}
	return some, nil
}

// profilePlan is what a profile write sends: shared and unshared to the
// organizations it adds and drops, its events to those it keeps.
func profilePlan(ch stream.Change, evs []events.Event) []planned {
	if ch.Customer == nil || ch.Moved || ch.Event == "REMOVE" {
		return nil
	}
	before, after := orgs(ch.CustomerBefore), orgs(ch.Customer)
	var out []planned
	for _, org := range after {
		if !slices.Contains(before, org) {
			out = append(out, planned{ev: shareEvent(ch, CustomerShared, org), org: org, customer: ch.Customer})
			continue
		}
		for _, ev := range evs {
			if ev.Type == events.CustomerUpdated && onlyPartners(ev.Data.ChangedFields) {
				continue
			}
			out = append(out, planned{ev: ev, org: org, customer: ch.Customer})
		}
	}
	for _, org := range before {
		if !slices.Contains(after, org) {
			out = append(out, planned{ev: shareEvent(ch, CustomerUnshared, org), org: org})
		}
	}
	return out
}

func onlyPartners(fields []string) bool {
	return !slices.ContainsFunc(fields, func(f string) bool { return f != "partners" })
}

// shareEvent is the webhook-only event of a share's start or end.
func shareEvent(ch stream.Change, t events.Type, org string) events.Event {
	kind := "shared"
	if t == CustomerUnshared {
		kind = "unshared"
	}
	return events.Event{SpecVersion: events.SpecVersion, ID: ch.ID + "-" + kind + "-" + org, Type: t,
		Subject: ch.CustomerID, Time: ch.At, DataContentType: "application/json", Sequence: ch.Seq,
		Data: events.Data{CustomerID: ch.CustomerID, Version: ch.Customer.Version, Actor: ch.Customer.UpdatedBy}}
}

func orgs(c *crm.Customer) []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.Partners))
	for _, p := range c.Partners {
		out = append(out, p.OrgID)
	}
	return out
}

// sharesAtAppends returns, for each append with events, the
// organizations its customer was shared with when it was written: those
// before the customer's next profile write in the batch, else the
// profile's now (one BatchGetItem for the batch).
func (f *Fanout) sharesAtAppends(ctx context.Context, changes []stream.Change, appends map[string][]int) (map[int][]string, error) {
	out := map[int][]string{}
	var read []string
	for id, idx := range appends {
		if !slices.ContainsFunc(changes[idx[len(idx)-1]+1:], func(ch stream.Change) bool {
			return ch.CustomerID == id && ch.Kind == stream.KindProfile && ch.Customer != nil
		}) {
			read = append(read, id)
		}
	}
	now := map[string]*crm.Customer{}
	if len(read) > 0 {
		slices.Sort(read)
		var err error
		if now, err = f.Store.Customers(ctx, read); err != nil {
			return nil, fmt.Errorf("webhooks: read the shares of %d customers: %w", len(read), err)
		}
	}
	// Walk back from the end: a profile write's before is what the
	// appends before it saw.
	current := map[string][]string{}
	for id, c := range now {
		current[id] = orgs(c)
	}
	for i := len(changes) - 1; i >= 0; i-- {
		ch := changes[i]
		if ch.Kind == stream.KindProfile && ch.Customer != nil {
			current[ch.CustomerID] = orgs(ch.CustomerBefore)
			continue
		}
		if slices.Contains(appends[ch.CustomerID], i) {
			out[i] = current[ch.CustomerID]
		}
	}
	return out, nil
}

// deliveries builds the plan's deliveries for the active endpoints of
// active organizations: one read of each organization and one query of
// its endpoints per batch.
func (f *Fanout) deliveries(ctx context.Context, plan []planned) ([]*Delivery, error) {
	type target struct {
		org       *crm.PartnerOrg
		endpoints []*Endpoint
	}
	targets := map[string]*target{}
	var out []*Delivery
	for _, p := range plan {
		t, ok := targets[p.org]
		if !ok {
			t = &target{}
			targets[p.org] = t
			eps, err := f.Store.Endpoints(ctx, p.org)
			if err != nil {
				return nil, fmt.Errorf("webhooks: endpoints of %s: %w", p.org, err)
			}
			if len(eps) > 0 {
				org, err := f.Store.PartnerOrg(ctx, p.org)
				if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
					return nil, fmt.Errorf("webhooks: partner organization %s: %w", p.org, err)
				}
				if org != nil && org.Status == crm.PartnerActive {
					t.org, t.endpoints = org, eps
				}
			}
		}
		for _, ep := range t.endpoints {
			if !ep.Wants(p.ev.Type) {
				continue
			}
			p.ev.Source = f.source()
			body, err := message(p.ev, t.org, p.customer)
			if err != nil {
				return nil, fmt.Errorf("webhooks: encode %s: %w", p.ev.ID, err)
			}
			id := deliveryID(p.ev.Time, p.ev.ID, ep.ID)
			due := p.ev.Time
			out = append(out, &Delivery{ID: id, EndpointID: ep.ID, OrgID: ep.OrgID, MessageID: "msg_" + id,
				EventID: p.ev.ID, Sequence: p.ev.Sequence, Type: p.ev.Type, CustomerID: p.ev.Subject, Payload: body, Status: DeliveryPending,
				NextAttemptAt: &due, CreatedAt: p.ev.Time, Version: 1})
		}
	}
	return out, nil
}

func (f *Fanout) source() string {
	if f.Source == "" {
		return events.DefaultSource
	}
	return f.Source
}

// deliveryID is a ULID with the event's time whose random part comes from
// the event and the endpoint: the same for a batch delivered again.
func deliveryID(at time.Time, eventID, endpointID string) string {
	h := sha256.Sum256([]byte(eventID + "\x00" + endpointID))
	var u ulid.ULID
	if err := u.SetTime(ulid.Timestamp(at)); err != nil {
		u.SetTime(0)
	}
	copy(u[6:], h[:10])
	return u.String()
}
