package main

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser: $RAPPORT_CHROMIUM, or Debian's chromium on
// PATH (.ci/run installs it when missing). Without one the test fails:
// GraphiQL is what a new user sees first.
func chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("RAPPORT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Fatal("the GraphiQL test needs Chromium: apt-get install chromium (.ci/run does), or set RAPPORT_CHROMIUM")
	return ""
}

// browserRequests records every request the page makes, lets those to
// this machine through and fails the others.
type browserRequests struct {
	mu            sync.Mutex
	all, offsite  []string
	introspection string // the body of GraphiQL's schema request
}

// serve answers the browser's paused requests until ctx ends.
func (b *browserRequests) serve(ctx context.Context, paused iter.Seq2[fetch.EventRequestPaused, error]) {
	for e, err := range paused {
		if err != nil {
			return
		}
		u, perr := url.Parse(e.Request.URL)
		local := perr == nil && isLoopback(u.Hostname())
		var body bytes.Buffer
		for _, p := range e.Request.PostDataEntries {
			body.Write(p.Bytes)
		}
		b.mu.Lock()
		b.all = append(b.all, e.Request.Method+" "+e.Request.URL)
		if !local {
			b.offsite = append(b.offsite, e.Request.URL)
		}
		if strings.Contains(body.String(), `"operationName":"IntrospectionQuery"`) {
			b.introspection = body.String()
		}
		b.mu.Unlock()
		if local {
			_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
		} else {
			_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		}
	}
}

// docsText is a script returning the Docs pane's text once it shows want.
func docsText(want string) string {
	return `(() => {
		const t = document.querySelector('.graphiql-doc-explorer')?.innerText ?? '';
		return t.includes('` + want + `') ? t : null;
	})()`
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkGraphiQL opens GraphiQL at base in headless Chromium, as a new user
// does after `make run`: the editor comes up, `{ me { id } }` answers as
// the demo admin the page is signed in as, the Docs pane lists the schema
// (GraphiQL read it by introspection, with the very query the server tests
// send), and every request the page made went to this machine.
func checkGraphiQL(t *testing.T, base string) {
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	// Generous: a loaded machine with the race detector on runs a browser
	// slowly; every step below waits for what it needs.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	// Every request the page makes pauses until serve lets it go on.
	reqs := &browserRequests{}
	go reqs.serve(ctx, chromedp.Events(ctx, fetch.RequestPaused))
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
		t.Fatal(err)
	}
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			// What the page showed (kept with go test -artifacts).
			if png, serr := chromedp.Run(ctx, chromedp.CaptureScreenshot()); serr == nil {
				shot := filepath.Join(t.ArtifactDir(), "graphiql.png")
				if os.WriteFile(shot, png, 0o644) == nil {
					t.Logf("screenshot: %s", shot)
				}
			}
			reqs.mu.Lock()
			defer reqs.mu.Unlock()
			t.Fatalf("GraphiQL in Chromium: %s: %v\nrequests: %v", what, err, reqs.all)
		}
	}
	step("open the page and run { me { id } }", chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('{ me { id } }')`),
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
	))
	answer, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
		const v = document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue();
		return v.includes('"data"') || v.includes('"errors"') ? v : null;
	})()`, chromedp.WithPollingTimeout(2*time.Minute)))
	step("read the answer", err)
	// The Docs pane: the root types and every type, then the Query
	// type's fields, as GraphiQL read them.
	step("open Docs", chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[aria-label$="Documentation Explorer"]`))))
	rootDocs, err := chromedp.Run(ctx, chromedp.Poll[string](docsText("Mutation"), chromedp.WithPollingTimeout(time.Minute)))
	step("read Docs", err)
	step("open the Query type", chromedp.Do(ctx, chromedp.Click(chromedp.Search(`//a[contains(@class, "graphiql-doc-explorer-type-name") and text()="Query"]`))))
	queryDocs, err := chromedp.Run(ctx, chromedp.Poll[string](docsText("customer360"), chromedp.WithPollingTimeout(time.Minute)))
	step("read the Query type", err)

	var got struct {
		Data struct{ Me struct{ ID string } }
	}
	if err := json.Unmarshal([]byte(answer), &got); err != nil || got.Data.Me.ID != "admin" {
		t.Errorf("{ me { id } } in GraphiQL answered %s", answer)
	}
	for docs, want := range map[*string][]string{&rootDocs: {"Query", "Mutation", "Customer", "Interaction"}, &queryDocs: {"customers", "customer360", "analytics"}} {
		for _, w := range want {
			if !strings.Contains(*docs, w) {
				t.Errorf("the Docs pane lacks %s:\n%.2000s", w, *docs)
			}
		}
	}
	reqs.mu.Lock()
	defer reqs.mu.Unlock()
	if len(reqs.offsite) > 0 {
		t.Errorf("GraphiQL asked for %d resources off this machine: %v", len(reqs.offsite), reqs.offsite)
	}
	var sent struct{ Query string }
	want, err := os.ReadFile("../../server/testdata/graphiql-4.1.2-introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	if json.Unmarshal([]byte(reqs.introspection), &sent) != nil || sent.Query != string(want) {
		t.Errorf("GraphiQL's introspection query is not the one the server tests send (server/testdata):\n%.500s", reqs.introspection)
	}
	t.Logf("GraphiQL made %d requests, all to this machine: %v", len(reqs.all), reqs.all)
}
