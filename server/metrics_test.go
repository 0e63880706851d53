package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/metrics/emftest"
	"github.com/rapportcrm/rapport/server"
)

// metricsEnv serves the API with request metrics on, over a DynamoDB client
// that is metered (dynamo.Metered) and whose calls the test also counts.
type metricsEnv struct {
	srv   *httptest.Server
	out   *lockedWriter
	buf   *bytes.Buffer
	mu    sync.Mutex
	calls int
}

func mustMetricsEnv(tb testing.TB, version string) *metricsEnv {
	tb.Helper()
	e := &metricsEnv{buf: &bytes.Buffer{}}
	e.out = &lockedWriter{w: e.buf}
	db := dynamodb.New(ddbtest.Client(tb).Options(), dynamo.Metered, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					e.mu.Lock()
					e.calls++
					e.mu.Unlock()
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	})
	svc := crm.NewService(dynamo.New(db, ddbtest.NewTable(tb, "CrmTable"), []byte(strings.Repeat("s", 32))))
	svc.DirectoryTTL = time.Hour
	mustDirectory(tb, svc)
	log := slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))
	e.srv = httptest.NewServer(server.New(svc, headerAuth{}, log, server.Options{
		Metrics: server.NewMetrics(e.out, "Rapport/test", version),
	}))
	tb.Cleanup(e.srv.Close)
	return e
}

// post sends body to path as user and returns the EMF documents the request
// wrote and the DynamoDB calls it made.
func (e *metricsEnv) post(tb testing.TB, path, user, body string) ([]emftest.Doc, int) {
	tb.Helper()
	e.mu.Lock()
	e.calls = 0
	e.mu.Unlock()
	e.out.mu.Lock()
	e.buf.Reset()
	e.out.mu.Unlock()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	e.out.mu.Lock()
	out := e.buf.String()
	e.out.mu.Unlock()
	docs, err := emftest.Lines(out)
	if err != nil {
		tb.Fatalf("%s: %v", body, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return docs, e.calls
}

func gqlBody(query string, vars map[string]any) string {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return string(b)
}

func TestEachGraphQLRequestWritesOneEMFLineByOperationAndCode(t *testing.T) {
	e := mustMetricsEnv(t, "7")
	create := gqlBody(createCustomer, map[string]any{"in": map[string]any{"kind": "ORGANIZATION", "name": "Metric Ltd"}})
	for _, tc := range []struct {
		name, path, user, body string
		operation, code        string
		errors                 float64
		dynamo                 bool // the request reaches DynamoDB
		// foundNothing: its one read found no item, which DynamoDB Local
		// reports as no capacity (AWS bills the minimum).
		foundNothing bool
	}{
		{"Mutation", "/graphql", "admin", create, "createCustomer", "OK", 0, true, false},
		{"Query", "/graphql", "admin", gqlBody(`{ customers(first: 5) { edges { node { id } } } }`, nil), "customers", "OK", 0, true, false},
		{"DomainError", "/graphql", "sales1", gqlBody(`mutation { claimCustomer(customerId: "nobody") { id } }`, nil), "claimCustomer", crm.ENOTFOUND, 1, true, true},
		{"SeveralRootFields", "/graphql", "admin", gqlBody(`{ me { id } customers(first: 1) { edges { node { id } } } }`, nil), "(multiple)", "OK", 0, true, false},
		{"Unauthenticated", "/graphql", "", gqlBody(`{ me { id } }`, nil), "(none)", crm.EUNAUTHORIZED, 1, false, false},
		{"InvalidDocument", "/graphql", "admin", gqlBody(`{ noSuchField }`, nil), "(none)", "GRAPHQL_VALIDATION_FAILED", 1, false, false},
		{"PartnerRoute", server.PartnerPath, "", gqlBody(`{ me { id } }`, nil), "(none)", crm.EUNAUTHORIZED, 1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs, calls := e.post(t, tc.path, tc.user, tc.body)
			if len(docs) != 1 {
				t.Fatalf("%d EMF lines, want 1", len(docs))
			}
			d := docs[0]
			r := d.Root
			if r["Operation"] != tc.operation || r["Code"] != tc.code || r["Service"] != "api" || r["Version"] != "7" {
				t.Errorf("dimensions Operation=%v Code=%v Service=%v Version=%v, want %s %s api 7",
					r["Operation"], r["Code"], r["Service"], r["Version"], tc.operation, tc.code)
			}
			if r["Requests"] != 1.0 || r["Errors"] != tc.errors {
				t.Errorf("Requests %v Errors %v, want 1 and %v", r["Requests"], r["Errors"], tc.errors)
			}
			if r["DynamoDBCalls"] != float64(calls) || (calls > 0) != tc.dynamo {
				t.Errorf("DynamoDBCalls %v, the client made %d", r["DynamoDBCalls"], calls)
			}
			if tc.dynamo && !tc.foundNothing && r["ConsumedReadCapacity"].(float64)+r["ConsumedWriteCapacity"].(float64) <= 0 {
				t.Errorf("no capacity reported for %d calls: read %v write %v", calls, r["ConsumedReadCapacity"], r["ConsumedWriteCapacity"])
			}
			if r["requestId"] == "" || r["path"] != tc.path {
				t.Errorf("requestId %v path %v", r["requestId"], r["path"])
			}
			for _, c := range []struct {
				metric string
				dims   []string
			}{
				{"Requests", []string{"Operation", "Code"}},
				{"Requests", []string{"Code"}},
				{"Requests", []string{"Version", "Code"}},
				{"Requests", []string{"Service"}},
				{"Errors", []string{"Service"}},
				{"Latency", []string{"Service"}},
				{"DynamoDBCalls", []string{"Service"}},
				{"ConsumedReadCapacity", []string{"Service"}},
				{"ConsumedWriteCapacity", []string{"Service"}},
				{"WritesLeftToStream", []string{"Service"}},
			} {
				if !d.Has(c.metric, c.dims...) {
					t.Errorf("%s is not published by %v", c.metric, c.dims)
				}
			}
			if d.Has("Latency", "Operation", "Code") || d.Has("DynamoDBCalls", "Operation") {
				t.Error("per-operation latency or capacity published as metrics: one series per operation each")
			}
		})
	}
	t.Run("WritesCountWriteCapacity", func(t *testing.T) {
		docs, _ := e.post(t, "/graphql", "admin", create)
		if len(docs) != 1 || docs[0].Root["ConsumedWriteCapacity"].(float64) <= 0 {
			t.Errorf("a created customer consumed no write capacity: %+v", docs)
		}
	})
	t.Run("HealthChecksAreNotCounted", func(t *testing.T) {
		e.out.mu.Lock()
		e.buf.Reset()
		e.out.mu.Unlock()
		res, err := http.Get(e.srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// A request's line is written before its response is sent.
		e.out.mu.Lock()
		defer e.out.mu.Unlock()
		if strings.Contains(e.buf.String(), "/healthz") {
			t.Errorf("health check measured: %s", e.buf.String())
		}
	})
}

func TestWithoutAVersionNoVersionSeriesIsPublished(t *testing.T) {
	e := mustMetricsEnv(t, "")
	docs, _ := e.post(t, "/graphql", "admin", gqlBody(`{ me { id } }`, nil))
	if len(docs) != 1 {
		t.Fatalf("%d lines", len(docs))
	}
	if _, ok := docs[0].Root["Version"]; ok || docs[0].Has("Requests", "Version", "Code") {
		t.Errorf("a Version series outside Lambda: %v", docs[0].Root)
	}
}
