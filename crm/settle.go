package crm

import (
	"cmp"
	"context"
	"math"
)

// Settle brings a customer's profile in step with its activity once the
// stream has applied appended history to it: the grade the policy's rules
// give the new figures (source EVALUATION when evaluations were among what
// was applied, else RULE; by, the user whose append it follows from), a
// value score that drifted by a point or more,
// an active pool claim converted into ownership by a qualifying
// follow-up among followUps (the interactions applied), and, when its
// first deal makes it an O, its handover to an account owner
// (accountHandover, ACCOUNT_TEAMS). c is the customer
// as the stream holds it, its activity as just written. Each outcome is a
// function of the state, so settling twice changes nothing the second
// time. The write is the system's, audited as such; a writer that got in
// between makes it read the customer again.
func (s *Service) Settle(ctx context.Context, c *Customer, by string, evaluated bool, followUps []*Interaction) error {
	p, err := s.policy(ctx)
	if err != nil {
		return err
	}
	src := GradeRule
	if evaluated {
		src = GradeEvaluation
	}
	cur := c
	for attempt := 0; ; attempt++ {
		ch := s.settle(p, cur, src, by, followUps)
		if ch == nil {
			return nil
		}
		if err := s.accountHandover(ctx, cur, ch, followUps); err != nil {
			return err
		}
		err := s.Store.Apply(ctx, ch)
		if ErrorCode(err) != ECONFLICT || attempt >= maxRetries || retryPause(ctx, attempt) != nil {
			return err
		}
		if cur, err = s.Store.Customer(ctx, c.ID); err != nil {
			return err
		}
	}
}

func (s *Service) settle(p *GradingPolicy, c *Customer, src GradeSource, by string, followUps []*Interaction) *Change {
	if c.Status != StatusActive || Writable(c) != nil {
		return nil // archived customers keep their grade; a merge regrades the survivor when it finishes
	}
	next := c.Clone()
	var quota *ClaimQuota
	for _, it := range followUps {
		if qualifies(c.Claim, it) {
			// The holder followed up in time: the claim becomes ownership.
			next.Claim.FollowedUpAt = ptr(it.OccurredAt)
			quota = endClaim(c)
			break
		}
	}
	gc := s.regrade(p, next, src, cmp.Or(by, SystemUserID), false)
	drifted := c.ValueScore == nil || math.Abs(*c.ValueScore-*next.ValueScore) >= rescoreStep
	if gc == nil && quota == nil && !drifted {
		return nil
	}
	s.touch(next, &User{ID: SystemUserID})
	return &Change{CustomerPrev: c, Customer: next, GradeChange: gc, ClaimQuota: quota}
}
