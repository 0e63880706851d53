package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// RecountCustomer counts one customer in the per-value counters as the
// recount migration does, so a test can race it with the stream.
func (s *Store) RecountCustomer(ctx context.Context, id string) (bool, error) {
	return s.recountCustomer(ctx, id)
}

// RecountPage applies the recount migration to items as a page of its
// walk.
func (s *Store) RecountPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return recountPage(ctx, s, items)
}
