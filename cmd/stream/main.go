// Command stream consumes the CRM table's DynamoDB stream (template.yaml
// StreamFunction). It counts the changes in each batch by entity and event
// and logs the counts: an operational trace of what was written. The
// analytics aggregates (SPEC §7) do not depend on it: they are kept in each
// write's own transaction, so they are exact at once. It reports partial
// batch failures, so that should processing ever fail, a failing record is
// retried without replaying the rest of the batch.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/lambdahttp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rapport stream:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	log := lambdahttp.NewLogger(os.Stdout, cfg.LogLevel)
	c := &consumer{log: log, process: func(context.Context, events.DynamoDBEventRecord) error { return nil }}
	lambda.Start(c.handle)
	return nil
}

type consumer struct {
	log *slog.Logger
	// process handles one change beyond counting it; nothing needs it
	// today (tests use it to exercise partial batch failures).
	process func(context.Context, events.DynamoDBEventRecord) error
}

// handle processes a batch in order. On the first failure it reports that
// record and every later one as failed (Lambda retries from the earliest
// reported sequence number, so order per item is kept).
func (c *consumer) handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var res events.DynamoDBEventResponse
	counts := map[string]int{}
	failed := false
	for _, r := range ev.Records {
		if !failed {
			if err := c.process(ctx, r); err != nil {
				failed = true
				c.log.ErrorContext(ctx, "stream record failed", "eventID", r.EventID, "seq", r.Change.SequenceNumber, "err", err)
			}
		}
		if failed {
			res.BatchItemFailures = append(res.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			continue
		}
		counts[entity(r)+" "+r.EventName]++
	}
	c.log.InfoContext(ctx, "stream batch", "records", len(ev.Records), "failed", len(res.BatchItemFailures), "counts", counts)
	return res, nil
}

// entity names the kind of item a change is about from its key prefixes:
// "CUST/~P" is a customer profile, "CUST/I" an interaction, "UNIQ/UNIQ" a
// unique-value claim (docs/access-patterns.md).
func entity(r events.DynamoDBEventRecord) string {
	return keyPrefix(r.Change.Keys["pk"]) + "/" + keyPrefix(r.Change.Keys["sk"])
}

func keyPrefix(v events.DynamoDBAttributeValue) string {
	if v.DataType() != events.DataTypeString {
		return "?"
	}
	s, _, _ := strings.Cut(strings.TrimPrefix(v.String(), "#"), "#")
	return s
}
