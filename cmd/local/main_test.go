package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/demo"
	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/oidc/devissuer"
)

// TestMakeRunServesDemoData runs the local server as `make run` does, on a
// fresh data directory and a free port: it must start DynamoDB Local,
// create the tables, seed the demo data, serve GraphQL to a dev-issuer
// token and to the demo partner's key, serve GraphiQL (checked in
// Chromium) and the partner portal example, and stop everything on Ctrl-C.
func TestMakeRunServesDemoData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole local stack")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "rapport-local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Dir = "../.." // template.yaml is read from the working directory
	cmd.Env = append(os.Environ(), "PORT=0", "RAPPORT_LOCAL_DIR="+filepath.Join(dir, "local"), "DYNAMODB_ENDPOINT=")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// Generous: DynamoDB Local's first download and seeding 200 customers
	// take minutes on a loaded machine.
	deadline := time.Now().Add(15 * time.Minute)
	var base, port string
	for {
		if m := servingRE.FindStringSubmatch(logs.String()); m != nil && base == "" {
			port = m[1]
			base = "http://127.0.0.1:" + port
		}
		res, err := http.Get(base + "/healthz")
		if err == nil && res.StatusCode == http.StatusOK {
			res.Body.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("server exited: %v\n%s", err, logs.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not healthy in time:\n%s", logs.String())
		}
	}

	issuer, err := devissuer.LoadOrCreate(filepath.Join(dir, "local", "dev-issuer"), "http://localhost:"+port+"/dev-issuer")
	if err != nil {
		t.Fatal(err)
	}
	token, err := issuer.Mint(crm.User{ID: demo.Users[0].ID, Roles: []crm.Role{crm.RoleAdmin}}, "rapport-local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Data struct {
			All    struct{ TotalCount int } `json:"all"`
			Levels []struct{ Code string }  `json:"gradeLevels"`
		}
		Errors []any
	}
	query(t, base, token, `{ all: customers { totalCount } gradeLevels { code } }`, &out)
	if out.Data.All.TotalCount < 200 {
		t.Fatalf("demo data has %d customers, want at least 200 (errors %v)", out.Data.All.TotalCount, out.Errors)
	}
	var parts []string
	for _, l := range out.Data.Levels {
		parts = append(parts, fmt.Sprintf("g%s: customers(filter: {grade: %q}) { totalCount }", l.Code, l.Code))
	}
	for _, s := range crm.Stages {
		parts = append(parts, fmt.Sprintf("s%s: customers(filter: {stage: %s}) { totalCount }", s, s))
	}
	var counts struct {
		Data map[string]struct{ TotalCount int }
	}
	query(t, base, token, "{"+strings.Join(parts, " ")+"}", &counts)
	for k, v := range counts.Data {
		if v.TotalCount == 0 {
			t.Errorf("demo data has no customer for %s", k)
		}
	}
	// The demo partner's key, kept for `make partner-key`, reads the shared
	// customers only, masked.
	key, err := os.ReadFile(filepath.Join(dir, "local", "demo-partner-key"))
	if err != nil {
		t.Fatal(err)
	}
	var partner struct {
		Data struct {
			Me        struct{ Roles []string }
			Customers struct {
				TotalCount int
				Edges      []struct{ Node struct{ Phones []string } }
			}
		}
		Errors []any
	}
	partnerQuery(t, base, strings.TrimSpace(string(key)), `{ me { roles } customers(first: 5) { totalCount edges { node { phones } } } }`, &partner)
	if n := partner.Data.Customers.TotalCount; n < 10 || n >= out.Data.All.TotalCount || len(partner.Data.Customers.Edges) == 0 ||
		!strings.Contains(partner.Data.Customers.Edges[0].Node.Phones[0], "****") {
		t.Errorf("demo partner sees %+v (errors %v)", partner.Data, partner.Errors)
	}

	t.Run("DomainEventsFile", func(t *testing.T) {
		checkEventsFile(t, filepath.Join(dir, "local", "events.jsonl"), out.Data.All.TotalCount)
	})
	t.Run("MakeTokenReadsTheDirectory", func(t *testing.T) { checkMakeToken(t, base, port, filepath.Join(dir, "local"), token) })
	t.Run("GraphiQL", func(t *testing.T) { checkGraphiQL(t, base) })
	t.Run("PartnerPortalExample", func(t *testing.T) {
		checkPartnerPortal(t, base, strings.TrimSpace(string(key)), partner.Data.Customers.TotalCount)
	})

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after Ctrl-C: %v\n%s", err, logs.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("server did not stop on Ctrl-C")
	}
}

func query(t *testing.T, base, token, q string, out any) {
	t.Helper()
	post(t, base+"/graphql", "Authorization", "Bearer "+token, q, out)
}

func partnerQuery(t *testing.T, base, key, q string, out any) {
	t.Helper()
	post(t, base+"/partner/graphql", "X-Api-Key", key, q, out)
}

// post sends a GraphQL query with one credential header.
func post(t *testing.T, url, header, value, q string, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": q})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(header, value)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// servingRE finds the port in the server's "serving" banner.
var servingRE = regexp.MustCompile(`GraphQL +http://localhost:(\d+)/graphql`)

// syncBuffer is written by the server process's output copier while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// checkEventsFile waits (generously: the stream is polled beside a
// loaded machine's other work) for the seed's creations in the local
// events file, each customer created by one event.
func checkEventsFile(t *testing.T, path string, customers int) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		evs, err := events.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// A subscriber drops ids it has seen (a batch may come again).
		created, seen := map[string]int{}, map[string]bool{}
		for _, e := range evs {
			if e.Type == events.CustomerCreated && !seen[e.ID] {
				seen[e.ID] = true
				created[e.Subject]++
			}
		}
		if len(created) >= customers {
			for id, n := range created {
				if n != 1 {
					t.Errorf("customer %s created %d times", id, n)
				}
			}
			t.Logf("%d events in %s", len(evs), path)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d customers created in %s, want %d", len(created), path, customers)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
