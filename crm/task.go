package crm

import (
	"context"
	"strings"
	"time"
)

// Tasks (待办, 回访 callbacks) are the work planned on a customer: call
// back, visit, send a quote, a satisfaction callback, anything else. A task
// has one assignee, an active user of the directory; it is open until it is
// completed (its outcome recorded as an interaction in the same write, so a
// completed callback is a logged call that moves the follow-up like any
// contact) or cancelled.

// TaskType is what a task asks for.
type TaskType string

const (
	TaskCallBack             TaskType = "CALL_BACK"
	TaskVisit                TaskType = "VISIT"
	TaskSendQuote            TaskType = "SEND_QUOTE"
	TaskSatisfactionCallBack TaskType = "SATISFACTION_CALLBACK"
	TaskOther                TaskType = "OTHER"
)

// TaskTypes lists every task type.
var TaskTypes = []TaskType{TaskCallBack, TaskVisit, TaskSendQuote, TaskSatisfactionCallBack, TaskOther}

// TaskStatus is where a task stands.
type TaskStatus string

const (
	TaskOpen      TaskStatus = "OPEN"
	TaskDone      TaskStatus = "DONE"
	TaskCancelled TaskStatus = "CANCELLED"
)

// TaskStatuses lists every task status.
var TaskStatuses = []TaskStatus{TaskOpen, TaskDone, TaskCancelled}

// Task is one piece of planned work on a customer.
type Task struct {
	ID         string
	CustomerID string
	Type       TaskType
	Title      string
	Notes      string
	DueAt      time.Time
	AssigneeID string
	Priority   Priority
	Status     TaskStatus
	// InteractionID is the interaction that recorded a completed task's
	// outcome.
	InteractionID string
	// Reason is why a task was cancelled.
	Reason   string
	ClosedAt *time.Time
	ClosedBy string
	// DueNoticeFor is the due time the assignee was told of (the job's
	// TASK_DUE notification): a task whose due time moves is told again.
	DueNoticeFor *time.Time
	Version      int
	CreatedAt    time.Time
	CreatedBy    string
	UpdatedAt    time.Time
	UpdatedBy    string
}

// DueNoticePending reports whether the job still owes the assignee the
// notice of the task's due time.
func (t *Task) DueNoticePending() bool {
	return t.Status == TaskOpen && (t.DueNoticeFor == nil || !t.DueNoticeFor.Equal(t.DueAt))
}

// Clone returns a copy.
func (t *Task) Clone() *Task {
	d := *t
	if t.DueNoticeFor != nil {
		d.DueNoticeFor = ptr(*t.DueNoticeFor)
	}
	return &d
}

// TaskInput is the data of a new task.
type TaskInput struct {
	// IdempotencyKey, when set, makes a retry return the first result
	// instead of creating again (see Idempotency).
	IdempotencyKey string
	CustomerID     string
	Type           TaskType
	Title          string
	Notes          string
	DueAt          time.Time
	// AssigneeID defaults to the caller.
	AssigneeID string
	// Priority defaults to NORMAL.
	Priority Priority
}

// TaskUpdate changes the fields that are non-nil.
type TaskUpdate struct {
	Type       *TaskType
	Title      *string
	Notes      *string
	DueAt      *time.Time
	AssigneeID *string
	Priority   *Priority
}

// TaskCompletion is the outcome of a completed task, recorded as an
// interaction. Channel and Type default by the task's type (taskContact).
type TaskCompletion struct {
	Outcome         string
	Channel         Channel
	Type            InteractionType
	OccurredAt      *time.Time // default: now
	DurationSeconds *int
	ContactID       string
	NextFollowUpAt  *time.Time
}

// TaskFilter narrows a work queue of open tasks.
type TaskFilter struct {
	AssigneeID string
	// DueBefore bounds the due time, exclusive; zero for none.
	DueBefore time.Time
	// Readable keeps the tasks of the customers it accepts: those the
	// caller may read. Nil keeps all.
	Readable func(*Customer) bool
}

// taskContact is the interaction a completed task records by default: a
// callback is a call, a visit a visit; a quote sent is a note by e-mail
// (a note is not a contact: pass the type to record one).
var taskContact = map[TaskType]struct {
	Channel Channel
	Type    InteractionType
}{
	TaskCallBack:             {ChannelPhone, TypeCall},
	TaskSatisfactionCallBack: {ChannelPhone, TypeCall},
	TaskVisit:                {ChannelVisit, TypeVisit},
	TaskSendQuote:            {ChannelEmail, TypeNote},
	TaskOther:                {ChannelOther, TypeNote},
}

