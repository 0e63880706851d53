// Package resolvers translates GraphQL operations into crm.Service calls
// and domain values back into GraphQL models. It decides nothing: rules,
// validation and authorization live in crm.
package resolvers

//go:generate sh -c "cd .. && go tool gqlgen generate --config gqlgen.yml"
//go:generate sh -c "cd .. && go run ./graph/internal/genlists"
//go:generate sh -c "cd .. && go run ./cmd/prebuildschema"
//go:generate sh -c "cd .. && go run ./cmd/printschema -o schema.graphql"

import (
	"context"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
	"github.com/rapportcrm/rapport/webhooks"
)

// Resolver is the root resolver. It holds no per-request state: loaders
// travel in the request context (see loaders.go).
type Resolver struct {
	Service *crm.Service
	// Webhooks serves the partner webhooks' fields; nil where the binary
	// has no webhook key (they answer UNAVAILABLE).
	Webhooks *webhooks.Service
}

// customerResult converts a mutation's customer result.
func (r *Resolver) customerResult(c *crm.Customer, err error) (*model.Customer, error) {
	if err != nil {
		return nil, err
	}
	return toCustomer(c), nil
}

// derived loads customer id (usually from the request's loader cache: the
// list or lookup that produced it put it there) and returns what the
// service derives from it, converted for the schema.
func derived[T, M any](ctx context.Context, r *Resolver, id string, derive func(context.Context, *crm.Customer) (*T, error), to func(*T) *M) (*M, error) {
	c, err := r.loadersFor(ctx).customer.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	v, err := derive(ctx, c)
	if err != nil {
		return nil, err
	}
	return to(v), nil
}
