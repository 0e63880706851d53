package dynamo_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddblocal"
	"github.com/rapportcrm/rapport/infra/tables"
)

// An outage of DynamoDB itself: concurrent writers run through crm.Service
// against a DynamoDB Local of their own, persisted on disk; it is stopped
// mid-run and started again on the same files and port. While it is down
// every call ends UNAVAILABLE (retryable), nothing else; afterwards every
// acknowledged write is there and no change is half applied (the table's
// invariants hold), and writes go on being acknowledged.
func TestDynamoDBOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and restarts its own DynamoDB Local")
	}
	ctx := t.Context()
	cache, err := ddblocal.DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	jar, err := ddblocal.EnsureJar(ctx, cache)
	if err != nil {
		t.Fatal(err)
	}
	opts := ddblocal.Options{JarDir: jar, DBPath: t.TempDir(), Port: freePort(t)}
	start := func() *ddblocal.Process {
		began := time.Now()
		p, err := ddblocal.Start(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("DynamoDB Local up on %s in %v", p.Endpoint(), time.Since(began).Round(time.Millisecond))
		return p
	}
	proc := start()
	defer func() { _ = proc.Stop() }()

	db, err := ddblocal.NewClient(ctx, proc.Endpoint(), dynamo.Retries)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := tables.FromTemplate("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const table = "outage"
	if err := tables.Create(ctx, db, table, defs["CrmTable"]); err != nil {
		t.Fatal(err)
	}
	svc := crm.NewService(dynamo.New(db, table, []byte(strings.Repeat("k", 32))))

	w := newWorkload(svc)
	run, stopWriters := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// A call's deadline is generous: while DynamoDB is down, calls end
	// UNAVAILABLE when their retries run out (a few seconds), not at it.
	wg.Go(func() { w.run(run, 4, 0, 30*time.Second) })

	snapshot := func() (acked, unavailable int) {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.outcomes[""], w.outcomes[crm.EUNAVAILABLE]
	}
	// Each phase lasts until the writers have done what it is about, not
	// for a fixed time: a loaded machine may need longer.
	waitFor(t, "writes acknowledged before the outage", func() bool { acked, _ := snapshot(); return acked >= 8 })
	if err := proc.Stop(); err != nil {
		t.Fatal(err)
	}
	downAt := time.Now()
	ackedAtStop, unavailableAtStop := snapshot()
	// Every writer's calls end UNAVAILABLE once their retries run out.
	waitFor(t, "calls refused as UNAVAILABLE while DynamoDB is down", func() bool {
		_, unavailable := snapshot()
		return unavailable >= unavailableAtStop+4
	})
	ackedDown, unavailable := snapshot()
	t.Logf("down %v: %d calls acknowledged (in flight at the stop), %d UNAVAILABLE", time.Since(downAt).Round(time.Millisecond), ackedDown-ackedAtStop, unavailable-unavailableAtStop)

	proc = start()
	ackedAtRestart, _ := snapshot()
	waitFor(t, "writes acknowledged after the restart", func() bool { acked, _ := snapshot(); return acked >= ackedAtRestart+8 })
	stopWriters()
	wg.Wait()
	t.Logf("outcomes %v", w.outcomes)
	w.failOnErrors(t)
	w.verify(t, svc, db, ddblocal.NewStreamsClient(proc.Endpoint()), table)
}

// waitFor waits until cond holds, checking often, and fails the test if
// it still does not after minutes: a bound for a hung test, not a speed
// the machine must reach.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("no %s after 5 minutes", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
