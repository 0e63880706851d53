// Command loadtest drives a mix of reads and writes against a Rapport API
// on this machine for a bounded time or number of operations, prints
// throughput and latency percentiles per operation, then re-reads every
// acknowledged write through the API and fails if one is missing.
//
//	go run ./cmd/loadtest                      # its own DynamoDB Local and server, in memory
//	go run ./cmd/loadtest -target http://localhost:8080   # a `make run` server
//	go run ./cmd/loadtest -operations 100      # exactly 100 operations, however long they take
//
// It refuses any target that is not a loopback address: it is a test of
// this machine's server, never of someone else's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	target     string
	duration   time.Duration
	operations int
	workers    int
	localDir   string
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.target, "target", "", "base URL of a running local server (loopback only), e.g. http://localhost:8080; empty starts one in-process")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long to drive load (at most 10m)")
	fs.IntVar(&o.operations, "operations", 0, "stop after this many operations (1–100000) instead of after -duration")
	fs.IntVar(&o.workers, "workers", 8, "concurrent clients (1–64)")
	fs.StringVar(&o.localDir, "local-dir", envOr("RAPPORT_LOCAL_DIR", ".local"), "with -target: where `make run` keeps its dev issuer key, to sign tokens")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return fmt.Errorf("-duration must be between 0 and 10m")
	case o.operations < 0 || o.operations > 100000:
		return fmt.Errorf("-operations must be between 1 and 100000")
	case o.workers < 1 || o.workers > 64:
		return fmt.Errorf("-workers must be between 1 and 64")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var (
		t   *target
		err error
	)
	if o.target == "" {
		fmt.Fprintln(out, "Starting DynamoDB Local and an in-process server…")
		t, err = startInProcess(ctx)
	} else {
		t, err = remoteTarget(o.target, o.localDir)
	}
	if err != nil {
		return err
	}
	defer t.close()

	l := newLoad(t)
	var res *results
	if o.operations > 0 {
		fmt.Fprintf(out, "Driving %s for %d operations with %d workers…\n", t.graphqlURL, o.operations, o.workers)
		res = l.drive(ctx, o.workers, o.operations)
	} else {
		fmt.Fprintf(out, "Driving %s for %v with %d workers…\n", t.graphqlURL, o.duration, o.workers)
		timed, cancel := context.WithTimeout(ctx, o.duration)
		defer cancel()
		res = l.drive(timed, o.workers, 0)
	}
	res.print(out)

	fmt.Fprintln(out, "Verifying acknowledged writes through the API…")
	v, err := l.verify(context.Background())
	if err != nil {
		return err
	}
	v.print(out)
	if len(v.missing) > 0 {
		return fmt.Errorf("%d acknowledged writes are missing", len(v.missing))
	}
	if res.internal > 0 {
		return fmt.Errorf("%d requests failed with INTERNAL", res.internal)
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
