// Package ddbmeter measures what a DynamoDB client's calls consume, for the
// capacity and overhead benchmarks (make bench-capacity, make
// bench-overhead). Installed on a client, a Meter asks every call for its
// consumed capacity per table and index (ReturnConsumedCapacity INDEXES),
// adds it up, counts calls and attempts per operation and, when asked,
// records each call's input so that it can be replayed. It is for
// benchmarks only: production clients never ask for consumed capacity.
//
//	m := &ddbmeter.Meter{}
//	db := dynamodb.New(opts, m.Option)
//	... calls ...
//	u := m.Take() // what they consumed; the meter starts again from zero
//
// DynamoDB Local reports capacity, but not always as AWS bills it: with a
// Probe, a meter works out what AWS bills for every write from the items
// it changes (see bill.go).
package ddbmeter

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// TableUnits is the key of a table's own units in Capacity; indexes are
// keyed by name.
const TableUnits = ""

// Capacity is read and write units per table (TableUnits) or index.
type Capacity struct {
	Read, Write map[string]float64
}

func (c *Capacity) add(read bool, target string, n float64) {
	if n == 0 {
		return
	}
	m := &c.Write
	if read {
		m = &c.Read
	}
	if *m == nil {
		*m = map[string]float64{}
	}
	(*m)[target] += n
}

// ReadTotal and WriteTotal sum the units over the table and its indexes.
func (c Capacity) ReadTotal() float64  { return sum(c.Read) }
func (c Capacity) WriteTotal() float64 { return sum(c.Write) }

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, k := range slices.Sorted(maps.Keys(m)) {
		t += m[k]
	}
	return t
}

// Plus returns the sum of two capacities.
func (c Capacity) Plus(d Capacity) Capacity {
	var out Capacity
	for _, x := range []Capacity{c, d} {
		for k, n := range x.Read {
			out.add(true, k, n)
		}
		for k, n := range x.Write {
			out.add(false, k, n)
		}
	}
	return out
}

// Usage is what a client's calls consumed.
type Usage struct {
	// Calls counts calls per operation ("Query", "TransactWriteItems"…),
	// Attempts every attempt the SDK made (retries included).
	Calls    map[string]int
	Attempts int
	// Reported is the capacity as the database reported it; Billed is the
	// request units AWS bills for the same calls (bill.go): reads as
	// reported, writes worked out from the items' images when the meter
	// has a Probe (else none).
	Reported, Billed Capacity
	// Inputs are the calls' inputs in order, when the meter records them,
	// and Spans when each began and ended (a request's calls may overlap).
	Inputs []any
	Spans  []Span
}

// Span is when a call began and ended.
type Span struct{ Start, End time.Time }

// CallCount is the number of calls of every operation.
func (u Usage) CallCount() int {
	n := 0
	for _, c := range u.Calls {
		n += c
	}
	return n
}

// Plus returns the sum of two usages.
func (u Usage) Plus(v Usage) Usage {
	out := Usage{Calls: map[string]int{}, Attempts: u.Attempts + v.Attempts,
		Reported: u.Reported.Plus(v.Reported), Billed: u.Billed.Plus(v.Billed),
		Inputs: append(slices.Clip(u.Inputs), v.Inputs...), Spans: append(slices.Clip(u.Spans), v.Spans...)}
	for _, x := range []Usage{u, v} {
		for op, n := range x.Calls {
			out.Calls[op] += n
		}
	}
	return out
}

// Meter accumulates the usage of the clients it is installed on. The zero
// value is ready to use.
type Meter struct {
	// Record keeps every call's input in Usage.Inputs.
	Record bool
	// SkipCapacity leaves inputs as they are, so that calls are timed as
	// production makes them; Reported and Billed then stay empty.
	SkipCapacity bool
	// Probe, an unmetered client on the same database, reads the items a
	// write changes before and after it, and the tables' definitions, to
	// bill the write. Benchmarks make one request at a time: a write
	// racing another on the same item would be billed wrongly.
	Probe *dynamodb.Client

	mu     sync.Mutex
	u      Usage
	tables map[string]*tableDef
}

// Take returns the usage since the last Take and starts again from zero.
func (m *Meter) Take() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.u
	m.u = Usage{}
	return u
}

// Option installs the meter on a client's options: pass it to
// dynamodb.New or dynamodb.NewFromConfig.
func (m *Meter) Option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("ddbmeter",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				op := awsmiddleware.GetOperationName(ctx)
				var (
					w      *writeBill
					billed Capacity
				)
				if !m.skipCapacity() {
					askCapacity(in.Parameters)
					var err error
					if w, err = m.beforeWrite(ctx, in.Parameters); err != nil {
						return middleware.InitializeOutput{}, middleware.Metadata{}, err
					}
				}
				began := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				span := Span{began, time.Now()}
				if err == nil && w != nil {
					if billed, err = w.after(ctx, m.Probe); err != nil {
						return out, md, err
					}
				}
				m.called(op, in.Parameters, out.Result, billed, span)
				return out, md, err
			}), middleware.Before); err != nil {
			return err
		}
		return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("ddbmeterAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				m.mu.Lock()
				m.u.Attempts++
				m.mu.Unlock()
				return next.HandleFinalize(ctx, in)
			}), "Retry", middleware.After)
	})
}

