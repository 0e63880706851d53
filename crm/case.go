package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CaseStatus is where a case stands in its workflow (seed 001).
type CaseStatus string

const (
	CaseOpen     CaseStatus = "OPEN"
	CaseTriaged  CaseStatus = "TRIAGED"
	CaseAssigned CaseStatus = "ASSIGNED"
	CaseProposed CaseStatus = "PROPOSED"
	CaseApproved CaseStatus = "APPROVED"
	CaseResolved CaseStatus = "RESOLVED"
	CaseClosed   CaseStatus = "CLOSED"
	// CasePlanRejected: a manager rejected the proposed plan; the case is
	// re-planned, its clock running on.
	CasePlanRejected CaseStatus = "PLAN_REJECTED"
	// CaseWithdrawn: the customer withdrew the request; it ends the case.
	CaseWithdrawn CaseStatus = "WITHDRAWN"
	// CaseRejected ended a case under the earlier workflow; no move leads
	// there any more, and such a case can only be reopened.
	CaseRejected CaseStatus = "REJECTED"
	CaseReopened CaseStatus = "REOPENED"
)

// CaseStatuses lists every case status.
var CaseStatuses = []CaseStatus{CaseOpen, CaseTriaged, CaseAssigned, CaseProposed, CasePlanRejected,
	CaseApproved, CaseResolved, CaseClosed, CaseWithdrawn, CaseRejected, CaseReopened}

// caseMoves are the legal transitions (seed 001: 判定, 处理责任部门确定,
// 提出处理方案, 提交领导批示). Only closing, after resolution, or the
// customer withdrawing ends a case: a rejected plan sends it back to be
// re-planned. A reopened case is triaged or assigned again.
var caseMoves = map[CaseStatus][]CaseStatus{
	CaseOpen:         {CaseTriaged, CaseWithdrawn},
	CaseTriaged:      {CaseAssigned, CaseWithdrawn},
	CaseAssigned:     {CaseProposed, CaseAssigned, CaseWithdrawn},
	CaseProposed:     {CaseApproved, CasePlanRejected, CaseAssigned, CaseWithdrawn},
	CasePlanRejected: {CaseProposed, CaseAssigned, CaseWithdrawn},
	CaseApproved:     {CaseResolved, CaseWithdrawn},
	CaseResolved:     {CaseClosed, CaseReopened},
	CaseClosed:       {CaseReopened},
	CaseWithdrawn:    {CaseReopened},
	CaseRejected:     {CaseReopened},
	CaseReopened:     {CaseTriaged, CaseAssigned, CaseWithdrawn},
}

// IsOpen reports whether a case still needs work (and can be overdue).
func (s CaseStatus) IsOpen() bool {
	return s != CaseResolved && s != CaseClosed && s != CaseWithdrawn && s != CaseRejected
}

// awaitsResponse reports whether a case in status s has had no response
// yet since it was opened or reopened: its next step is the response.
func (s CaseStatus) awaitsResponse() bool { return s == CaseOpen || s == CaseReopened }

// Priority is how urgent a case is.
type Priority string

const (
	PriorityLow    Priority = "LOW"
	PriorityNormal Priority = "NORMAL"
	PriorityHigh   Priority = "HIGH"
	PriorityUrgent Priority = "URGENT"
)

// Priorities lists every priority, least urgent first.
var Priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

// caseTypes are the interaction types that open a case.
var caseTypes = []InteractionType{TypeComplaint, TypeServiceRequest, TypeFaultReport, TypeSuggestion}

// IsCaseType reports whether interactions of type t open a case.
func IsCaseType(t InteractionType) bool { return slices.Contains(caseTypes, t) }

// CaseTransition is one recorded step of a case.
type CaseTransition struct {
	From CaseStatus
	To   CaseStatus
	By   string
	At   time.Time
	Note string
}

// MaxCaseTransitions bounds a case's recorded steps, which travel with it.
const MaxCaseTransitions = 100

// Case is a complaint, service request, fault report or suggestion being
// handled. Its id is the id of the interaction that opened it.
type Case struct {
	ID         string
	CustomerID string
	Type       InteractionType
	Subject    string
	Priority   Priority
	Status     CaseStatus
	AssignedTo string
	Department string
	Plan       string
	OpenedAt   time.Time
	// RespondBy is when the first response is due, ResolveBy the
	// resolution (both zero on cases opened before they were kept apart);
	// DueAt is the deadline in force: RespondBy until the case's first
	// step out of OPEN (or REOPENED), then ResolveBy.
	RespondBy    time.Time
	ResolveBy    time.Time
	DueAt        time.Time
	EscalatedAt  *time.Time
	Satisfaction *int // 1–5, given on closing
	Transitions  []CaseTransition
	Version      int
	UpdatedAt    time.Time
}

