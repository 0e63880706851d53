package dynamo_test

import (
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

func TestDuplicateCandidatesByName(t *testing.T) {
	e := mustEnv(t)
	acme := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Power Co., Ltd.", Team: "north"})
	typo := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Powr", Team: "south"})
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Acorn Textiles"})
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Jinlong Steel"})

	got, err := e.svc.DuplicateCandidates(as(admin), "ACME power", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Customer.ID != acme.ID || got[0].Score != 1 || got[1].Customer.ID != typo.ID {
		t.Fatalf("candidates: %+v", got)
	}
	// Excluding itself, and only what the caller may read.
	got, err = e.svc.DuplicateCandidates(as(manager), "Acme Power Co., Ltd.", acme.ID, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("manager of north sees %+v (%v); the typo is in south", got, err)
	}
	if _, err := e.svc.DuplicateCandidates(as(admin), " ", "", 10); code(err) != crm.EINVALID {
		t.Fatalf("blank name: %v", err)
	}
}
