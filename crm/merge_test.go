package crm

import (
	"strings"
	"testing"
	"time"
)

func TestMergedProfileAddsUpCountersAndTransactions(t *testing.T) {
	day := func(d int) *time.Time { return ptr(time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC)) }
	sv := validCustomer()
	sv.ID, sv.InteractionCount, sv.LastInteractionAt, sv.LastInteractionID = "S", 3, day(10), "s-last"
	sv.NextFollowUpAt = day(20)
	sv.Transactions = TransactionStats{Count: 2, Total: 100.1, FirstAt: day(2), LastAt: day(9)}
	m := validCustomer()
	m.ID, m.InteractionCount, m.LastInteractionAt, m.LastInteractionID = "M", 4, day(12), "m-last"
	m.NextFollowUpAt = day(15)
	m.Transactions = TransactionStats{Count: 1, Total: 50.2, FirstAt: day(1), LastAt: day(1)}
	m.RecentEvaluations = []Evaluation{{ID: "E1", CustomerID: "M", EvaluatorID: "x", EvaluatedAt: *day(5),
		Dimensions: []DimensionScore{{Dimension: DimLoyalty, Score: 70}}}}

	got, err := mergedProfile(sv, m)
	if err != nil {
		t.Fatal(err)
	}
	want := TransactionStats{Count: 3, Total: 150.3, FirstAt: day(1), LastAt: day(9)}
	switch {
	case got.InteractionCount != 7 || got.LastInteractionID != "m-last" || !got.NextFollowUpAt.Equal(*day(15)):
		t.Errorf("counters: %d, %s, %v", got.InteractionCount, got.LastInteractionID, got.NextFollowUpAt)
	case got.Transactions.Count != want.Count || got.Transactions.Total != want.Total ||
		!got.Transactions.FirstAt.Equal(*want.FirstAt) || !got.Transactions.LastAt.Equal(*want.LastAt):
		t.Errorf("transactions = %+v, want %+v", got.Transactions, want)
	case len(got.RecentEvaluations) != 1 || got.RecentEvaluations[0].CustomerID != "S" || got.LoyaltyIndex == nil || *got.LoyaltyIndex != 70:
		t.Errorf("evaluations: %+v, loyalty %v", got.RecentEvaluations, got.LoyaltyIndex)
	case sv.InteractionCount != 3 || m.RecentEvaluations[0].CustomerID != "M":
		t.Errorf("the inputs were changed")
	}
}

func TestLegacyVerifiedProfileReadsAsEveryFieldVerified(t *testing.T) {
	c := validCustomer()
	c.Industry, c.Verification, c.VerifiedBy, c.VerifiedAt = "power", Verified, "old-reviewer", ptr(time.Unix(1e9, 0).UTC())
	AdoptLegacyVerification(c)
	if len(c.FieldVerifications) != 2 || c.FieldVerifications[1].Field != FieldIndustry || c.FieldVerifications[0].By != "old-reviewer" {
		t.Fatalf("marks: %+v", c.FieldVerifications)
	}
	settleVerification(c)
	if c.Verification != Verified || c.VerifiedBy != "old-reviewer" {
		t.Fatalf("derived: %s by %s", c.Verification, c.VerifiedBy)
	}
}

func TestMergeIsRefusedWhenTheUnionBreaksALimit(t *testing.T) {
	s := &Service{Now: time.Now}
	u := &User{ID: "admin", Roles: []Role{RoleAdmin}}
	for _, tc := range []struct {
		name string
		edit func(sv, m *Customer)
		want string // "" when the merge may start
	}{
		{"WithinLimits", func(sv, m *Customer) { sv.ContactCount, m.ContactCount = 30, 20 }, ""},
		{"51Contacts", func(sv, m *Customer) { sv.ContactCount, m.ContactCount = 30, 21 }, "51 contacts"},
		{"6Phones", func(sv, m *Customer) {
			sv.Phones, m.Phones = []string{"+861", "+862", "+863"}, []string{"+864", "+865", "+866"}
		}, "6 phone numbers"},
		{"11Tags", func(sv, m *Customer) {
			sv.Tags, m.Tags = []string{"a", "b", "c", "d", "e", "f"}, []string{"a", "g", "h", "i", "j", "k"}
		}, "11 tags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sv, m := validCustomer(), validCustomer()
			sv.ID, m.ID = "S", "M"
			tc.edit(sv, m)
			ch, err := s.startMerge(u, sv, m, MergeInput{})
			switch {
			case tc.want == "" && (err != nil || ch.Survivor.ContactCount != sv.ContactCount+m.ContactCount || ch.Merged.MergedInto != "S"):
				t.Fatalf("start: %v %+v", err, ch)
			case tc.want != "" && (ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want BAD_USER_INPUT about %s", err, tc.want)
			}
		})
	}
}
