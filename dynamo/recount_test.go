package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbstream"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/stream"
)

// racingStore is the stream's store with the recount of each customer a
// batch loads run right after the load: the recount marks the customer
// between the batch's read of its activity and the batch's own writes.
type racingStore struct {
	*dynamo.Store
	race bool
	tb   testing.TB
}

func (r *racingStore) Load(ctx context.Context, ids []string, created map[string]bool) (map[string]*stream.State, error) {
	states, err := r.Store.Load(ctx, ids, created)
	if err != nil || !r.race {
		return states, err
	}
	for _, id := range ids {
		if _, err := r.Store.RecountCustomer(ctx, id); err != nil {
			r.tb.Errorf("recount %s: %v", id, err)
		}
	}
	return states, nil
}

// A table that held customers before the per-value counters (kind,
// source, industry, region: no kinds./sources. on the team items, no
// industry or region items, no activity marked, no valueCounts on TEAMS)
// gets them exact from the recount migration while customers are created,
// edited, archived and merged: with the recount racing the stream's
// batches (between a batch's read of an activity and its writes), every
// batch delivered twice, and pages of the walk between writes the stream
// has not applied yet. After it, totals by kind, source, industry and
// region (alone, with a team, a region's pool) come from the counters and
// are exact; a second run, and a page applied again, count nobody twice.
func TestTheValueRecountMakesUpgradedTablesExactWhileWritesGoOn(t *testing.T) {
	e := mustEnv(t)
	race := &racingStore{Store: e.store, tb: t}
	consumer := &stream.Consumer{Store: race, Settler: e.svc}
	twice := func(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
		if res, err := consumer.Handle(ctx, ev); err != nil || len(res.BatchItemFailures) > 0 {
			return res, err
		}
		return consumer.Handle(ctx, ev)
	}
	p, err := ddbstream.New(t.Context(), e.db, ddbtest.Streams(t), e.table, twice)
	if err != nil {
		t.Fatal(err)
	}
	drain := func() {
		t.Helper()
		for failures := 0; ; failures++ {
			_, err := p.Drain(t.Context())
			if err == nil {
				return
			}
			// A batch whose activity the recount moved fails its write,
			// and comes again.
			if failures > 50 || !strings.Contains(err.Error(), "changed by someone else") {
				t.Fatalf("drain: %v", err)
			}
		}
	}
	var cs []*crm.Customer
	create := func(i int) *crm.Customer {
		in := crm.CustomerInput{Name: fmt.Sprintf("Recount %02d", i),
			Kind:     []crm.CustomerKind{crm.KindPerson, crm.KindOrganization}[i%2],
			Source:   []crm.Source{crm.SourceWeb, crm.SourceReferral, crm.SourceEvent}[i%3],
			Industry: []string{"Energy", " energy ", "Retail", ""}[i%4], Team: []string{"north", "south", ""}[i%3],
			Region: []string{"north", "south", "east", "north"}[i%4]}
		if i%5 == 0 {
			nobody := ""
			in.OwnerID = &nobody // in the pool
		}
		c := mustCreate(t, e, admin, in)
		cs = append(cs, c)
		return c
	}
	for i := range 12 {
		create(i)
	}
	drain()
	// The layout before: no per-value counters, nobody counted there.
	res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range res.Items {
		pk, sk := it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberS).Value
		switch {
		case strings.HasPrefix(pk, "TOTAL#INDUSTRY#"), strings.HasPrefix(pk, "TOTAL#REGION#"):
			_, err = e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table, Key: dynamo.KeyOf(pk, sk)})
		case strings.HasPrefix(pk, "TOTAL#TEAM#"):
			names := map[string]string{}
			var parts []string
			for name := range it {
				if strings.HasPrefix(name, "kinds.") || strings.HasPrefix(name, "sources.") {
					n := fmt.Sprintf("#a%d", len(parts))
					names[n] = name
					parts = append(parts, n)
				}
			}
			if len(parts) > 0 {
				_, err = e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table, Key: dynamo.KeyOf(pk, sk),
					UpdateExpression: aws.String("REMOVE " + strings.Join(parts, ", ")), ExpressionAttributeNames: names})
			}
		case sk == "~S":
			_, err = e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table, Key: dynamo.KeyOf(pk, sk),
				UpdateExpression: aws.String("REMOVE vc, vcAt")})
		case pk == "TEAMS":
			_, err = e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table, Key: dynamo.KeyOf(pk, sk),
				UpdateExpression: aws.String("REMOVE valueCounts")})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// Until the recount is done, those totals are not read from the
	// counters: past the bound (1 here) they are not counted.
	e.store.SetWalkBound(1)
	page, err := e.svc.Customers(as(admin), crm.CustomerFilter{Kind: crm.KindPerson}, crm.PageRequest{First: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := page.Total(t.Context()); !errors.Is(err, crm.ErrNotCounted) {
		t.Fatalf("a kind's total before the recount: %v, want not counted", err)
	}
	// A region's counter reads 0 before the recount, yet the region holds
	// 6: a filter that also names a team of 4 is walked by the team, and
	// counted, within a bound of 4.
	e.store.SetWalkBound(4)
	page, err = e.svc.Customers(as(admin), crm.CustomerFilter{Region: "north", Team: "south"}, crm.PageRequest{First: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := page.Total(t.Context()); err != nil || n != 2 {
		t.Fatalf("region north in team south before the recount: %d (%v), want 2, walked by the team", n, err)
	}
	e.store.SetWalkBound(1)
	update := func(c *crm.Customer, upd crm.CustomerUpdate) {
		t.Helper()
		cur := mustCustomer(t, e, c.ID)
		if _, err := e.svc.UpdateCustomer(as(admin), c.ID, cur.Version, upd); err != nil {
			t.Fatal(err)
		}
	}
	retail, mining, south, east := "retail", "Mining", "south", "east"
	event, person := crm.SourceEvent, crm.KindPerson
	writes := []func(){
		func() { update(cs[0], crm.CustomerUpdate{Industry: &retail, Source: &event}) },
		func() { create(12) },
		func() {
			cur := mustCustomer(t, e, cs[1].ID)
			if _, err := e.svc.ArchiveCustomer(as(admin), cs[1].ID, cur.Version); err != nil {
				t.Fatal(err)
			}
		},
		func() { update(cs[2], crm.CustomerUpdate{Kind: &person, Team: &south}) },
		func() { mustMerge(t, e, admin, mustCustomer(t, e, cs[3].ID), mustCustomer(t, e, cs[7].ID)) },
		func() { update(cs[4], crm.CustomerUpdate{Industry: &mining}) },
		func() { update(cs[9], crm.CustomerUpdate{Industry: &retail, Region: &east}) },
		func() { update(cs[5], crm.CustomerUpdate{Region: &south}) },
	}
	// Writes the stream applies while racing the recount.
	race.race = true
	writes[0]()
	writes[1]()
	drain()
	race.race = false
	// Then pages of the walk, between writes applied or not yet.
	e.store.SetMigrationPage(9)
	next := 2
	status, err := e.store.Migrate(as(admin), func() bool {
		if next < len(writes) {
			writes[next]()
			if next%2 == 0 {
				drain()
			}
			next++
		}
		return true
	})
	if m := migrationNamed(status, "2026-12-recount-values"); err != nil || !m.Done {
		t.Fatalf("migration: %+v %v", status, err)
	}
	for ; next < len(writes); next++ {
		writes[next]()
	}
	drain()
	var now []*crm.Customer
	for _, c := range cs {
		if c.ID != cs[7].ID { // merged into cs[3]
			now = append(now, mustCustomer(t, e, c.ID))
		}
	}
	for name, f := range map[string]crm.CustomerFilter{
		"Person":          {Kind: crm.KindPerson},
		"Organization":    {Kind: crm.KindOrganization},
		"Web":             {Source: crm.SourceWeb},
		"Event":           {Source: crm.SourceEvent},
		"EnergyAnyCase":   {Industry: "ENERGY"},
		"Retail":          {Industry: "retail"},
		"Mining":          {Industry: "mining"},
		"TeamAndKind":     {Team: "south", Kind: crm.KindPerson},
		"TeamAndSource":   {Team: "north", Source: crm.SourceReferral},
		"TeamAndIndustry": {Team: "south", Industry: "Retail"},
		"Region":          {Region: "east"},
		"TeamAndRegion":   {Team: "north", Region: "south"},
		"PoolOfARegion":   {Pool: true, Region: "north"},
		"TeamPoolRegion":  {Team: "north", Pool: true, Region: "north"},
	} {
		page, err := e.svc.Customers(as(admin), f, crm.PageRequest{First: 1})
		if err != nil {
			t.Fatal(err)
		}
		n, err := page.Total(t.Context())
		if want := len(wanted(now, f)); err != nil || n != want {
			t.Errorf("%s: totalCount = %d (%v), want %d", name, n, err, want)
		}
	}
	mustHoldValueInvariants(t, e)
	if status, err = e.store.Migrate(as(admin), func() bool { return true }); err != nil || !migrationNamed(status, "2026-12-recount-values").Done {
		t.Fatalf("a second run: %+v %v", status, err)
	}
	res, err = e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.store.RecountPage(as(admin), res.Items); err != nil || n != 0 {
		t.Fatalf("the walk again: %d counted, %v", n, err)
	}
	mustHoldValueInvariants(t, e)
}

func mustHoldValueInvariants(t *testing.T, e *env) {
	t.Helper()
	broken, err := dynamo.CheckInvariants(t.Context(), e.db, e.table)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		t.Errorf("invariant: %s", b)
	}
}
