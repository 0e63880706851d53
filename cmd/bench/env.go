package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/demo"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddblocal"
	"github.com/rapportcrm/rapport/infra/ddbmeter"
	"github.com/rapportcrm/rapport/infra/ddbstream"
	"github.com/rapportcrm/rapport/infra/tables"
	"github.com/rapportcrm/rapport/oidc"
	"github.com/rapportcrm/rapport/oidc/devissuer"
	"github.com/rapportcrm/rapport/server"
	"github.com/rapportcrm/rapport/stream"
	"github.com/rapportcrm/rapport/webhooks"
)

// env is Rapport as deployed, on this machine: DynamoDB Local in memory
// with the template's table, the server on a loopback port behind real
// token checks, the demo data, and a meter on the server's DynamoDB
// client. raw is a second client on the same database, unmetered, for
// calls made beside the server.
type env struct {
	svc   *crm.Service
	store *dynamo.Store
	// hooks serves the partner webhooks' mutations (https targets only;
	// nothing is delivered during a benchmark).
	hooks *webhooks.Service
	meter *ddbmeter.Meter
	// streamMeter is on the stream consumer's own client, which the
	// poller drives: what each operation implies is measured apart.
	streamMeter *ddbmeter.Meter
	poller      *ddbstream.Poller
	raw         *dynamodb.Client
	replay      *dynamodb.Client
	replayFast  *dynamodb.Client // replay's, with dynamo.FastReads
	table       string
	base        string // http://127.0.0.1:port
	tokens      map[string]string
	partnerKey  string
	http        *http.Client
	// conns counts the connections the server accepted: the benchmarks'
	// client keeps its connections, so a request never pays for a dial.
	conns atomic.Int64
	// handled holds when the server's handler began and ended each
	// request.
	handled spans
	close   func()
}

const audience = "rapport-bench"

