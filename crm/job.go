package crm

import (
	"context"
	"errors"
)

// JobRun is what one run of the scheduled job did.
type JobRun struct {
	Pool      *PoolRun
	Escalated []string
	// TasksDue lists the tasks whose assignees were told they are due.
	TasksDue []string
	Grading  *GradingRun
	TakeBack *TakeBackRun
	// RolledUp counts the months of a team's analytics summed up.
	RolledUp int
	// Credit lists the customers whose credit level was evaluated again.
	Credit []string
}

// AsJob marks the writes made with the context it returns as the
// scheduled job's step op: their audit entries' operation is job:op.
func AsJob(ctx context.Context, op string) context.Context { return asSystem(ctx, "job:"+op) }

// AsStream marks the writes made with the context it returns as what the
// table's stream does after other writes (op): their audit entries'
// operation is stream:op.
func AsStream(ctx context.Context, op string) context.Context { return asSystem(ctx, "stream:"+op) }

// asSystem names the operation of the writes made with ctx, keeping its
// request id (the invocation's).
func asSystem(ctx context.Context, op string) context.Context {
	return WithAuditScope(ctx, AuditScope{Operation: op, RequestID: AuditScopeFrom(ctx).RequestID})
}

// RunScheduled carries out every time-based rule, as the system:
// RunFrequent's steps and RunDaily's. The local server runs it; the Lambda
// job runs the frequent steps every quarter hour and the daily ones once a
// day, on two schedules.
func (s *Service) RunScheduled(ctx context.Context) (*JobRun, error) {
	run, err := s.RunFrequent(ctx)
	daily, derr := s.RunDaily(ctx)
	run.Grading, run.TakeBack, run.Credit = daily.Grading, daily.TakeBack, daily.Credit
	return run, errors.Join(err, derr)
}

// RunDaily carries out the rules that read the whole book once a day: the
// regrading with value tiers, the pool's take-back rules (which count in
// days), and the credit levels whose review day came (credit.go). A failing
// step does not stop the others; the errors are joined.
func (s *Service) RunDaily(ctx context.Context) (*JobRun, error) {
	run := &JobRun{Pool: &PoolRun{}}
	var gerr, terr, cerr error
	if run.Grading, gerr = s.RunGrading(AsJob(ctx, "regrading")); run.Grading == nil {
		run.Grading = &GradingRun{}
	}
	if run.TakeBack, terr = s.RunTakeBack(AsJob(ctx, "pool-take-back")); run.TakeBack == nil {
		run.TakeBack = &TakeBackRun{}
	}
	run.Credit, cerr = s.RunCredit(AsJob(ctx, "credit-review"))
	return run, errors.Join(gerr, terr, cerr)
}

// RunFrequent carries out the rules that run every quarter hour: pool
// claim expiry and warnings, escalation of overdue cases, the due notices
// of tasks, and the roll-up
// of finished months of analytics. Data-driven regrades happen as changes
// are applied (Settle); the full book is regraded daily (RunGrading).
// Every step is safe to repeat; a failing step does not stop the others,
// and the errors are joined.
func (s *Service) RunFrequent(ctx context.Context) (*JobRun, error) {
	run := &JobRun{}
	var errs []error
	var err error
	if run.Pool, err = s.RunPool(AsJob(ctx, "pool-expiry")); err != nil {
		errs = append(errs, err)
	}
	if run.Escalated, err = s.EscalateOverdue(AsJob(ctx, "sla-escalation")); err != nil {
		errs = append(errs, err)
	}
	if run.TasksDue, err = s.NoticeTasksDue(AsJob(ctx, "task-due-notice")); err != nil {
		errs = append(errs, err)
	}
	if run.RolledUp, err = s.Store.RollUpMonths(AsJob(ctx, "analytics-rollup"), s.now()); err != nil {
		errs = append(errs, err)
	}
	if run.Pool == nil {
		run.Pool = &PoolRun{}
	}
	run.Grading, run.TakeBack = &GradingRun{}, &TakeBackRun{}
	return run, errors.Join(errs...)
}
