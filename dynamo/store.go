// Package dynamo stores Rapport's domain in one DynamoDB table. The item
// layout and the index serving each access pattern are described in
// docs/access-patterns.md.
package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/crm"
)

// Store implements crm.Store.
type Store struct {
	db        *dynamodb.Client
	table     string
	cursorKey []byte
	budget    readBudget
}

var _ crm.Store = (*Store)(nil)

// New returns a store over table. cursorKey signs pagination cursors.
func New(db *dynamodb.Client, table string, cursorKey []byte) *Store {
	return &Store{db: db, table: table, cursorKey: cursorKey, budget: defaultBudget}
}
