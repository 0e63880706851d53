// Package ddbtest gives storage tests a real DynamoDB (DynamoDB Local) with
// one fresh table per test. A package opts in from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }
//
// and then, in each test, client := ddbtest.Client(t) and
// table := ddbtest.NewTable(t, "CrmTable"). DynamoDB Local starts when a
// test first asks for a client, once per test binary.
//
// Each top-level test (with its subtests) has a database of its own in
// that DynamoDB Local: its clients sign with an access key of their own,
// and DynamoDB Local keeps a database per access key and region. Every
// write to a table with a stream costs DynamoDB Local a look at the
// streams of its database, so in one database shared by a whole package
// each test ran slower than the one before it (the same test run 150
// times in one database: 0.3 s a run at first, 1.1 s at the end; in a
// database each, 0.2 s throughout). The dynamo package's tests took 40
// minutes in one database and 5 with one per test (2026-12-03).
//
// Set RAPPORT_DDB_ENDPOINT (e.g. http://127.0.0.1:8000) to reuse a running
// DynamoDB instead of starting one per test binary.
package ddbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddblocal"
	"github.com/rapportcrm/rapport/infra/tables"
)

// EndpointEnv names the variable that points tests at an existing DynamoDB.
const EndpointEnv = "RAPPORT_DDB_ENDPOINT"

// startTimeout covers a cold cache: npm downloads 56 MB before java starts.
const startTimeout = 10 * time.Minute

// Harness state. It is package-level because TestMain and the tests share
// nothing else. DynamoDB Local starts on the first Client call, so a run
// that selects no storage test (benchmarks, fuzz seeds of pure functions)
// starts no JVM; Run stops it after the tests. defs is loaded lazily, once,
// by whichever test first calls NewTable.
var (
	mu      sync.Mutex
	running bool // Run was called
	started bool
	client  *dynamodb.Client
	streams *dynamodbstreams.Client
	stop    func() error
	initErr error

	// dbs are the top-level tests' databases, by test name; made counts
	// the databases made.
	dbs  map[string]database
	made int

	defsOnce sync.Once
	defs     map[string]*dynamodb.CreateTableInput
	defsErr  error
)

