package crm

import (
	"context"
	"strings"
)

// SetGrade overrides a customer's grade by hand, recorded in the grade
// history as MANUAL with the reason given. When expectedVersion is set, a
// stale one is a CONFLICT.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) SetGrade(ctx context.Context, customerID, level, reason string, expectedVersion *int) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := GradeLevelByCode(level); !ok {
		return nil, Invalid("input.level", "must be one of the grade levels A, B, C, D, E, F, G, O, V (got %q)", level)
	}
	var c checker
	reason = strings.TrimSpace(reason)
	c.text("input.reason", reason, 1, MaxReasonLen)
	if err := c.result(); err != nil {
		return nil, err
	}
	var next *Customer
	err = s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.editable(ctx, u, customerID, canAssign, "grade")
		if err != nil {
			return nil, err
		}
		if expectedVersion != nil && *expectedVersion != prev.Version {
			return nil, staleVersion("customer", customerID, *expectedVersion, prev.Version)
		}
		now := s.now()
		next = prev.Clone()
		gc := &GradeChange{ID: s.newID(now), CustomerID: customerID, From: prev.Grade.Level, To: level,
			FromSource: prev.Grade.Source, FromRule: prev.Grade.Rule, FromAt: prev.Grade.At,
			Source: GradeManual, Reason: reason, By: u.ID, At: now}
		next.Grade = gc.State()
		s.touch(next, u)
		return &Change{CustomerPrev: prev, Customer: next, GradeChange: gc}, nil
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// GradeHistory lists a customer's grade changes, newest first.
// Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) GradeHistory(ctx context.Context, customerID string, p PageRequest) (*Page[*GradeChange], error) {
	page, err := customerList(ctx, s, customerID, p, s.Store.ListGradeChanges)
	if err != nil {
		return nil, err
	}
	return viewPage(UserFromContext(ctx), page, viewGradeChange), nil
}
