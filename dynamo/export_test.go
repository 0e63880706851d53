package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// SetReadBudget shrinks a store's list budget so tests can exhaust it
// without thousands of items.
func (s *Store) SetReadBudget(calls, items int) { s.budget = readBudget{calls: calls, items: items} }

// KeyOf is the key of an item, for tests that call DynamoDB directly.
func KeyOf(pk, sk string) map[string]types.AttributeValue { return key(pk, sk) }

// CountAsLogged counts interactions that a test wrote straight into c's
// timeline in the analytics, as logging them would have, in one
// transaction.
func (s *Store) CountAsLogged(ctx context.Context, c *crm.Customer, its []*crm.Interaction) error {
	var deltas []crm.AggregateDelta
	for _, it := range its {
		deltas = append(deltas, crm.AggregateDeltas(&crm.Change{CustomerPrev: c, Customer: c, Interaction: it})...)
	}
	t := &tx{s: s}
	t.addAggregates(c.ID, deltas)
	return s.transact(ctx, t.items)
}
