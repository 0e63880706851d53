// Package ddbtest gives a test package one DynamoDB Local for its whole run
// and a fresh table per test, built from template.yaml.
//
//	func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }
//
// Set RAPPORT_DDB_ENDPOINT to use an already running DynamoDB instead.
package ddbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/infra/ddblocal"
	"github.com/rapportcrm/rapport/infra/tables"
)

// harness is set by Run before any test starts and read-only afterwards;
// it is package state because TestMain has no other way to hand it to tests.
var harness struct {
	endpoint string
	client   *dynamodb.Client
	template string
}

// Run starts DynamoDB Local (in memory), runs the tests and stops it. It
// returns the exit code for os.Exit.
func Run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	endpoint := os.Getenv("RAPPORT_DDB_ENDPOINT")
	if endpoint == "" {
		cache, err := ddblocal.DefaultCacheDir()
		if err != nil {
			return fail(err)
		}
		jar, err := ddblocal.EnsureJar(ctx, cache)
		if err != nil {
			return fail(err)
		}
		proc, err := ddblocal.Start(ctx, ddblocal.Options{JarDir: jar, InMemory: true})
		if err != nil {
			return fail(err)
		}
		defer proc.Stop()
		endpoint = proc.Endpoint()
	}
	client, err := ddblocal.NewClient(ctx, endpoint)
	if err != nil {
		return fail(err)
	}
	tpl, err := findTemplate()
	if err != nil {
		return fail(err)
	}
	harness.endpoint, harness.client, harness.template = endpoint, client, tpl
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "ddbtest:", err)
	return 1
}

// findTemplate walks up from the working directory to the module root.
func findTemplate() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "template.yaml"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

func mustRun(tb testing.TB) {
	tb.Helper()
	if harness.client == nil {
		tb.Fatal("ddbtest: TestMain must call os.Exit(ddbtest.Run(m))")
	}
}

// Endpoint is the DynamoDB endpoint of this run.
func Endpoint(tb testing.TB) string {
	mustRun(tb)
	return harness.endpoint
}

// Client is a DynamoDB client for this run's database.
func Client(tb testing.TB) *dynamodb.Client {
	mustRun(tb)
	return harness.client
}

// NewTable creates a uniquely named copy of the template's table logicalID
// and returns its name, so that tests never see each other's data.
func NewTable(tb testing.TB, logicalID string) string {
	tb.Helper()
	mustRun(tb)
	all, err := tables.FromTemplate(harness.template)
	if err != nil {
		tb.Fatal(err)
	}
	in, ok := all[logicalID]
	if !ok {
		tb.Fatalf("ddbtest: template has no table %q", logicalID)
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := logicalID + "-" + hex.EncodeToString(suffix)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tables.Create(ctx, harness.client, name, in); err != nil {
		tb.Fatal(err)
	}
	return name
}
