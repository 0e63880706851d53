package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/demo"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbmeter"
)

// Prices of DynamoDB on-demand request units, Standard table class,
// us-east-1, since AWS's reduction of 2024-11-01: $0.625 per million
// write and $0.125 per million read request units (as restated by
// Airbyte's "Amazon DynamoDB Pricing" guide, 2025-07-21; AWS's pricing
// page could not be opened from the build machine, read 2026-12-01).
const (
	defaultWRUPrice = 0.625
	defaultRRUPrice = 0.125
	priceSource     = "DynamoDB on demand, us-east-1, Standard: $0.625 per million WRU, $0.125 per million RRU (AWS price cut of 2024-11-01, as restated by Airbyte's pricing guide of 2025-07-21; read 2026-12-01)"
)

// indexes are the table's global secondary indexes, as template.yaml
// names them, in the order the table prints them.
var indexes = []string{"byOwner2", "byGrade2", "byStage2", "byRegion2", "byTeam2", "byList2", "byName2", "byDue"}

// operation is one GraphQL request the benchmark measures. prepare makes
// what it needs (a customer at its current version, a case to move…) and
// returns who sends which document with which variables; its own calls
// are not counted.
type operation struct {
	name    string
	prepare func(ctx context.Context) (who caller, doc string, vars map[string]any, err error)
}

// measured is what one operation consumed: the request's own calls and
// the work applied afterwards from the table's stream.
type measured struct {
	name             string
	request, derived ddbmeter.Usage
	writes           []written
	err              error
}

// written is one item a request wrote, and its size after the request.
type written struct {
	action, pk, sk string
	size           int // 0: deleted or not found
}

// capacity runs every operation once, in order, against the seeded demo
// data and prints what each consumed.
func capacity(ctx context.Context, e *env, prices [2]float64, detail bool, out io.Writer) error {
	b := &benchState{e: e}
	if err := b.discover(ctx); err != nil {
		return err
	}
	if _, err := e.derive(ctx); err != nil { // what discovering wrote
		return err
	}
	var results []measured
	for _, op := range b.operations() {
		who, doc, vars, err := op.prepare(ctx)
		if err != nil {
			results = append(results, measured{name: op.name, err: fmt.Errorf("prepare: %w", err)})
			continue
		}
		// What preparing wrote (a customer created to hand over, the call
		// a case is opened by) is applied first, so that the stream's
		// figures are the operation's alone.
		if _, err := e.derive(ctx); err != nil {
			results = append(results, measured{name: op.name, err: fmt.Errorf("prepare: derive: %w", err)})
			continue
		}
		e.meter.Set(detail, false)
		e.meter.Take()
		err = e.gql(ctx, who, doc, vars, nil)
		m := measured{name: op.name, request: e.meter.Take(), err: err}
		e.meter.Set(false, false)
		if detail && err == nil {
			if m.writes, err = e.written(ctx, m.request.Inputs); err != nil {
				return err
			}
		}
		e.streamMeter.Set(detail, false)
		m.derived, err = e.derive(ctx)
		e.streamMeter.Set(false, false)
		if err != nil && m.err == nil {
			m.err = fmt.Errorf("derive: %w", err)
		}
		if detail && err == nil {
			derived, err := e.written(ctx, m.derived.Inputs)
			if err != nil {
				return err
			}
			for _, w := range derived {
				w.action = "s " + w.action
				m.writes = append(m.writes, w)
			}
		}
		results = append(results, m)
	}
	printCapacity(out, results, prices)
	if detail {
		printWrites(out, results)
	}
	return nil
}

