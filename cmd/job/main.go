// Command job is Rapport's scheduled Lambda function (an EventBridge
// schedule, template.yaml JobFunction). Each run returns expired pool claims
// to the pool and warns holders of claims about to lapse (SPEC §5),
// escalates overdue cases (SPEC §2), regrades customers and assigns value
// tiers (SPEC §3) — crm.Service.RunScheduled — then logs one structured
// "job run" line.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/lambdahttp"
	"github.com/rapportcrm/rapport/metrics"
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
	log := lambdahttp.NewLogger(os.Stdout, cfg.LogLevel)

	awsCfg, err := config.LambdaAWS(os.Getenv)
	if err != nil {
		return err
	}
	db := dynamo.NewClient(awsCfg, cfg.DynamoEndpoint)
	// No cursor key: the job hands out no cursors (its own paging stays
	// inside the run), so the stack gives it no access to the secret.
	svc := crm.NewService(dynamo.New(db, cfg.TableName, nil))
	cfg.Service(svc)
	j := &job{svc: svc, log: log, claimDays: int(cfg.ClaimPeriod / (24 * time.Hour))}
	if cfg.MetricsNamespace != "" {
		j.metrics = metrics.NewWriter(os.Stdout, cfg.MetricsNamespace)
	}
	lambda.Start(j.run)
	return nil
}

// job holds what every scheduled run uses, built once per cold start.
type job struct {
	svc       *crm.Service
	log       *slog.Logger
	claimDays int
	metrics   *metrics.Writer // nil writes no metrics
}

// run handles one scheduled event. A failure is returned so that Lambda
// retries the run; every step is safe to repeat.
func (j *job) run(ctx context.Context, ev events.EventBridgeEvent) error {
	var requestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	r, err := j.svc.RunScheduled(crm.WithAuditScope(ctx, crm.AuditScope{RequestID: requestID}))
	attrs := []any{
		"scheduledAt", ev.Time,
		"rule", ev.Resources,
		"claimPeriodDays", j.claimDays,
		"returnedToPool", len(r.Pool.Returned),
		"warned", len(r.Pool.Warned),
		"escalatedCases", len(r.Escalated),
		"customersRanked", r.Grading.Customers,
		"regraded", len(r.Grading.Regraded),
		"profilesUpdated", r.Grading.Updated,
		"gradingIncomplete", r.Grading.Incomplete,
	}
	j.writeMetrics(r, requestID)
	if err != nil {
		j.log.ErrorContext(ctx, "job run failed", append(attrs, "err", err)...)
		return err
	}
	j.log.InfoContext(ctx, "job run", attrs...)
	return nil
}

// writeMetrics writes the run's embedded metric format line:
// GradingIncomplete is 1 for a run that stopped grading at its deadline
// with writes still due (the JobGradingIncompleteAlarm watches it), and
// what the run did, all under Service "job".
func (j *job) writeMetrics(r *crm.JobRun, requestID string) {
	if j.metrics == nil {
		return
	}
	incomplete := 0.0
	if r.Grading.Incomplete {
		incomplete = 1
	}
	count := func(name string, n int) metrics.Metric {
		return metrics.Metric{Name: name, Unit: metrics.Count, Value: float64(n)}
	}
	ms := []metrics.Metric{
		{Name: "GradingIncomplete", Unit: metrics.Count, Value: incomplete},
		count("ReturnedToPool", len(r.Pool.Returned)),
		count("EscalatedCases", len(r.Escalated)),
		count("Regraded", len(r.Grading.Regraded)),
		count("ProfilesUpdated", r.Grading.Updated),
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	err := j.metrics.Write(metrics.Doc{
		Dimensions: map[string]string{"Service": "job"},
		Metrics:    ms,
		Sets:       []metrics.Set{{Dimensions: [][]string{{"Service"}}, Metrics: names}},
		Properties: map[string]any{"lambdaRequestId": requestID},
	})
	if err != nil {
		j.log.Error("job metrics", "err", err)
	}
}
