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

// ChangeLogWriter writes records' change feed entries (package dynamo).
type ChangeLogWriter interface {
	// AppendChanges writes the entries of each record, a record's all at
	// once and once: a record whose entries are in already (its batch
	// delivered again) writes nothing. A customer's entries keep the
	// order of its records.
	AppendChanges(ctx context.Context, records []LoggedChange) error
}

// LoggedChange is a record and the change feed entries it makes.
type LoggedChange struct {
	Change  Change
	Entries []crm.FeedEntry
}

// HandleChanges writes the entries of the batch's profile writes, in the
// stream's order.
func (l *ChangeLog) HandleChanges(ctx context.Context, _ string, changes []Change) error {
	var records []LoggedChange
	for _, ch := range changes {
		if ch.Kind != KindProfile || ch.CustomerID == "" {
			continue
		}
		if entries := crm.FeedEntries(ch.CustomerID, ch.CustomerBefore, ch.Customer); len(entries) > 0 {
			records = append(records, LoggedChange{Change: ch, Entries: entries})
		}
	}
	if len(records) == 0 {
		return nil
	}
	if err := l.Store.AppendChanges(ctx, records); err != nil {
		return fmt.Errorf("change log of %d records: %w", len(records), err)
	}
	return nil
}
