package server_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/server"
)

// BenchmarkLimits measures what refusing each kind of oversized request
// costs the server, end to end through the HTTP handler (no network, no
// DynamoDB: every one is refused before a resolver runs). make
// measure-limits prints these figures; the point is milliseconds or less
// per refusal, where gqlgen's validation alone took seconds on the same
// documents before the shape check ran first.
func BenchmarkLimits(b *testing.B) {
	h := server.New(&crm.Service{Now: time.Now}, headerAuth{}, slog.New(slog.DiscardHandler), server.Options{WithoutDirectory: true})
	docs := oversizedDocuments()
	names := make([]string, 0, len(docs))
	for name := range docs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		body, _ := json.Marshal(map[string]any{"query": docs[name]})
		b.Run(name, func(b *testing.B) { benchRefusal(b, h, string(body), http.StatusOK) })
	}
	batch, _ := json.Marshal([]map[string]any{{"query": "{ me { id } }"}, {"query": "{ me { id } }"}})
	b.Run("Batch", func(b *testing.B) { benchRefusal(b, h, string(batch), http.StatusOK) })
	big := `{"query":"{ me { id } }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
	b.Run("Body2MiB", func(b *testing.B) { benchRefusal(b, h, big, http.StatusRequestEntityTooLarge) })

	// The largest document the shape check lets through: 500 fields that
	// validation compares pairwise. Each iteration differs by a comment so
	// that it misses the query cache and is validated afresh.
	largest := "{ me { " + strings.Repeat("id ", maxFieldsInBench-1) + "} }"
	b.Run("LargestAcceptedUncached", func(b *testing.B) {
		i := 0
		benchRequests(b, h, func() string {
			i++
			q, _ := json.Marshal(map[string]any{"query": fmt.Sprintf("%s # %d", largest, i)})
			return string(q)
		}, http.StatusOK)
	})
}

// maxFieldsInBench is the server's field limit: me plus 499 ids.
const maxFieldsInBench = 500

func benchRefusal(b *testing.B, h http.Handler, body string, status int) {
	benchRequests(b, h, func() string { return body }, status)
}

func benchRequests(b *testing.B, h http.Handler, body func() string, status int) {
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body()))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-User", "admin")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != status {
			b.Fatalf("status %d, want %d: %.300s", rec.Code, status, rec.Body)
		}
		n++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(n), "ms/request")
}
