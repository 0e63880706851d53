package crm

import (
	"context"
	"time"
)

// The follow-up schedule: when the owner should next be in touch with a
// customer. Every contact logged (any interaction but a note) moves it to
// the contact's time plus its grade's follow-up interval (A more often than
// C, as the grade levels say); a date asked for explicitly (an interaction's
// or a profile edit's nextFollowUpAt) sets it sooner until the next contact;
// a regrade re-plans it with the new grade's interval. Customers in the
// pool, archived and merged ones have none. The stream consumer plans it
// whenever it applies something to the customer or its profile changes
// (Service.PlanFollowUp), and a read folds in the interactions logged since
// with the interval planned last (Customer.FoldPending), so a logged call
// shows its new follow-up at once.

// PlanFollowUp sets the customer's next follow-up from its schedule: the
// last contact (or, never contacted, its creation) plus FollowUpEvery when
// its grade has a routine follow-up, or the date asked for when that is
// sooner; none for a customer in the pool, archived or merged.
func (c *Customer) PlanFollowUp() {
	c.NextFollowUpAt = c.plannedFollowUp()
}

func (c *Customer) plannedFollowUp() *time.Time {
	if c.InPool() || c.Status != StatusActive || c.MergedInto != "" {
		return nil
	}
	var due *time.Time
	if c.FollowUpEvery > 0 {
		from := c.CreatedAt
		if c.ContactedAt != nil {
			from = *c.ContactedAt
		}
		due = ptr(from.Add(c.FollowUpEvery).UTC())
	}
	if a := c.FollowUpAsked; a != nil && (due == nil || a.Before(*due)) {
		due = ptr(a.UTC())
	}
	return due
}

// SetFollowUp asks for a follow-up at at (see Activity.SetFollowUp) and
// plans the schedule again.
func (c *Customer) SetFollowUp(at, setAt time.Time) {
	c.Activity.SetFollowUp(at, setAt)
	c.PlanFollowUp()
}

// FoldPending folds in the interactions the activity has not counted yet
// (see Activity.FoldPending) and plans the schedule again with the
// interval planned last.
func (c *Customer) FoldPending(its []*Interaction) {
	c.Activity.FoldPending(its)
	c.PlanFollowUp()
}

// FollowUpInterval is how often the owner of a customer of grade level
// code should be in touch under policy p (0: no routine follow-up).
func FollowUpInterval(p *GradingPolicy, code string) time.Duration {
	return levelOf(p, code).FollowUpInterval
}

// planFollowUp plans c's schedule with its grade's interval under p.
func planFollowUp(p *GradingPolicy, c *Customer) {
	c.FollowUpEvery = FollowUpInterval(p, c.Grade.Level)
	c.PlanFollowUp()
}

// PlanFollowUp plans c's follow-up schedule with the interval its grade
// has in the grading policy in force, and reports whether the schedule
// moved (the stream consumer then writes the activity).
func (s *Service) PlanFollowUp(ctx context.Context, c *Customer) (bool, error) {
	p, err := s.policy(ctx)
	if err != nil {
		return false, err
	}
	prevEvery, prevAt := c.FollowUpEvery, c.NextFollowUpAt
	planFollowUp(p, c)
	moved := (prevAt == nil) != (c.NextFollowUpAt == nil) || (prevAt != nil && !prevAt.Equal(*c.NextFollowUpAt))
	return moved || prevEvery != c.FollowUpEvery, nil
}
