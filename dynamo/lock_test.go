package dynamo_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/rapportcrm/rapport/crm"
)

// The store's optimistic lock, tested without the service. The service
// compares expectedVersion with what it read before it writes, so a stale
// update through the service is refused even by a store that writes
// unconditionally; here the changes go to the store directly, computed
// from a read another writer has since overtaken, so only the store's
// conditional write stands between them and a lost update.

func TestStoreRefusesAProfileChangeComputedFromAStaleVersion(t *testing.T) {
	e := mustEnv(t)
	ctx := as(admin)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Locked Ltd", Team: "north"})
	read, err := e.store.Customer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}

	first := read.Clone()
	first.Name, first.Version = "First writer", read.Version+1
	if err := e.store.Apply(ctx, &crm.Change{CustomerPrev: read, Customer: first}); err != nil {
		t.Fatalf("the first writer: %v", err)
	}

	// The second writer read the same version; its change carries a tag,
	// a grade change and a stage change, none of which may land.
	second := read.Clone()
	second.Name, second.Version, second.Tags, second.Stage = "Second writer", read.Version+1, []string{"lost-update"}, crm.StageFormation
	gc := &crm.GradeChange{ID: ulid.Make().String(), CustomerID: c.ID, From: read.Grade.Level, To: "C", Source: crm.GradeManual,
		Reason: "from a stale read", By: admin.ID, At: read.UpdatedAt}
	second.Grade = gc.State()
	sc := &crm.StageChange{ID: ulid.Make().String(), CustomerID: c.ID, From: read.Stage, To: crm.StageFormation, By: admin.ID, At: read.UpdatedAt}
	err = e.store.Apply(ctx, &crm.Change{CustomerPrev: read, Customer: second, GradeChange: gc, StageChange: sc})
	if code(err) != crm.ECONFLICT {
		t.Fatalf("a change computed from a stale version: %v, want CONFLICT", err)
	}

	got, err := e.store.Customer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "First writer" || got.Version != read.Version+1 || len(got.Tags) != 0 || got.Stage != read.Stage ||
		got.Grade.Level != read.Grade.Level {
		t.Fatalf("the stored profile is not the first writer's: %+v", got)
	}
	grades, err := e.svc.GradeHistory(ctx, c.ID, crm.PageRequest{First: crm.DefaultPageSize})
	// (A customer's starting grade is on its profile: creation writes no
	// history entry.)
	if err != nil || len(grades.Items) != 0 {
		t.Fatalf("grade history %+v %v: the refused change's entry was written", grades, err)
	}
	stages, err := e.svc.StageHistory(ctx, c.ID, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil || len(stages.Items) != 0 {
		t.Fatalf("stage history %+v %v: the refused change's entry was written", stages, err)
	}
	tagged, err := e.svc.Customers(ctx, crm.CustomerFilter{Tag: "lost-update"}, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil || len(tagged.Items) != 0 {
		t.Fatalf("the refused change's tag index entry was written: %+v %v", tagged, err)
	}
}

func TestConcurrentWritersFromOneReadExactlyOneWins(t *testing.T) {
	e := mustEnv(t)
	ctx := as(admin)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Contested Ltd", Team: "north"})
	read, err := e.store.Customer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := read.Clone()
			next.Name, next.Version = fmt.Sprint("Writer ", i), read.Version+1
			errs[i] = e.store.Apply(ctx, &crm.Change{CustomerPrev: read, Customer: next})
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch code(err) {
		case "":
			if winner >= 0 {
				t.Fatalf("writers %d and %d both wrote version %d", winner, i, read.Version+1)
			}
			winner = i
		case crm.ECONFLICT:
		default:
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	got, err := e.store.Customer(ctx, c.ID)
	if err != nil || winner < 0 || got.Name != fmt.Sprint("Writer ", winner) || got.Version != read.Version+1 {
		t.Fatalf("stored %+v (%v); winner %d", got, err, winner)
	}
}

func TestStoreRefusesAStaleContactUpdateOrRemoval(t *testing.T) {
	e := mustEnv(t)
	ctx := as(admin)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Contact Lock Ltd", Team: "north"})
	ct, err := e.svc.AddContact(ctx, c.ID, crm.ContactInput{Name: "Wang Fang", Role: crm.ContactRoles[0]})
	if err != nil {
		t.Fatal(err)
	}
	read, err := e.store.Contact(ctx, c.ID, ct.ID)
	if err != nil {
		t.Fatal(err)
	}
	first := read.Clone()
	first.Title, first.Version = "CTO", read.Version+1
	if err := e.store.Apply(ctx, &crm.Change{ContactPrev: read, Contact: first}); err != nil {
		t.Fatalf("the first writer: %v", err)
	}
	second := read.Clone()
	second.Title, second.Version = "CFO", read.Version+1
	if err := e.store.Apply(ctx, &crm.Change{ContactPrev: read, Contact: second}); code(err) != crm.ECONFLICT {
		t.Fatalf("a stale contact update: %v, want CONFLICT", err)
	}
	if err := e.store.Apply(ctx, &crm.Change{DeleteContact: read}); code(err) != crm.ECONFLICT {
		t.Fatalf("a stale contact removal: %v, want CONFLICT", err)
	}
	got, err := e.store.Contact(ctx, c.ID, ct.ID)
	if err != nil || got.Title != "CTO" || got.Version != read.Version+1 {
		t.Fatalf("stored contact %+v (%v), want the first writer's", got, err)
	}
}
