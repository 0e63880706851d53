package resolvers

import (
	"context"
	"net/http"
	"sync"

	"github.com/rapportcrm/rapport/crm"
)

// Per-request batch loaders: fields loaded by key (an interaction's
// customer, a customer's latest interaction) are gathered from the
// resolvers asking together and read with one BatchGetItem, instead of one
// read per parent (batchloader.go says when a batch goes). They live in
// the request context, never in package state: a warm Lambda serves many
// callers, and a loader caches what one caller may read.
type loaders struct {
	customer    *loader[string, *crm.Customer]
	interaction *loader[crm.InteractionKey, *crm.Interaction]
	// listed holds customers a list read without their activity: enough
	// to authorize their nested fields, not to show the customer again.
	listed     sync.Map // id → *crm.Customer
	department *loader[string, *crm.Department]
	workload   *loader[string, *crm.Workload]
	credit     *loader[string, *crm.CreditState]
}

// batchCapacity is BatchGetItem's limit.
const batchCapacity = 100

func newLoaders(svc *crm.Service) *loaders {
	l := &loaders{}
	l.customer = newLoader(svc.CustomersByID, batchCapacity)
	l.interaction = newLoader(func(ctx context.Context, keys []crm.InteractionKey) ([]*crm.Interaction, []error) {
		return svc.InteractionsByKey(ctx, keys, l.customer.LoadAll)
	}, batchCapacity)
	l.department = newLoader(svc.DepartmentsByID, batchCapacity)
	// Two counters per user: 50 users fill a BatchGetItem.
	l.workload = newLoader(svc.Workloads, batchCapacity/2)
	l.credit = newLoader(svc.CustomerCredits, batchCapacity)
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
		ctx = crm.WithCustomerLookup(ctx, l.lookup)
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

// lookup finds a customer for authorization: one the request listed, or
// through the customer loader.
func (l *loaders) lookup(ctx context.Context, id string) (*crm.Customer, error) {
	if c, ok := l.listed.Load(id); ok {
		return c.(*crm.Customer), nil
	}
	return l.customer.Load(ctx, id)
}

// primeListed keeps customers a list read without their activity for
// authorization only.
func (l *loaders) primeListed(cs []*crm.Customer) {
	for _, c := range cs {
		l.listed.Store(c.ID, c)
	}
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
