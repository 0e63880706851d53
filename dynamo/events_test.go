package dynamo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/ddbstream"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/stream"
)

// eventsScenario is redeliveryScenario and the lifecycle moves it lacks:
// a restore, a stage change, a manual grade, a release, a claim left to
// lapse and returned to the pool by the job, an overdue case escalated
// by it. The job runs a month on. It returns the customers by name.
func eventsScenario(t *testing.T, e *env) map[string]string {
	t.Helper()
	claimed, survivor, merged := redeliveryScenario(t, e)
	ids := map[string]string{"claimed": claimed, "survivor": survivor, "merged": merged}
	page, err := e.svc.Customers(as(admin), crm.CustomerFilter{IncludeArchived: true}, crm.PageRequest{First: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Items {
		switch c.Name {
		case "Echo":
			ids["gone"] = c.ID
		case "Cord":
			ids["cord"] = c.ID
		case "Bolt":
			ids["bolt"] = c.ID
		}
	}
	if len(ids) != 6 {
		t.Fatalf("customers %v: Echo, Cord or Bolt not listed", ids)
	}
	gone, _ := e.store.Customer(as(admin), ids["gone"])
	if _, err := e.svc.RestoreCustomer(as(admin), gone.ID, gone.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChangeStage(as(admin), ids["bolt"], crm.StageFormation, "first order", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetGrade(as(admin), ids["bolt"], "A", "key account", nil); err != nil {
		t.Fatal(err)
	}
	// A deal won through a proposal, and one lost.
	won := mustDeal(t, e, admin, crm.OpportunityInput{CustomerID: ids["claimed"], Title: "Boilers", Amount: "64000"})
	ids["wonDeal"] = won.ID
	won = mustMove(t, e, admin, won, crm.OpportunityMoveInput{Stage: "PROPOSAL"})
	mustMove(t, e, admin, won, crm.OpportunityMoveInput{Stage: crm.StageWon})
	lost := mustDeal(t, e, admin, crm.OpportunityInput{CustomerID: ids["claimed"], Title: "Spare valves", Amount: "900"})
	mustMove(t, e, admin, lost, crm.OpportunityMoveInput{Stage: crm.StageLostDeal, LossReason: crm.LossTiming, LossNote: "next year's budget"})
	// Leads (提单) from sales-1 to sales-2: one accepted; one returned,
	// handed again and withdrawn.
	mine := sales1.ID
	for _, name := range []string{"Hale", "Iris"} {
		c := mustCreate(t, e, admin, crm.CustomerInput{Name: name, OwnerID: &mine, Team: "north"})
		ids[strings.ToLower(name)] = c.ID
	}
	accepted := mustLead(t, e, sales1, crm.LeadInput{CustomerID: ids["hale"], Need: "A new boiler house", HandedTo: sales2.ID})
	ids["acceptedLead"] = accepted.ID
	if _, err := e.svc.AcceptLead(as(sales2), leadKey(accepted), 1); err != nil {
		t.Fatal(err)
	}
	back := mustLead(t, e, sales1, crm.LeadInput{CustomerID: ids["iris"], Need: "Spare parts", HandedTo: sales2.ID})
	ids["returnedLead"] = back.ID
	if _, err := e.svc.ReturnLead(as(sales2), leadKey(back), 1, "no budget this year"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.HandLead(as(sales1), leadKey(back), 2, sales2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.WithdrawLead(as(sales1), leadKey(back), 3, ""); err != nil {
		t.Fatal(err)
	}
	// The won deal's contract, its term extended, paid in two parts.
	today := e.svc.Now()
	k, err := e.svc.CreateContract(as(admin), crm.ContractInput{CustomerID: ids["claimed"], OpportunityID: won.ID, SignedOn: today,
		EndsOn: today.AddDate(1, 0, 0), Instalments: []crm.InstalmentInput{{DueOn: today.AddDate(0, 1, 0), Amount: "32000"},
			{DueOn: today.AddDate(0, 2, 0), Amount: "32000"}}})
	if err != nil {
		t.Fatal(err)
	}
	ids["contract"] = k.ID
	end := today.AddDate(2, 0, 0)
	if k, err = e.svc.UpdateContract(as(admin), crm.ContractKey{CustomerID: k.CustomerID, ID: k.ID}, k.Version, crm.ContractUpdate{EndsOn: &end}); err != nil {
		t.Fatal(err)
	}
	mustPay(t, e, admin, k, "40000")
	mustPay(t, e, admin, k, "24000")
	// Two contracts beyond every credit level's terms (paid two years
	// after signing) wait for approval: one approved, one rejected.
	seller := sales1.ID
	oak := mustCreate(t, e, admin, crm.CustomerInput{Name: "Oak", OwnerID: &seller, Team: "north"})
	for _, approve := range []bool{true, false} {
		w, err := e.svc.CreateContract(as(sales1), crm.ContractInput{CustomerID: oak.ID, Title: "Extension", Amount: "1000",
			SignedOn: today, EndsOn: today.AddDate(3, 0, 0), Instalments: []crm.InstalmentInput{{DueOn: today.AddDate(2, 0, 0), Amount: "1000"}}})
		if err != nil {
			t.Fatal(err)
		}
		if w.Approval == nil || w.Approval.Status != crm.ApprovalPending {
			t.Fatalf("a contract beyond the terms: %+v, want it waiting for approval", w.Approval)
		}
		wk := crm.ContractKey{CustomerID: w.CustomerID, ID: w.ID}
		if approve {
			_, err = e.svc.ApproveContract(as(admin), wk, w.Version, "")
		} else {
			_, err = e.svc.RejectContract(as(admin), wk, w.Version, "Too long a credit")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.ReleaseCustomer(as(admin), ids["gone"], ""); err != nil {
		t.Fatal(err)
	}
	nobody := ""
	lapse := mustCreate(t, e, admin, crm.CustomerInput{Name: "Fern", OwnerID: &nobody, Region: "north", Team: "north", Grade: "D"})
	ids["lapse"] = lapse.ID
	if _, err := e.svc.ClaimCustomer(as(sales2), lapse.ID); err != nil {
		t.Fatal(err)
	}
	// A claim warned the day before it lapses, and a task due within the
	// hour: the job's notices.
	warned := mustCreate(t, e, admin, crm.CustomerInput{Name: "Gale", OwnerID: &nobody, Region: "north", Team: "north", Grade: "D"})
	ids["warned"] = warned.ID
	held, err := e.svc.ClaimCustomer(as(sales1), warned.ID)
	if err != nil {
		t.Fatal(err)
	}
	task := mustTask(t, e, sales1, crm.TaskInput{CustomerID: warned.ID, Title: "First call", DueAt: time.Now().Add(30 * time.Minute)})
	ids["task"] = task.ID
	if got, err := e.svc.NoticeTasksDue(as(admin)); err != nil || !slices.Equal(got, []string{task.ID}) {
		t.Fatalf("tasks noticed %v (%v), want the one due", got, err)
	}
	eve := held.Claim.ExpiresAt.Add(-time.Hour)
	e.svc.Now = func() time.Time { return eve }
	if run, err := e.svc.RunPool(as(admin)); err != nil || !slices.Contains(run.Warned, warned.ID) {
		t.Fatalf("the pool job warned %+v (%v), want the claim about to lapse", run, err)
	}
	later := time.Now().Add(30 * 24 * time.Hour)
	e.svc.Now = func() time.Time { return later }
	if run, err := e.svc.RunPool(as(admin)); err != nil || !slices.Contains(run.Returned, lapse.ID) {
		t.Fatalf("the pool job returned %+v (%v), want the lapsed claim", run, err)
	}
	if got, err := e.svc.EscalateOverdue(as(admin)); err != nil || len(got) == 0 {
		t.Fatalf("escalated %v (%v), want the open case", got, err)
	}
	return ids
}

// publishTo has the consumer publish its domain events to a file.
func publishTo(t *testing.T, c *stream.Consumer) string {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	c.Handlers = append(c.Handlers, &stream.Publisher{Source: "rapport/test", Sink: &events.FileSink{Path: path}})
	return path
}

func mustEvents(t *testing.T, path string) []events.Event {
	t.Helper()
	evs, err := events.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// Every kind of change the table sees becomes its domain events, each
// once, in a CloudEvents envelope naming its customer and version, and in
// each customer's order.
func TestTheStreamPublishesEachDomainEventOnce(t *testing.T) {
	e := mustEnv(t)
	path := publishTo(t, e.consumer.Consumer)
	ids := eventsScenario(t, e)
	e.drain(t)
	evs := mustEvents(t, path)

	seen := map[string]bool{}
	byType := map[events.Type]int{}
	of := map[string]map[events.Type][]events.Event{}
	for _, ev := range evs {
		if seen[ev.ID] {
			t.Errorf("event id %s published twice", ev.ID)
		}
		seen[ev.ID] = true
		byType[ev.Type]++
		if ev.SpecVersion != "1.0" || ev.Source != "rapport/test" || ev.DataContentType != "application/json" ||
			ev.Subject == "" || ev.Subject != ev.Data.CustomerID || ev.Time.IsZero() || ev.Sequence == "" || ev.Data.Version < 1 {
			t.Errorf("envelope %+v", ev)
		}
		if of[ev.Subject] == nil {
			of[ev.Subject] = map[events.Type][]events.Event{}
		}
		of[ev.Subject][ev.Type] = append(of[ev.Subject][ev.Type], ev)
	}
	for _, typ := range events.Types {
		if typ == events.CustomerPoolReturnDue {
			// The take-back warning needs weeks without contact:
			// TestPoolTakesBackNeglectedCustomersByTheirGradesRulesAfterAWarning
			// checks its events.
			continue
		}
		if byType[typ] == 0 {
			t.Errorf("no %s event", typ)
		}
	}
	one := func(customer string, typ events.Type, check func(events.Data) bool) {
		t.Helper()
		got := of[ids[customer]][typ]
		if len(got) != 1 {
			t.Errorf("%s: %d %s events, want 1: %+v", customer, len(got), typ, got)
			return
		}
		if !check(got[0].Data) {
			b, _ := json.Marshal(got[0])
			t.Errorf("%s: %s", customer, b)
		}
	}
	fromTo := func(f *events.FromTo, from, to string) bool { return f != nil && f.From == from && f.To == to }
	one("gone", events.CustomerArchived, func(d events.Data) bool { return fromTo(d.Status, "ACTIVE", "ARCHIVED") })
	one("gone", events.CustomerRestored, func(d events.Data) bool { return fromTo(d.Status, "ARCHIVED", "ACTIVE") })
	one("gone", events.CustomerReleased, func(d events.Data) bool { return fromTo(d.Owner, sales1.ID, "") && d.Actor == admin.ID })
	one("claimed", events.CustomerClaimed, func(d events.Data) bool {
		return fromTo(d.Owner, "", sales1.ID) && d.ClaimExpiresAt != nil && d.Actor == sales1.ID
	})
	one("lapse", events.CustomerExpiredToPool, func(d events.Data) bool { return fromTo(d.Owner, sales2.ID, "") && d.Actor == crm.SystemUserID })
	one("merged", events.CustomerMerged, func(d events.Data) bool { return d.MergedInto == ids["survivor"] })
	one("cord", events.CustomerHandedOver, func(d events.Data) bool {
		return fromTo(d.Owner, sales3.ID, "sales-2") && fromTo(d.Team, "south", "north") && slices.Contains(d.ChangedFields, "team")
	})
	one("cord", events.CustomerUpdated, func(d events.Data) bool {
		return slices.Contains(d.ChangedFields, "tags") && slices.Contains(d.ChangedFields, "nextFollowUpAt")
	})
	one("bolt", events.CustomerStageChanged, func(d events.Data) bool { return fromTo(d.Stage, "EXPLORATION", "FORMATION") })
	one("bolt", events.CaseOpened, func(d events.Data) bool { return fromTo(d.Status, "", "OPEN") && d.Priority == "HIGH" })
	one("bolt", events.CaseClosed, func(d events.Data) bool { return fromTo(d.Status, "RESOLVED", "CLOSED") })
	if n := len(of[ids["bolt"]][events.CaseMoved]); n != 5 {
		t.Errorf("bolt: %d case moves, want 5 (triaged, assigned, proposed, approved, resolved)", n)
	}
	if n := len(of[ids["bolt"]][events.EvaluationSubmitted]); n != 1 {
		t.Errorf("bolt: %d evaluations, want the satisfaction given at the close", n)
	}
	one("claimed", events.OpportunityMoved, func(d events.Data) bool {
		return fromTo(d.Stage, "QUALIFY", "PROPOSAL") && d.OpportunityID == ids["wonDeal"] && d.Actor == admin.ID
	})
	one("claimed", events.OpportunityWon, func(d events.Data) bool {
		return fromTo(d.Stage, "PROPOSAL", "WON") && d.OpportunityID == ids["wonDeal"] && d.Version == 3 && fromTo(d.Owner, sales1.ID, sales1.ID)
	})
	one("claimed", events.OpportunityLost, func(d events.Data) bool { return fromTo(d.Stage, "QUALIFY", "LOST") && d.LossReason == "TIMING" })
	one("claimed", events.ContractSigned, func(d events.Data) bool {
		return d.ContractID == ids["contract"] && d.OpportunityID == ids["wonDeal"] && d.Version == 1 && d.Owner.To == sales1.ID
	})
	one("claimed", events.ContractUpdated, func(d events.Data) bool { return d.ContractID == ids["contract"] && d.Version == 2 })
	one("claimed", events.ContractPaid, func(d events.Data) bool { return d.ContractID == ids["contract"] && d.Version == 4 })
	if n := len(of[ids["claimed"]][events.ContractPaymentRecorded]); n != 2 {
		t.Errorf("claimed: %d payments recorded, want 2", n)
	}
	if n := len(of[ids["claimed"]][events.OpportunityCreated]); n != 2 {
		t.Errorf("claimed: %d deals opened, want 2", n)
	}
	one("cord", events.CaseEscalated, func(d events.Data) bool { return d.Actor == crm.SystemUserID && d.CaseID != "" })
	one("bolt", events.CaseAssigned, func(d events.Data) bool { return d.CaseID != "" && d.Owner != nil && d.Owner.To == d.AssignedTo })
	one("warned", events.CustomerClaimExpiring, func(d events.Data) bool {
		return d.Actor == crm.SystemUserID && d.ClaimExpiresAt != nil && fromTo(d.Owner, sales1.ID, sales1.ID) && len(d.ChangedFields) == 0
	})
	one("warned", events.TaskDue, func(d events.Data) bool {
		return d.TaskID == ids["task"] && d.AssignedTo == sales1.ID && d.DueAt != nil && d.Actor == crm.SystemUserID && d.Kind == "CALL_BACK"
	})
	isLead := func(key string, status string) func(events.Data) bool {
		return func(d events.Data) bool {
			return d.LeadID == ids[key] && d.Status != nil && d.Status.To == status && d.AssignedTo == sales2.ID
		}
	}
	one("hale", events.LeadAccepted, func(d events.Data) bool {
		return isLead("acceptedLead", "ACCEPTED")(d) && d.Actor == sales2.ID && fromTo(d.Owner, sales1.ID, sales2.ID)
	})
	one("hale", events.CustomerHandedOver, func(d events.Data) bool { return fromTo(d.Owner, sales1.ID, sales2.ID) && d.Actor == sales2.ID })
	one("iris", events.LeadCreated, isLead("returnedLead", "HANDED"))
	one("iris", events.LeadReturned, func(d events.Data) bool {
		return isLead("returnedLead", "RETURNED")(d) && fromTo(d.Status, "HANDED", "RETURNED")
	})
	one("iris", events.LeadWithdrawn, func(d events.Data) bool { return isLead("returnedLead", "WITHDRAWN")(d) && d.Actor == sales1.ID })
	if n := len(of[ids["iris"]][events.LeadHanded]); n != 2 {
		t.Errorf("iris: %d lead.handed events, want 2 (made, handed again)", n)
	}
	regrades := of[ids["bolt"]][events.CustomerRegraded]
	if len(regrades) == 0 || regrades[len(regrades)-1].Data.Grade.To != "A" {
		t.Errorf("bolt's regrades %+v end elsewhere than A", regrades)
	}
	// The append that raced the merge is one logged interaction, under the
	// merged customer it was written to; its move is not an event.
	if n := len(of[ids["merged"]][events.InteractionLogged]) + len(of[ids["survivor"]][events.InteractionLogged]); n != 4 {
		t.Errorf("%d interactions logged on the survivor and the twin, want 4", n)
	}

	// Per customer, events come in the stream's order, and customer
	// events with the profile's versions.
	last := map[string]events.Event{}
	version := map[string]int{}
	for _, ev := range evs {
		if p, ok := last[ev.Subject]; ok && stream.SeqAfter(p.Sequence, ev.Sequence) {
			t.Errorf("%s: %s (sequence %s) after %s (sequence %s)", ev.Subject, ev.Type, ev.Sequence, p.Type, p.Sequence)
		}
		last[ev.Subject] = ev
		if slices.Contains(customerTypes, ev.Type) {
			if ev.Data.Version < version[ev.Subject] {
				t.Errorf("%s: %s at version %d after version %d", ev.Subject, ev.Type, ev.Data.Version, version[ev.Subject])
			}
			version[ev.Subject] = ev.Data.Version
		}
	}
	t.Logf("%d events: %v", len(evs), byType)
}

var customerTypes = events.Types[:12]

// failingSink fails every other call, after writing half of what it was
// given: a publisher that stopped part-way.
type failingSink struct {
	sink  events.Sink
	calls int
}

func (f *failingSink) Publish(ctx context.Context, evs []events.Event) error {
	f.calls++
	if f.calls%2 == 1 {
		if err := f.sink.Publish(ctx, evs[:len(evs)/2]); err != nil {
			return err
		}
		return errors.New("the bus went away")
	}
	return f.sink.Publish(ctx, evs)
}

// A batch delivered again, or whose publishing failed part-way, publishes
// again only events with the ids they had, the same in every field: a
// subscriber that drops ids it has seen gets what one clean pass gives.
func TestARedeliveredBatchPublishesOnlyWhatSubscribersDeduplicate(t *testing.T) {
	clean := mustEnv(t)
	cleanPath := publishTo(t, clean.consumer.Consumer)
	eventsScenario(t, clean)
	clean.drain(t)
	want := map[events.Type]int{}
	for _, ev := range mustEvents(t, cleanPath) {
		want[ev.Type]++
	}

	e := mustEnv(t)
	path := filepath.Join(t.TempDir(), "events.jsonl")
	sink := &failingSink{sink: &events.FileSink{Path: path}}
	consumer := &stream.Consumer{Store: e.store, Settler: e.svc, Handlers: []stream.Handler{&stream.Publisher{Source: "rapport/test", Sink: sink}}}
	// Every other publish fails part-way: its batch comes again.
	p, err := ddbstream.New(t.Context(), e.db, ddbtest.Streams(t), e.table, consumer.Handle)
	if err != nil {
		t.Fatal(err)
	}
	eventsScenario(t, e)
	for failures := 0; ; failures++ {
		if _, err := p.Drain(t.Context()); err == nil {
			break
		} else if failures > 200 {
			t.Fatalf("drain: %v", err)
		}
	}
	// And the whole stream again, as after a lost checkpoint.
	again, err := ddbstream.New(t.Context(), e.db, ddbtest.Streams(t), e.table, consumer.Handle)
	if err != nil {
		t.Fatal(err)
	}
	for failures := 0; ; failures++ {
		if _, err := again.Drain(t.Context()); err == nil {
			break
		} else if failures > 200 {
			t.Fatalf("drain again: %v", err)
		}
	}
	evs := mustEvents(t, path)
	first := map[string]string{}
	got := map[events.Type]int{}
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		if prev, ok := first[ev.ID]; ok {
			if prev != string(b) {
				t.Errorf("event %s published twice differently:\n%s\n%s", ev.ID, prev, b)
			}
			continue
		}
		first[ev.ID] = string(b)
		got[ev.Type]++
	}
	if len(evs) == len(first) {
		t.Errorf("nothing was published twice (%d events): the redelivery did not happen", len(evs))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("distinct events by type %v, one clean pass %v", got, want)
	}
	t.Logf("%d published, %d distinct, %d sink calls", len(evs), len(first), sink.calls)
}
