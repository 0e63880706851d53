package demo_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/demo"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/stream/streamtest"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }

// The grading policy, not the seed, grades the demo customers: the nine
// profiles must still give every level, and the scheduled run tiers them.
func TestSeedGivesEveryGradeLevelByRule(t *testing.T) {
	db, table := ddbtest.Client(t), ddbtest.NewTable(t, "CrmTable")
	store := dynamo.New(db, table, []byte(strings.Repeat("k", 32)))
	svc := crm.NewService(store)
	consumer := streamtest.New(t, db, table, store, svc)
	ctx := crm.NewContextWithUser(context.Background(), &demo.Users[0])
	settle := func(context.Context) error { consumer.Drain(t); return nil }
	if err := demo.Seed(ctx, svc, demo.Options{Customers: 27, Seed: 2026, Now: time.Now(), Settle: settle}); err != nil {
		t.Fatal(err)
	}
	consumer.Drain(t)
	levels := map[string]int{}
	tiers := map[crm.ValueTier]int{}
	stages := map[crm.Stage]int{}
	err := store.EachCustomer(ctx, func(c *crm.Customer) error {
		levels[c.Grade.Level]++
		tiers[c.ValueTier]++
		stages[c.Stage]++
		if c.Grade.Source == crm.GradeManual {
			t.Errorf("%s was graded by hand", c.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range crm.DefaultGradeLevels {
		if levels[l.Code] == 0 {
			t.Errorf("no demo customer of level %s (levels %v)", l.Code, levels)
		}
	}
	// Lost customers are created LOST with why, and won back afterwards.
	for _, st := range crm.Stages {
		if stages[st] == 0 {
			t.Errorf("no demo customer in stage %s (stages %v)", st, stages)
		}
	}
	if tiers[crm.TierKey] == 0 || tiers[""] != 0 {
		t.Errorf("value tiers %v: every customer should be ranked, one KEY at least", tiers)
	}
	// Tasks are their customers' owners', on what their latest contact
	// calls for, and show on the owners' agendas.
	tasks := 0
	for _, owner := range []string{"sales-li", "sales-zhao", "sales-liu"} {
		page, err := svc.TaskQueue(ctx, owner, nil, crm.PageRequest{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Items {
			tasks++
			c, err := store.Customer(ctx, k.CustomerID)
			if err != nil || c.OwnerID != owner || k.Title == "" {
				t.Errorf("task %+v of %s on %+v (%v)", k, owner, c, err)
			}
		}
	}
	if tasks == 0 {
		t.Error("the demo has no tasks")
	}

	// The north manager's pipeline by stage is what its salespeople's open
	// deals add up to, and it holds won and lost deals too.
	north, err := svc.PipelineAnalytics(crm.NewContextWithUser(ctx, &demo.Users[1]), crm.PipelineQuery{Team: "north"})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]int{}
	sums := map[string]crm.Money{}
	for _, seller := range []string{"sales-li", "sales-zhao"} {
		page, err := svc.OpenOpportunities(ctx, seller, crm.PageRequest{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Items {
			listed[o.Stage]++
			sums[o.Stage] += o.Amount
		}
	}
	for _, st := range north.Stages {
		var amount crm.Money
		for _, a := range st.Amounts {
			amount += a.Amount
		}
		if st.Count != listed[st.Stage] || amount != sums[st.Stage] {
			t.Errorf("north's %s: %d deals of %s counted, %d of %s listed", st.Stage, st.Count, amount, listed[st.Stage], sums[st.Stage])
		}
	}
	if north.Open.Count == 0 || north.Won == 0 || north.Lost == 0 {
		t.Errorf("north's demo pipeline: %d open, %d won, %d lost; want some of each", north.Open.Count, north.Won, north.Lost)
	}
}
