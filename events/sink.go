package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// Sink publishes events, in the order given; a customer's events must
// reach it in that order. An error means some may not have been
// published: the caller publishes them all again (same ids).
type Sink interface {
	Publish(ctx context.Context, evs []Event) error
}

// Calls splits events into the calls of a sink that takes at most max
// events a call and answers per event (EventBridge's PutEvents): in the
// order given, each call carrying at most one event per customer, so
// that when a call fails in part and its failed entries are sent again,
// no customer has a later event already published before an earlier
// one. The next call must not start before every entry of the previous
// one is in.
func Calls(evs []Event, max int) [][]Event {
	var out [][]Event
	var cur []Event
	in := map[string]bool{}
	for _, e := range evs {
		if len(cur) == max || in[e.Subject] {
			out = append(out, cur)
			cur, in = nil, map[string]bool{}
		}
		cur = append(cur, e)
		in[e.Subject] = true
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// FileSink appends events to a file, one JSON object a line: the local
// sink of `make run` and the tests (docs/events.md). Each Publish writes
// its events with one write to a file opened for appending.
type FileSink struct {
	Path string
	mu   sync.Mutex
}

// Publish appends evs to the file.
func (f *FileSink) Publish(_ context.Context, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	var buf []byte
	for _, e := range evs {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("events: encode %s: %w", e.ID, err)
		}
		buf = append(append(buf, b...), '\n')
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	file, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("events: open %s: %w", f.Path, err)
	}
	if _, err := file.Write(buf); err != nil {
		file.Close()
		return fmt.Errorf("events: write %s: %w", f.Path, err)
	}
	return file.Close()
}

// ReadFile reads the events a FileSink wrote, in order.
func ReadFile(path string) ([]Event, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Event
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var e Event
		if err := dec.Decode(&e); err != nil {
			return out, fmt.Errorf("events: read %s: %w", path, err)
		}
		out = append(out, e)
	}
	return out, nil
}
