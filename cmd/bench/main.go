// Command bench measures what Rapport's requests cost, on this machine,
// against its own DynamoDB Local (in memory) and server, seeded with the
// demo data. It prints figures; it asserts nothing.
//
//	go run ./cmd/bench capacity   # request units per operation (make bench-capacity)
//	go run ./cmd/bench overhead   # HTTP + auth + GraphQL against the raw SDK calls (make bench-overhead)
//	go run ./cmd/bench overhead -profile dir   # the same, CPU-profiled into dir
//	go run ./cmd/bench import     # 100,000 generated rows through importCustomers (make bench-import)
//
// Run it from the repository root (it reads template.yaml).
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

	"github.com/rapportcrm/rapport/crm"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "capacity" && args[0] != "overhead" && args[0] != "import") {
		return errors.New("usage: bench capacity|overhead|import [flags]")
	}
	fs := flag.NewFlagSet("bench "+args[0], flag.ContinueOnError)
	customers := fs.Int("customers", 200, "demo customers to seed (at least 200)")
	wru := fs.Float64("wru-price", defaultWRUPrice, "USD per million write request units")
	rru := fs.Float64("rru-price", defaultRRUPrice, "USD per million read request units")
	detail := fs.Bool("detail", false, "capacity: also list every item each write wrote, with its size")
	runs := fs.Int("runs", 300, "overhead: measured requests per path (after 30 of warm-up)")
	rows := fs.Int("rows", 100_000, "import: generated rows to import")
	sample := fs.Int("sample", 10, "import: bill every n-th call's request units")
	rate := fs.Float64("rate", crm.DefaultImportLimits.RowsPerSecond, "import: the server's pace of import rows per second (0: unpaced)")
	withStream := fs.Bool("stream", true, "import: run the stream consumer beside the import, as a deployed stack does, and bill its work")
	profile := fs.String("profile", "", "overhead: write a CPU profile of each read's measured runs into this directory")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *customers < 200 || *runs < 10 {
		return errors.New("-customers must be at least 200 and -runs at least 10")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(out, "Starting DynamoDB Local and an in-process server…")
	e, err := startEnv(ctx, *customers, out)
	if err != nil {
		return err
	}
	defer e.close()
	switch args[0] {
	case "capacity":
		return capacity(ctx, e, [2]float64{*wru, *rru}, *detail, out)
	case "import":
		return importBench(ctx, e, importBenchOptions{rows: *rows, sampleEvery: *sample, rate: *rate, stream: *withStream}, [2]float64{*wru, *rru}, out)
	}
	return overhead(ctx, e, *runs, *profile, out)
}
