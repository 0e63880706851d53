package dynamo

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	item, err := attributevalue.MarshalMap(entry.stored())
	if err != nil {
		t.Fatal(err)
	}
	if n := ItemSize(item); n > 1024 {
		t.Errorf("the entry is %d bytes, want at most 1 KB", n)
	}
	// Its byList2 entry: what the index projects, and 100 bytes more.
	projected := map[string]bool{"pk": true, "sk": true, "gList": true, "gSort": true, "id": true, "at": true, "actor": true,
		"roles": true, "operation": true, "requestId": true, "changes": true}
	for n := range item {
		if !projected[n] {
			delete(item, n)
		}
	}
	if n := ItemSize(item) + 100; n > 1024 {
		t.Errorf("the byList2 entry is %d bytes, want at most 1 KB", n)
	}
}

// A stored entry leaves out what it repeats and reads back whole: its id,
// a change's id when the change before has it, a change's customer when it
// is the entry's; a change without a customer stays without one.
func TestAuditEntryStoredCompactReadsBackWhole(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 24, 13, 721000000, time.UTC)
	recs := (&Store{}).changeTx(complaintChange(now)).audited
	recs = append(recs, auditRecord{kind: "user", id: "sales-li", after: map[string]types.AttributeValue{"name": str("Li")}},
		auditRecord{kind: "contact", id: "01M8V4H2WSP9HVNK82ES1XWGFA", customerID: "01KY3PDAA0S50FAFH370THEAXZ",
			after: map[string]types.AttributeValue{"name": str("Wang")}})
	want := auditEntry(context.Background(), recs, now)
	item, err := attributevalue.MarshalMap(want.stored())
	if err != nil {
		t.Fatal(err)
	}
	if item["id"] != nil {
		t.Errorf("the entry stores its id again: %v", item["id"])
	}
	var got auditItem
	if err := attributevalue.UnmarshalMap(item, &got); err != nil {
		t.Fatal(err)
	}
	if got.Changes[1].ID != "" || got.Changes[0].CustomerID != "" || got.Changes[2].CustomerID != noCustomer {
		t.Errorf("stored changes repeat what the entry says: %+v", got.Changes)
	}
	got.expand()
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, *want)
	}
	// Read through byList2 (a customer's audit log), which projects
	// neither the layout nor the type: the same changes.
	projected := map[string]types.AttributeValue{}
	for _, a := range []string{"pk", "sk", "gList", "gSort", "id", "at", "actor", "roles", "operation", "requestId", "changes"} {
		if v, ok := item[a]; ok {
			projected[a] = v
		}
	}
	var listed auditItem
	if err := attributevalue.UnmarshalMap(projected, &listed); err != nil {
		t.Fatal(err)
	}
	listed.expand()
	if listed.ID != want.ID || !reflect.DeepEqual(listed.Changes, want.Changes) {
		t.Errorf("read through byList2\n%+v\nwant\n%+v", listed, *want)
	}
	// An entry stored before the compact layout reads as it was written.
	old, err := attributevalue.MarshalMap(want)
	if err != nil {
		t.Fatal(err)
	}
	var legacy auditItem
	if err := attributevalue.UnmarshalMap(old, &legacy); err != nil {
		t.Fatal(err)
	}
	legacy.expand()
	if !reflect.DeepEqual(&legacy, want) {
		t.Errorf("legacy entry read back\n%+v\nwant\n%+v", legacy, *want)
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
