package resolvers

import (
	"context"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

// view360 converts a 360 view (customer360, the screen pops), priming the
// request's loaders with what it read.
func (r *Resolver) view360(ctx context.Context, v *crm.Customer360) *model.Customer360 {
	r.loadersFor(ctx).prime360(v)
	return &model.Customer360{
		Customer:           toCustomer(v.Customer),
		Contacts:           nonNil(mapAll(v.Contacts, toContact)),
		RecentInteractions: nonNil(mapAll(v.RecentInteractions, toInteraction)),
	}
}
