package events_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
)

func customer(mod func(*crm.Customer)) *crm.Customer {
	c := &crm.Customer{ID: "c1", Name: "Acme", Status: crm.StatusActive, Stage: crm.StageExploration, OwnerID: "u1", Team: "north",
		Grade: crm.GradeState{Level: "C"}, Version: 3, UpdatedBy: "u1"}
	if mod != nil {
		mod(c)
	}
	return c
}

func types(evs []events.Event) []events.Type {
	var out []events.Type
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func TestDeriveNamesWhatAProfileWriteMeans(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	next := func(mod func(*crm.Customer)) *crm.Customer {
		return customer(func(c *crm.Customer) { c.Version = 4; mod(c) })
	}
	for _, c := range []struct {
		name string
		prev *crm.Customer
		next *crm.Customer
		want []events.Type
	}{
		{"Created", nil, customer(nil), []events.Type{events.CustomerCreated}},
		{"Updated", customer(nil), next(func(c *crm.Customer) { c.Name = "Acme Ltd" }), []events.Type{events.CustomerUpdated}},
		{"CreditCodeIsAnUpdate", customer(nil), next(func(c *crm.Customer) { c.CreditCode = "91350100M000100Y43" }),
			[]events.Type{events.CustomerUpdated}},
		{"RewriteWithTheSameVersionIsNoEvent", customer(nil), customer(func(c *crm.Customer) { c.Name = "Acme Ltd" }), nil},
		{"BookkeepingIsNoEvent", customer(nil), next(func(c *crm.Customer) { c.UpdatedAt = now; c.Grade.Reason = "recomputed" }), nil},
		{"ArchivedWithItsStamp", customer(nil), next(func(c *crm.Customer) { c.Status, c.ArchivedAt = crm.StatusArchived, &now }),
			[]events.Type{events.CustomerArchived}},
		{"Restored", customer(func(c *crm.Customer) { c.Status, c.ArchivedAt = crm.StatusArchived, &now }), next(func(*crm.Customer) {}),
			[]events.Type{events.CustomerRestored}},
		{"Merged", customer(func(c *crm.Customer) { c.MergedInto = "c2" }),
			next(func(c *crm.Customer) { c.MergedInto, c.Status, c.MergedAt = "c2", crm.StatusMerged, &now }), []events.Type{events.CustomerMerged}},
		{"Claimed", customer(func(c *crm.Customer) { c.OwnerID = "" }),
			next(func(c *crm.Customer) { c.Claim = &crm.Claim{By: "u1", At: now, ExpiresAt: now.Add(time.Hour)} }), []events.Type{events.CustomerClaimed}},
		{"AssignedFromThePoolIsAHandOver", customer(func(c *crm.Customer) { c.OwnerID = "" }), next(func(*crm.Customer) {}),
			[]events.Type{events.CustomerHandedOver}},
		{"Released", customer(nil), next(func(c *crm.Customer) { c.OwnerID = "" }), []events.Type{events.CustomerReleased}},
		{"ReturnedByTheJob", customer(nil), next(func(c *crm.Customer) { c.OwnerID, c.UpdatedBy = "", crm.SystemUserID }),
			[]events.Type{events.CustomerExpiredToPool}},
		{"HandedOverToAnotherTeamAndRetagged", customer(nil), next(func(c *crm.Customer) { c.OwnerID, c.Team, c.Tags = "u2", "south", []string{"vip"} }),
			[]events.Type{events.CustomerHandedOver, events.CustomerUpdated}},
		{"StageAndGradeInOneWrite", customer(nil), next(func(c *crm.Customer) { c.Stage, c.Grade.Level = crm.StageFormation, "A" }),
			[]events.Type{events.CustomerStageChanged, events.CustomerRegraded}},
	} {
		t.Run(c.name, func(t *testing.T) {
			op := "MODIFY"
			if c.prev == nil {
				op = "INSERT"
			}
			evs := events.Derive("rapport", events.Record{ID: "rec-1", Seq: "100", At: now, Op: op, CustomerID: "c1", CustomerBefore: c.prev, Customer: c.next})
			if got := types(evs); !slices.Equal(got, c.want) {
				t.Fatalf("events %v, want %v", got, c.want)
			}
			for i, e := range evs {
				if e.ID != fmt.Sprintf("rec-1-%d", i) || e.Subject != "c1" || e.Data.CustomerID != "c1" || e.Data.Version != c.next.Version || e.Sequence != "100" {
					t.Errorf("envelope %+v", e)
				}
			}
		})
	}
}

func TestDeriveNamesWhatAnAppendMeans(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	open := &crm.Case{ID: "k1", Status: crm.CaseOpen, Version: 1, Transitions: []crm.CaseTransition{{To: crm.CaseOpen, By: "u1"}}}
	triaged := &crm.Case{ID: "k1", Status: crm.CaseTriaged, Version: 2, Transitions: []crm.CaseTransition{{To: crm.CaseOpen, By: "u1"}, {To: crm.CaseTriaged, By: "u2"}}}
	escalated := triaged.Clone()
	escalated.Version, escalated.EscalatedAt = 3, &now
	resolved := triaged.Clone()
	resolved.Status, resolved.Version = crm.CaseResolved, 3
	closed := resolved.Clone()
	closed.Status, closed.Version = crm.CaseClosed, 4
	it := &crm.Interaction{ID: "i1", Version: 1, CreatedBy: "u1", Channel: crm.ChannelPhone, Type: crm.TypeCall}
	for _, c := range []struct {
		name string
		r    events.Record
		want []events.Type
	}{
		{"InteractionLogged", events.Record{Op: "INSERT", Interaction: it}, []events.Type{events.InteractionLogged}},
		{"InteractionEditedIsNoEvent", events.Record{Op: "MODIFY", InteractionBefore: it, Interaction: it}, nil},
		{"MovedByAMergeIsNoEvent", events.Record{Op: "INSERT", Interaction: it, Moved: true}, nil},
		{"RemovedIsNoEvent", events.Record{Op: "REMOVE", Moved: true}, nil},
		{"CaseOpened", events.Record{Op: "INSERT", Case: open}, []events.Type{events.CaseOpened}},
		{"CaseMoved", events.Record{Op: "MODIFY", CaseBefore: open, Case: triaged}, []events.Type{events.CaseMoved}},
		{"CaseEscalated", events.Record{Op: "MODIFY", CaseBefore: triaged, Case: escalated}, []events.Type{events.CaseEscalated}},
		{"CaseClosed", events.Record{Op: "MODIFY", CaseBefore: resolved, Case: closed}, []events.Type{events.CaseClosed}},
		{"EvaluationSubmitted", events.Record{Op: "INSERT", Evaluation: &crm.Evaluation{ID: "e1", Overall: 80}}, []events.Type{events.EvaluationSubmitted}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.r.ID, c.r.CustomerID, c.r.At = "rec", "c1", now
			if got := types(events.Derive("rapport", c.r)); !slices.Equal(got, c.want) {
				t.Fatalf("events %v, want %v", got, c.want)
			}
		})
	}
}

