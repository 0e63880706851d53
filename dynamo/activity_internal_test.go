package dynamo

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// An activity item stores its latest interaction's id and time apart from
// the interaction's summary only when they differ from the summary's, and
// reads back the same activity either way (an item of the release before
// stores them always, and reads the same).
func TestTheLatestInteractionsIDAndTimeAreStoredOnlyWhereTheSummaryDiffers(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 123_000_000, time.UTC)
	call := &crm.Interaction{ID: "01KJ0000000000000000000001", CustomerID: "c1", Channel: crm.ChannelPhone, Direction: crm.Outbound,
		Type: crm.TypeCall, Subject: "Renewal", OccurredAt: at}
	for _, tt := range []struct {
		name   string
		lastAt time.Time
		lastID string
		stored bool
	}{
		{"TheSummarysOwn", at, call.ID, false},
		{"AnotherTime", at.Add(-time.Hour), call.ID, true},
		{"AnotherInteraction", at, "01KJ0000000000000000000002", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &crm.Customer{ID: "c1", Status: crm.StatusActive, Team: "north", OwnerID: "sales-1"}
			c.Activity = crm.Activity{InteractionCount: 1, LastInteractionAt: &tt.lastAt, LastInteractionID: tt.lastID,
				LastInteraction: crm.InteractionSummary(call)}
			item, err := attributevalue.MarshalMap(toActivityItem(c, stream.Marks{Revision: 1}, nil))
			if err != nil {
				t.Fatal(err)
			}
			_, hasAt := item["lastInteractionAt"]
			_, hasID := item["lastInteractionId"]
			if hasAt != tt.stored || hasID != tt.stored {
				t.Fatalf("lastInteractionAt stored: %v, lastInteractionId: %v; want %v", hasAt, hasID, tt.stored)
			}
			var back activityItem
			if err := unmarshalItem(item, &back); err != nil {
				t.Fatal(err)
			}
			read := &crm.Customer{ID: c.ID}
			fromActivityItem(&back, read)
			if read.LastInteractionAt == nil || !read.LastInteractionAt.Equal(tt.lastAt) || read.LastInteractionID != tt.lastID ||
				read.LastInteraction == nil || read.LastInteraction.ID != call.ID || !read.LastInteraction.OccurredAt.Equal(at) {
				t.Fatalf("read back: last at %v, id %s, summary %+v; want %v, %s and the call's", read.LastInteractionAt,
					read.LastInteractionID, read.LastInteraction, tt.lastAt, tt.lastID)
			}
		})
	}
}
