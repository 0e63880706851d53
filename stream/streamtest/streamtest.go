// Package streamtest runs the stream consumer in tests: over a table made
// by infra/ddbtest, read through DynamoDB Local's Streams API by the local
// poller, and drained when a test needs what the stream derives (a
// customer's activity, the counters, the analytics) to be there.
package streamtest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbstream"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/stream"
)

// Consumer applies a table's stream on demand.
type Consumer struct {
	*stream.Consumer
	Poller *ddbstream.Poller
}

// New returns a consumer of table's stream that writes through store and
// settles through svc.
func New(tb testing.TB, db *dynamodb.Client, table string, store *dynamo.Store, svc *crm.Service) *Consumer {
	tb.Helper()
	return NewWith(tb, db, ddbtest.Streams(tb), table, store, svc)
}

// NewWith is New over a DynamoDB of the test's own (streams reads it).
func NewWith(tb testing.TB, db *dynamodb.Client, streams *dynamodbstreams.Client, table string, store *dynamo.Store, svc *crm.Service) *Consumer {
	tb.Helper()
	c := &stream.Consumer{Store: store, Settler: svc}
	p, err := ddbstream.New(tb.Context(), db, streams, table, c.Handle)
	if err != nil {
		tb.Fatal(err)
	}
	return &Consumer{Consumer: c, Poller: p}
}

// Drain applies everything written so far, and what applying it writes.
func (c *Consumer) Drain(tb testing.TB) {
	tb.Helper()
	if _, err := c.Poller.Drain(tb.Context()); err != nil {
		tb.Fatalf("drain the stream: %v", err)
	}
}
