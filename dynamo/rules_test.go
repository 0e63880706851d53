package dynamo_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

// The lifecycle's rules hold on create as on change: no customer is born
// LOST without a reason (seed 001: 「分析客戶流失原因」, analyse why customers
// are lost) or WON_BACK without having been lost.
func TestLifecycleRulesHoldOnCreateAsOnChange(t *testing.T) {
	e := mustEnv(t)
	tests := []struct {
		name    string
		stage   crm.Stage
		reason  string
		field   string // "" when accepted
		history []crm.StageChange
	}{
		{"LostWithoutReason", crm.StageLost, "", "input.stageReason", nil},
		{"LostWithBlankReason", crm.StageLost, "  ", "input.stageReason", nil},
		{"WonBackNeverLost", crm.StageWonBack, "", "input.stage", nil},
		{"WonBackWithReason", crm.StageWonBack, "came back", "input.stage", nil},
		{"LostWithReason", crm.StageLost, " Moved to a competitor in 2025 ", "",
			[]crm.StageChange{{To: crm.StageLost, Reason: "Moved to a competitor in 2025"}}},
		{"StabilityWithReason", crm.StageStability, "Ten years a customer (old CRM)", "",
			[]crm.StageChange{{To: crm.StageStability, Reason: "Ten years a customer (old CRM)"}}},
		{"DefaultStage", "", "", "", nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phone := fmt.Sprintf("+8613900000%03d", i)
			in := crm.CustomerInput{Kind: crm.KindOrganization, Name: tt.name, Team: "north", Stage: tt.stage, StageReason: tt.reason,
				Phones: []string{phone}}
			c, err := e.svc.CreateCustomer(as(admin), in)
			if tt.field != "" {
				var ce *crm.Error
				if code(err) != crm.EINVALID || !asErr(err, &ce) || ce.Field != tt.field {
					t.Fatalf("created %+v, %v; want BAD_USER_INPUT on %s", c, err, tt.field)
				}
				// Nothing of the refused customer remains: its phone is free.
				mustCreate(t, e, admin, crm.CustomerInput{Name: "Phone taker " + tt.name, Phones: []string{phone}})
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			hist, err := e.svc.StageHistory(as(admin), c.ID, crm.PageRequest{First: crm.DefaultPageSize})
			if err != nil {
				t.Fatal(err)
			}
			var got []crm.StageChange
			for _, h := range hist.Items {
				if h.By != admin.ID || h.CustomerID != c.ID || !h.At.Equal(c.CreatedAt) {
					t.Errorf("history entry %+v: by, customer or time wrong", h)
				}
				got = append(got, crm.StageChange{From: h.From, To: h.To, Reason: h.Reason})
			}
			if !slices.Equal(got, tt.history) {
				t.Fatalf("stage history %+v, want %+v", got, tt.history)
			}
		})
	}

	// On change: WON_BACK only from LOST, LOST only with a reason.
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Changing Ltd", Team: "north"})
	won := crm.StageWonBack
	if _, err := e.svc.UpdateCustomer(as(admin), c.ID, c.Version, crm.CustomerUpdate{Stage: &won}); code(err) != crm.EINVALID {
		t.Fatalf("EXPLORATION → WON_BACK by update: %v", err)
	}
	if _, err := e.svc.ChangeStage(as(admin), c.ID, crm.StageLost, " ", nil); code(err) != crm.EINVALID {
		t.Fatalf("LOST without a reason: %v", err)
	}
	if _, err := e.svc.ChangeStage(as(admin), c.ID, crm.StageLost, "budget cut", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChangeStage(as(admin), c.ID, crm.StageWonBack, "new package", nil); err != nil {
		t.Fatalf("LOST → WON_BACK: %v", err)
	}
}

// Tags added and removed at the same moment by different people, as a
// mobile app's tag chips do, all land: each change is rebuilt on the
// profile the others left. Eight writers: each can lose at most seven
// races, within the service's retries.
func TestConcurrentTagChangesKeepEachOther(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Tagged Ltd", Team: "north", Tags: []string{"old-0", "old-1", "old-2", "old-3"}})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := e.svc.ChangeTags(as(admin), c.ID, []string{fmt.Sprint("new-", i)}, nil); err != nil {
				t.Errorf("add new-%d: %v", i, err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := e.svc.ChangeTags(as(manager), c.ID, nil, []string{fmt.Sprint("old-", i)}); err != nil {
				t.Errorf("remove old-%d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	got := mustCustomer(t, e, c.ID)
	tags := slices.Sorted(slices.Values(got.Tags))
	if !slices.Equal(tags, []string{"new-0", "new-1", "new-2", "new-3"}) || got.Version != c.Version+8 {
		t.Fatalf("tags %v at version %d; want the four new ones at version %d", tags, got.Version, c.Version+8)
	}
	// The tag index follows: a list by tag finds it, by a removed tag not.
	for tag, want := range map[string]int{"new-2": 1, "old-2": 0} {
		page, err := e.svc.Customers(as(admin), crm.CustomerFilter{Tag: tag}, crm.PageRequest{First: crm.DefaultPageSize})
		if err != nil || len(page.Items) != want {
			t.Fatalf("customers tagged %s: %+v %v, want %d", tag, page, err, want)
		}
	}

	// A change that changes nothing writes nothing.
	same, err := e.svc.ChangeTags(as(admin), c.ID, []string{"new-0"}, []string{"never-had"})
	if err != nil || same.Version != got.Version {
		t.Fatalf("a no-op tag change: %+v %v, want version %d unchanged", same, err, got.Version)
	}
	// At most MaxTags in the end.
	if _, err := e.svc.ChangeTags(as(admin), c.ID, []string{"a", "b", "c", "d", "e", "f", "g"}, nil); code(err) != crm.EINVALID {
		t.Fatalf("11 tags: %v, want BAD_USER_INPUT", err)
	}
	if _, err := e.svc.ChangeTags(as(sales2), c.ID, []string{"mine"}, nil); code(err) != crm.ENOTFOUND && code(err) != crm.EFORBIDDEN {
		t.Fatalf("a salesperson of another customer tagged it: %v", err)
	}
}

// An amount or a duration below zero is refused when logged and when
// corrected.
func TestNegativeAmountsAndDurationsAreRefused(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Refunds Ltd", Team: "north"})
	minus, minusSecs := -100.0, -1
	if _, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone, Direction: crm.Inbound,
		Type: crm.TypeTransaction, Amount: &minus, Currency: "CNY"}); code(err) != crm.EINVALID {
		t.Fatalf("a negative amount logged: %v", err)
	}
	if _, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone, Direction: crm.Inbound,
		Type: crm.TypeCall, DurationSeconds: &minusSecs}); code(err) != crm.EINVALID {
		t.Fatalf("a negative duration logged: %v", err)
	}
	amount := 100.0
	it := mustLog(t, e, admin, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeTransaction, Amount: &amount, Currency: "CNY"})
	k := crm.InteractionKey{CustomerID: c.ID, ID: it.ID}
	if _, err := e.svc.UpdateInteraction(as(admin), k, it.Version, crm.InteractionUpdate{Amount: &minus}); code(err) != crm.EINVALID {
		t.Fatalf("an amount corrected below zero: %v", err)
	}
	if _, err := e.svc.UpdateInteraction(as(admin), k, it.Version, crm.InteractionUpdate{DurationSeconds: &minusSecs}); code(err) != crm.EINVALID {
		t.Fatalf("a duration corrected below zero: %v", err)
	}
}