// Clone returns a deep copy.
func (c *Case) Clone() *Case {
	d := *c
	d.Transitions = slices.Clone(c.Transitions)
	return &d
}

// setDeadlines sets when a case opened (or reopened) at from must get its
// first response and its resolution: the SLAs of the customer's grade
// level, halved for urgent cases (the VIP "green channel" of seed 001 is
// the short SLA of grades A and B); the response is due first.
func (c *Case) setDeadlines(from time.Time, level GradeLevel) {
	respond, resolve := level.ResponseSLA, level.ResolutionSLA
	if respond <= 0 {
		respond = 72 * time.Hour
	}
	resolve = max(resolve, respond)
	if c.Priority == PriorityUrgent {
		respond, resolve = respond/2, resolve/2
	}
	c.RespondBy, c.ResolveBy = from.Add(respond), from.Add(resolve)
	c.DueAt, c.EscalatedAt = c.RespondBy, nil
}

// newCase opens the case an interaction starts, with deadlines that follow
// from the customer's grade level under the policy in force.
func newCase(it *Interaction, level GradeLevel, p Priority) *Case {
	cs := CaseOpenedBy(it, p, time.Time{}, time.Time{})
	cs.setDeadlines(it.CreatedAt, level)
	return cs
}

// CaseOpenedBy is the case interaction it opened, by its creator at its
// creation, with the priority and deadlines it was opened with: all a
// store that writes the case apart from its interaction needs to keep
// to write it again.
func CaseOpenedBy(it *Interaction, p Priority, respondBy, resolveBy time.Time) *Case {
	return &Case{
		ID: it.ID, CustomerID: it.CustomerID, Type: it.Type, Subject: it.Subject, Priority: p, Status: CaseOpen,
		OpenedAt: it.CreatedAt, Version: 1, UpdatedAt: it.CreatedAt, RespondBy: respondBy, ResolveBy: resolveBy, DueAt: respondBy,
		Transitions: []CaseTransition{{To: CaseOpen, By: it.CreatedBy, At: it.CreatedAt, Note: "opened by " + string(it.Type)}},
	}
}

// FirstResponseAt is when the case first left OPEN: its first response,
// measured apart from its resolution. Nil while it awaits one. The steps
// that keep a case OPEN (the job's escalation, a handover) are no
// response.
func (c *Case) FirstResponseAt() *time.Time {
	for _, t := range c.Transitions {
		if t.From == CaseOpen && t.To != CaseOpen {
			return ptr(t.At)
		}
	}
	return nil
}

// ResolvedAt is when the case was last resolved; nil if never.
func (c *Case) ResolvedAt() *time.Time {
	for i := len(c.Transitions) - 1; i >= 0; i-- {
		if t := c.Transitions[i]; t.To == CaseResolved && t.From != CaseResolved {
			return ptr(t.At)
		}
	}
	return nil
}

// proposer is who proposed the case's current plan.
func (c *Case) proposer() string {
	for i := len(c.Transitions) - 1; i >= 0; i-- {
		if t := c.Transitions[i]; t.To == CaseProposed && t.From != CaseProposed {
			return t.By
		}
	}
	return ""
}

// NewlyEscalated reports whether next records an escalation prev did not:
// a case is escalated once per deadline it misses.
func NewlyEscalated(prev, next *Case) bool {
	return next.EscalatedAt != nil && (prev.EscalatedAt == nil || !prev.EscalatedAt.Equal(*next.EscalatedAt))
}

// EscalatedForDeadline reports whether the job has escalated the case
// since its deadline in force passed: once per deadline.
func (c *Case) EscalatedForDeadline() bool {
	return c.EscalatedAt != nil && !c.EscalatedAt.Before(c.DueAt)
}

// CaseSummary is what a customer's profile keeps of an open case, so that
// the 360 view shows open complaints without a second read.
type CaseSummary struct {
	ID        string
	Type      InteractionType
	Subject   string
	Priority  Priority
	Status    CaseStatus
	DueAt     time.Time
	Escalated bool
}