func (m *Meter) skipCapacity() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.SkipCapacity
}

// Set changes what the meter does; calls under way may see either.
func (m *Meter) Set(record, skipCapacity bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Record, m.SkipCapacity = record, skipCapacity
}

func (m *Meter) called(op string, input, output any, billedWrites Capacity, span Span) {
	reported := consumed(output)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.u.Calls == nil {
		m.u.Calls = map[string]int{}
	}
	m.u.Calls[op]++
	if m.Record {
		m.u.Inputs = append(m.u.Inputs, input)
		m.u.Spans = append(m.u.Spans, span)
	}
	read := isRead(op)
	for _, cc := range reported {
		if cc.Table != nil {
			m.u.Reported.add(read, TableUnits, unitsOf(cc.Table))
		}
		for name, idx := range cc.GlobalSecondaryIndexes {
			m.u.Reported.add(read, name, unitsOf(&idx))
		}
		for name, idx := range cc.LocalSecondaryIndexes {
			m.u.Reported.add(read, name, unitsOf(&idx))
		}
	}
	m.u.Billed = m.u.Billed.Plus(billReads(op, reported)).Plus(billedWrites)
}

// writeBill is a write call under way: its items and their old images.
type writeBill struct {
	targets []writeTarget
	defs    []*tableDef
	before  []map[string]types.AttributeValue
}

// beforeWrite reads the old images of what a write call writes; nil for
// reads, or without a Probe.
func (m *Meter) beforeWrite(ctx context.Context, input any) (*writeBill, error) {
	if m.Probe == nil {
		return nil, nil
	}
	var err error
	targets := writeTargets(input, func(table string, item map[string]types.AttributeValue) map[string]types.AttributeValue {
		d, derr := m.table(ctx, table)
		if derr != nil {
			err = derr
			return nil
		}
		return d.keyOf(item)
	})
	if err != nil || len(targets) == 0 {
		return nil, err
	}
	w := &writeBill{targets: targets}
	for _, t := range targets {
		d, err := m.table(ctx, t.table)
		if err != nil {
			return nil, err
		}
		w.defs = append(w.defs, d)
	}
	w.before, err = images(ctx, m.Probe, targets)
	return w, err
}

// after reads the new images and bills the writes.
func (w *writeBill) after(ctx context.Context, probe *dynamodb.Client) (Capacity, error) {
	after, err := images(ctx, probe, w.targets)
	if err != nil {
		return Capacity{}, err
	}
	var out Capacity
	for i, t := range w.targets {
		out = out.Plus(w.defs[i].billWrite(t, w.before[i], after[i]))
	}
	return out, nil
}

func (m *Meter) table(ctx context.Context, name string) (*tableDef, error) {
	m.mu.Lock()
	d := m.tables[name]
	m.mu.Unlock()
	if d != nil {
		return d, nil
	}
	d, err := describe(ctx, m.Probe, name)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tables == nil {
		m.tables = map[string]*tableDef{}
	}
	m.tables[name] = d
	return d, nil
}

// images reads the targets' items, strongly consistent, in order (nil for
// an absent item), one GetItem each.
func images(ctx context.Context, db *dynamodb.Client, targets []writeTarget) ([]map[string]types.AttributeValue, error) {
	out := make([]map[string]types.AttributeValue, len(targets))
	for i, t := range targets {
		res, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.table, Key: t.key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("ddbmeter: read %s: %w", t.table, err)
		}
		out[i] = res.Item
	}
	return out, nil
}

func unitsOf(c *types.Capacity) float64 {
	if c.CapacityUnits != nil {
		return *c.CapacityUnits
	}
	return 0
}

func isRead(op string) bool {
	switch op {
	case "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems":
		return true
	}
	return false
}

// askCapacity sets ReturnConsumedCapacity INDEXES on every input that has
// it.
func askCapacity(input any) {
	const all = types.ReturnConsumedCapacityIndexes
	switch in := input.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = all
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = all
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = all
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = all
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = all
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = all
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = all
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = all
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = all
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = all
	}
}

// consumed reads the consumed capacity of any output that carries it.
func consumed(output any) []types.ConsumedCapacity {
	one := func(c *types.ConsumedCapacity) []types.ConsumedCapacity {
		if c == nil {
			return nil
		}
		return []types.ConsumedCapacity{*c}
	}
	switch out := output.(type) {
	case *dynamodb.GetItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.ScanOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		return out.ConsumedCapacity
	case *dynamodb.BatchWriteItemOutput:
		return out.ConsumedCapacity
	case *dynamodb.TransactWriteItemsOutput:
		return out.ConsumedCapacity
	case *dynamodb.TransactGetItemsOutput:
		return out.ConsumedCapacity
	}
	return nil
}