// startEnv starts everything and seeds the demo data (customers of them).
func startEnv(ctx context.Context, customers int, out io.Writer) (_ *env, err error) {
	e := &env{meter: &ddbmeter.Meter{}, streamMeter: &ddbmeter.Meter{}, table: "rapport-bench", tokens: map[string]string{},
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
	var closers []func()
	e.close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	proc, err := ddblocal.StartCached(ctx, ddblocal.Options{InMemory: true})
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { _ = proc.Stop() })
	// The deployed functions' client options, and the meter.
	db, err := ddblocal.NewClient(ctx, proc.Endpoint(), dynamo.Retries, dynamo.KeepConnections, dynamo.FastReads, e.meter.Option)
	if err != nil {
		return nil, err
	}
	if e.raw, err = ddblocal.NewClient(ctx, proc.Endpoint(), dynamo.Retries, dynamo.KeepConnections); err != nil {
		return nil, err
	}
	// The overhead benchmark's replays: the server's client's options,
	// its meter's middleware included (a meter of its own, never read), so
	// that both sides of the comparison run the same middleware stack;
	// the raw SDK's without FastReads (the SDK's own deserializer), and
	// the same with it.
	replayMeter := (&ddbmeter.Meter{SkipCapacity: true}).Option
	if e.replay, err = ddblocal.NewClient(ctx, proc.Endpoint(), dynamo.Retries, dynamo.KeepConnections, replayMeter); err != nil {
		return nil, err
	}
	if e.replayFast, err = ddblocal.NewClient(ctx, proc.Endpoint(), dynamo.Retries, dynamo.KeepConnections, dynamo.FastReads, replayMeter); err != nil {
		return nil, err
	}
	e.meter.Probe, e.streamMeter.Probe = e.raw, e.raw
	if err := tables.EnsureAll(ctx, db, "template.yaml", func(string) string { return e.table }); err != nil {
		return nil, fmt.Errorf("create tables (run from the repository root): %w", err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	// The demo seed replays a year of history on the clock of both
	// services, and both stores audit on it, as make run's does.
	clock := &demo.Clock{}
	e.store = dynamo.New(db, e.table, secret).UseClock(clock.Now)
	e.svc = crm.NewService(e.store)
	e.svc.Now = clock.Now
	sealer, err := webhooks.NewSealer(secret)
	if err != nil {
		return nil, err
	}
	e.hooks = &webhooks.Service{Store: e.store, Sealer: sealer, Now: time.Now}
	// The stream function, on a client of its own with its own meter.
	sdb, err := ddblocal.NewClient(ctx, proc.Endpoint(), dynamo.Retries, dynamo.KeepConnections, dynamo.FastReads, e.streamMeter.Option)
	if err != nil {
		return nil, err
	}
	store := dynamo.New(sdb, e.table, nil).UseClock(clock.Now)
	settler := crm.NewService(store)
	settler.Now = clock.Now
	consumer := &stream.Consumer{Store: store, Settler: settler}
	if e.poller, err = ddbstream.New(ctx, e.raw, ddblocal.NewStreamsClient(proc.Endpoint()), e.table, consumer.Handle); err != nil {
		return nil, err
	}
	// The demo seed signs the demo users in; the directory's re-read of a
	// signed-in user (one GetItem a minute per user and instance) is not
	// the cost of the operation a request happens to make.
	e.svc.DirectoryTTL = 24 * time.Hour

	fmt.Fprintf(out, "Seeding %d demo customers…\n", customers)
	began := time.Now()
	settle := func(ctx context.Context) error { _, err := e.poller.Drain(ctx); return err }
	if err := demo.Seed(ctx, e.svc, demo.Options{Customers: customers, Seed: 2026, Now: time.Now(), Clock: clock, Settle: settle}); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if e.partnerKey, err = demo.SeedPartner(ctx, e.svc); err != nil {
		return nil, fmt.Errorf("seed partner: %w", err)
	}
	if err := settle(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Seeded in %v.\n", time.Since(began).Round(time.Second))

	// A loopback server whose address is known before it serves: the dev
	// issuer's URL names it.
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			e.conns.Add(1)
		}
	}
	closers = append(closers, srv.Close)
	e.base = "http://" + srv.Listener.Addr().String()
	keyDir, err := os.MkdirTemp("", "rapport-bench-issuer")
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { _ = os.RemoveAll(keyDir) })
	iss, err := devissuer.LoadOrCreate(keyDir, e.base+"/dev-issuer")
	if err != nil {
		return nil, err
	}
	verifier, err := oidc.NewVerifier(oidc.Config{Issuer: iss.URL(), Audience: audience, JWKSURL: iss.JWKSURL()})
	if err != nil {
		return nil, err
	}
	for _, u := range demo.Users {
		if e.tokens[u.ID], err = iss.Mint(u, audience, time.Hour); err != nil {
			return nil, err
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mux.Handle("/dev-issuer/", http.StripPrefix("/dev-issuer", iss.Handler()))
	api := server.New(e.svc, server.WithAPIKeys(e.svc.VerifyAPIKey, verifier), log, server.Options{Webhooks: e.hooks})
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		api.ServeHTTP(w, r)
		e.handled.add(ddbmeter.Span{Start: began, End: time.Now()})
	}))
	srv.Start()
	return e, nil
}

// caller is who makes a request: a demo user by id, or the demo partner.
type caller string

const partner caller = "partner"

// gql runs one GraphQL request as who through the HTTP server and decodes
// its data into out (if not nil); a GraphQL error is an error.
func (e *env) gql(ctx context.Context, who caller, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	path := "/graphql"
	if who == partner {
		path = server.PartnerPath
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if who == partner {
		req.Header.Set(server.APIKeyHeader, e.partnerKey)
	} else {
		req.Header.Set("Authorization", "Bearer "+e.tokens[string(who)])
	}
	res, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer func() {
		// Read to the end, as any client that keeps its connection does:
		// the transport closes a connection whose response body is closed
		// unread (the decoder stops at the JSON value's end, before a
		// chunked body's last chunk), and the next request dials again.
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}()
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return fmt.Errorf("HTTP %d: %w", res.StatusCode, err)
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("%s (%v)", r.Errors[0].Message, r.Errors[0].Extensions["code"])
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Data, out)
}

// spans collects spans from concurrent goroutines.
type spans struct {
	mu sync.Mutex
	s  []ddbmeter.Span
}

func (s *spans) add(x ddbmeter.Span) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s = append(s.s, x)
}

// take returns the spans collected and starts again.
func (s *spans) take() []ddbmeter.Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.s
	s.s = nil
	return out
}
