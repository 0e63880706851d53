package server

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/crm"
)

// Persisted queries (Apollo's automatic persisted queries, over GET and
// POST): a client sends the SHA-256 of its query in
// extensions.persistedQuery; an unknown hash is answered with
// PERSISTED_QUERY_NOT_FOUND, and the client sends query and hash together
// once, after which the hash alone runs the query. Both caches are LRUs of
// a fixed number of entries, and queries longer than maxCachedQueryBytes
// are never cached, so a warm instance holds at most about
// cacheEntries * maxCachedQueryBytes of queries in each.
const (
	persistedQueryEntries = 1000
	maxCachedQueryBytes   = 32 << 10
)

// persistedQueries is gqlgen's AutomaticPersistedQuery with two changes:
// its errors carry a code (gqlgen leaves the malformed-extension and
// hash-mismatch errors without one, which the error policy would hide as
// INTERNAL), and a query is registered only once the whole request passed
// parsing, validation and every limit (persistQuery, installed last), so
// the cache holds only queries that run.
type persistedQueries struct {
	extension.AutomaticPersistedQuery
}

// persistQuery registers the query that persistedQueries held back; it must
// be the last operation context mutator, so that it runs only when all
// others accepted the operation.
type persistQuery struct {
	cache graphql.Cache[string]
}

var (
	_ graphql.OperationParameterMutator = persistedQueries{}
	_ graphql.OperationContextMutator   = persistQuery{}
)

// newPersistedQueries returns the pair of extensions sharing one cache.
func newPersistedQueries() (persistedQueries, persistQuery) {
	cache := lru.New[string](persistedQueryEntries)
	return persistedQueries{extension.AutomaticPersistedQuery{Cache: heldBack{cache}}}, persistQuery{cache: cache}
}

func (persistedQueries) ExtensionName() string { return "PersistedQueries" }

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	err := p.AutomaticPersistedQuery.MutateOperationParameters(ctx, raw)
	if err == nil || err.Extensions["code"] != nil {
		return err
	}
	field := "extensions.persistedQuery"
	if strings.Contains(err.Message, "hash") {
		field += ".sha256Hash"
	} else if strings.Contains(err.Message, "version") {
		field += ".version"
	}
	err.Message = field + ": " + err.Message
	errcode.Set(err, crm.EINVALID)
	err.Extensions["field"] = field
	return err
}

func (persistQuery) ExtensionName() string { return "PersistQuery" }

func (persistQuery) Validate(graphql.ExecutableSchema) error { return nil }

func (p persistQuery) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if q, ok := oc.Stats.GetExtension(pendingQueryStat).(pendingQuery); ok {
		p.cache.Add(ctx, q.hash, q.query)
	}
	return nil
}

const pendingQueryStat = "rapport.pendingPersistedQuery"

type pendingQuery struct{ hash, query string }

// heldBack is the cache gqlgen's extension sees: lookups go to the LRU,
// registrations are held in the operation's stats for persistQuery.
type heldBack struct {
	graphql.Cache[string]
}

func (h heldBack) Add(ctx context.Context, hash, query string) {
	if len(query) > maxCachedQueryBytes {
		return
	}
	if graphql.HasOperationContext(ctx) {
		graphql.GetOperationContext(ctx).Stats.SetExtension(pendingQueryStat, pendingQuery{hash: hash, query: query})
	}
}

// smallQueries caches parsed documents of queries up to
// maxCachedQueryBytes; longer ones are parsed on every request.
type smallQueries[T any] struct {
	graphql.Cache[T]
}

func (c smallQueries[T]) Add(ctx context.Context, query string, v T) {
	if len(query) <= maxCachedQueryBytes {
		c.Cache.Add(ctx, query, v)
	}
}
