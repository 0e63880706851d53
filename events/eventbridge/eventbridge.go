// Package eventbridge publishes Rapport's domain events (package events)
// to an Amazon EventBridge bus with PutEvents, in order per customer
// (docs/events.md, "Delivery").
package eventbridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/rapportcrm/rapport/events"
)

// MaxEntries is how many entries PutEvents takes in one call.
const MaxEntries = 10

// Client is the part of the EventBridge client the sink uses.
type Client interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Sink publishes events to a bus.
type Sink struct {
	Client Client
	// Bus is the event bus's name or ARN.
	Bus string
	// Attempts bounds how often a call's failed entries are sent (5 when
	// zero); then Publish fails and the stream batch comes again.
	Attempts int
	// Pause is the wait before the n-th attempt (n × 100ms when nil).
	Pause func(n int) time.Duration
}

var _ events.Sink = (*Sink)(nil)

// Publish puts the events on the bus in calls of events.Calls: each call
// at most one event per customer, the next one only once every entry of
// the previous one is in. Failed entries are sent again, alone; an error
// leaves what was put on the bus there (the batch comes again with the
// same event ids).
func (s *Sink) Publish(ctx context.Context, evs []events.Event) error {
	for _, call := range events.Calls(evs, MaxEntries) {
		entries := make([]types.PutEventsRequestEntry, 0, len(call))
		for _, e := range call {
			detail, err := e.JSON()
			if err != nil {
				return fmt.Errorf("eventbridge: encode %s: %w", e.ID, err)
			}
			entries = append(entries, types.PutEventsRequestEntry{
				EventBusName: aws.String(s.Bus), Source: aws.String(e.Source), DetailType: aws.String(string(e.Type)),
				Detail: aws.String(string(detail)), Time: aws.Time(e.Time), Resources: []string{},
			})
		}
		if err := s.put(ctx, entries); err != nil {
			return err
		}
	}
	return nil
}

// put sends entries until each is in, sending again only the failed ones.
func (s *Sink) put(ctx context.Context, entries []types.PutEventsRequestEntry) error {
	attempts := s.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	for n := 1; ; n++ {
		out, err := s.Client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			return fmt.Errorf("eventbridge: put %d events: %w", len(entries), err)
		}
		if out.FailedEntryCount == 0 {
			return nil
		}
		if len(out.Entries) != len(entries) {
			return fmt.Errorf("eventbridge: put %d events: %d results", len(entries), len(out.Entries))
		}
		var failed []types.PutEventsRequestEntry
		var codes []string
		for i, r := range out.Entries {
			if r.ErrorCode != nil {
				failed = append(failed, entries[i])
				codes = append(codes, aws.ToString(r.ErrorCode))
			}
		}
		if n >= attempts {
			return fmt.Errorf("eventbridge: %d of %d events not put after %d attempts: %s", len(failed), len(entries), n, strings.Join(codes, ", "))
		}
		entries = failed
		pause := time.Duration(n) * 100 * time.Millisecond
		if s.Pause != nil {
			pause = s.Pause(n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}
