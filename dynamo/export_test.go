package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SetReadBudget shrinks a store's list budget so tests can exhaust it
// without thousands of items.
func (s *Store) SetReadBudget(calls, items int) { s.budget = readBudget{calls: calls, items: items} }

// KeyOf is the key of an item, for tests that call DynamoDB directly.
func KeyOf(pk, sk string) map[string]types.AttributeValue { return key(pk, sk) }
