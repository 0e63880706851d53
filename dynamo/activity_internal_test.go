package dynamo

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// An activity item in the compact layout stores its latest interaction's
// id and time apart from the interaction's summary only when they differ
// from the summary's; the full layout, which earlier releases wrote,
// stores them always; both read back the same activity.
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
			for _, compact := range []bool{true, false} {
				item, err := attributevalue.MarshalMap(toActivityItemLayout(c, stream.Marks{Revision: 1}, nil, compact))
				if err != nil {
					t.Fatal(err)
				}
				_, hasAt := item["lastInteractionAt"]
				_, hasID := item["lastInteractionId"]
				if want := tt.stored || !compact; hasAt != want || hasID != want {
					t.Fatalf("compact %v: lastInteractionAt stored: %v, lastInteractionId: %v; want %v", compact, hasAt, hasID, want)
				}
				var back activityItem
				if err := unmarshalItem(item, &back); err != nil {
					t.Fatal(err)
				}
				read := &crm.Customer{ID: c.ID}
				fromActivityItem(&back, read)
				if read.LastInteractionAt == nil || !read.LastInteractionAt.Equal(tt.lastAt) || read.LastInteractionID != tt.lastID ||
					read.LastInteraction == nil || read.LastInteraction.ID != call.ID || !read.LastInteraction.OccurredAt.Equal(at) {
					t.Fatalf("compact %v, read back: last at %v, id %s, summary %+v; want %v, %s and the call's", compact,
						read.LastInteractionAt, read.LastInteractionID, read.LastInteraction, tt.lastAt, tt.lastID)
				}
			}
		})
	}
}

// The compact layout keeps the customer's latest evaluations under short
// names, without the customer's id on each, and reads them back whole;
// this release writes it, and items written by earlier releases in the full
// layout (recentEvaluations) read the same.
func TestTheActivityReadsItsEvaluationsInEitherLayout(t *testing.T) {
	nps := 9
	ev := crm.Evaluation{ID: "01KJ0000000000000000000003", CustomerID: "c1", TemplateID: "t1", TemplateVersion: 2,
		Kind: crm.EvalThirdParty, EvaluatorID: "sales-1", ThirdParty: "Audit Co", Comment: "Prompt delivery", Overall: 82.5,
		NPS: &nps, CaseID: "01KJ0000000000000000000004",
		Scores:      []crm.IndicatorScore{{Key: "delivery", Value: 4}},
		Dimensions:  []crm.DimensionScore{{Dimension: crm.DimSatisfaction, Score: 80}},
		EvaluatedAt: time.Date(2026, 3, 2, 10, 0, 0, 123_000_000, time.UTC)}
	c := &crm.Customer{ID: "c1", Status: crm.StatusActive, Team: "north", OwnerID: "sales-1"}
	c.Activity = crm.Activity{RecentEvaluations: []crm.Evaluation{ev}}
	written := toActivityItemLayout(c, stream.Marks{Revision: 1}, nil, true)
	item, err := attributevalue.MarshalMap(written)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := item["recentEvaluations"]; ok {
		t.Fatal("the activity item still writes recentEvaluations")
	}
	copies, ok := item["evals"].(*types.AttributeValueMemberL)
	if !ok || len(copies.Value) != 1 {
		t.Fatalf("evals: %#v; want a list of one", item["evals"])
	}
	for name := range copies.Value[0].(*types.AttributeValueMemberM).Value {
		if len(name) > 4 {
			t.Errorf("the activity's evaluation has the attribute %q: longer than the compact names", name)
		}
	}
	if now := toActivityItem(c, stream.Marks{Revision: 1}, nil); len(now.Evaluations) != 1 || len(now.RecentEvaluations) > 0 {
		t.Fatalf("this release writes evals %v, recentEvaluations %v; want the compact layout", now.Evaluations, now.RecentEvaluations)
	}
	full := toActivityItemLayout(c, stream.Marks{Revision: 1}, nil, false)
	if len(full.RecentEvaluations) != 1 {
		t.Fatalf("the full layout wrote recentEvaluations %v; want one", full.RecentEvaluations)
	}
	for name, it := range map[string]*activityItem{"Compact": written, "Full": full} {
		t.Run(name, func(t *testing.T) {
			item, err := attributevalue.MarshalMap(it)
			if err != nil {
				t.Fatal(err)
			}
			var back activityItem
			if err := unmarshalItem(item, &back); err != nil {
				t.Fatal(err)
			}
			read := &crm.Customer{ID: c.ID}
			fromActivityItem(&back, read)
			if len(read.RecentEvaluations) != 1 || !reflect.DeepEqual(read.RecentEvaluations[0], ev) {
				t.Fatalf("read back %+v; want %+v", read.RecentEvaluations, ev)
			}
		})
	}
}