// written lists the items the recorded calls wrote, with their sizes now.
func (e *env) written(ctx context.Context, inputs []any) ([]written, error) {
	var out []written
	add := func(action string, key map[string]types.AttributeValue) error {
		w := written{action: action, pk: str(key["pk"]), sk: str(key["sk"])}
		res, err := e.raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{"pk": key["pk"], "sk": key["sk"]}})
		if err != nil {
			return err
		}
		w.size = dynamo.ItemSize(res.Item)
		out = append(out, w)
		return nil
	}
	for _, in := range inputs {
		var err error
		switch in := in.(type) {
		case *dynamodb.TransactWriteItemsInput:
			for _, it := range in.TransactItems {
				switch {
				case it.Put != nil:
					err = add("put", it.Put.Item)
				case it.Update != nil:
					err = add("update", it.Update.Key)
				case it.Delete != nil:
					err = add("delete", it.Delete.Key)
				case it.ConditionCheck != nil:
					err = add("check", it.ConditionCheck.Key)
				}
				if err != nil {
					return nil, err
				}
			}
		case *dynamodb.BatchWriteItemInput:
			for _, reqs := range in.RequestItems {
				for _, r := range reqs {
					switch {
					case r.PutRequest != nil:
						err = add("bput", r.PutRequest.Item)
					case r.DeleteRequest != nil:
						err = add("bdelete", r.DeleteRequest.Key)
					}
					if err != nil {
						return nil, err
					}
				}
			}
		case *dynamodb.PutItemInput:
			err = add("put", in.Item)
		case *dynamodb.UpdateItemInput:
			err = add("update", in.Key)
		case *dynamodb.DeleteItemInput:
			err = add("delete", in.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// printWrites lists, per write operation, every item written and its size.
func printWrites(out io.Writer, results []measured) {
	fmt.Fprintln(out, "\nItems written (size after the request; deleted items show 0; \"s\": by the stream consumer):")
	for _, r := range results {
		if len(r.writes) == 0 {
			continue
		}
		fmt.Fprintf(out, "%s:\n", r.name)
		for _, w := range r.writes {
			fmt.Fprintf(out, "  %-6s %6d B  %s / %s\n", w.action, w.size, w.pk, w.sk)
		}
	}
}

// derive applies what the table's stream carries after a request (and
// what applying it writes) and returns what that consumed, apart from the
// request: the stream consumer runs on its own metered client, drained
// through DynamoDB Local's Streams API, alone in its batch (the costliest
// case: under load a batch adds to its shared items once for all its
// records).
func (e *env) derive(ctx context.Context) (ddbmeter.Usage, error) {
	e.streamMeter.Take()
	_, err := e.poller.Drain(ctx)
	return e.streamMeter.Take(), err
}

func printCapacity(out io.Writer, results []measured, prices [2]float64) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"operation", "calls", "RRU"}
	head = append(head, "WRU table")
	head = append(head, indexes...)
	head = append(head, "WRU", "Local WRU", "stream RRU", "stream WRU", "total WRU", "$ per M", "")
	fmt.Fprintln(w, strings.Join(head, "\t"))
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(w, "%s\tfailed: %v\t\n", r.name, r.err)
			continue
		}
		b := r.request.Billed
		row := []string{r.name, callsOf(r.request), num(b.ReadTotal()), num(b.Write[ddbmeter.TableUnits])}
		for _, idx := range indexes {
			row = append(row, num(b.Write[idx]))
		}
		d := r.derived.Billed
		total := b.Plus(d)
		cost := total.ReadTotal()*prices[1] + total.WriteTotal()*prices[0]
		row = append(row, num(b.WriteTotal()), num(r.request.Reported.WriteTotal()), num(d.ReadTotal()), num(d.WriteTotal()),
			num(total.WriteTotal()), fmt.Sprintf("%.2f", cost), "")
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	_ = w.Flush()
	fmt.Fprintf(out, "\nRRU/WRU: request units AWS bills for the request's own DynamoDB calls (WRU by the table and each index),\n"+
		"writes worked out from the items written (infra/ddbmeter/bill.go); Local WRU: what DynamoDB Local reported, which\n"+
		"for transactions is not what AWS bills; stream: units of the work applied from the table's stream after the request\n"+
		"(activity, watch-list entries, aggregates, counters, settled profiles), alone in its batch; total: both;\n"+
		"$ per M: request and stream units of a million such operations. Calls: G GetItem, BG BatchGetItem, Q Query,\n"+
		"TW TransactWriteItems, U UpdateItem. Prices: %s.\n", priceSource)
}

func callsOf(u ddbmeter.Usage) string {
	short := map[string]string{"GetItem": "G", "BatchGetItem": "BG", "Query": "Q", "TransactWriteItems": "TW",
		"PutItem": "P", "UpdateItem": "U", "DeleteItem": "D", "TransactGetItems": "TG", "BatchWriteItem": "BW", "Scan": "S"}
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(u.Calls)) {
		name := short[op]
		if name == "" {
			name = op
		}
		parts = append(parts, fmt.Sprintf("%d%s", u.Calls[op], name))
	}
	if u.Attempts > u.CallCount() {
		parts = append(parts, fmt.Sprintf("+%d retried", u.Attempts-u.CallCount()))
	}
	return strings.Join(parts, " ")
}

func num(f float64) string {
	if f == 0 {
		return "·"
	}
	if f == float64(int(f)) {
		return fmt.Sprintf("%d", int(f))
	}
	return fmt.Sprintf("%.1f", f)
}

// benchState is what the operations share: ids found in the demo data.
type benchState struct {
	e          *env
	owned      []customerRef // sales-li's customers, busiest first
	pool       []customerRef
	templateID string
	indicators []indicatorRef
	partnerID  string
	n          int // makes names unique
}

