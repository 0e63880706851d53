package webhooks

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
)

// Retry policy.
const (
	// RetryFor is how long a delivery is retried before it is dead.
	RetryFor = 24 * time.Hour
	// DisableAfter is how long an endpoint may fail every attempt before
	// it is disabled.
	DisableAfter = 24 * time.Hour
	// FirstDelay and MaxDelay bound the backoff: FirstDelay after the
	// first failure, doubling, at most MaxDelay.
	FirstDelay = 30 * time.Second
	MaxDelay   = time.Hour
	// Lease is how long a delivery being attempted is held from other
	// runs: longer than an attempt can take.
	Lease = 2 * time.Minute
	// RunLimit is how many due deliveries one run takes.
	RunLimit = 50
)

// Backoff is the delay after the n-th failed attempt (n ≥ 1): exponential
// from FirstDelay, capped at MaxDelay, with "equal jitter" (half fixed,
// half random, r in [0, 1)), so retries of many deliveries spread out and
// no delay collapses to nothing.
func Backoff(n int, r float64) time.Duration {
	d := MaxDelay
	if n < 30 {
		d = min(MaxDelay, FirstDelay<<(n-1))
	}
	return d/2 + time.Duration(r*float64(d/2))
}

// SortDue orders due deliveries as they are sent: by due time, then by
// the stream's order (sequence numbers compare by length, then as text),
// so that a customer's events go out in order on their first attempt. A
// retried one may arrive after later ones: a receiver that needs order
// compares data.version or sequence.
func SortDue(ds []*Delivery) {
	slices.SortStableFunc(ds, func(a, b *Delivery) int {
		if c := a.NextAttemptAt.Compare(*b.NextAttemptAt); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.Sequence), len(b.Sequence)); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Sequence, b.Sequence), cmp.Compare(a.EventID, b.EventID))
	})
}

// Deliverer sends due deliveries: the delivery function's work
// (cmd/webhooks, on a schedule), and the local server's (make run).
type Deliverer struct {
	Store  Store
	Sealer *Sealer
	Client *http.Client
	Now    func() time.Time
	// Rand returns a number in [0, 1) for the jitter.
	Rand func() float64
	// Events, when set, is told of endpoints the Deliverer disables
	// (TypeEndpointDisabled): the event bus in the stack, the local file.
	Events events.Sink
	Source string
	Log    *slog.Logger
}

// Report says what one run did.
type Report struct {
	Attempted, Delivered, Failed, Dead, Disabled int
}

func (d *Deliverer) now() time.Time { return d.Now().UTC().Truncate(time.Millisecond) }

func (d *Deliverer) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

// Run attempts the deliveries due now, up to RunLimit, one at a time
// (in the stack one run a minute; the rest wait for the next).
func (d *Deliverer) Run(ctx context.Context) (Report, error) {
	var rep Report
	due, err := d.Store.DueDeliveries(ctx, d.now(), RunLimit)
	if err != nil {
		return rep, fmt.Errorf("webhooks: due deliveries: %w", err)
	}
	for _, dl := range due {
		if err := d.attempt(ctx, dl, &rep); err != nil {
			if crm.ErrorCode(err) == crm.ECONFLICT {
				continue // another run took it
			}
			return rep, err
		}
	}
	return rep, nil
}