// A call carries one event per customer at most and at most max events,
// and the calls keep the events' order.
func TestCallsCarryOneEventPerCustomer(t *testing.T) {
	var evs []events.Event
	for i, s := range []string{"a", "b", "a", "c", "d", "e", "b", "b", "f"} {
		evs = append(evs, events.Event{ID: fmt.Sprint(i), Subject: s})
	}
	calls := events.Calls(evs, 3)
	var got []string
	var flat []events.Event
	for _, call := range calls {
		var subjects []string
		for _, e := range call {
			subjects = append(subjects, e.Subject)
		}
		got = append(got, fmt.Sprint(subjects))
		flat = append(flat, call...)
	}
	want := []string{"[a b]", "[a c d]", "[e b]", "[b f]"}
	if !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if !slices.EqualFunc(flat, evs, func(a, b events.Event) bool { return a.ID == b.ID }) {
		t.Errorf("the calls reorder the events")
	}
	if len(events.Calls(nil, 10)) != 0 {
		t.Errorf("calls for no events")
	}
}

func TestDeriveNamesWhatADealWriteMeans(t *testing.T) {
	deal := func(stage string, version int) *crm.Opportunity {
		return &crm.Opportunity{ID: "o1", CustomerID: "c1", OwnerID: "u1", Stage: stage, Version: version, CreatedBy: "u1", UpdatedBy: "u2"}
	}
	for _, c := range []struct {
		name       string
		prev, next *crm.Opportunity
		want       []events.Type
	}{
		{"Opened", nil, deal("QUALIFY", 1), []events.Type{events.OpportunityCreated}},
		{"Moved", deal("QUALIFY", 1), deal("PROPOSAL", 2), []events.Type{events.OpportunityMoved}},
		{"Won", deal("NEGOTIATION", 3), deal(crm.StageWon, 4), []events.Type{events.OpportunityWon}},
		{"Lost", deal("PROPOSAL", 3), deal(crm.StageLostDeal, 4), []events.Type{events.OpportunityLost}},
		{"EditedIsNoEvent", deal("PROPOSAL", 2), deal("PROPOSAL", 3), nil},
		{"RewriteIsNoEvent", deal("QUALIFY", 1), deal("PROPOSAL", 1), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			op := "MODIFY"
			if c.prev == nil {
				op = "INSERT"
			}
			got := events.Derive("rapport", events.Record{ID: "r", Op: op, CustomerID: "c1", OpportunityBefore: c.prev, Opportunity: c.next})
			if !slices.Equal(types(got), c.want) {
				t.Fatalf("got %v, want %v", types(got), c.want)
			}
			for _, ev := range got {
				if ev.Data.OpportunityID != "o1" || ev.Subject != "c1" || ev.Data.Stage == nil || ev.Data.Stage.To != c.next.Stage {
					t.Fatalf("event %+v", ev)
				}
			}
		})
	}
}