// MaxTaskAhead bounds how far ahead a task may be due.
const MaxTaskAhead = 2 * 365 * 24 * time.Hour

func validateTask(t *Task, now time.Time) error {
	var c checker
	checkEnum(&c, "input.type", t.Type, TaskTypes)
	checkEnum(&c, "input.priority", t.Priority, Priorities)
	c.text("input.title", t.Title, 0, MaxSubjectLen)
	c.text("input.notes", t.Notes, 0, MaxContentLen)
	switch {
	case t.DueAt.IsZero():
		c.fail("input.dueAt", "is required")
	case t.DueAt.Before(epoch):
		c.fail("input.dueAt", "must be after 1970")
	case t.DueAt.After(now.Add(MaxTaskAhead)):
		c.fail("input.dueAt", "must be at most two years ahead")
	}
	return c.result()
}

// checkTaskAssignee refuses an assignee the caller may not hand work to:
// anyone but themselves is for those who assign the customer's work (ADMIN,
// the team's MANAGER), and must be an active worker of the directory. The
// caller themselves needs no look-up: signed in, they are active, and who
// may work the customer holds a worker's role.
func (s *Service) checkTaskAssignee(ctx context.Context, u *User, c *Customer, assignee string) error {
	if assignee == u.ID {
		return nil
	}
	if !canAssign(u, c) {
		return &Error{Code: EFORBIDDEN, Field: "input.assigneeId", Message: "you may assign tasks only to yourself"}
	}
	return s.CheckAssignee(ctx, "input.assigneeId", assignee, WorkerRoles...)
}

