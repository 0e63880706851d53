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

// RunScheduled carries out the time-based rules, as the system: pool claim
// expiry and warnings (SPEC §5), escalation of overdue cases (SPEC §2), and
// the scheduled regrading with value tiers (SPEC §3). The Lambda job and
// the local server both run it. Every step is safe to repeat; a failing
// step does not stop the others, and the errors are joined.
func (s *Service) RunScheduled(ctx context.Context) (*JobRun, error) {
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
	if run.Grading, err = s.RunGrading(step("regrading")); err != nil {
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
