// Command job is Rapport's scheduled Lambda function (an EventBridge
// schedule, template.yaml JobFunction). It will expire pool claims, regrade
// customers and escalate SLA breaches; those arrive in a later release. For
// now it builds the same clients as the API, logs one structured "job run"
// line naming the work it will do, and succeeds: it changes no data.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/lambdahttp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rapport job:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	log := slog.New(lambdahttp.LogHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel})))
	// CLAIM_PERIOD_DAYS comes from the stack's ClaimPeriodDays parameter;
	// pool expiry will use it (SPEC §5, default 7).
	claimDays, err := strconv.Atoi(os.Getenv("CLAIM_PERIOD_DAYS"))
	if err != nil || claimDays <= 0 {
		claimDays = 7
	}

	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if cfg.DynamoEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.DynamoEndpoint)
		}
	})
	j := &job{svc: crm.NewService(dynamo.New(db, cfg.TableName, cfg.CursorSecret)), log: log, claimDays: claimDays}
	lambda.Start(j.run)
	return nil
}

// job holds what every scheduled run uses, built once per cold start.
type job struct {
	svc       *crm.Service // the pool expiry, regrading and escalation tasks will run through it
	log       *slog.Logger
	claimDays int
}

// run handles one scheduled event. It does no work yet and says so.
func (j *job) run(ctx context.Context, ev events.EventBridgeEvent) error {
	j.log.InfoContext(ctx, "job run",
		"scheduledAt", ev.Time,
		"rule", ev.Resources,
		"tasks", []string{"pool-expiry", "regrading", "sla-escalation"},
		"claimPeriodDays", j.claimDays,
		"implemented", false,
		"changed", 0,
	)
	return nil
}
