package deploy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RuntimeAPI is a test double of the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): it hands
// queued events to a bootstrap polling /invocation/next and collects what
// the bootstrap posts back.
type RuntimeAPI struct {
	srv     *httptest.Server
	events  chan invocation
	results chan Result

	mu        sync.Mutex
	firstNext time.Time // when the bootstrap first asked for work
}

type invocation struct {
	id      string
	payload []byte
}

// Result is what the bootstrap reported for one invocation.
type Result struct {
	RequestID string
	Body      []byte
	Error     bool // posted to /error (or /init/error) rather than /response
}

// NewRuntimeAPI starts a Runtime API double; it stops when tb ends.
func NewRuntimeAPI(tb testing.TB) *RuntimeAPI {
	tb.Helper()
	api := &RuntimeAPI{events: make(chan invocation), results: make(chan Result, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		api.mu.Lock()
		if api.firstNext.IsZero() {
			api.firstNext = time.Now()
		}
		api.mu.Unlock()
		select {
		case inv := <-api.events:
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(5*time.Minute).UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:rapport-test")
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
			h.Set("Content-Type", "application/json")
			_, _ = w.Write(inv.payload)
		case <-r.Context().Done():
		}
	})
	report := func(isErr bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			id := r.PathValue("id")
			if id == "" {
				id = "init"
			}
			api.results <- Result{RequestID: id, Body: body, Error: isErr}
			w.WriteHeader(http.StatusAccepted)
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", report(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", report(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", report(true))
	api.srv = httptest.NewServer(mux)
	tb.Cleanup(api.srv.Close)
	return api
}

// Addr is the value of AWS_LAMBDA_RUNTIME_API.
func (api *RuntimeAPI) Addr() string { return strings.TrimPrefix(api.srv.URL, "http://") }

// FirstNext returns when the bootstrap first polled for an event.
func (api *RuntimeAPI) FirstNext() time.Time {
	api.mu.Lock()
	defer api.mu.Unlock()
	return api.firstNext
}

// MustInvoke hands payload to the bootstrap and waits for its answer.
func (api *RuntimeAPI) MustInvoke(tb testing.TB, id string, payload []byte, exited <-chan struct{}) Result {
	tb.Helper()
	timeout := time.After(5 * time.Minute)
	select {
	case api.events <- invocation{id: id, payload: payload}:
	case r := <-api.results:
		tb.Fatalf("bootstrap reported %s before invocation %s: %s", r.RequestID, id, r.Body)
	case <-exited:
		tb.Fatalf("bootstrap exited before invocation %s", id)
	case <-timeout:
		tb.Fatalf("bootstrap never asked for invocation %s", id)
	}
	select {
	case r := <-api.results:
		if r.RequestID != id {
			tb.Fatalf("got a result for %s, want %s: %s", r.RequestID, id, r.Body)
		}
		return r
	case <-exited:
		tb.Fatalf("bootstrap exited during invocation %s", id)
	case <-timeout:
		tb.Fatalf("no result for invocation %s", id)
	}
	return Result{}
}

// Bootstrap is a running function binary.
type Bootstrap struct {
	Started time.Time
	Exited  chan struct{}
	out     *syncBuffer
	cmd     *exec.Cmd
}

// Stop kills the bootstrap and waits for it to exit (the test's cleanup
// does too; Stop is for tests that start many).
func (b *Bootstrap) Stop() {
	_ = b.cmd.Process.Kill()
	<-b.Exited
}

// Output is what the bootstrap wrote to stdout and stderr (its logs).
func (b *Bootstrap) Output() string { return b.out.String() }

// WaitOutput reports whether the bootstrap's output comes to contain every
// one of subs (output is copied from a pipe, so it may trail the invocation
// result); it gives up after a minute, a bound for a hung copy, not a speed.
func (b *Bootstrap) WaitOutput(subs ...string) bool {
	deadline := time.Now().Add(time.Minute)
	for {
		out, all := b.Output(), true
		for _, s := range subs {
			all = all && strings.Contains(out, s)
		}
		if all || time.Now().After(deadline) {
			return all
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// MustStartBootstrap runs the bootstrap at path against api with exactly env
// (plus the Lambda runtime variables): nothing is inherited, so no AWS
// profile or credentials of the developer can leak in.
func MustStartBootstrap(tb testing.TB, path string, api *RuntimeAPI, env map[string]string) *Bootstrap {
	tb.Helper()
	home := tb.TempDir()
	full := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          api.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME":        "rapport-test",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/rapport/test",
		"AWS_LAMBDA_LOG_STREAM_NAME":      "test",
		"_HANDLER":                        "bootstrap",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_EC2_METADATA_DISABLED":       "true",
		"AWS_CONFIG_FILE":                 home + "/no-config",
		"AWS_SHARED_CREDENTIALS_FILE":     home + "/no-credentials",
		"HOME":                            home,
		"TZ":                              "UTC",
	}
	for k, v := range env {
		full[k] = v
	}
	cmd := exec.Command(path)
	for k, v := range full {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	b := &Bootstrap{Exited: make(chan struct{}), out: &syncBuffer{}, cmd: cmd}
	cmd.Stdout, cmd.Stderr = b.out, b.out
	b.Started = time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start bootstrap: %v", err)
	}
	go func() { _ = cmd.Wait(); close(b.Exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-b.Exited
		if tb.Failed() {
			tb.Logf("bootstrap output:\n%s", b.Output())
		}
	})
	return b
}

// InitTime is process start to the first poll for an event: what Lambda
// bills and reports as Init Duration, less the sandbox's own start.
func InitTime(tb testing.TB, b *Bootstrap, api *RuntimeAPI) time.Duration {
	tb.Helper()
	first := api.FirstNext()
	if first.IsZero() {
		tb.Fatal("bootstrap never polled /invocation/next")
	}
	return first.Sub(b.Started)
}

// CursorSecret returns a fresh CURSOR_SECRET value.
func CursorSecret(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decodeSecret(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestJobBootstrap runs the scheduled job's bootstrap through the Runtime
// API against a table on DynamoDB Local: a claim that lapsed goes back to
// the pool, and the run logs a structured line with the request id.
func TestJobBootstrap(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	secret := CursorSecret(t)
	secretBytes, _ := decodeSecret(secret)
	svc := crm.NewService(dynamo.New(db, table, secretBytes))
	// Claimed ten days ago: the 7-day claim has lapsed.
	svc.Now = func() time.Time { return time.Now().Add(-10 * 24 * time.Hour) }
	admin := crm.NewContextWithUser(context.Background(), &crm.User{ID: "admin", Roles: []crm.Role{crm.RoleAdmin}})
	seller := crm.NewContextWithUser(context.Background(), &crm.User{ID: "sales-1", Roles: []crm.Role{crm.RoleSales}})
	nobody := ""
	c, err := svc.CreateCustomer(admin, crm.CustomerInput{Kind: crm.KindPerson, Name: "Lapsed", OwnerID: &nobody, Grade: "D"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ClaimCustomer(seller, c.ID); err != nil {
		t.Fatal(err)
	}

	path := MustMakeBootstrap(t, "JobFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME":            table,
		"DYNAMODB_ENDPOINT":     endpoint,
		"CURSOR_SECRET":         secret,
		"CLAIM_PERIOD_DAYS":     "7",
		"AWS_ACCESS_KEY_ID":     "local", // ddblocal.NewClient's: same database
		"AWS_SECRET_ACCESS_KEY": "local",
	})
	ev := `{"version":"0","id":"e-1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-01-02T03:04:05Z","resources":["arn:aws:events:us-east-1:123456789012:rule/rapport-job"],"detail":{}}`
	res := api.MustInvoke(t, "job-1", []byte(ev), b.Exited)
	if res.Error {
		t.Fatalf("job failed: %s\n%s", res.Body, b.Output())
	}
	t.Logf("job init: %v", InitTime(t, b, api))
	if !b.WaitOutput(`"msg":"job run"`, `"lambdaRequestId":"job-1"`, `"returnedToPool":1`) {
		t.Errorf("no structured job run line with the request id and one return in:\n%s", b.Output())
	}
	got, err := svc.Customer(admin, c.ID)
	if err != nil || !got.InPool() || got.LastHolder != "sales-1" {
		t.Fatalf("lapsed claim not returned to the pool: %+v %v", got, err)
	}
}
