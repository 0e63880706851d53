package crm

import (
	"context"
	"slices"
	"time"
)

// Work queues: the open tasks and the open cases assigned to a user, across
// customers, soonest due first, with honest pages (a filtered list reads
// within a budget and says where it stopped) and counts from counters kept
// on write.

// CaseQueueFilter narrows a user's queue of open cases.
type CaseQueueFilter struct {
	// Status is one open status, or empty for every open one.
	Status CaseStatus
	// DueBefore bounds the due time, exclusive; zero for none.
	DueBefore time.Time
	// Readable keeps the cases of the customers it accepts: those the
	// caller may read. Nil keeps all.
	Readable func(*Customer) bool
}

// workOf authorizes reading the work assigned to userID (the caller when
// empty): one's own, anyone's for ADMIN, a member of one's teams for a
// MANAGER (one GetItem of the directory). It returns the user id.
func (s *Service) workOf(ctx context.Context, u *User, userID, field string) (string, error) {
	if u.IsPartner() {
		return "", Errorf(EFORBIDDEN, "partners have no work queues")
	}
	if userID == "" || userID == u.ID {
		return u.ID, nil
	}
	if err := checkID(field, userID); err != nil {
		return "", err
	}
	switch {
	case u.HasRole(RoleAdmin):
		return userID, nil
	case u.HasRole(RoleManager):
		d, err := s.Store.User(ctx, userID)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return "", err
		}
		if err == nil && slices.ContainsFunc(d.Teams, u.InTeam) {
			return userID, nil
		}
	}
	return "", &Error{Code: EFORBIDDEN, Field: field, Message: "you may read only your own work, or as a manager your team members'"}
}

// readableBy keeps what u may read of a queue: work is assigned by the
// customer's owner, team or an admin, and may name someone who cannot read
// the customer (a salesperson given a case of a colleague's customer); the
// queue leaves it out, as every list does.
func readableBy(u *User) func(*Customer) bool {
	return func(c *Customer) bool { return canRead(u, c) }
}

// TaskQueue lists the open tasks assigned to assigneeID (the caller when
// empty) due before dueBefore (nil: all), soonest first, on customers the
// caller may read. Its total counts them all when no bound is given.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) TaskQueue(ctx context.Context, assigneeID string, dueBefore *time.Time, p PageRequest) (*Page[*Task], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	var bound time.Time
	if dueBefore != nil {
		if dueBefore.Before(epoch) {
			return nil, Invalid("dueBefore", "must be after 1970")
		}
		bound = dueBefore.UTC()
	}
	id, err := s.workOf(ctx, u, assigneeID, "assigneeId")
	if err != nil {
		return nil, err
	}
	return s.Store.ListOpenTasks(ctx, TaskFilter{AssigneeID: id, DueBefore: bound, Readable: readableBy(u)}, p)
}

// CaseQueue lists the open cases assigned to assigneeID (the caller when
// empty), soonest due first, on customers the caller may read: of one open
// status when given, overdue only when asked. Its total counts them all when neither is given.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) CaseQueue(ctx context.Context, assigneeID string, status CaseStatus, overdue bool, p PageRequest) (*Page[*Case], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	if status != "" && (!slices.Contains(CaseStatuses, status) || !status.IsOpen()) {
		return nil, Invalid("status", "must be an open status (the queue holds open cases); got %q", status)
	}
	id, err := s.workOf(ctx, u, assigneeID, "assigneeId")
	if err != nil {
		return nil, err
	}
	f := CaseQueueFilter{Status: status, Readable: readableBy(u)}
	if overdue {
		f.DueBefore = s.now()
	}
	page, err := s.Store.ListAssignedCases(ctx, id, f, p)
	return viewPage(u, page, viewCase), err
}
