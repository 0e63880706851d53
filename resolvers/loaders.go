package resolvers

import (
	"context"
	"net/http"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/rapportcrm/rapport/crm"
)

// Per-request batch loaders: fields loaded by key (an interaction's
// customer, a customer's latest interaction) are collected for a moment and
// read with one BatchGetItem, instead of one read per parent. They live in
// the request context, never in package state: a warm Lambda serves many
// callers, and a loader caches what one caller may read.
type loaders struct {
	customer    *dataloadgen.Loader[string, *crm.Customer]
	interaction *dataloadgen.Loader[crm.InteractionKey, *crm.Interaction]
	department  *dataloadgen.Loader[string, *crm.Department]
	workload    *dataloadgen.Loader[string, *crm.Workload]
}

// batchCapacity is BatchGetItem's limit; loadWait is how long a loader
// collects keys from sibling resolvers before it reads.
const (
	batchCapacity = 100
	loadWait      = 5 * time.Millisecond
)

func newLoaders(svc *crm.Service) *loaders {
	l := &loaders{}
	l.customer = dataloadgen.NewLoader(svc.CustomersByID,
		dataloadgen.WithBatchCapacity(batchCapacity), dataloadgen.WithWait(loadWait))
	l.interaction = dataloadgen.NewLoader(func(ctx context.Context, keys []crm.InteractionKey) ([]*crm.Interaction, []error) {
		return svc.InteractionsByKey(ctx, keys, l.customer.LoadAll)
	}, dataloadgen.WithBatchCapacity(batchCapacity), dataloadgen.WithWait(loadWait))
	l.department = dataloadgen.NewLoader(svc.DepartmentsByID,
		dataloadgen.WithBatchCapacity(batchCapacity), dataloadgen.WithWait(loadWait))
	// Two counters per user: 50 users fill a BatchGetItem.
	l.workload = dataloadgen.NewLoader(svc.Workloads,
		dataloadgen.WithBatchCapacity(batchCapacity/2), dataloadgen.WithWait(loadWait))
	return l
}

type loadersKey struct{}

// WithLoaders gives every request its own loaders.
func WithLoaders(svc *crm.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := newLoaders(svc)
		ctx := context.WithValue(r.Context(), loadersKey{}, l)
		// A customer's nested lists authorize through the customers this
		// request already loaded, batched, instead of one read per parent.
		ctx = crm.WithCustomerLookup(ctx, l.customer.Load)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// loadersFor returns the request's loaders; a context without them (a
// test calling a resolver directly) gets fresh ones, which still batch.
func (r *Resolver) loadersFor(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(r.Service)
}

// prime360 puts what a 360 view read into the request's loaders, so that
// the customer's latestInteraction and the recent interactions' customer
// are answered from that one read.
func (l *loaders) prime360(v *crm.Customer360) {
	l.customer.Prime(v.Customer.ID, v.Customer)
	for _, it := range v.RecentInteractions {
		l.interaction.Prime(crm.InteractionKey{CustomerID: it.CustomerID, ID: it.ID}, it)
	}
}