// OpenCasesKept bounds the open cases a profile lists; OpenCaseCount
// counts them all.
const OpenCasesKept = 20

// CaseMove is a requested transition with what the target status needs.
type CaseMove struct {
	To         CaseStatus
	Note       string
	AssignTo   string // ASSIGNED: the responsible user
	Department string // ASSIGNED: the responsible department
	Plan       string // PROPOSED: the handling plan
	// Satisfaction is the customer's satisfaction with the handling,
	// 1–5, required to close.
	Satisfaction *int
}

// managerVerbs name the moves only a manager makes, for messages.
var managerVerbs = map[CaseStatus]string{CaseApproved: "approve the plan of", CasePlanRejected: "reject the plan of"}

// applyMove checks a transition against the workflow and the caller's role
// and applies it to c. separate refuses the approval of a plan by its
// proposer (Service.SeparateApproval).
func applyMove(c *Case, m CaseMove, u *User, now time.Time, separate bool) error {
	var ch checker
	checkEnum(&ch, "input.to", m.To, CaseStatuses)
	ch.text("input.note", m.Note, 0, MaxReasonLen)
	ch.text("input.plan", m.Plan, 0, MaxContentLen)
	ch.text("input.assignTo", m.AssignTo, 0, MaxShortText)
	ch.text("input.department", m.Department, 0, MaxShortText)
	if err := ch.result(); err != nil {
		return err
	}
	if !slices.Contains(caseMoves[c.Status], m.To) {
		return Invalid("input.to", "a %s case cannot move to %s; allowed: %v", c.Status, m.To, caseMoves[c.Status])
	}
	switch m.To {
	case CaseTriaged:
		// Triage may name the responsible department (seed 001: 处理责任部门
		// 确定): the case waits in its queue for someone to be assigned.
		if m.Department != "" {
			c.Department = m.Department
		}
	case CaseAssigned:
		if m.AssignTo == "" {
			return Invalid("input.assignTo", "is required to assign a case")
		}
		// The department stays responsible unless another is named.
		c.AssignedTo = m.AssignTo
		if m.Department != "" {
			c.Department = m.Department
		}
	case CaseProposed:
		if strings.TrimSpace(m.Plan) == "" {
			return Invalid("input.plan", "is required to propose a handling plan")
		}
		c.Plan = m.Plan
	case CaseApproved, CasePlanRejected:
		if !u.HasRole(RoleAdmin) && !u.HasRole(RoleManager) {
			return Errorf(EFORBIDDEN, "only an admin or a manager may %s a case", managerVerbs[m.To])
		}
		if m.To == CaseApproved && separate && c.proposer() == u.ID {
			return Errorf(EFORBIDDEN, "you proposed this plan: another manager approves it (separation of duties)")
		}
		if m.To == CasePlanRejected && strings.TrimSpace(m.Note) == "" {
			return Invalid("input.note", "is required to reject a plan: say what the new plan must change")
		}
	case CaseWithdrawn:
		if strings.TrimSpace(m.Note) == "" {
			return Invalid("input.note", "is required when the customer withdraws: what the customer said")
		}
	case CaseClosed:
		if m.Satisfaction == nil || *m.Satisfaction < 1 || *m.Satisfaction > 5 {
			return Invalid("input.satisfaction", "is required to close a case: the customer's satisfaction, 1 to 5")
		}
		c.Satisfaction = ptr(*m.Satisfaction)
	}
	if len(c.Transitions) >= MaxCaseTransitions {
		return Errorf(ECONFLICT, "case %s has reached %d steps; open a new case", c.ID, MaxCaseTransitions)
	}
	if c.Status.awaitsResponse() && !c.ResolveBy.IsZero() {
		// Responded: the resolution is due next. A case opened before
		// the two were kept apart keeps its one deadline.
		c.DueAt = c.ResolveBy
	}
	c.Transitions = append(c.Transitions, CaseTransition{From: c.Status, To: m.To, By: u.ID, At: now, Note: m.Note})
	c.Status = m.To
	c.Version++
	c.UpdatedAt = now
	return nil
}