// CreateTask plans a task on a customer, with its audit entry, in one
// write. Who may work the customer (log interactions on it) may add tasks;
// assigning them to someone else is for ADMIN and the team's MANAGER, and
// names an active user of the directory.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) CreateTask(ctx context.Context, in TaskInput) (*Task, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("input.customerId", in.CustomerID); err != nil {
		return nil, err
	}
	now := s.now()
	t := &Task{
		CustomerID: in.CustomerID, Type: in.Type, Title: strings.TrimSpace(in.Title), Notes: in.Notes,
		DueAt: in.DueAt.UTC().Truncate(time.Millisecond), AssigneeID: in.AssigneeID, Priority: in.Priority, Status: TaskOpen,
		Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID,
	}
	if t.AssigneeID == "" {
		t.AssigneeID = u.ID
	}
	if t.Priority == "" {
		t.Priority = PriorityNormal
	}
	if err := validateTask(t, now); err != nil {
		return nil, err
	}
	t.ID = s.newID(now)
	idem, err := s.idempotency(u, "createTask", in.IdempotencyKey, in, t.ID)
	if err != nil {
		return nil, err
	}
	c, err := s.editable(ctx, u, t.CustomerID, canWork, "add a task to")
	if err != nil {
		return nil, err
	}
	if err := s.checkTaskAssignee(ctx, u, c, t.AssigneeID); err != nil {
		return nil, err
	}
	err = s.Store.Apply(ctx, &Change{Scope: c, Task: t, Idempotency: idem})
	if first, err, ok := replay(ctx, err, func(ctx context.Context, id string) (*Task, error) {
		return s.Store.Task(ctx, in.CustomerID, id)
	}); ok {
		return first, err
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// changeTask reads an open task at expectedVersion for a caller who may
// work its customer, lets edit change it, and writes it with what edit adds
// to the change.
func (s *Service) changeTask(ctx context.Context, customerID, taskID string, expectedVersion int, action string,
	edit func(u *User, c *Customer, next *Task, ch *Change) error) (*Task, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("input.taskId", taskID); err != nil {
		return nil, err
	}
	var next *Task
	err = s.applyFresh(ctx, func() (*Change, error) {
		c, err := s.editable(ctx, u, customerID, canWork, action)
		if err != nil {
			return nil, err
		}
		prev, err := s.Store.Task(ctx, customerID, taskID)
		if err != nil {
			return nil, err
		}
		if prev.Version != expectedVersion {
			return nil, staleVersion("task", taskID, expectedVersion, prev.Version)
		}
		if prev.Status != TaskOpen {
			return nil, Errorf(ECONFLICT, "task %s is %s; only open tasks change", taskID, prev.Status)
		}
		next = prev.Clone()
		ch := &Change{Scope: c, TaskPrev: prev, Task: next}
		if err := edit(u, c, next, ch); err != nil {
			return nil, err
		}
		next.Version++
		next.UpdatedAt, next.UpdatedBy = s.now(), u.ID
		return ch, nil
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// UpdateTask changes an open task; expectedVersion is the task's.
// Reassigning follows CreateTask's rules.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) UpdateTask(ctx context.Context, customerID, taskID string, expectedVersion int, upd TaskUpdate) (*Task, error) {
	checked := ""
	return s.changeTask(ctx, customerID, taskID, expectedVersion, "change a task of", func(u *User, c *Customer, next *Task, _ *Change) error {
		set(&next.Type, upd.Type)
		set(&next.Notes, upd.Notes)
		set(&next.Priority, upd.Priority)
		if upd.Title != nil {
			next.Title = strings.TrimSpace(*upd.Title)
		}
		if upd.DueAt != nil {
			next.DueAt = upd.DueAt.UTC().Truncate(time.Millisecond)
		}
		if err := validateTask(next, s.now()); err != nil {
			return err
		}
		if upd.AssigneeID != nil && *upd.AssigneeID != next.AssigneeID {
			if checked != *upd.AssigneeID {
				if err := s.checkTaskAssignee(ctx, u, c, *upd.AssigneeID); err != nil {
					return err
				}
			}
			checked, next.AssigneeID = *upd.AssigneeID, *upd.AssigneeID
		}
		return nil
	})
}

// CancelTask cancels an open task with a reason.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) CancelTask(ctx context.Context, customerID, taskID string, expectedVersion int, reason string) (*Task, error) {
	var c checker
	c.text("input.reason", reason, 0, MaxReasonLen)
	if err := c.result(); err != nil {
		return nil, err
	}
	return s.changeTask(ctx, customerID, taskID, expectedVersion, "cancel a task of", func(u *User, _ *Customer, next *Task, _ *Change) error {
		now := s.now()
		next.Status, next.Reason, next.ClosedAt, next.ClosedBy = TaskCancelled, reason, ptr(now), u.ID
		return nil
	})
}

// CompleteTask closes an open task and records its outcome as an
// interaction handled by the caller, in the same write: a completed
// callback is a logged call, which then moves the customer's follow-up
// like any contact. The interaction may not be of a type that opens a case.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) CompleteTask(ctx context.Context, customerID, taskID string, expectedVersion int, done TaskCompletion) (*Task, *Interaction, error) {
	var it *Interaction
	task, err := s.changeTask(ctx, customerID, taskID, expectedVersion, "complete a task of", func(u *User, c *Customer, next *Task, ch *Change) error {
		now := s.now()
		def := taskContact[next.Type]
		it = &Interaction{
			CustomerID: customerID, Channel: def.Channel, Direction: Outbound, Type: def.Type, Subject: next.Title,
			OccurredAt: now, DurationSeconds: done.DurationSeconds, HandledBy: u.ID, ContactID: done.ContactID,
			Outcome: done.Outcome, Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID,
		}
		if it.Subject == "" {
			it.Subject = taskSubject[next.Type]
		}
		if done.Channel != "" {
			it.Channel = done.Channel
		}
		if done.Type != "" {
			it.Type = done.Type
		}
		if done.OccurredAt != nil {
			it.OccurredAt = done.OccurredAt.UTC().Truncate(time.Millisecond)
		}
		if done.NextFollowUpAt != nil {
			it.NextFollowUpAt = ptr(done.NextFollowUpAt.UTC())
		}
		var chk checker
		chk.text("input.outcome", done.Outcome, 1, MaxOutcomeLen)
		if err := chk.result(); err != nil {
			return err
		}
		if err := validateInteraction(it); err != nil {
			return err
		}
		if IsCaseType(it.Type) {
			return Invalid("input.type", "a completed task records a contact, not a %s (log it as an interaction to open a case)", it.Type)
		}
		if err := checkEventTime("input.occurredAt", it.OccurredAt, now); err != nil {
			return err
		}
		if err := s.checkContact(ctx, customerID, it.ContactID); err != nil {
			return err
		}
		if it.ID == "" {
			it.ID = s.newID(it.OccurredAt)
		}
		next.Status, next.InteractionID, next.ClosedAt, next.ClosedBy = TaskDone, it.ID, ptr(now), u.ID
		ch.Interaction = it
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return task, it, nil
}

// taskSubject is the subject of a completed task's interaction when the
// task has no title.
var taskSubject = map[TaskType]string{
	TaskCallBack: "Callback", TaskVisit: "Visit", TaskSendQuote: "Quote sent",
	TaskSatisfactionCallBack: "Satisfaction callback", TaskOther: "Task done",
}

// Tasks lists a customer's tasks, newest first.
// Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) Tasks(ctx context.Context, customerID string, p PageRequest) (*Page[*Task], error) {
	return customerList(ctx, s, customerID, p, s.Store.ListTasks)
}
