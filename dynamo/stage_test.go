package dynamo_test

import (
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

func TestStageChangesAreRecordedWithReasons(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, sales1, crm.CustomerInput{Name: "Lifecycle"})
	moves := []struct {
		stage  crm.Stage
		reason string
		code   string
	}{
		{crm.StageWonBack, "", crm.EINVALID}, // not lost yet
		{crm.StageFormation, "first order placed", ""},
		{crm.StageLost, "", crm.EINVALID}, // losing needs a reason
		{crm.StageLost, "moved to a competitor", ""},
		{crm.StageWonBack, "new contract", ""},
	}
	for _, m := range moves {
		_, err := e.svc.ChangeStage(as(sales1), c.ID, m.stage, m.reason, nil)
		if code(err) != m.code {
			t.Fatalf("move to %s: %v, want %q", m.stage, err, m.code)
		}
	}
	name := "x"
	lost := crm.StageLost
	if _, err := e.svc.UpdateCustomer(as(sales1), c.ID, 4, crm.CustomerUpdate{Name: &name, Stage: &lost}); code(err) != crm.EINVALID {
		t.Fatalf("lost through a profile edit: %v", err)
	}
	decline := crm.StageDecline
	if _, err := e.svc.UpdateCustomer(as(sales1), c.ID, 4, crm.CustomerUpdate{Stage: &decline}); err != nil {
		t.Fatal(err)
	}
	h, err := e.svc.StageHistory(as(sales1), c.ID, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ from, to crm.Stage }{
		{crm.StageWonBack, crm.StageDecline}, {crm.StageLost, crm.StageWonBack},
		{crm.StageFormation, crm.StageLost}, {crm.StageExploration, crm.StageFormation},
	}
	if len(h.Items) != len(want) {
		t.Fatalf("history has %d entries, want %d", len(h.Items), len(want))
	}
	for i, w := range want {
		if h.Items[i].From != w.from || h.Items[i].To != w.to || h.Items[i].By != sales1.ID {
			t.Fatalf("entry %d = %+v, want %s→%s", i, h.Items[i], w.from, w.to)
		}
	}
	if h.Items[2].Reason != "moved to a competitor" {
		t.Fatalf("reason lost: %+v", h.Items[2])
	}
	// The 360 view still reads only profile, contacts and interactions.
	v, err := e.svc.Customer360(as(sales1), c.ID, 5)
	if err != nil || len(v.RecentInteractions) != 0 {
		t.Fatalf("360 view: %+v %v", v, err)
	}
}
