// Package server is Rapport's HTTP handler: the GraphQL endpoint with its
// authentication, limits and error policy, and a health check. The local
// server and the Lambda function serve the very same handler; the local
// server adds GraphiQL (server/graphiql), which the Lambda function does
// not link.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/generated"
	"github.com/rapportcrm/rapport/resolvers"
	"github.com/rapportcrm/rapport/webhooks"
)

// Authenticator turns a request's credentials into a user.
type Authenticator interface {
	Authenticate(*http.Request) (*crm.User, error)
}

// Options tune the handler; zero values take the defaults.
type Options struct {
	// Introspection allows __schema queries, suggestions and the full
	// detail of validation errors (withhold.go).
	Introspection bool
	// RequestTimeout bounds one request (default 10 s).
	RequestTimeout time.Duration
	// MaxBodyBytes bounds a request body (default 1 MiB).
	MaxBodyBytes int64
	// Metrics, when not nil, writes each GraphQL request's metrics.
	Metrics *Metrics
	// WithoutDirectory serves staff callers as their credentials say,
	// without signing them in to the user directory (crm.Service.SignIn): only
	// for tests of the HTTP edge whose service has no store.
	WithoutDirectory bool
	// Webhooks serves the partner webhooks' fields; nil answers them
	// UNAVAILABLE.
	Webhooks *webhooks.Service
}

const (
	defaultTimeout = 10 * time.Second
	defaultMaxBody = 1 << 20
)

// New returns the HTTP handler serving /graphql, PartnerPath (the same API
// for partner portals) and /healthz.
func New(svc *crm.Service, auth Authenticator, log *slog.Logger, opts Options) http.Handler {
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = defaultTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = defaultMaxBody
	}
	complexity := resolvers.Complexity()
	exec := executor.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  &resolvers.Resolver{Service: svc, Webhooks: opts.Webhooks},
		Complexity: complexity,
	}))
	useLimits(exec, opts.Introspection, pricedFields(&complexity))
	exec.AroundRootFields(auditScope)
	exec.SetErrorPresenter(presentError(log, opts.Introspection))
	exec.SetRecoverFunc(recoverPanic(log))
	if opts.Metrics != nil {
		exec.AroundResponses(noteOutcome)
	}
	gql := graphqlHandler{exec: exec}

	api := opts.Metrics.Handler(withRequestID(log, withTimeout(opts.RequestTimeout,
		authenticate(auth, log, checkRequest(opts.MaxBodyBytes, log, signIn(svc, log, opts, resolvers.WithLoaders(svc, gql)))))))

	return routes(api)
}

// routes serves api at /graphql and PartnerPath and healthz at GET
// /healthz. Registering a pattern on a ServeMux calls runtime.Caller (for
// its conflict messages), which cost about 1% of the api's cold start for
// three patterns; so the three routes are matched here, and every other
// request goes to a ServeMux holding the same patterns, made when such a
// request first comes, so that not-found and method-not-allowed answers
// and path redirects stay ServeMux's own. A request taken here is one the
// ServeMux would give the same handler (its path needs no cleaning, and
// the patterns name no host).
func routes(api http.Handler) http.Handler {
	mux := sync.OnceValue(func() *http.ServeMux {
		mux := http.NewServeMux()
		mux.Handle("/graphql", api)
		mux.Handle(PartnerPath, api)
		mux.HandleFunc("GET /healthz", healthz)
		return mux
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodConnect && (r.URL.Path == "/graphql" || r.URL.Path == PartnerPath):
			api.ServeHTTP(w, r)
		case (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/healthz":
			healthz(w, r)
		default:
			mux().ServeHTTP(w, r)
		}
	})
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

// auditScope tags a mutation's writes with its name and the request id,
// for the audit entries the store writes with them.
func auditScope(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	// RootFieldContext.Object holds the field's name, not its type, for
	// mutations: the operation says what kind it is.
	oc := graphql.GetOperationContext(ctx)
	if rc := graphql.GetRootFieldContext(ctx); rc != nil && oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		ctx = crm.WithAuditScope(ctx, crm.AuditScope{Operation: rc.Field.Name, RequestID: RequestID(ctx)})
	}
	return next(ctx)
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// RequestID returns the id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// logger returns the request's logger: the server's, with the request id
// on every line.
func logger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(requestLogger); ok {
		return l.log.With("requestId", l.id)
	}
	return fallback
}

// requestLogger is the server's logger and a request's id; the logger
// with the id is made only when the request logs something besides its
// last line (an error, a refusal), not on every request.
type requestLogger struct {
	log *slog.Logger
	id  string
}

// withRequestID takes the caller's X-Request-Id (API Gateway and the Lambda
// adapter set one) or makes one, and returns it in the response.
func withRequestID(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 128 {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, loggerKey, requestLogger{log: log, id: id})
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		// The id first, as log.With would have put it.
		log.InfoContext(ctx, "request", "requestId", id, "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"durationMs", time.Since(start).Milliseconds())
	})
}

// statusWriter remembers the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// timeoutKey holds the request's time limit, which error messages name.
type timeoutKey struct{}

func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), timeoutKey{}, d), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authenticate puts the caller into the context. A user already there was
// put by the Lambda adapter from API Gateway's verified authorizer claims.
func authenticate(auth Authenticator, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if crm.UserFromContext(r.Context()) != nil {
			next.ServeHTTP(w, r)
			return
		}
		u, err := auth.Authenticate(r)
		switch {
		case crm.ErrorCode(err) == crm.EUNAVAILABLE:
			// The identity provider's keys could not be fetched: the
			// caller's credentials may be fine, so ask them to retry.
			writeError(w, r, log, http.StatusServiceUnavailable, err)
		case err != nil || u == nil || u.ID == "":
			writeError(w, r, log, http.StatusUnauthorized, unauthenticated(r, log, err))
		default:
			next.ServeHTTP(w, r.WithContext(crm.NewContextWithUser(r.Context(), u)))
		}
	})
}
