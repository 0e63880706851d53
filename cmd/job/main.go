// Command job is Rapport's scheduled Lambda function (template.yaml
// JobFunction). Every quarter hour (JobSchedule) it moves pending data
// migrations on (dynamo.Store.Migrate, in bounded time), returns expired
// pool claims to the pool and warns holders of claims about to lapse,
// escalates overdue cases and rolls finished months of analytics up
// (crm.Service.RunFrequent); once a day (GradingSchedule,
// payload {"task": "grading"}) it regrades the whole book, assigns value
// tiers and applies the pool's take-back rules (crm.Service.RunDaily). {"task": "migrate"}, invoked by hand, runs the pending
// migrations until done or the deadline. Each run logs one structured
// "job run" line. Migrations wait until the stack's ReleaseMarker, a
// CloudFormation custom resource this function answers (release.go), has
// recorded that the deploy finished.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
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
	store := dynamo.New(db, cfg.TableName, nil).UseIndexes(dynamo.IndexesNumbered(cfg.TableIndexes))
	svc := crm.NewService(store)
	cfg.Service(svc)
	j := &job{svc: svc, store: store, log: log, claimDays: int(cfg.ClaimPeriod / (24 * time.Hour)), release: cfg.ReleaseAPIVersion}
	if cfg.MetricsNamespace != "" {
		j.metrics = metrics.NewWriter(os.Stdout, cfg.MetricsNamespace)
	}
	lambda.Start(j.run)
	return nil
}

// job holds what every scheduled run uses, built once per cold start.
type job struct {
	svc       *crm.Service
	store     *dynamo.Store
	log       *slog.Logger
	claimDays int
	metrics   *metrics.Writer // nil writes no metrics
	// release is the API version this job's deploy published
	// (RELEASE_API_VERSION): migrations wait until it is live.
	release string
}

// payload is what starts a run: an EventBridge scheduled event (the
// quarter-hourly run), or {"task": "grading" | "migrate"}.
type payload struct {
	Task      string   `json:"task"`
	Time      string   `json:"time"`
	Resources []string `json:"resources"`
}

// migrationReserve is the time a run keeps after migrating for its other
// steps; a migration page is bounded (100 items), so one page more never
// runs past it.
const migrationReserve = 30 * time.Second

// run handles one invocation. A failure is returned so that Lambda
// retries the run; every step is safe to repeat.
func (j *job) run(ctx context.Context, raw json.RawMessage) error {
	if cr, ok := isCustomResource(raw); ok {
		// LambdaWrap always answers CloudFormation, FAILED with the error's
		// text on an error; its own error is a failed answer.
		_, err := cfn.LambdaWrap(j.releaseMarker)(ctx, cr)
		return err
	}
	var ev payload
	if err := json.Unmarshal(raw, &ev); err != nil {
		return fmt.Errorf("job payload: %w", err)
	}
	var requestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	ctx = crm.WithAuditScope(ctx, crm.AuditScope{RequestID: requestID})
	deadline, bounded := ctx.Deadline()
	more := func(reserve time.Duration) func() bool {
		return func() bool { return ctx.Err() == nil && (!bounded || time.Until(deadline) > reserve) }
	}
	task := cmp.Or(ev.Task, "frequent")
	r := &crm.JobRun{Pool: &crm.PoolRun{}, Grading: &crm.GradingRun{}, TakeBack: &crm.TakeBackRun{}}
	var migrated []dynamo.MigrationStatus
	var err error
	// Migrations wait while a deploy still shifts traffic: the version
	// before may still be writing in the layout they replace.
	waiting := false
	migrate := func(reserve time.Duration) error {
		may, err := j.migrationsMayRun(ctx)
		if err != nil || !may {
			waiting = true
			return err
		}
		migrated, err = j.store.Migrate(ctx, more(reserve))
		return err
	}
	switch task {
	case "frequent":
		merr := migrate(migrationReserve)
		r, err = j.svc.RunFrequent(ctx)
		err = errors.Join(merr, err)
	case "grading":
		r, err = j.svc.RunDaily(ctx)
	case "migrate":
		err = migrate(5 * time.Second)
	default:
		return fmt.Errorf("job payload: unknown task %q (frequent, grading or migrate)", task)
	}
	pending := 0
	for _, m := range migrated {
		if !m.Done {
			pending++
		}
	}
	attrs := []any{
		"task", task,
		"scheduledAt", ev.Time,
		"rule", ev.Resources,
		"claimPeriodDays", j.claimDays,
		"returnedToPool", len(r.Pool.Returned),
		"warned", len(r.Pool.Warned),
		"claimsConverted", len(r.Pool.Converted),
		"escalatedCases", len(r.Escalated),
		"monthsRolledUp", r.RolledUp,
		"customersRanked", r.Grading.Customers,
		"regraded", len(r.Grading.Regraded),
		"profilesUpdated", r.Grading.Updated,
		"gradingIncomplete", r.Grading.Incomplete,
		"takenBackToPool", len(r.TakeBack.Returned),
		"takeBackWarned", len(r.TakeBack.Warned),
		"placedWithManager", len(r.TakeBack.Placed),
	}
	if waiting {
		attrs = append(attrs, "migrationsWaitForRelease", j.release)
	} else {
		attrs = append(attrs, "migrationsPending", pending)
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
		count("TakenBackToPool", len(r.TakeBack.Returned)),
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
