package dynamo

import (
	"context"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SetReadBudget shrinks a store's list budget so tests can exhaust it
// without thousands of items.
func (s *Store) SetReadBudget(calls, items int) { s.budget = readBudget{calls: calls, items: items} }

// SetWalkBound makes bounded counts and orders read at most n customers,
// so tests can pass the bound without thousands of items.
func (s *Store) SetWalkBound(n int) { s.walkBound = n }

// KeyOf is the key of an item, for tests that call DynamoDB directly.
func KeyOf(pk, sk string) map[string]types.AttributeValue { return key(pk, sk) }

// SetMigrationPage makes migrations scan n items a page, so tests can
// interrupt one between pages without thousands of items.
func (s *Store) SetMigrationPage(n int) { s.migrationPage = n }

// BackfillPage applies the activity backfill to items as a page of its
// walk would, again if need be: what a run that stopped before recording
// its progress leaves to the next.
func (s *Store) BackfillPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return backfillPage(ctx, s, items)
}

// LookupPage applies the caller lookup backfill to items as a page of its
// walk would.
func (s *Store) LookupPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return lookupPage(ctx, s, items)
}

// PhonesPage applies the canonical phones migration to items as a page of
// its walk would.
func (s *Store) PhonesPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return phonesPage(ctx, s, items)
}

// SearchPage applies the search keys migration to items as a page of its
// walk would.
func (s *Store) SearchPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return searchPage(ctx, s, items)
}

// SetSearchWindow makes searches read n key items a Query, so tests can
// cross windows without hundreds of customers.
func (s *Store) SetSearchWindow(n int) { s.searchWindow = n }

// AgendaPage applies the agenda pointers migration to one page of items.
func (s *Store) AgendaPage(ctx context.Context, items []map[string]types.AttributeValue) (int, error) {
	return agendaPage(ctx, s, items)
}