// attempt leases one delivery, sends it and records the outcome.
func (d *Deliverer) attempt(ctx context.Context, dl *Delivery, rep *Report) error {
	now := d.now()
	leased := *dl
	until := now.Add(Lease)
	leased.NextAttemptAt = &until
	leased.Version++
	if err := d.Store.SaveDelivery(ctx, &leased); err != nil {
		return err
	}
	dl = &leased
	ep, err := d.Store.Endpoint(ctx, dl.EndpointID)
	if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
		return err
	}
	if ep == nil || ep.Status != EndpointActive {
		dl.Status, dl.NextAttemptAt, dl.LastError = DeliveryDead, nil, "the endpoint is disabled or gone"
		dl.Version++
		rep.Dead++
		return d.Store.SaveDelivery(ctx, dl)
	}
	rep.Attempted++
	code, latency, sendErr := d.send(ctx, ep, dl)
	at := d.now()
	dl.Attempts++
	dl.LastAttemptAt, dl.ResponseCode, dl.Latency, dl.LastError = &at, code, latency, ""
	dl.Version++
	if sendErr == nil {
		dl.Status, dl.NextAttemptAt = DeliveryDelivered, nil
		rep.Delivered++
		if err := d.Store.SaveDelivery(ctx, dl); err != nil {
			return err
		}
		if ep.FailingSince != nil {
			return d.endpointAnswers(ctx, ep.ID)
		}
		return nil
	}
	dl.LastError = sendErr.Error()
	if at.Sub(dl.CreatedAt) >= RetryFor {
		dl.Status, dl.NextAttemptAt = DeliveryDead, nil
		rep.Dead++
	} else {
		next := at.Add(Backoff(dl.Attempts, d.rand()))
		dl.NextAttemptAt = &next
		rep.Failed++
	}
	if err := d.Store.SaveDelivery(ctx, dl); err != nil {
		return err
	}
	return d.endpointFails(ctx, ep.ID, at, rep)
}

func (d *Deliverer) rand() float64 {
	if d.Rand == nil {
		return rand.Float64()
	}
	return d.Rand()
}

// send makes one attempt: a 2xx answer delivers; anything else, or no
// answer within the limits, fails.
func (d *Deliverer) send(ctx context.Context, ep *Endpoint, dl *Delivery) (int, time.Duration, error) {
	now := d.Now()
	var sigs []byte
	for _, s := range ep.Signing(now) {
		key, err := d.Sealer.Open(ep.ID, s.Sealed)
		if err != nil {
			return 0, 0, err
		}
		if len(sigs) > 0 {
			sigs = append(sigs, ' ')
		}
		sigs = append(sigs, Sign(key, dl.MessageID, now, dl.Payload)...)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(dl.Payload))
	if err != nil {
		return 0, 0, fmt.Errorf("bad request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Rapport-Webhooks/1")
	req.Header.Set("webhook-id", dl.MessageID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", string(sigs))
	start := time.Now()
	res, err := d.Client.Do(req)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return 0, time.Since(start), fmt.Errorf("refused: %w", ErrRefused)
		}
		return 0, time.Since(start), errors.New("no answer: " + trimErr(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, MaxResponse))
	res.Body.Close()
	latency := time.Since(start)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, latency, fmt.Errorf("answered %d", res.StatusCode)
	}
	return res.StatusCode, latency, nil
}

