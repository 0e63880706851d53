package crm

import (
	"testing"
	"time"
)

func TestPlanFollowUpTakesTheSoonerOfTheScheduleAndTheDateAskedFor(t *testing.T) {
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	contacted := created.Add(48 * time.Hour)
	week := 7 * day
	at := func(d time.Duration) *time.Time { return ptr(created.Add(d)) }
	tests := []struct {
		name  string
		edit  func(c *Customer)
		every time.Duration
		want  *time.Time
	}{
		{"NeverContactedCountsFromCreation", func(c *Customer) {}, week, at(week)},
		{"ContactedCountsFromTheContact", func(c *Customer) { c.ContactedAt = &contacted }, week, ptr(contacted.Add(week))},
		{"ASoonerDateAskedForWins", func(c *Customer) { c.ContactedAt, c.FollowUpAsked = &contacted, at(3*day) }, week, at(3 * day)},
		{"ALaterDateAskedForDoesNotPostpone", func(c *Customer) { c.ContactedAt, c.FollowUpAsked = &contacted, at(30*day) }, week, ptr(contacted.Add(week))},
		{"NoRoutineFollowUpKeepsTheDateAskedFor", func(c *Customer) { c.FollowUpAsked = at(30 * day) }, 0, at(30 * day)},
		{"NoRoutineFollowUpNorDateAskedForHasNone", func(c *Customer) { c.ContactedAt = &contacted }, 0, nil},
		{"ThePoolHasNone", func(c *Customer) { c.OwnerID, c.FollowUpAsked = "", at(day) }, week, nil},
		{"ArchivedHasNone", func(c *Customer) { c.Status = StatusArchived }, week, nil},
		{"MergingAwayHasNone", func(c *Customer) { c.MergedInto = "C2" }, week, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Customer{ID: "C1", OwnerID: "sales-1", Status: StatusActive, CreatedAt: created}
			tt.edit(c)
			c.FollowUpEvery = tt.every
			c.PlanFollowUp()
			if got := c.NextFollowUpAt; (got == nil) != (tt.want == nil) || (got != nil && !got.Equal(*tt.want)) {
				t.Fatalf("next follow-up %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAContactEndsTheDateAskedForBeforeItWasLogged(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	asked := t0.Add(48 * time.Hour)
	tests := []struct {
		name      string
		typ       InteractionType
		own       *time.Time // the interaction's own nextFollowUpAt
		wantAsked *time.Time
	}{
		{"ACallEndsIt", TypeCall, nil, nil},
		{"ANoteLeavesIt", TypeNote, nil, &asked},
		{"ACallAskingAgainSetsItsOwn", TypeCall, ptr(t0.Add(24 * time.Hour)), ptr(t0.Add(24 * time.Hour))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Activity
			a.SetFollowUp(asked, t0)
			a.ApplyInteraction(nil, &Interaction{ID: "I1", Type: tt.typ, OccurredAt: t0.Add(time.Hour), CreatedAt: t0.Add(time.Hour), NextFollowUpAt: tt.own})
			if got := a.FollowUpAsked; (got == nil) != (tt.wantAsked == nil) || (got != nil && !got.Equal(*tt.wantAsked)) {
				t.Fatalf("asked %v, want %v", got, tt.wantAsked)
			}
			if tt.typ != TypeNote && (a.ContactedAt == nil || !a.ContactedAt.Equal(t0.Add(time.Hour))) {
				t.Fatalf("contacted at %v", a.ContactedAt)
			}
		})
	}
	// A date asked for after the contact happened stays: applied out of
	// order, or asked for before a backdated call was logged.
	for _, logged := range []time.Duration{time.Hour, 3 * time.Hour} {
		var a Activity
		a.SetFollowUp(asked, t0.Add(2*time.Hour))
		a.ApplyInteraction(nil, &Interaction{ID: "I1", Type: TypeCall, OccurredAt: t0, CreatedAt: t0.Add(logged)})
		if a.FollowUpAsked == nil || !a.FollowUpAsked.Equal(asked) {
			t.Fatalf("logged after %v: a date asked for after the contact was cleared by it: %v", logged, a.FollowUpAsked)
		}
	}
}

// A backdated call that asked for a follow-up, logged after a contact that
// happened later, asked for it before that contact: the later contact has
// ended it, as it would have had they been logged in order.
func TestABackdatedAskEndsWithTheLaterContact(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	later := t0.Add(300 * 24 * time.Hour)
	for _, order := range []string{"InOrder", "BackdatedLoggedLast"} {
		t.Run(order, func(t *testing.T) {
			var a Activity
			ask := &Interaction{ID: "I1", Type: TypeCall, OccurredAt: t0, NextFollowUpAt: ptr(t0.Add(5 * 24 * time.Hour))}
			call := &Interaction{ID: "I2", Type: TypeCall, OccurredAt: later}
			logged := []*Interaction{ask, call}
			if order == "BackdatedLoggedLast" {
				logged = []*Interaction{call, ask}
			}
			for i, it := range logged {
				it.CreatedAt = later.Add(time.Duration(i+1) * time.Hour)
				a.ApplyInteraction(nil, it)
			}
			if a.FollowUpAsked != nil || a.ContactedAt == nil || !a.ContactedAt.Equal(later) {
				t.Fatalf("asked %v, contacted %v: want the ask ended by the later contact", a.FollowUpAsked, a.ContactedAt)
			}
		})
	}
}