type customerRef struct {
	ID               string `json:"id"`
	Version          int    `json:"version"`
	InteractionCount int    `json:"interactionCount"`
	// Phones, canonical (+86…): the screen pop looks one up.
	Phones []string `json:"phones"`
}

type indicatorRef struct {
	Key      string  `json:"key"`
	ScaleMin float64 `json:"scaleMin"`
	ScaleMax float64 `json:"scaleMax"`
}

const seller = caller("sales-li")

func (b *benchState) discover(ctx context.Context) error {
	// A caller's first request signs them in to the directory (a read):
	// made here, so that no measured operation pays it.
	for _, u := range demo.Users {
		if err := b.e.gql(ctx, caller(u.ID), `{ me { id } }`, nil, nil); err != nil {
			return err
		}
	}
	var err error
	if b.owned, err = b.list(ctx, seller, map[string]any{"ownerId": string(seller)}); err != nil {
		return err
	}
	slices.SortStableFunc(b.owned, func(x, y customerRef) int { return y.InteractionCount - x.InteractionCount })
	// The pool of the salespeople's team: claims keep to one's own team
	// (CLAIM_WITHIN_TEAM), and sales-zhao claims these.
	if b.pool, err = b.list(ctx, "admin", map[string]any{"pool": true, "team": "north"}); err != nil {
		return err
	}
	if len(b.owned) < 12 || len(b.pool) < 3 {
		return fmt.Errorf("the demo data has %d customers of %s and %d in north's pool; want 12 and 3", len(b.owned), seller, len(b.pool))
	}
	var t struct {
		Templates struct {
			Edges []struct {
				Node struct {
					ID         string         `json:"id"`
					Indicators []indicatorRef `json:"indicators"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"templates"`
		PartnerOrganizations struct {
			Edges []struct {
				Node struct {
					ID string `json:"id"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"partnerOrganizations"`
	}
	if err := b.e.gql(ctx, "admin", `{ templates(first: 1) { edges { node { id indicators { key scaleMin scaleMax } } } }
		partnerOrganizations(first: 1) { edges { node { id } } } }`, nil, &t); err != nil {
		return err
	}
	if len(t.Templates.Edges) == 0 || len(t.PartnerOrganizations.Edges) == 0 {
		return fmt.Errorf("the demo data has no template or no partner organization")
	}
	b.templateID, b.indicators = t.Templates.Edges[0].Node.ID, t.Templates.Edges[0].Node.Indicators
	b.partnerID = t.PartnerOrganizations.Edges[0].Node.ID
	// The 360's customer has a long history, as an account manager's busy
	// customers do: its Query then meets more interactions than it shows.
	for b.owned[0].InteractionCount < busyHistory {
		if _, err := b.interaction(ctx, b.owned[0].ID, "CALL"); err != nil {
			return err
		}
		b.owned[0].InteractionCount++
	}
	return nil
}

// busyHistory is how many interactions the 360's customer has.
const busyHistory = 80

func (b *benchState) list(ctx context.Context, who caller, filter map[string]any) ([]customerRef, error) {
	var r struct {
		Customers struct {
			Edges []struct {
				Node customerRef `json:"node"`
			} `json:"edges"`
		} `json:"customers"`
	}
	if err := b.e.gql(ctx, who, `query($f: CustomerFilter) { customers(filter: $f, first: 100) { edges { node { id version interactionCount phones } } } }`,
		map[string]any{"f": filter}, &r); err != nil {
		return nil, err
	}
	out := make([]customerRef, len(r.Customers.Edges))
	for i, e := range r.Customers.Edges {
		out[i] = e.Node
	}
	return out, nil
}

// version reads a customer's current version.
func (b *benchState) version(ctx context.Context, id string) (int, error) {
	var r struct {
		Customer struct {
			Version int `json:"version"`
		} `json:"customer"`
	}
	err := b.e.gql(ctx, "admin", `query($id: ID!) { customer(id: $id) { version } }`, map[string]any{"id": id}, &r)
	return r.Customer.Version, err
}

// create makes a customer owned by owner ("" for the pool of north) and
// returns its id and version.
func (b *benchState) create(ctx context.Context, owner string) (string, int, error) {
	b.n++
	in := customerInput(fmt.Sprintf("Bench Customer %d", b.n), b.n)
	if owner == "" {
		in["ownerId"] = ""
		delete(in, "team")
	} else {
		in["ownerId"] = owner
	}
	var r struct {
		CreateCustomer customerRef `json:"createCustomer"`
	}
	err := b.e.gql(ctx, "admin", `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id version } }`, map[string]any{"in": in}, &r)
	return r.CreateCustomer.ID, r.CreateCustomer.Version, err
}

// customerInput is a typical organization: two phones, an email, an
// address, two tags, industry, region and team.
func customerInput(name string, n int) map[string]any {
	return map[string]any{
		"kind": "ORGANIZATION", "name": name,
		"phones": []string{fmt.Sprintf("+86 10 5555 %04d", n), fmt.Sprintf("+86 139 0000 %04d", n)},
		"emails": []string{fmt.Sprintf("office%d@bench.example.com", n)},
		"addresses": []map[string]any{{"label": "office", "line1": "88 Jianguo Road", "city": "Beijing",
			"region": "Beijing", "postalCode": "100022", "country": "CN"}},
		"industry": "logistics", "region": "north", "team": "north", "source": "REFERRAL",
		"tags": []string{"vip", "renewal-due"}, "annualRevenue": 12500000,
	}
}

// task creates a callback on a customer of the seller and returns its id.
func (b *benchState) task(ctx context.Context, customer string, due time.Time) (string, error) {
	var r struct {
		CreateTask struct {
			ID string `json:"id"`
		} `json:"createTask"`
	}
	err := b.e.gql(ctx, seller, qCreateTask, map[string]any{"c": customer, "d": due.Format(time.RFC3339)}, &r)
	return r.CreateTask.ID, err
}

// deal opens an opportunity on customer and returns its id.
func (b *benchState) deal(ctx context.Context, customer string) (string, error) {
	var r struct {
		CreateOpportunity struct {
			ID string `json:"id"`
		} `json:"createOpportunity"`
	}
	b.n++
	err := b.e.gql(ctx, seller, qOpenDeal, map[string]any{"c": customer, "k": fmt.Sprintf("bench-deal-%d", b.n)}, &r)
	return r.CreateOpportunity.ID, err
}

// contract records a contract signed without a deal on customer (paid
// on signing: qContract) and returns its id.
func (b *benchState) contract(ctx context.Context, customer string) (string, error) {
	return b.createContract(ctx, customer, qContract)
}

// pendingContract records a contract on customer whose plan gives more
// credit days than any default credit level allows (and, but for a
// prepayment level, more than any limit), so that it waits for a
// manager's approval, and returns its id.
func (b *benchState) pendingContract(ctx context.Context, customer string) (string, error) {
	return b.createContract(ctx, customer, qPendingContract)
}

// createContract records the contract of doc (a createContract mutation
// taking $c, the customer) as the seller and returns its id.
func (b *benchState) createContract(ctx context.Context, customer, doc string) (string, error) {
	var r struct {
		CreateContract struct {
			ID string `json:"id"`
		} `json:"createContract"`
	}
	err := b.e.gql(ctx, seller, doc, map[string]any{"c": customer}, &r)
	return r.CreateContract.ID, err
}

const qPendingContract = `mutation($c: ID!) { createContract(input: {customerId: $c, title: "Plant-wide rollout", amount: "90000000.00",
	signedDate: "2026-01-05", endDate: "2027-12-31", instalments: [{dueDate: "2027-03-01", amount: "90000000.00"}]}) { id approval { status } } }`

// qContract is paid on signing, so that it books at once whatever credit
// level the earlier ones' unpaid instalments leave the customer at.
const qContract = `mutation($c: ID!) { createContract(input: {customerId: $c, title: "Maintenance contract", amount: "48000.00",
	signedDate: "2026-01-05", endDate: "2026-12-31", instalments: [{dueDate: "2026-01-05", amount: "24000"}, {dueDate: "2026-01-05", amount: "24000"}]}) { id version } }`

const qOpenDeal = `mutation($c: ID!, $k: String) { createOpportunity(input: {customerId: $c, idempotencyKey: $k, title: "Annual service contract",
	amount: "48000.00", expectedCloseDate: "2026-12-31"}) { id version } }`

// interaction logs an interaction and returns its id.
func (b *benchState) interaction(ctx context.Context, customer, typ string) (string, error) {
	var r struct {
		LogInteraction struct {
			ID string `json:"id"`
		} `json:"logInteraction"`
	}
	err := b.e.gql(ctx, seller, qLog, map[string]any{"in": logInput(customer, typ, nil)}, &r)
	return r.LogInteraction.ID, err
}

const qLog = `mutation($in: LogInteractionInput!) { logInteraction(input: $in) { id version } }`

func logInput(customer, typ string, followUp *time.Time) map[string]any {
	in := map[string]any{"customerId": customer, "channel": "PHONE", "type": typ, "direction": "INBOUND",
		"subject": "Asked about the renewal terms", "durationSeconds": 420, "outcome": "Quote to be sent",
		"content": "Customer called about the renewal of the annual contract: wants the same service level, asked " +
			"whether the price can stay at last year's level and whether invoices can go to the new finance contact."}
	if followUp != nil {
		in["nextFollowUpAt"] = followUp.UTC().Format(time.RFC3339)
	}
	return in
}
