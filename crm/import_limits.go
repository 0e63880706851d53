package crm

import (
	"context"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/internal/backoff"
)

// ImportLimits bound what imports take of an API instance, so that an
// import never starves the interactive requests it shares the instance and
// the table with. A client sends an import's calls one after another, so
// one import writes at most RowsPerSecond rows a second.
type ImportLimits struct {
	// RowsPerSecond paces the rows the instance's import calls write,
	// together; a row of a dry run, which only reads, counts as a quarter
	// (dryRunCost). 0 does not pace.
	RowsPerSecond float64
	// Calls is how many importCustomers calls the instance serves at once;
	// a call beyond them is UNAVAILABLE at once, and the client backs off.
	// (A Lambda instance serves one request at a time anyway; the local
	// server serves many.)
	Calls int
}

// DefaultImportLimits: 50 rows a second. Every write puts its audit entry
// into the partition of its day (AUDIT#<day>), which the whole table's
// writes share and which takes at most 1,000 write units a second; an
// imported row's entries cost about 4 of them (make bench-import), so 50
// rows a second leave four fifths of that partition to everyone else.
var DefaultImportLimits = ImportLimits{RowsPerSecond: 50, Calls: 2}

// dryRunCost is what a dry-run row counts against RowsPerSecond.
const dryRunCost = 0.25

// importGate holds an instance's import calls and paces their rows.
type importGate struct {
	once  sync.Once
	calls chan struct{}
	mu    sync.Mutex
	every time.Duration // between rows; 0 does not pace
	next  time.Time
}

// importGate returns the service's gate, made from s.Import on first use.
func (s *Service) importGate() *importGate {
	g := &s.imports
	g.once.Do(func() {
		g.calls = make(chan struct{}, max(s.Import.Calls, 1))
		if s.Import.RowsPerSecond > 0 {
			g.every = time.Duration(float64(time.Second) / s.Import.RowsPerSecond)
		}
	})
	return g
}

// enter takes one of the instance's import places, or is UNAVAILABLE when
// all are taken; release gives it back.
func (g *importGate) enter() (release func(), err error) {
	select {
	case g.calls <- struct{}{}:
		return func() { <-g.calls }, nil
	default:
		return nil, Errorf(EUNAVAILABLE, "this server is serving %d imports already; retry shortly", cap(g.calls))
	}
}

// pace waits until a row of the given cost may start. It paces by the
// wall clock, not Service.Now: it spreads work in real time and decides
// nothing.
func (g *importGate) pace(ctx context.Context, cost float64) error {
	if g.every == 0 {
		return nil
	}
	g.mu.Lock()
	now := time.Now()
	at := g.next
	if at.Before(now) {
		at = now
	}
	g.next = at.Add(time.Duration(float64(g.every) * cost))
	g.mu.Unlock()
	wait := time.Until(at)
	if wait <= 0 {
		return nil
	}
	if err := backoff.Sleep(ctx, wait); err != nil {
		return timedOut(err, "")
	}
	return nil
}
