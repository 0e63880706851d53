// Command fetch downloads DynamoDB Local into the shared cache (see
// ddblocal.DefaultCacheDir) so the first test run does not pay for it, and
// prints the directory holding the jar.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/rapportcrm/rapport/infra/ddblocal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "fetch:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cache, err := ddblocal.DefaultCacheDir()
	if err != nil {
		return err
	}
	dir, err := ddblocal.EnsureJar(ctx, cache)
	if err != nil {
		return err
	}
	fmt.Println(dir)
	return nil
}
