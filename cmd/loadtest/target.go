package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/demo"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddblocal"
	"github.com/rapportcrm/rapport/infra/tables"
	"github.com/rapportcrm/rapport/oidc"
	"github.com/rapportcrm/rapport/oidc/devissuer"
	"github.com/rapportcrm/rapport/server"
)

// target is the API under load and a token to call it with.
type target struct {
	graphqlURL string
	token      string
	close      func()
}

const audience = "rapport-local"

// checkLoopback refuses every target but this machine's loopback
// addresses. Names other than localhost are refused rather than resolved,
// so that no DNS answer can point the load elsewhere.
func checkLoopback(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-target: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-target %q: want an http:// URL", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-target %q: only loopback targets (localhost, 127.0.0.0/8, [::1]) are allowed", raw)
	}
	return u, nil
}

// remoteTarget is a `make run` server: its tokens come from the dev issuer
// key it keeps under localDir, for the issuer URL it serves.
func remoteTarget(raw, localDir string) (*target, error) {
	u, err := checkLoopback(raw)
	if err != nil {
		return nil, err
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	dir := filepath.Join(localDir, "dev-issuer")
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("no dev issuer key in %s: start the server with make run first, or pass -local-dir", dir)
	}
	iss, err := devissuer.LoadOrCreate(dir, "http://localhost:"+port+"/dev-issuer")
	if err != nil {
		return nil, err
	}
	token, err := iss.Mint(demo.Users[0], audience, time.Hour)
	if err != nil {
		return nil, err
	}
	return &target{graphqlURL: strings.TrimSuffix(u.String(), "/") + "/graphql", token: token, close: func() {}}, nil
}

// startInProcess runs DynamoDB Local in memory, creates the table from
// template.yaml and serves the API on a loopback port, with the deployed
// functions' retry policy and a dev issuer for tokens.
func startInProcess(ctx context.Context) (_ *target, err error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	proc, err := ddblocal.StartCached(ctx, ddblocal.Options{InMemory: true})
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { _ = proc.Stop() })
	db, err := ddblocal.NewClient(ctx, proc.Endpoint(), dynamo.Retries, dynamo.KeepConnections, dynamo.FastReads)
	if err != nil {
		return nil, err
	}
	const table = "rapport-load"
	if err := tables.EnsureAll(ctx, db, "template.yaml", func(string) string { return table }); err != nil {
		return nil, fmt.Errorf("create tables (run from the repository root): %w", err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	svc := crm.NewService(dynamo.New(db, table, secret))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	keyDir, err := os.MkdirTemp("", "rapport-load-issuer")
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { _ = os.RemoveAll(keyDir) })
	iss, err := devissuer.LoadOrCreate(keyDir, base+"/dev-issuer")
	if err != nil {
		return nil, err
	}
	verifier, err := oidc.NewVerifier(oidc.Config{Issuer: iss.URL(), Audience: audience, JWKSURL: iss.JWKSURL()})
	if err != nil {
		return nil, err
	}
	token, err := iss.Mint(demo.Users[0], audience, time.Hour)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mux := http.NewServeMux()
	mux.Handle("/dev-issuer/", http.StripPrefix("/dev-issuer", iss.Handler()))
	mux.Handle("/", server.New(svc, verifier, log, server.Options{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve", "err", err)
		}
	}()
	closers = append(closers, func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	})
	return &target{graphqlURL: base + "/graphql", token: token, close: closeAll}, nil
}