func TestDeriveNamesWhatAContractWriteMeans(t *testing.T) {
	contract := func(version int, paid ...crm.Money) *crm.Contract {
		c := &crm.Contract{ID: "k1", CustomerID: "c1", OpportunityID: "o1", OwnerID: "u1", Amount: 1000, Version: version,
			CreatedBy: "u1", UpdatedBy: "u2"}
		for i, p := range paid {
			c.Payments = append(c.Payments, crm.Payment{ID: fmt.Sprint("p", i+1), Amount: p})
		}
		return c
	}
	for _, c := range []struct {
		name       string
		prev, next *crm.Contract
		want       []events.Type
	}{
		{"Signed", nil, contract(1), []events.Type{events.ContractSigned}},
		{"PaidInPart", contract(1), contract(2, 400), []events.Type{events.ContractPaymentRecorded}},
		{"PaidInFull", contract(2, 400), contract(3, 400, 600), []events.Type{events.ContractPaymentRecorded, events.ContractPaid}},
		{"Edited", contract(3, 400), contract(4, 400), []events.Type{events.ContractUpdated}},
		{"RewriteIsNoEvent", contract(2), contract(2), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			op := "MODIFY"
			if c.prev == nil {
				op = "INSERT"
			}
			got := events.Derive("rapport", events.Record{ID: "r", Op: op, CustomerID: "c1", ContractBefore: c.prev, Contract: c.next})
			if !slices.Equal(types(got), c.want) {
				t.Fatalf("got %v, want %v", types(got), c.want)
			}
			for _, ev := range got {
				if ev.Data.ContractID != "k1" || ev.Data.OpportunityID != "o1" || ev.Subject != "c1" ||
					(ev.Type == events.ContractPaymentRecorded && ev.Data.PaymentID != fmt.Sprint("p", len(c.next.Payments))) {
					t.Fatalf("event %+v", ev)
				}
			}
		})
	}
}
