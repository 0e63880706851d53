package events_test

import (
	"slices"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
)

func TestDeriveNamesWhatALeadWriteMeans(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	lead := func(status crm.LeadStatus, version int) *crm.Lead {
		return &crm.Lead{ID: "l1", CustomerID: "c1", Need: "An ERP", QualifiedBy: "tele-1", HandedTo: "closer-1", HandedAt: at,
			Status: status, Version: version, CreatedBy: "tele-1", UpdatedBy: "closer-1"}
	}
	for _, c := range []struct {
		name       string
		prev, next *crm.Lead
		want       []events.Type
	}{
		{"MadeIsCreatedThenHanded", nil, lead(crm.LeadHanded, 1), []events.Type{events.LeadCreated, events.LeadHanded}},
		{"Accepted", lead(crm.LeadHanded, 1), lead(crm.LeadAccepted, 2), []events.Type{events.LeadAccepted}},
		{"Returned", lead(crm.LeadHanded, 1), lead(crm.LeadReturned, 2), []events.Type{events.LeadReturned}},
		{"HandedAgain", lead(crm.LeadReturned, 2), lead(crm.LeadHanded, 3), []events.Type{events.LeadHanded}},
		{"Withdrawn", lead(crm.LeadReturned, 2), lead(crm.LeadWithdrawn, 3), []events.Type{events.LeadWithdrawn}},
		{"RewriteMakesNone", lead(crm.LeadHanded, 1), lead(crm.LeadHanded, 1), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			op := "MODIFY"
			if c.prev == nil {
				op = "INSERT"
			}
			evs := events.Derive("rapport", events.Record{ID: "r1", Op: op, CustomerID: "c1", At: at, LeadBefore: c.prev, Lead: c.next})
			if got := types(evs); !slices.Equal(got, c.want) {
				t.Fatalf("events %v, want %v", got, c.want)
			}
			for _, e := range evs {
				if e.Data.LeadID != "l1" || e.Data.AssignedTo != "closer-1" || e.Data.Status == nil || e.Data.Status.To != string(c.next.Status) {
					t.Fatalf("event %s data %+v: want the lead, its recipient and its status", e.Type, e.Data)
				}
			}
		})
	}
}
