package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/metrics"
)

// Metrics writes one CloudWatch embedded metric format line per GraphQL
// request: the request under its operation (the root field it asked for)
// and its outcome code (OK, or the error code it was answered with), its
// latency, and the DynamoDB calls it made with the capacity they consumed
// (dynamo.Metered counts them). The series it publishes, all in one
// namespace (template.yaml gives each stack its own):
//
//	Requests       by Operation+Code, by Code, by Version+Code, by Service
//	Errors, Latency, DynamoDBCalls, ConsumedReadCapacity,
//	ConsumedWriteCapacity, WritesLeftToStream           by Service
//
// WritesLeftToStream counts the writes a request left to the stream
// consumer: an appended interaction's audit entry or case whose put failed
// after the interaction was written (the consumer writes it a second or
// two later). Anything but a rare 1 says the table is refusing writes.
//
// Operation is a schema field name, never the client's operation name, so
// the series stay few. Per-operation latency and capacity are in the log
// lines themselves (CloudWatch Logs Insights), not published as metrics.
// Version (the Lambda function version) lets a deployment's alarms watch
// the version being rolled out.
type Metrics struct {
	emf     *metrics.Writer
	version string
}

// Dimension values.
const (
	serviceAPI    = "api"
	opNone        = "(none)"     // refused before an operation was read
	opMultiple    = "(multiple)" // several root fields in one operation
	codeOK        = "OK"
	maxErrorBytes = 64 << 10 // error bodies read for their code
)

// NewMetrics returns the request metrics written to w in namespace, or nil
// (no metrics) when namespace is empty. version is the Lambda function
// version serving the requests, empty outside Lambda.
func NewMetrics(w io.Writer, namespace, version string) *Metrics {
	if namespace == "" {
		return nil
	}
	return &Metrics{emf: metrics.NewWriter(w, namespace), version: version}
}

// outcome is what GraphQL execution reports about one request.
type outcome struct {
	mu        sync.Mutex
	operation string
	code      string
	errors    int
}

type outcomeKey struct{}

// noteOutcome records the operation a response answered and its errors'
// codes in the request's outcome.
func noteOutcome(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	o, _ := ctx.Value(outcomeKey{}).(*outcome)
	if o == nil || resp == nil {
		return resp
	}
	op := opNone
	if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil {
		op = rootField(oc)
	}
	code := codeOK
	for _, e := range resp.Errors {
		c, _ := e.Extensions["code"].(string)
		code = worse(code, c)
	}
	o.mu.Lock()
	o.operation, o.code, o.errors = op, code, len(resp.Errors)
	o.mu.Unlock()
	return resp
}

// rootField names an operation by its root field, or opMultiple.
func rootField(oc *graphql.OperationContext) string {
	typ := "Query"
	if oc.Operation.Operation == ast.Mutation {
		typ = "Mutation"
	}
	fields := graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{typ})
	switch len(fields) {
	case 0:
		return opNone
	case 1:
		return fields[0].Name
	}
	return opMultiple
}

// worse picks the code a request is counted under when it has several:
// INTERNAL, then UNAVAILABLE, then the first error's.
func worse(current, next string) string {
	switch {
	case next == "":
		next = crm.EINTERNAL
	case current == codeOK:
		return next
	}
	for _, c := range []string{crm.EINTERNAL, crm.EUNAVAILABLE} {
		if current == c || next == c {
			return c
		}
	}
	return current
}

// Handler measures each GraphQL request next serves. A nil Metrics
// measures nothing.
func (m *Metrics) Handler(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" && r.URL.Path != PartnerPath {
			next.ServeHTTP(w, r)
			return
		}
		o, u := &outcome{}, &metrics.Usage{}
		ctx := metrics.WithUsage(context.WithValue(r.Context(), outcomeKey{}, o), u)
		cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(cw, r.WithContext(ctx))
		m.write(r, cw, o, u, time.Since(start))
	})
}

func (m *Metrics) write(r *http.Request, cw *captureWriter, o *outcome, u *metrics.Usage, took time.Duration) {
	o.mu.Lock()
	op, code, errs := o.operation, o.code, o.errors
	o.mu.Unlock()
	if op == "" {
		// Refused before execution (authentication, limits, parsing):
		// the body names the code.
		op, code, errs = opNone, cw.errorCode(), 0
		if code != codeOK {
			errs = 1
		}
	}
	calls, read, write := u.Totals()
	dims := map[string]string{"Service": serviceAPI, "Operation": op, "Code": code}
	byCode := [][]string{{"Operation", "Code"}, {"Code"}, {"Service"}}
	if m.version != "" {
		dims["Version"] = m.version
		byCode = append(byCode, []string{"Version", "Code"})
	}
	_ = m.emf.Write(metrics.Doc{
		Dimensions: dims,
		Metrics: []metrics.Metric{
			{Name: "Requests", Unit: metrics.Count, Value: 1},
			{Name: "Errors", Unit: metrics.Count, Value: float64(errs)},
			{Name: "Latency", Unit: metrics.Milliseconds, Value: float64(took.Microseconds()) / 1000},
			{Name: "DynamoDBCalls", Unit: metrics.Count, Value: float64(calls)},
			{Name: "ConsumedReadCapacity", Unit: metrics.Count, Value: read},
			{Name: "ConsumedWriteCapacity", Unit: metrics.Count, Value: write},
			{Name: "WritesLeftToStream", Unit: metrics.Count, Value: float64(u.LeftToStream())},
		},
		Sets: []metrics.Set{
			{Dimensions: byCode, Metrics: []string{"Requests"}},
			{Dimensions: [][]string{{"Service"}}, Metrics: []string{
				"Errors", "Latency", "DynamoDBCalls", "ConsumedReadCapacity", "ConsumedWriteCapacity",
				"WritesLeftToStream"}},
		},
		Properties: map[string]any{
			"requestId": cw.Header().Get("X-Request-Id"),
			"path":      r.URL.Path,
			"status":    cw.status,
		},
	})
}

// captureWriter remembers the status and keeps the start of an error body.
type captureWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (w *captureWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.status >= 400 && w.body.Len() < maxErrorBytes {
		w.body.Write(p[:min(len(p), maxErrorBytes-w.body.Len())])
	}
	return w.ResponseWriter.Write(p)
}

// errorCode is the code of a refusal written outside GraphQL execution
// (writeError's body, or gqlgen's for a document it could not parse or
// validate); OK for a success.
func (w *captureWriter) errorCode() string {
	if w.status < 400 {
		return codeOK
	}
	var body struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	if json.Unmarshal(w.body.Bytes(), &body) == nil && len(body.Errors) > 0 && body.Errors[0].Extensions.Code != "" {
		return body.Errors[0].Extensions.Code
	}
	return "HTTP_" + strconv.Itoa(w.status)
}
