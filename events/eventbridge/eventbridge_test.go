package eventbridge_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/events/eventbridge"
)

// bus is a test double of EventBridge's PutEvents (the JSON 1.1 protocol
// the SDK speaks): it records the calls and the entries it accepted, and
// fails the entries fail picks.
type bus struct {
	mu       sync.Mutex
	calls    [][]events.Event
	accepted []events.Event
	fail     func(call int, e events.Event) bool
	wrongBus int
}

func (b *bus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
		http.Error(w, "unexpected target "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
		return
	}
	var in struct {
		Entries []struct {
			EventBusName, Source, DetailType, Detail string
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	type result struct {
		EventId      string `json:",omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedEntryCount int
		Entries          []result
	}{}
	var call []events.Event
	for _, en := range in.Entries {
		var e events.Event
		if err := json.Unmarshal([]byte(en.Detail), &en); err != nil || json.Unmarshal([]byte(en.Detail), &e) != nil ||
			en.Source != e.Source || en.DetailType != string(e.Type) {
			http.Error(w, "entry does not carry its envelope", http.StatusBadRequest)
			return
		}
		if en.EventBusName != "rapport-bus" {
			b.wrongBus++
		}
		call = append(call, e)
		if b.fail != nil && b.fail(len(b.calls), e) {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, result{ErrorCode: "ThrottlingException", ErrorMessage: "slow down"})
			continue
		}
		b.accepted = append(b.accepted, e)
		out.Entries = append(out.Entries, result{EventId: e.ID})
	}
	b.calls = append(b.calls, call)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func mustSink(t *testing.T, b *bus) *eventbridge.Sink {
	t.Helper()
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	client := awseb.New(awseb.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	return &eventbridge.Sink{Client: client, Bus: "rapport-bus", Pause: func(int) time.Duration { return 0 }}
}

// batch is 25 events of 4 customers, a's in a run of five.
func batch() []events.Event {
	var evs []events.Event
	subjects := "aaaaabcdabcdabcdabcdabcda"
	for i, s := range subjects {
		evs = append(evs, events.Event{SpecVersion: "1.0", ID: fmt.Sprintf("r%02d-0", i), Source: "rapport", Type: events.CustomerUpdated,
			Subject: string(s), Time: time.Date(2026, 12, 1, 9, 0, i, 0, time.UTC), Sequence: fmt.Sprint(100 + i),
			Data: events.Data{CustomerID: string(s), Version: i + 1}})
	}
	return evs
}

// inOrder reports whether each customer's events in got come in the
// order of want.
func inOrder(got, want []events.Event) bool {
	pos := map[string]int{}
	for i, e := range want {
		pos[e.ID] = i
	}
	last := map[string]int{}
	for _, e := range got {
		if p, ok := last[e.Subject]; ok && pos[e.ID] < p {
			return false
		}
		last[e.Subject] = pos[e.ID]
	}
	return true
}

func TestPublishPutsEachEventOnceInOrderPerCustomer(t *testing.T) {
	for _, c := range []struct {
		name string
		fail func(call int, e events.Event) bool
	}{
		{"NothingFails", nil},
		{"FirstEntriesOfEveryFirstTryFail", func(call int, e events.Event) bool { return call%2 == 0 && e.Subject == "a" }},
		{"AllButOneFailOnce", func(call int, e events.Event) bool { return call%2 == 0 && e.Subject != "d" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &bus{fail: c.fail}
			evs := batch()
			if err := mustSink(t, b).Publish(t.Context(), evs); err != nil {
				t.Fatal(err)
			}
			ids := func(evs []events.Event) []string {
				var out []string
				for _, e := range evs {
					out = append(out, e.ID)
				}
				slices.Sort(out)
				return out
			}
			if !slices.Equal(ids(b.accepted), ids(evs)) {
				t.Errorf("accepted %v, want each of %v once", ids(b.accepted), ids(evs))
			}
			if !inOrder(b.accepted, evs) {
				t.Errorf("a customer's events were put out of order: %v", b.accepted)
			}
			for _, call := range b.calls {
				seen := map[string]bool{}
				for _, e := range call {
					if seen[e.Subject] {
						t.Errorf("a call carries two events of %s", e.Subject)
					}
					seen[e.Subject] = true
				}
				if len(call) > eventbridge.MaxEntries {
					t.Errorf("a call of %d entries", len(call))
				}
			}
			if b.wrongBus > 0 {
				t.Errorf("%d entries for another bus", b.wrongBus)
			}
			t.Logf("%d calls", len(b.calls))
		})
	}
}

// Entries that keep failing fail the publish, after the attempts, with
// what was accepted left on the bus.
func TestPublishFailsWhenEntriesKeepFailing(t *testing.T) {
	b := &bus{fail: func(_ int, e events.Event) bool { return e.Subject == "c" }}
	s := mustSink(t, b)
	s.Attempts = 3
	err := s.Publish(t.Context(), batch())
	if err == nil {
		t.Fatal("published though c's events never went in")
	}
	// a's five events go alone, then c's first fails in a call with a, b
	// and d, three times; nothing after that call is sent.
	if len(b.calls) != 7 {
		t.Errorf("%d calls, want 4 and 3 attempts of the fifth", len(b.calls))
	}
	var got []string
	for _, e := range b.accepted {
		got = append(got, e.Subject)
	}
	if want := []string{"a", "a", "a", "a", "a", "b", "d"}; !slices.Equal(got, want) {
		t.Errorf("accepted %v, want %v", got, want)
	}
	t.Log(err)
}