// MoveCase moves a case through its workflow; every move is recorded with
// who, when and the note. expectedVersion is the case's. Closing a case
// records the customer's satisfaction as an evaluation (the built-in case
// satisfaction template) in the same write. The customer's open cases and
// satisfaction index, and a regrade, follow from the stream.
// Assigning names an active user of the directory who works cases (any
// staff role but AUDITOR) and, optionally, a department of the directory;
// triage may name the department too. A department, once responsible,
// stays so until another is named; a case assigned while none is takes its
// assignee's department in the directory (if any).
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT (an illegal
// transition, missing data, an unknown or deactivated assignee or an
// unknown department), CONFLICT.
func (s *Service) MoveCase(ctx context.Context, customerID, caseID string, expectedVersion int, m CaseMove) (*Case, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("input.caseId", caseID); err != nil {
		return nil, err
	}
	p, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	var next *Case
	checked := false   // the assignee and department, once
	assigneeDept := "" // the assignee's department in the directory
	err = s.applyFresh(ctx, func() (*Change, error) {
		cust, err := s.editable(ctx, u, customerID, canWork, "work the cases of")
		if err != nil {
			return nil, err
		}
		prev, err := s.Store.Case(ctx, customerID, caseID)
		if err != nil {
			return nil, err
		}
		if prev.Version != expectedVersion {
			return nil, staleVersion("case", caseID, expectedVersion, prev.Version)
		}
		now := s.now()
		next = prev.Clone()
		if err := applyMove(next, m, u, now, s.SeparateApproval); err != nil {
			return nil, err
		}
		if !checked && (m.To == CaseAssigned || m.To == CaseTriaged) {
			if assigneeDept, err = s.checkCaseAssignment(ctx, m); err != nil {
				return nil, err
			}
			checked = true
		}
		if next.Department == "" {
			// A case no department holds yet goes to its assignee's.
			next.Department = assigneeDept
		}
		if next.Status == CaseReopened {
			// A reopened case awaits a response again, due from now.
			next.setDeadlines(now, levelOf(p, cust.Grade.Level))
		}
		// The customer's open cases, and its indexes when the closing
		// satisfaction is recorded, follow from the stream.
		ch := &Change{Scope: cust, CasePrev: prev, Case: next}
		if next.Status == CaseClosed {
			ch.Evaluation = s.caseSatisfaction(next, u, now)
		}
		return ch, nil
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// checkCaseAssignment refuses a case assigned to someone the directory
// does not know as an active worker, or to (or triaged for) a department
// it does not know. It returns the assignee's department.
func (s *Service) checkCaseAssignment(ctx context.Context, m CaseMove) (string, error) {
	dept := ""
	if m.To == CaseAssigned {
		d, err := s.assignee(ctx, "input.assignTo", m.AssignTo, WorkerRoles...)
		if err != nil {
			return "", err
		}
		dept = d.DepartmentID
	}
	return dept, s.checkDepartment(ctx, "input.department", m.Department)
}

// caseSatisfaction records the satisfaction given on closing c as an
// evaluation against the built-in case satisfaction template.
func (s *Service) caseSatisfaction(c *Case, u *User, now time.Time) *Evaluation {
	t := CaseSatisfactionTemplate()
	scores := []IndicatorScore{{Key: t.Indicators[0].Key, Value: float64(*c.Satisfaction)}}
	overall, dims, _ := ScoreEvaluation(t, scores) // 1–5 was checked by applyMove
	return &Evaluation{ID: s.newID(now), CustomerID: c.CustomerID, TemplateID: t.ID, TemplateVersion: t.Version,
		Kind: EvalCustomerSurvey, EvaluatorID: u.ID, Scores: scores, Comment: "satisfaction with the handling of case " + c.ID,
		Overall: overall, Dimensions: dims, CaseID: c.ID, EvaluatedAt: now}
}

// Cases lists a customer's cases, newest first.
// Errors: UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) Cases(ctx context.Context, customerID string, p PageRequest) (*Page[*Case], error) {
	page, err := customerList(ctx, s, customerID, p, s.Store.ListCases)
	return viewPage(UserFromContext(ctx), page, viewCase), err
}

// EscalateOverdue escalates every open case past its due time that is not
// escalated yet: its priority becomes URGENT and the step is recorded. A
// case its holder has not acted on (nobody holds it, or its assignee made
// no step on it) goes to the manager (caseManager), and the step says so.
// It runs as the system in the scheduled job.
func (s *Service) EscalateOverdue(ctx context.Context) ([]string, error) {
	now := s.now()
	due, err := s.Store.CasesDue(ctx, now)
	if err != nil {
		return nil, err
	}
	return s.eachDue(ctx, "escalate case", due, func(k InteractionKey) (*Change, error) {
		prev, err := s.Store.Case(ctx, k.CustomerID, k.ID)
		if err != nil {
			return nil, err
		}
		if !prev.Status.IsOpen() || prev.EscalatedForDeadline() || now.Before(prev.DueAt) {
			return nil, errNothingToDo
		}
		cust, err := s.dueScope(ctx, k.CustomerID)
		if err != nil {
			return nil, err
		}
		next := prev.Clone()
		next.EscalatedAt, next.Priority = ptr(now), PriorityUrgent
		note := fmt.Sprintf("escalated: overdue since %s", prev.DueAt.Format(time.RFC3339))
		if !prev.actedOn() {
			m, err := s.caseManager(ctx, prev, cust)
			if err != nil {
				return nil, err
			}
			if m != "" && m != prev.AssignedTo {
				who := "nobody had taken it"
				if prev.AssignedTo != "" {
					who = prev.AssignedTo + " had not acted on it"
				}
				next.AssignedTo = m
				note += fmt.Sprintf("; reassigned to %s, the manager, since %s", m, who)
			}
		}
		next.Transitions = append(next.Transitions, CaseTransition{From: prev.Status, To: prev.Status, By: SystemUserID, At: now, Note: note})
		next.Version++
		next.UpdatedAt = now
		return &Change{Scope: cust, CasePrev: prev, Case: next}, nil
	})
}

// actedOn reports whether the case's assignee has moved it on: an
// unassigned case has nobody who could have, and a step that keeps its
// status (a handover, which its new holder may have made) moves nothing.
func (c *Case) actedOn() bool {
	if c.AssignedTo == "" {
		return false
	}
	return slices.ContainsFunc(c.Transitions, func(t CaseTransition) bool { return t.By == c.AssignedTo && t.From != t.To })
}

// caseManager is who an escalated case goes to when its holder has not
// acted on it: the manager of its department when the directory names an
// active one, else the first active MANAGER of the customer's team (by
// name); "" when there is none. One GetItem of the department, one Query
// of the team's list (docs/access-patterns.md, pattern 83).
func (s *Service) caseManager(ctx context.Context, c *Case, cust *Customer) (string, error) {
	if c.Department != "" {
		d, err := s.Store.Department(ctx, c.Department)
		switch {
		case err == nil && d.ManagerID != "":
			if _, err := s.assignee(ctx, "managerId", d.ManagerID, RoleManager); err == nil {
				return d.ManagerID, nil
			}
		case err != nil && ErrorCode(err) != ENOTFOUND:
			return "", err
		}
	}
	return s.teamManager(ctx, cust.Team)
}

// teamManager is the first active MANAGER of team (by name); "" when
// there is none (or no team).
func (s *Service) teamManager(ctx context.Context, team string) (string, error) {
	if team == "" {
		return "", nil
	}
	active := true
	page, err := s.Store.ListUsers(ctx, UserFilter{Team: team, Role: RoleManager, Active: &active}, PageRequest{First: 1})
	if err != nil {
		return "", err
	}
	if len(page.Items) == 0 {
		return "", nil
	}
	return page.Items[0].ID, nil
}

// eachDue applies, for each item a job found due, what decide makes of it
// read afresh, and returns the ids of those it changed. decide answers
// errNothingToDo when nothing is due (any more); an item gone (a merge
// moved it, and the index lags behind) is skipped too.
func (s *Service) eachDue(ctx context.Context, what string, keys []InteractionKey, decide func(InteractionKey) (*Change, error)) ([]string, error) {
	var done []string
	for _, k := range keys {
		err := s.applyFresh(ctx, func() (*Change, error) { return decide(k) })
		switch {
		case err == errNothingToDo, ErrorCode(err) == ENOTFOUND:
		case err != nil:
			return done, fmt.Errorf("%s %s: %w", what, k.ID, err)
		default:
			done = append(done, k.ID)
		}
	}
	return done, nil
}

// dueScope reads the customer of an item a job found due: errNothingToDo
// while a merge moves it (a later run finds the item at the survivor).
func (s *Service) dueScope(ctx context.Context, id string) (*Customer, error) {
	cust, err := s.Store.Customer(ctx, id)
	if err != nil {
		return nil, err
	}
	if Writable(cust) != nil {
		return nil, errNothingToDo
	}
	return cust, nil
}
