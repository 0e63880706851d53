package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbstream"
	"github.com/rapportcrm/rapport/infra/ddbtest"
)

// captureStore is a store whose Apply keeps the change instead of writing
// it: what CreateCustomer would have written, for Store.BulkCreate.
type captureStore struct {
	*dynamo.Store
	got []*crm.Change
}

func (c *captureStore) Apply(_ context.Context, ch *crm.Change) error {
	c.got = append(c.got, ch)
	return nil
}

// bulkTimes add up the time the loader's workers spent making customers,
// writing them and applying their records.
var bulkTimes [3]atomic.Int64

// bulkShards numbers the loader's shards, one per worker and call.
var bulkShards atomic.Int64

// bulkBatch is how many customers a loader worker creates, writes and has
// the consumer apply at a time.
const bulkBatch = 100

// bulkCreate creates customers as u, as CreateCustomer does (validation,
// grading, the same items), fast: each worker makes bulkBatch customers
// with a service over a captureStore, writes their items with
// Store.BulkCreate, and has the stream consumer apply their records in
// batches of ddbstream.BatchSize, on a shard of its own, as the stream
// function applies the table's. What the stream derives (activity,
// counters, analytics, caller lookup, search keys) is then in place; the
// table's own stream, which holds the same records, must not be drained
// after it (forgetStream skips them). It returns the customers in the
// order of ins.
func bulkCreate(tb testing.TB, e *env, u *crm.User, ins []crm.CustomerInput, workers int) []*crm.Customer {
	tb.Helper()
	out := make([]*crm.Customer, len(ins))
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			capture := &captureStore{Store: e.store}
			svc := crm.NewService(capture)
			shard := fmt.Sprintf("bulk-%d", bulkShards.Add(1)) // a shard's records are numbered from 1
			seq := int64(1)
			for start := w * bulkBatch; start < len(ins); start += workers * bulkBatch {
				capture.got = capture.got[:0]
				t0 := time.Now()
				for i := start; i < min(start+bulkBatch, len(ins)); i++ {
					in := ins[i]
					if in.Kind == "" {
						in.Kind = crm.KindOrganization
					}
					c, err := svc.CreateCustomer(as(u), in)
					if err != nil {
						errs <- fmt.Errorf("create %q: %w", in.Name, err)
						return
					}
					out[i] = c
				}
				t1 := time.Now()
				bulkTimes[0].Add(int64(t1.Sub(t0)))
				recs, err := e.store.BulkCreate(context.Background(), capture.got, seq)
				t2 := time.Now()
				bulkTimes[1].Add(int64(t2.Sub(t1)))
				if err != nil {
					errs <- err
					return
				}
				seq += int64(len(recs))
				for len(recs) > 0 {
					n := min(len(recs), ddbstream.BatchSize)
					if _, err := e.consumer.Apply(context.Background(), shard, recs[:n]); err != nil {
						errs <- err
						return
					}
					recs = recs[n:]
				}
				bulkTimes[2].Add(int64(time.Since(t2)))
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
	return out
}

// forgetStream moves the env's stream consumer past every record the
// table's stream holds, without applying them: after bulkCreate, whose
// records the consumer has applied already on shards of its own. What is
// written afterwards is drained as before.
func (e *env) forgetStream(tb testing.TB) {
	tb.Helper()
	skip := true
	p, err := ddbstream.New(tb.Context(), e.db, ddbtest.Streams(tb), e.table,
		func(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
			if skip {
				return events.DynamoDBTimeWindowEventResponse{}, nil
			}
			return e.consumer.Handle(ctx, ev)
		})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := p.Drain(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	skip = false
	e.consumer.Poller = p
}
