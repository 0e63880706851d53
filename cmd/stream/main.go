// Command stream consumes the CRM table's DynamoDB stream (template.yaml
// StreamFunction): it applies what each write implies (a customer's
// activity and watch-list places, its grade and pool claim, the analytics
// aggregates and the list counters) exactly once, per shard, with the
// consumer of package stream, then publishes the batch's domain events to
// the stack's EventBridge bus (EVENT_BUS_NAME; docs/events.md), and writes the partner
// webhook deliveries they make (package webhooks) and the change feed's
// entries (docs/sync.md). It reports partial batch failures: a record
// that fails is delivered again with the records after it, and the ones
// before it are not.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/events/eventbridge"
	"github.com/rapportcrm/rapport/lambdahttp"
	"github.com/rapportcrm/rapport/stream"
	"github.com/rapportcrm/rapport/webhooks"
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
	awsCfg, err := config.LambdaAWS(os.Getenv)
	if err != nil {
		return err
	}
	db := dynamo.NewClient(awsCfg, cfg.DynamoEndpoint)
	// No cursor key: the consumer hands out no cursors.
	store := dynamo.New(db, cfg.TableName, nil).UseIndexes(dynamo.IndexesNumbered(cfg.TableIndexes))
	svc := crm.NewService(store)
	cfg.Service(svc)
	c := &stream.Consumer{Store: store, Settler: svc, Log: log}
	if sink := eventbridge.SinkFor(cfg.Events, awsCfg); sink != nil {
		c.Handlers = append(c.Handlers, &stream.Publisher{Source: cfg.Events.Source, Sink: sink})
	} else {
		log.Warn("no EVENT_BUS_NAME or EVENTS_FILE: the domain events are not published")
	}
	// Partner webhooks: the batch's events for the organizations its
	// customers are shared with become deliveries (docs/partners.md).
	c.Handlers = append(c.Handlers, &webhooks.Fanout{Store: store, Source: cfg.Events.Source})
	// The change feed's logs, which clients read with changes (docs/sync.md).
	c.Handlers = append(c.Handlers, &stream.ChangeLog{Store: store})
	lambda.Start(c.Handle)
	return nil
}