// trimErr keeps an error's text short enough for the log.
func trimErr(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// endpointAnswers forgets an endpoint's failures.
func (d *Deliverer) endpointAnswers(ctx context.Context, id string) error {
	return d.changeEndpoint(ctx, id, func(e *Endpoint) bool {
		if e.FailingSince == nil {
			return false
		}
		e.FailingSince = nil
		return true
	})
}

// endpointFails records a failure: the first since a success starts the
// clock; one DisableAfter later the endpoint is disabled, and ADMIN is told
// by the audit log, an event (TypeEndpointDisabled) and a notification to
// every active ADMIN written with the disable (disabledNotices).
func (d *Deliverer) endpointFails(ctx context.Context, id string, at time.Time, rep *Report) error {
	var disabled *Endpoint
	err := d.changeEndpoint(ctx, id, func(e *Endpoint) bool {
		switch {
		case e.Status != EndpointActive:
			return false
		case e.FailingSince == nil:
			e.FailingSince = &at
			return true
		case at.Sub(*e.FailingSince) >= DisableAfter:
			e.Status, e.DisabledAt = EndpointDisabled, &at
			e.DisabledReason = fmt.Sprintf("every attempt failed from %s to %s", e.FailingSince.Format(time.RFC3339), at.Format(time.RFC3339))
			disabled = e
			return true
		}
		return false
	})
	if err != nil || disabled == nil {
		return err
	}
	rep.Disabled++
	d.log().WarnContext(ctx, "webhook endpoint disabled", "endpoint", id, "partner", disabled.OrgID, "reason", disabled.DisabledReason)
	if d.Events == nil {
		return nil
	}
	ev := events.Event{SpecVersion: events.SpecVersion, ID: "webhook-" + disabled.ID + "-" + strconv.Itoa(disabled.Version),
		Source: d.Source, Type: TypeEndpointDisabled, Subject: disabled.ID, Time: at, DataContentType: "application/json",
		Data: events.Data{Version: disabled.Version, Actor: crm.SystemUserID}}
	if ev.Source == "" {
		ev.Source = events.DefaultSource
	}
	if err := d.Events.Publish(ctx, []events.Event{ev}); err != nil {
		d.log().ErrorContext(ctx, "publish webhook endpoint disabled", "endpoint", id, "err", err)
	}
	return nil
}

// changeEndpoint applies edit to the endpoint as stored, as the system,
// again on a lost race. A change that disables the endpoint carries its
// notices to the admins.
func (d *Deliverer) changeEndpoint(ctx context.Context, id string, edit func(*Endpoint) bool) error {
	ctx = crm.WithAuditScope(ctx, crm.AuditScope{Operation: "job:webhook-delivery"})
	var admins []string
	read := false
	for range 5 {
		prev, err := d.Store.Endpoint(ctx, id)
		if err != nil {
			return err
		}
		next := *prev
		if !edit(&next) {
			return nil
		}
		next.Version++
		next.UpdatedAt, next.UpdatedBy = d.now(), crm.SystemUserID
		var notices []*crm.Notification
		if prev.Status == EndpointActive && next.Status == EndpointDisabled {
			if !read {
				if admins, err = d.admins(ctx); err != nil {
					return err
				}
				read = true
			}
			notices = disabledNotices(&next, admins)
		}
		err = d.Store.UpdateEndpoint(ctx, prev, &next, notices...)
		if crm.ErrorCode(err) != crm.ECONFLICT {
			return err
		}
	}
	return crm.Errorf(crm.ECONFLICT, "webhook endpoint %s keeps changing", id)
}

// MaxAdminsTold bounds the admins told of a disabled endpoint: their
// notices share the disable's transaction (100 items) with the endpoint
// and the audit entry. The first by name are told.
const MaxAdminsTold = 90

// admins are the active ADMINs of the directory, the first MaxAdminsTold
// by name: one Query of its ADMIN list.
func (d *Deliverer) admins(ctx context.Context) ([]string, error) {
	active := true
	page, err := d.Store.ListUsers(ctx, crm.UserFilter{Role: crm.RoleAdmin, Active: &active}, crm.PageRequest{First: MaxAdminsTold})
	if err != nil {
		return nil, fmt.Errorf("webhooks: the admins to tell: %w", err)
	}
	ids := make([]string, 0, len(page.Items))
	for _, u := range page.Items {
		ids = append(ids, u.ID)
	}
	if page.HasNext {
		d.log().WarnContext(ctx, "more admins than a disabled endpoint's notice reaches", "told", len(ids))
	}
	return ids, nil
}

// disabledNotices tell each admin that the delivery function disabled e:
// one per admin and disable (the endpoint's version names it), so a retry
// of the same disable writes nothing new.
func disabledNotices(e *Endpoint, admins []string) []*crm.Notification {
	out := make([]*crm.Notification, 0, len(admins))
	for _, a := range admins {
		out = append(out, crm.NewNotice(a, crm.NoticeWebhookEndpointDisabled, *e.DisabledAt,
			fmt.Sprintf("webhook-disabled|%s|%d", e.ID, e.Version), crm.Notification{
				EndpointID: e.ID, Actor: crm.SystemUserID, From: string(EndpointActive), To: string(EndpointDisabled),
				Message: fmt.Sprintf("Rapport disabled webhook endpoint %s of partner organization %s: %s. Re-enable it once the partner has fixed it.",
					e.ID, e.OrgID, e.DisabledReason),
			}))
	}
	return out
}
