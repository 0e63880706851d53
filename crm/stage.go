package crm

import (
	"context"
	"strings"
	"time"
)

// StageChange is one entry of a customer's lifecycle history.
type StageChange struct {
	ID         string // ULID, time part = At
	CustomerID string
	From       Stage
	To         Stage
	Reason     string
	By         string
	At         time.Time
	// MergedFrom, on an entry moved by a merge, names the merged customer
	// whose stage it was.
	MergedFrom string
}

// checkStageMove enforces the lifecycle's few hard rules, on a move and on
// a customer being created (from is empty): only a lost customer can be
// won back, so no customer is born WON_BACK, and losing a customer needs a
// reason (seed 001: 「分析客戶流失原因」, analyse why customers are lost), so
// none is born LOST without one. reasonField names the input the reason
// comes from.
func checkStageMove(from, to Stage, reason, reasonField string) error {
	switch {
	case to == StageWonBack && from == "":
		return Invalid("input.stage", "a new customer cannot be WON_BACK: only a LOST customer can be won back "+
			"(create it LOST with the reason, then move it with changeStage)")
	case to == StageWonBack && from != StageLost:
		return Invalid("input.stage", "only a LOST customer can be WON_BACK (it is %s)", from)
	case to == StageLost && strings.TrimSpace(reason) == "":
		return Invalid(reasonField, "is required when a customer is lost")
	}
	return nil
}

// checkInitialStage checks the stage a customer is created in, and why.
// An imported customer arrives with a past: one the old CRM won back was
// lost there first, so it may be created WON_BACK (the import gives the
// reason), where a customer new to everyone may not.
func checkInitialStage(stage Stage, reason string, imported bool) error {
	var c checker
	c.text("input.stageReason", strings.TrimSpace(reason), 0, MaxReasonLen)
	if err := c.result(); err != nil {
		return err
	}
	if imported && stage == StageWonBack {
		return nil
	}
	return checkStageMove("", stage, reason, "input.stageReason")
}

// stageChange records a move in the history, or nothing if there is none.
// A customer created (prev nil) with a reason for its stage gets a first
// entry without a "from".
func (s *Service) stageChange(prev, next *Customer, reason string, by *User) *StageChange {
	var from Stage
	switch {
	case prev != nil && prev.Stage == next.Stage:
		return nil
	case prev != nil:
		from = prev.Stage
	case strings.TrimSpace(reason) == "":
		return nil
	}
	// The move happens when the customer changes: one time for both, so the
	// history entry of a creation carries the customer's CreatedAt.
	now := next.UpdatedAt
	return &StageChange{ID: s.newID(now), CustomerID: next.ID, From: from, To: next.Stage,
		Reason: strings.TrimSpace(reason), By: by.ID, At: now}
}

// ChangeStage moves a customer to another lifecycle stage with the reason,
// recorded in its stage history. When expectedVersion is set, a stale one is
// a CONFLICT.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) ChangeStage(ctx context.Context, id string, stage Stage, reason string, expectedVersion *int) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var c checker
	checkEnum(&c, "input.stage", stage, Stages)
	c.text("input.reason", strings.TrimSpace(reason), 0, MaxReasonLen)
	if err := c.result(); err != nil {
		return nil, err
	}
	var next *Customer
	err = s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.editable(ctx, u, id, canEdit, "change the stage of")
		if err != nil {
			return nil, err
		}
		if expectedVersion != nil && *expectedVersion != prev.Version {
			return nil, staleVersion("customer", id, *expectedVersion, prev.Version)
		}
		if prev.Stage == stage {
			return nil, Errorf(ECONFLICT, "customer %s is already %s", id, stage)
		}
		if err := checkStageMove(prev.Stage, stage, reason, "input.reason"); err != nil {
			return nil, err
		}
		next = prev.Clone()
		next.Stage = stage
		s.touch(next, u)
		return &Change{CustomerPrev: prev, Customer: next, StageChange: s.stageChange(prev, next, reason, u)}, nil
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// StageHistory lists a customer's stage changes, newest first.
// Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) StageHistory(ctx context.Context, customerID string, p PageRequest) (*Page[*StageChange], error) {
	page, err := customerList(ctx, s, customerID, p, s.Store.ListStageChanges)
	if err != nil {
		return nil, err
	}
	return viewPage(UserFromContext(ctx), page, viewStageChange), nil
}
