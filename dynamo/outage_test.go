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
	wg.Go(func() { w.run(run, 4, 0, 3*time.Second) })

	snapshot := func() (acked, unavailable int) {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.outcomes[""], w.outcomes[crm.EUNAVAILABLE]
	}
	// Each phase waits for what it needs to see, not for a time: on a
	// loaded machine a phase may take many seconds.
	waitFor(t, "a write acknowledged before the outage", func() bool { acked, _ := snapshot(); return acked > 0 })
	if err := proc.Stop(); err != nil {
		t.Fatal(err)
	}
	downAt := time.Now()
	ackedAtStop, _ := snapshot()
	waitFor(t, "a call refused as UNAVAILABLE while DynamoDB is down", func() bool { _, u := snapshot(); return u > 0 })
	ackedDown, unavailable := snapshot()
	t.Logf("down %v: %d calls acknowledged (in flight at the stop), %d UNAVAILABLE", time.Since(downAt).Round(time.Millisecond), ackedDown-ackedAtStop, unavailable)

	proc = start()
	ackedAtRestart, _ := snapshot()
	waitFor(t, "a write acknowledged after the restart", func() bool { acked, _ := snapshot(); return acked > ackedAtRestart })
	stopWriters()
	wg.Wait()
	t.Logf("outcomes %v", w.outcomes)
	w.failOnErrors(t)
	w.verify(t, svc, db, ddblocal.NewStreamsClient(proc.Endpoint()), table)
}

// waitFor polls cond until it holds; the deadline only ends a hung run.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
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
