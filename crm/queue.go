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
	// Unassigned keeps the cases nobody is assigned to (a department's
	// queue only).
	Unassigned bool
	// Readable keeps the cases of the customers it accepts: those the
	// caller may read. Nil keeps all.
	Readable func(*Customer) bool
}

// CaseQueueRequest is what a case queue lists: the open cases assigned to
// AssigneeID (the caller when both are empty), or those DepartmentID is
// responsible for, unassigned ones only when Unassigned; of one open
// Status when given, overdue only when Overdue.
type CaseQueueRequest struct {
	AssigneeID   string
	DepartmentID string
	Unassigned   bool
	Status       CaseStatus
	Overdue      bool
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

// CaseQueue lists a queue of open cases (CaseQueueRequest), soonest due
// first, on customers the caller may read. A user's queue counts all their
// open cases when neither status nor overdue is given; a department's
// counts its open (or unassigned) cases, overdue ones when asked, whenever
// no status is given.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) CaseQueue(ctx context.Context, q CaseQueueRequest, p PageRequest) (*Page[*Case], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	if q.Status != "" && (!slices.Contains(CaseStatuses, q.Status) || !q.Status.IsOpen()) {
		return nil, Invalid("status", "must be an open status (the queue holds open cases); got %q", q.Status)
	}
	f := CaseQueueFilter{Status: q.Status, Unassigned: q.Unassigned, Readable: readableBy(u)}
	if q.Overdue {
		f.DueBefore = s.now()
	}
	var page *Page[*Case]
	switch {
	case q.DepartmentID != "" && q.AssigneeID != "":
		return nil, Invalid("assigneeId", "give assigneeId or departmentId, not both")
	case q.DepartmentID != "":
		if err := s.departmentQueueOf(ctx, u, q.DepartmentID); err != nil {
			return nil, err
		}
		page, err = s.Store.ListDepartmentCases(ctx, q.DepartmentID, f, p)
	case q.Unassigned:
		return nil, Invalid("unassigned", "lists a department's unassigned cases: give departmentId")
	default:
		id, err := s.workOf(ctx, u, q.AssigneeID, "assigneeId")
		if err != nil {
			return nil, err
		}
		page, err = s.Store.ListAssignedCases(ctx, id, f, p)
		if err != nil {
			return nil, err
		}
	}
	return viewPage(u, page, viewCase), err
}

// departmentQueueOf authorizes reading a department's queue of cases: an
// ADMIN; a MANAGER who manages the department or is in its team; SERVICE
// staff of its team (the service desk). Salespeople and auditors work from
// their own queues; partners have none. One GetItem of the department.
func (s *Service) departmentQueueOf(ctx context.Context, u *User, id string) error {
	const who = "a department's queue is read by its manager, the managers and service staff of its team, and admins"
	if u.IsPartner() {
		return &Error{Code: EFORBIDDEN, Field: "departmentId", Message: "partners have no work queues"}
	}
	// The role first, so that a caller who may read no department's
	// queue learns nothing of which departments exist.
	if !u.HasRole(RoleAdmin) && !u.HasRole(RoleManager) && !u.HasRole(RoleService) {
		return &Error{Code: EFORBIDDEN, Field: "departmentId", Message: who}
	}
	if err := checkID("departmentId", id); err != nil {
		return err
	}
	d, err := s.Store.Department(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return Invalid("departmentId", "no department %q in the directory", id)
	}
	if err != nil {
		return err
	}
	inTeam := d.Team != "" && u.InTeam(d.Team)
	switch {
	case u.HasRole(RoleAdmin),
		u.HasRole(RoleManager) && (d.ManagerID == u.ID || inTeam),
		u.HasRole(RoleService) && inTeam:
		return nil
	}
	return &Error{Code: EFORBIDDEN, Field: "departmentId", Message: who}
}
