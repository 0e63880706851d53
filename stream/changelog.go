package stream

import (
	"context"
	"fmt"

	"github.com/rapportcrm/rapport/crm"
)

// ChangeLog is the consumer's handler (Handler) that writes the change
// feed (docs/sync.md): for every profile write of a batch, the entries
// crm.FeedEntries derives from its images before and after, in the
// stream's order. A record's entries go in once, whatever the deliveries
// of its batch (ChangeLogWriter).
type ChangeLog struct {
	Store ChangeLogWriter
}

var _ Handler = (*ChangeLog)(nil)

// ChangeLogWriter writes a record's change feed entries (package dynamo).
type ChangeLogWriter interface {
	// AppendChanges writes the entries of the record ch, all at once and
	// once: a record whose entries are in already (its batch delivered
	// again) writes nothing.
	AppendChanges(ctx context.Context, ch Change, entries []crm.FeedEntry) error
}

// HandleChanges writes the entries of the batch's profile writes, one
// record after the other: a customer's entries are logged in the order
// of its writes.
func (l *ChangeLog) HandleChanges(ctx context.Context, _ string, changes []Change) error {
	for _, ch := range changes {
		if ch.Kind != KindProfile || ch.CustomerID == "" {
			continue
		}
		entries := crm.FeedEntries(ch.CustomerID, ch.CustomerBefore, ch.Customer)
		if len(entries) == 0 {
			continue
		}
		if err := l.Store.AppendChanges(ctx, ch, entries); err != nil {
			return fmt.Errorf("change log of customer %s (record %s): %w", ch.CustomerID, ch.Seq, err)
		}
	}
	return nil
}
