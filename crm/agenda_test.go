package crm

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestAgendaOrdersByDueTimeThenPriorityThenWhatIsLostWhenMissed(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	items := []*AgendaItem{
		{Kind: AgendaFollowUp, At: at, Priority: PriorityNormal, Customer: &Customer{Name: "follow-up at 9"}},
		{Kind: AgendaTask, At: at.Add(time.Hour), Priority: PriorityUrgent, Customer: &Customer{Name: "urgent task at 10"}},
		{Kind: AgendaTask, At: at, Priority: PriorityNormal, Customer: &Customer{Name: "task at 9"}},
		{Kind: AgendaClaim, At: at, Priority: PriorityHigh, Customer: &Customer{Name: "claim at 9"}},
		{Kind: AgendaCase, At: at, Priority: PriorityHigh, Customer: &Customer{Name: "case at 9"}},
		{Kind: AgendaFollowUp, At: at.Add(-48 * time.Hour), Priority: PriorityNormal, Customer: &Customer{Name: "follow-up two days overdue"}},
	}
	sortAgenda(items)
	var got []string
	for _, it := range items {
		got = append(got, it.Customer.Name)
	}
	want := []string{"follow-up two days overdue", "claim at 9", "case at 9", "task at 9", "follow-up at 9", "urgent task at 10"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestValidateTaskNamesTheFieldAndTheRule(t *testing.T) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	ok := Task{Type: TaskCallBack, Priority: PriorityNormal, DueAt: now.Add(time.Hour)}
	tests := []struct {
		name  string
		edit  func(*Task)
		field string
	}{
		{"Valid", func(*Task) {}, ""},
		{"OverdueIsAllowed", func(k *Task) { k.DueAt = now.Add(-72 * time.Hour) }, ""},
		{"NoDueTime", func(k *Task) { k.DueAt = time.Time{} }, "input.dueAt"},
		{"MoreThanTwoYearsAhead", func(k *Task) { k.DueAt = now.Add(MaxTaskAhead + time.Hour) }, "input.dueAt"},
		{"UnknownType", func(k *Task) { k.Type = "LUNCH" }, "input.type"},
		{"UnknownPriority", func(k *Task) { k.Priority = "SOMEDAY" }, "input.priority"},
		{"TitleTooLong", func(k *Task) { k.Title = string(make([]rune, MaxSubjectLen+1)) }, "input.title"},
		{"ControlCharactersInNotes", func(k *Task) { k.Notes = "call\x00back" }, "input.notes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := ok
			tc.edit(&k)
			err := validateTask(&k, now)
			var e *Error
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field != "" && (err == nil || !errors.As(err, &e) || e.Code != EINVALID || e.Field != tc.field):
				t.Fatalf("got %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
}
