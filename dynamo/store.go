// Package dynamo stores Rapport's domain in one DynamoDB table. The item
// layout and the index serving each access pattern are described in
// docs/access-patterns.md.
package dynamo

import (
	"crypto/cipher"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/crm"
)

// Store implements crm.Store.
type Store struct {
	db      *dynamodb.Client
	table   string
	cursors cipher.AEAD // seals pagination cursors (cursor.go)
	budget  readBudget
	idx     IndexSet
	// migrationPage is how many items a migration page scans (0: 100).
	migrationPage int
	// searchWindow is how many key items a search reads a Query (0:
	// searchWindow).
	searchWindow int
	// walkBound is the most customers a bounded read reads (0:
	// walkBound; bounded.go).
	walkBound int
	// duplicateRead is how many customers a duplicate lookup compares at
	// most (0: duplicateRead).
	duplicateRead int
	// trackSends: the client records whether a call went out (outcome.go).
	trackSends bool
	// contacts sizes the 360's Query (customer_read.go).
	contacts *contactHints
	// credit remembers that every customer with a contract has a credit
	// item (migrate_credit.go); valueCounts that the per-value counters
	// count every customer (counters.go).
	credit, valueCounts *latch
	// clock dates audit entries: the wall clock, unless UseClock.
	clock func() time.Time
}

var _ crm.Store = (*Store)(nil)

// New returns a store over table. Its pagination cursors are sealed under
// a key derived from cursorSecret.
func New(db *dynamodb.Client, table string, cursorSecret []byte) *Store {
	return &Store{db: db, table: table, cursors: newCursorAEAD(cursorSecret), budget: defaultBudget, idx: IndexesV2,
		trackSends: tracksSends(db), contacts: &contactHints{}, credit: &latch{}, valueCounts: &latch{}, clock: time.Now}
}

// UseClock dates the audit entries the store writes by now instead of
// the wall clock. The local server gives it the demo's clock, so that
// the replayed year's writes are audited on the days they were replayed
// at, as the customers' histories are; a deployed store keeps the wall
// clock.
func (s *Store) UseClock(now func() time.Time) *Store {
	s.clock = now
	return s
}

// now is when an audit entry written now is dated: to the millisecond,
// as its id (a ULID) and the service's own times are.
func (s *Store) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

// UseIndexes makes the store read the table's indexes by the names of x.
func (s *Store) UseIndexes(x IndexSet) *Store {
	s.idx = x
	return s
}
