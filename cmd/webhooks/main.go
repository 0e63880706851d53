// Command webhooks is Rapport's webhook delivery function (template.yaml
// WebhookFunction): every minute (WebhookSchedule) it sends the partner
// webhook deliveries that are due, signed, retrying failed ones with
// backoff for a day, dead-lettering them after, and disabling an endpoint
// that failed that long (package webhooks, docs/partners.md). Each run
// logs one structured "webhook run" line.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/events/eventbridge"
	"github.com/rapportcrm/rapport/lambdahttp"
	"github.com/rapportcrm/rapport/webhooks"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rapport webhooks:", err)
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
	key, err := cfg.WebhookKeyFrom(context.Background(), config.SecretsManager(os.Getenv, &http.Client{Timeout: 10 * time.Second}))
	if err != nil {
		return err
	}
	if key == nil {
		return errors.New("configuration: WEBHOOK_KEY or WEBHOOK_KEY_ARN is required")
	}
	sealer, err := webhooks.NewSealer(key)
	if err != nil {
		return err
	}
	db := dynamo.NewClient(awsCfg, cfg.DynamoEndpoint)
	store := dynamo.New(db, cfg.TableName, nil).UseIndexes(dynamo.IndexesNumbered(cfg.TableIndexes))
	guard := webhooks.Guard{AllowHTTP: cfg.Webhooks.AllowHTTP, AllowLoopback: cfg.Webhooks.AllowLoopback}
	d := &webhooks.Deliverer{Store: store, Sealer: sealer, Client: guard.Client(), Now: time.Now,
		Events: eventbridge.SinkFor(cfg.Events, awsCfg), Source: cfg.Events.Source, Log: log}
	lambda.Start(func(ctx context.Context) error { return deliver(ctx, d, log) })
	return nil
}

// deliver is one scheduled run. A failure is returned and logged; the
// schedule's next run takes what is still due.
func deliver(ctx context.Context, d *webhooks.Deliverer, log *slog.Logger) error {
	start := time.Now()
	rep, err := d.Run(ctx)
	attrs := []any{"attempted", rep.Attempted, "delivered", rep.Delivered, "failed", rep.Failed,
		"dead", rep.Dead, "endpointsDisabled", rep.Disabled, "ms", time.Since(start).Milliseconds()}
	if err != nil {
		log.ErrorContext(ctx, "webhook run", append(attrs, "err", err)...)
		return err
	}
	log.InfoContext(ctx, "webhook run", attrs...)
	return nil
}
