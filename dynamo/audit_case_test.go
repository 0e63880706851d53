package dynamo

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/rapportcrm/rapport/crm"
)

// complaintChange is a complaint as LogInteraction makes it: the
// interaction and the case it opens, under its id.
func complaintChange(now time.Time) *crm.Change {
	dur := 420
	it := &crm.Interaction{ID: "01M8V4H2WSP9HVNK82ES1XWGFT", CustomerID: "01KY3PDAA0S50FAFH370THEAXN", Channel: crm.ChannelPhone,
		Direction: crm.Inbound, Type: crm.TypeComplaint, Subject: "Asked about the renewal terms", DurationSeconds: &dur,
		Outcome: "Quote to be sent", Content: "Customer called about the renewal of the annual contract: wants the same service " +
			"level, asked whether the price can stay at last year's level and whether invoices can go to the new finance contact.",
		OccurredAt: now, HandledBy: "sales-li", Version: 1, CreatedAt: now, CreatedBy: "sales-li", UpdatedAt: now, UpdatedBy: "sales-li"}
	cs := &crm.Case{ID: it.ID, CustomerID: it.CustomerID, Type: it.Type, Subject: it.Subject, Priority: crm.PriorityNormal,
		Status: crm.CaseOpen, OpenedAt: now, Version: 1, UpdatedAt: now, RespondBy: now.Add(4 * time.Hour),
		ResolveBy: now.Add(48 * time.Hour), DueAt: now.Add(4 * time.Hour),
		Transitions: []crm.CaseTransition{{To: crm.CaseOpen, By: "sales-li", At: now, Note: "opened by COMPLAINT"}}}
	return &crm.Change{Scope: &crm.Customer{ID: it.CustomerID, OwnerID: "sales-li", Team: "north"}, Interaction: it, Case: cs}
}

func fieldNames(c auditChangeItem) []string {
	var out []string
	for _, f := range c.Fields {
		out = append(out, f.Name)
	}
	return out
}

// A complaint's entry records the case by what it adds to the interaction
// that opened it, and stays under 1 KB (2 write units, 1 in byList2).
func TestComplaintAuditRecordsWhatTheCaseAddsUnder1KB(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 24, 13, 721000000, time.UTC)
	ctx := crm.WithAuditScope(crm.NewContextWithUser(context.Background(), &crm.User{ID: "sales-li", Roles: []crm.Role{crm.RoleSales}}),
		crm.AuditScope{Operation: "logInteraction", RequestID: "5f0c7a1e-6b8d-4f7e-9a51-2c3d4e5f6a7b"})
	tx := (&Store{}).changeTx(complaintChange(now))
	entry := auditEntry(ctx, tx.audited, now)
	if len(entry.Changes) != 2 {
		t.Fatalf("changes: %+v", entry.Changes)
	}
	if got, want := fieldNames(entry.Changes[0]), []string{"channel", "content", "direction", "durationSeconds", "kind", "outcome", "subject"}; !slices.Equal(got, want) {
		t.Errorf("interaction fields %v, want %v", got, want)
	}
	if got, want := fieldNames(entry.Changes[1]), []string{"priority", "resolveBy", "respondBy"}; !slices.Equal(got, want) {
		t.Errorf("case fields %v, want %v", got, want)
	}
	item, err := attributevalue.MarshalMap(entry)
	if err != nil {
		t.Fatal(err)
	}
	if n := ItemSize(item); n > 1024 {
		t.Errorf("the entry is %d bytes, want at most 1 KB", n)
	}
}

// What is left out is left out only when it holds the implied value: a
// case whose fields differ from its interaction's, an interaction logged
// for another time or person, record them.
func TestAuditLeavesOutOnlyImpliedValues(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 24, 13, 0, time.UTC)
	ch := complaintChange(now)
	ch.Interaction.OccurredAt, ch.Interaction.HandledBy = now.Add(-time.Hour), "sales-2"
	ch.Case.Subject, ch.Case.Status, ch.Case.DueAt = "Another subject", crm.CaseTriaged, now.Add(48*time.Hour)
	ch.Case.Transitions = append(ch.Case.Transitions, crm.CaseTransition{From: crm.CaseOpen, To: crm.CaseTriaged, By: "sales-li", At: now})
	entry := auditEntry(context.Background(), (&Store{}).changeTx(ch).audited, now)
	for _, want := range []string{"occurredAt", "handledBy"} {
		if !slices.Contains(fieldNames(entry.Changes[0]), want) {
			t.Errorf("interaction fields %v lack %s", fieldNames(entry.Changes[0]), want)
		}
	}
	if got := strings.Join(fieldNames(entry.Changes[1]), ","); got != "dueAt,priority,resolveBy,respondBy,status,subject,transitions" {
		t.Errorf("case fields %s", got)
	}
	// A case alone (moved, or created without its interaction) is recorded whole.
	ch.Interaction = nil
	entry = auditEntry(context.Background(), (&Store{}).changeTx(ch).audited, now)
	if got := strings.Join(fieldNames(entry.Changes[0]), ","); got != "dueAt,kind,openedAt,priority,resolveBy,respondBy,status,subject,transitions" {
		t.Errorf("case alone: %s", got)
	}
}
