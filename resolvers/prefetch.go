package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rapportcrm/rapport/crm"
)

// selects reports whether the query selects path below the current field,
// through fragments too.
func selects(ctx context.Context, path ...string) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || !graphql.HasOperationContext(ctx) {
		return false
	}
	return reaches(graphql.GetOperationContext(ctx), fc.Field.Selections, path)
}

// connectionTypes are the types a customer list's selections may be
// conditioned on.
var connectionTypes = []string{"CustomerConnection", "CustomerEdge", "Customer"}

func reaches(oc *graphql.OperationContext, sel ast.SelectionSet, path []string) bool {
	if len(path) == 0 {
		return true
	}
	for _, f := range graphql.CollectFields(oc, sel, connectionTypes) {
		if f.Name == path[0] && reaches(oc, f.Selections, path[1:]) {
			return true
		}
	}
	return false
}

// prefetchLatestInteractions loads the latest interaction of every listed
// customer in one batch before the field resolvers ask one by one, so a
// page costs one BatchGetItem however the resolvers are scheduled.
func (r *Resolver) prefetchLatestInteractions(ctx context.Context, customers []*crm.Customer) {
	keys := make([]crm.InteractionKey, 0, len(customers))
	for _, c := range customers {
		if c.LastInteractionID != "" {
			keys = append(keys, crm.InteractionKey{CustomerID: c.ID, ID: c.LastInteractionID})
		}
	}
	if len(keys) > 0 {
		// Errors are per key and reach the client through the field
		// resolvers, which read the same loader cache.
		_, _ = r.loadersFor(ctx).interaction.LoadAll(ctx, keys)
	}
}