// Run runs the package's tests, starting DynamoDB Local (unless EndpointEnv
// is set) when a test first asks for it, and stops it afterwards. It returns
// the exit code for os.Exit; a failure to stop is reported as exit code 1.
func Run(m *testing.M) int {
	mu.Lock()
	running = true
	mu.Unlock()
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if stop != nil {
		if err := stop(); err != nil {
			fmt.Fprintln(os.Stderr, "ddbtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

func setup() (c *dynamodb.Client, sc *dynamodbstreams.Client, stop func() error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	endpoint := os.Getenv(EndpointEnv)
	stop = func() error { return nil }
	if endpoint == "" {
		cache, err := ddblocal.DefaultCacheDir()
		if err != nil {
			return nil, nil, nil, err
		}
		dir, err := ddblocal.EnsureJar(ctx, cache)
		if err != nil {
			return nil, nil, nil, err
		}
		p, err := ddblocal.Start(ctx, ddblocal.Options{JarDir: dir, InMemory: true})
		if err != nil {
			return nil, nil, nil, err
		}
		endpoint, stop = p.Endpoint(), p.Stop
	}
	// The deployed functions' connection handling (dynamo.KeepConnections),
	// so tests do not dial DynamoDB Local again after every request, and
	// their reading of responses (dynamo.FastReads), so the reads of the
	// tests on this client go through it.
	c, err = ddblocal.NewClient(ctx, endpoint, dynamo.KeepConnections, dynamo.FastReads)
	if err != nil {
		return nil, nil, nil, errors.Join(err, stop())
	}
	return c, ddblocal.NewStreamsClient(endpoint), stop, nil
}

// Client returns a DynamoDB client of the test's database (the database
// of its top-level test), starting DynamoDB Local on first use.
func Client(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	return databaseOf(tb).client
}

// Streams returns a DynamoDB Streams client of the same database, for
// tests that read a table's stream (infra/ddbstream).
func Streams(tb testing.TB) *dynamodbstreams.Client {
	tb.Helper()
	return databaseOf(tb).streams
}

// database is a top-level test's database: the clients that sign with its
// access key.
type database struct {
	client  *dynamodb.Client
	streams *dynamodbstreams.Client
}

// databaseOf returns the database of tb's top-level test, made on its
// first call. Asked first by the top-level test itself, the database is
// the test's until it ends: a test run again (-count) has a new one.
func databaseOf(tb testing.TB) database {
	tb.Helper()
	start(tb)
	top, _, _ := strings.Cut(tb.Name(), "/")
	mu.Lock()
	defer mu.Unlock()
	if d, ok := dbs[top]; ok {
		return d
	}
	if dbs == nil {
		dbs = map[string]database{}
	}
	made++
	// Letters and digits only, as DynamoDB Local wants; the process id
	// keeps binaries that share an endpoint (EndpointEnv) apart.
	creds := credentials.NewStaticCredentialsProvider(fmt.Sprintf("p%dt%d", os.Getpid(), made), "local", "")
	d := database{
		client:  dynamodb.New(client.Options(), func(o *dynamodb.Options) { o.Credentials = creds }),
		streams: dynamodbstreams.New(streams.Options(), func(o *dynamodbstreams.Options) { o.Credentials = creds }),
	}
	dbs[top] = d
	if tb.Name() == top {
		tb.Cleanup(func() {
			mu.Lock()
			defer mu.Unlock()
			delete(dbs, top)
		})
	}
	return d
}

func start(tb testing.TB) {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !running {
		tb.Fatal("ddbtest: no DynamoDB to talk to: this package's TestMain must call ddbtest.Run, " +
			"e.g. func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }")
	}
	if !started {
		started = true
		client, streams, stop, initErr = setup()
	}
	if initErr != nil {
		tb.Fatalf("ddbtest: %v", initErr)
	}
}

// NewTable creates a uniquely named copy of the template.yaml table with the
// given logical id and returns its name. Tables are never deleted: the
// database is in memory and dies with the test binary, and a unique name per
// call keeps parallel tests (and several binaries sharing EndpointEnv) from
// seeing each other's items.
func NewTable(tb testing.TB, logicalID string) string {
	tb.Helper()
	c := Client(tb)
	defsOnce.Do(func() { defs, defsErr = loadTemplate() })
	if defsErr != nil {
		tb.Fatalf("ddbtest: %v", defsErr)
	}
	in, ok := defs[logicalID]
	if !ok {
		ids := make([]string, 0, len(defs))
		for id := range defs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		tb.Fatalf("ddbtest: template.yaml has no AWS::DynamoDB::Table %q (have %s)", logicalID, strings.Join(ids, ", "))
	}
	name, err := uniqueName(tb.Name(), logicalID)
	if err != nil {
		tb.Fatalf("ddbtest: %v", err)
	}
	if err := tables.Create(tb.Context(), c, name, in); err != nil {
		tb.Fatalf("ddbtest: %v", err)
	}
	return name
}

func loadTemplate() (map[string]*dynamodb.CreateTableInput, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	return tables.FromTemplate(filepath.Join(root, "template.yaml"))
}

// moduleRoot walks up from the working directory, which go test sets to the
// package under test, to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// uniqueName derives a readable table name from the test name (so a table
// seen in a debugger or a shared endpoint can be traced back to its test)
// plus random bytes for uniqueness. DynamoDB allows [a-zA-Z0-9_.-]{3,255}.
func uniqueName(testName, logicalID string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random table suffix: %w", err)
	}
	prefix := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, testName)
	if len(prefix) > 150 {
		prefix = prefix[:150]
	}
	return fmt.Sprintf("%s.%s.%s", prefix, logicalID, hex.EncodeToString(b[:])), nil
}
