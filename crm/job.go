package crm

import (
	"context"
	"errors"
)

// JobRun is what one run of the scheduled job did.
type JobRun struct {
	Pool      *PoolRun
	Escalated []string
	Grading   *GradingRun
	// RolledUp counts the months of a team's analytics summed up.
	RolledUp int
}

// RunScheduled carries out every time-based rule, as the system:
// RunFrequent's steps and the full-book regrading with value tiers. The
// local server runs it; the Lambda job runs the frequent steps every
// quarter hour and the regrading daily, on two schedules.
func (s *Service) RunScheduled(ctx context.Context) (*JobRun, error) {
	run, err := s.RunFrequent(ctx)
	var gerr error
	if run.Grading, gerr = s.RunGrading(WithAuditScope(ctx, AuditScope{Operation: "job:regrading", RequestID: AuditScopeFrom(ctx).RequestID})); gerr != nil {
		err = errors.Join(err, gerr)
	}
	if run.Grading == nil {
		run.Grading = &GradingRun{}
	}
	return run, err
}

// RunFrequent carries out the rules that run every quarter hour: pool
// claim expiry and warnings, escalation of overdue cases, and the roll-up
// of finished months of analytics. Data-driven regrades happen as changes
// are applied (Settle); the full book is regraded daily (RunGrading).
// Every step is safe to repeat; a failing step does not stop the others,
// and the errors are joined.
func (s *Service) RunFrequent(ctx context.Context) (*JobRun, error) {
	run := &JobRun{}
	var errs []error
	var err error
	step := func(op string) context.Context {
		return WithAuditScope(ctx, AuditScope{Operation: "job:" + op, RequestID: AuditScopeFrom(ctx).RequestID})
	}
	if run.Pool, err = s.RunPool(step("pool-expiry")); err != nil {
		errs = append(errs, err)
	}
	if run.Escalated, err = s.EscalateOverdue(step("sla-escalation")); err != nil {
		errs = append(errs, err)
	}
	if run.RolledUp, err = s.Store.RollUpMonths(step("analytics-rollup"), s.now()); err != nil {
		errs = append(errs, err)
	}
	if run.Pool == nil {
		run.Pool = &PoolRun{}
	}
	if run.Grading == nil {
		run.Grading = &GradingRun{}
	}
	return run, errors.Join(errs...)
}
