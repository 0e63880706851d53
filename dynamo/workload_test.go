package dynamo_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/stream/streamtest"
)

// workload drives concurrent writers through crm.Service, each on its own
// customers: creates (with unique phones and emails and tags, so claims,
// tag entries and counters move), interactions, and updates with
// expectedVersion. It records what was acknowledged and what was only
// tried, and how every call ended, so that afterwards verify can show
// that nothing acknowledged was lost and nothing else appeared.
type workload struct {
	svc *crm.Service
	seq atomic.Int64

	mu           sync.Mutex
	owned        map[int][]string
	names        map[string]*names   // customer → the names its writer sent
	interactions map[string][]string // customer → acknowledged interaction ids
	outcomes     map[string]int      // error code ("" for success) → calls
	errs         []error             // errors other than UNAVAILABLE
}

// names are the names one writer gave a customer, in the order sent: the
// stored name must be the last acknowledged one or one sent after it
// (which may have applied though its caller saw an error).
type names struct {
	sent      []string
	lastAcked int // index in sent
	version   int // of the last acknowledged change
}

func newWorkload(svc *crm.Service) *workload {
	return &workload{svc: svc, owned: map[int][]string{}, names: map[string]*names{},
		interactions: map[string][]string{}, outcomes: map[string]int{}}
}

// run starts writers that each make steps calls (0: until ctx ends), and
// waits for them. Each call gets its own deadline, as a request would.
func (w *workload) run(ctx context.Context, writers, steps int, callTimeout time.Duration) {
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for n := 0; ctx.Err() == nil && (steps == 0 || n < steps); n++ {
				call, cancel := context.WithTimeout(crm.NewContextWithUser(context.Background(), admin), callTimeout)
				// seq is unique across runs, so names, phones and e-mails
				// never collide.
				w.step(call, rng, i, int(w.seq.Add(1)))
				cancel()
			}
		})
	}
	wg.Wait()
}

// runSteps runs writers for steps calls each, then fails the test for
// every call that ended neither acknowledged nor UNAVAILABLE. A call's
// deadline allows for all its retries (7 backoffs of up to 2 s) on a
// loaded machine with the race detector on: these tests are about faults,
// not about speed.
func (w *workload) runSteps(t *testing.T, writers, steps int) {
	t.Helper()
	w.run(t.Context(), writers, steps, 2*time.Minute)
	t.Logf("outcomes %v", w.outcomes)
	w.failOnErrors(t)
}

func (w *workload) failOnErrors(t *testing.T) {
	t.Helper()
	for _, err := range w.errs {
		t.Errorf("call failed with %s, not UNAVAILABLE: %v", crm.ErrorCode(err), err)
	}
}

var tagSets = [][]string{nil, {"red"}, {"red", "blue"}, {"blue", "green"}}

func (w *workload) step(ctx context.Context, rng *rand.Rand, writer, seq int) {
	w.mu.Lock()
	mine := slices.Clone(w.owned[writer])
	w.mu.Unlock()
	op := rng.IntN(10)
	switch {
	case len(mine) == 0 || op < 2:
		name := fmt.Sprintf("w%d-c%d", writer, seq)
		c, err := w.svc.CreateCustomer(ctx, crm.CustomerInput{
			Kind: crm.KindOrganization, Name: name, Region: []string{"north", "south"}[rng.IntN(2)],
			Phones: []string{fmt.Sprintf("+86 10 5%03d %04d", writer, seq)},
			Emails: []string{fmt.Sprintf("w%d.c%d@example.test", writer, seq)}, Tags: tagSets[rng.IntN(len(tagSets))],
		})
		w.record(err, func() {
			w.owned[writer] = append(w.owned[writer], c.ID)
			w.names[c.ID] = &names{sent: []string{c.Name}, version: c.Version}
		})
	case op < 7:
		id := mine[rng.IntN(len(mine))]
		it, err := w.svc.LogInteraction(ctx, crm.InteractionInput{CustomerID: id, Channel: crm.ChannelPhone,
			Type: crm.TypeCall, Direction: crm.Inbound, Subject: fmt.Sprintf("call %d", seq)})
		w.record(err, func() { w.interactions[id] = append(w.interactions[id], it.ID) })
	default:
		id := mine[rng.IntN(len(mine))]
		cur, err := w.svc.Customer(ctx, id)
		if err != nil {
			w.record(err, nil)
			return
		}
		name := fmt.Sprintf("w%d-u%d", writer, seq)
		w.mu.Lock()
		h := w.names[id]
		h.sent = append(h.sent, name)
		at := len(h.sent) - 1
		w.mu.Unlock()
		c, err := w.svc.UpdateCustomer(ctx, id, cur.Version, crm.CustomerUpdate{
			Name: &name, Tags: tagSets[rng.IntN(len(tagSets))], Emails: []string{fmt.Sprintf("w%d.u%d@example.test", writer, seq)}})
		if code(err) == crm.ECONFLICT {
			// A write of this writer's that failed on the client side (its
			// response lost in the outage) may still land after the read
			// above: refusing the stale update is the safe outcome, and
			// nothing acknowledged is lost.
			w.mu.Lock()
			w.outcomes[crm.ECONFLICT]++
			w.mu.Unlock()
			return
		}
		w.record(err, func() { h.lastAcked, h.version = at, c.Version })
	}
}

func (w *workload) record(err error, ok func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	code := crm.ErrorCode(err)
	w.outcomes[code]++
	switch {
	case err == nil:
		if ok != nil {
			ok()
		}
	case code != crm.EUNAVAILABLE:
		w.errs = append(w.errs, err)
	}
}

func (w *workload) acknowledged() int { return w.outcomes[""] }

// verify re-reads every acknowledged write through svc (a client without
// faults): each customer holds at least its last acknowledged version,
// and a state its writer sent; each acknowledged interaction is listed.
// Then it checks the table's invariants.
func (w *workload) verify(tb testing.TB, svc *crm.Service, db *dynamodb.Client, streams *dynamodbstreams.Client, table string) {
	tb.Helper()
	// What the stream derives is checked once it has applied everything.
	streamtest.NewWith(tb, db, streams, table, dynamo.New(db, table, []byte(strings.Repeat("k", 32))), svc).Drain(tb)
	ctx := crm.NewContextWithUser(tb.Context(), admin)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(w.names)) {
		c, err := svc.Customer(ctx, id)
		if err != nil {
			tb.Errorf("acknowledged customer %s: %v", id, err)
			continue
		}
		h := w.names[id]
		if c.Version < h.version || !slices.Contains(h.sent[h.lastAcked:], c.Name) {
			tb.Errorf("customer %s is at version %d named %q; acknowledged version %d named %q, sent %v",
				id, c.Version, c.Name, h.version, h.sent[h.lastAcked], h.sent)
		}
		listed := map[string]bool{}
		for p := (crm.PageRequest{First: crm.MaxPageSize}); ; {
			page, err := svc.Interactions(ctx, id, crm.TimeRange{}, p)
			if err != nil {
				tb.Fatalf("interactions of %s: %v", id, err)
			}
			for _, it := range page.Items {
				listed[it.ID] = true
			}
			if !page.HasNext {
				break
			}
			p.After = page.EndCursor
		}
		for _, it := range w.interactions[id] {
			if !listed[it] {
				tb.Errorf("acknowledged interaction %s of customer %s is missing", it, id)
			}
		}
	}
	broken, err := dynamo.CheckInvariants(tb.Context(), db, table)
	if err != nil {
		tb.Fatal(err)
	}
	for _, b := range broken {
		tb.Errorf("invariant: %s", b)
	}
}
