package crm

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Notifications: each user's inbox of what happened to their work — a
// claim about to expire, a case assigned to them or escalated, a task due,
// a customer handed to them or one of theirs regraded down.
//
// A notification is derived from a write of the table by the stream
// consumer (package stream), never written by the request that caused it:
// the stream is the outbox. A write that succeeded is on the stream for 24
// hours, and the consumer retries a batch until it is applied, so no
// notification is lost; and since a notification's id is a function of what
// caused it (NoticeID), a batch delivered again writes nothing new. The
// time-driven ones come from the scheduled job's own writes (a claim's
// warning, a case's escalation, a task's due notice), which it makes once
// per thing and deadline.

// NotificationKind is what a notification is about.
type NotificationKind string

const (
	// NoticeClaimExpiring: a claim of the user's from the pool expires
	// soon unless followed up (the pool job's warning).
	NoticeClaimExpiring NotificationKind = "CLAIM_EXPIRING"
	// NoticeCaseAssigned: a case was assigned or handed to the user.
	NoticeCaseAssigned NotificationKind = "CASE_ASSIGNED"
	// NoticeCaseEscalated: a case the user holds, or held until the
	// escalation gave it to their manager, missed its deadline.
	NoticeCaseEscalated NotificationKind = "CASE_ESCALATED"
	// NoticeTaskDue: a task of the user's is due within TaskDueNotice.
	NoticeTaskDue NotificationKind = "TASK_DUE"
	// NoticeCustomerHandedOver: a customer was handed or assigned to the
	// user (one of a portfolio's, or one alone), or one the user won was
	// handed to an account owner.
	NoticeCustomerHandedOver NotificationKind = "CUSTOMER_HANDED_OVER"
	// NoticeCustomerRegradedDown: a customer the user owns fell to a less
	// important grade level.
	NoticeCustomerRegradedDown NotificationKind = "CUSTOMER_REGRADED_DOWN"
	// NoticeLeadHanded: a lead was handed to the user (lead.go).
	NoticeLeadHanded NotificationKind = "LEAD_HANDED"
	// NoticeLeadReturned: a lead the user made was returned to them.
	NoticeLeadReturned NotificationKind = "LEAD_RETURNED"
	// NoticePoolReturnDue: a customer the user owns goes back to the pool
	// soon by its grade's take-back rules (the pool job's warning).
	NoticePoolReturnDue NotificationKind = "POOL_RETURN_DUE"
	// NoticeWebhookEndpointDisabled: to every active ADMIN, a partner's
	// webhook endpoint failed every attempt for a day and was disabled.
	NoticeWebhookEndpointDisabled NotificationKind = "WEBHOOK_ENDPOINT_DISABLED"
	// NoticeContractApproval: a contract beyond its customer's credit
	// waits for approval; to the active managers of its team who may
	// approve it (neither its owner nor who recorded it), or, when it has
	// none, to the active ADMINs.
	NoticeContractApproval NotificationKind = "CONTRACT_APPROVAL_REQUESTED"
	// NoticeContractDecided: a contract awaiting approval was approved or
	// rejected; to its owner and who recorded it.
	NoticeContractDecided NotificationKind = "CONTRACT_DECIDED"
)

// NotificationKinds lists every kind.
var NotificationKinds = []NotificationKind{NoticeClaimExpiring, NoticeCaseAssigned, NoticeCaseEscalated,
	NoticeTaskDue, NoticeCustomerHandedOver, NoticeCustomerRegradedDown, NoticeLeadHanded, NoticeLeadReturned,
	NoticePoolReturnDue, NoticeWebhookEndpointDisabled, NoticeContractApproval, NoticeContractDecided}

// TaskDueNotice is how long before its due time a task's assignee is
// told; the job runs every quarter hour, so the notice comes between 45
// and 60 minutes ahead (or at once for a task created already due).
const TaskDueNotice = time.Hour

// NotificationTTL is how long a notification is kept; the table's TTL
// removes it afterwards, read or not.
const NotificationTTL = 90 * 24 * time.Hour

// Notification is one entry of a user's inbox. It names what it is about
// (customer, case, task) and carries no personal data: the client reads
// the customer with the user's own rights.
type Notification struct {
	ID     string
	UserID string
	Kind   NotificationKind
	// At is when the change that caused it happened.
	At         time.Time
	CustomerID string
	CaseID     string
	TaskID     string
	LeadID     string
	ContractID string
	// EndpointID is the partner's webhook endpoint it is about.
	EndpointID string
	// Actor is who made the change (SystemUserID for the job).
	Actor string
	// DueAt is the deadline it is about: a claim's expiry, a case's or a
	// task's due time.
	DueAt *time.Time
	// From and To are a move: the previous owner and the new one, the
	// grade levels, the case's previous assignee and the new one.
	From, To string
	// Message says it in a sentence.
	Message string
	ReadAt  *time.Time
}

// NoticeID is a notification's id: a ULID whose time is at (so an inbox
// sorts by time) and whose random part is a hash of key, what caused it —
// the same cause makes the same id however often it is derived.
func NoticeID(at time.Time, key string) string {
	h := sha256.Sum256([]byte(key))
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(at)); err != nil {
		id.SetTime(0) //nolint:errcheck // a time before 1970 or after 10889: cannot happen with our clocks
	}
	copy(id[6:], h[:10])
	return id.String()
}

// NotificationStore keeps the inboxes (package dynamo).
type NotificationStore interface {
	// ListNotifications lists a user's notifications, newest first; the
	// unread ones only when unreadOnly.
	ListNotifications(ctx context.Context, userID string, unreadOnly bool, p PageRequest) (*Page[*Notification], error)
	// UnreadNotifications counts a user's unread notifications.
	UnreadNotifications(ctx context.Context, userID string) (int, error)
	// MarkNotificationRead marks one read at at (a notification read
	// before keeps its time) and returns it; ENOTFOUND when the user has
	// no such notification.
	MarkNotificationRead(ctx context.Context, userID, id string, at time.Time) (*Notification, error)
	// MarkNotificationsRead marks every notification unread at the call
	// read and returns how many it marked.
	MarkNotificationsRead(ctx context.Context, userID string, at time.Time) (int, error)
}

// inboxOwner is the caller whose inbox a request reads: a signed-in staff
// user. Everyone reads their own inbox only, ADMIN included: it holds
// what happened to that user's work, and anyone who may see the work
// itself sees it where it lives (the customer, the queues, the audit log).
func inboxOwner(ctx context.Context) (*User, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.IsPartner() {
		return nil, Errorf(EFORBIDDEN, "partners have no inbox")
	}
	return u, nil
}

// Notifications lists the caller's notifications, newest first (unread
// ones only when unreadOnly).
// Errors: UNAUTHENTICATED, FORBIDDEN (partners), BAD_USER_INPUT.
func (s *Service) Notifications(ctx context.Context, unreadOnly bool, p PageRequest) (*Page[*Notification], error) {
	u, err := inboxOwner(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	return s.Store.ListNotifications(ctx, u.ID, unreadOnly, p)
}

// UnreadNotificationCount counts the caller's unread notifications.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners).
func (s *Service) UnreadNotificationCount(ctx context.Context) (int, error) {
	u, err := inboxOwner(ctx)
	if err != nil {
		return 0, err
	}
	return s.Store.UnreadNotifications(ctx, u.ID)
}

// MarkNotificationRead marks one of the caller's notifications read;
// marking it again changes nothing.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners), BAD_USER_INPUT, NOT_FOUND
// (not the caller's, or expired).
func (s *Service) MarkNotificationRead(ctx context.Context, id string) (*Notification, error) {
	u, err := inboxOwner(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	if _, err := ulid.ParseStrict(id); err != nil {
		return nil, Errorf(ENOTFOUND, "notification %s not found", id)
	}
	return s.Store.MarkNotificationRead(ctx, u.ID, id, s.now())
}

// MarkAllNotificationsRead marks every unread notification of the caller
// read and returns how many it marked.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners).
func (s *Service) MarkAllNotificationsRead(ctx context.Context) (int, error) {
	u, err := inboxOwner(ctx)
	if err != nil {
		return 0, err
	}
	return s.Store.MarkNotificationsRead(ctx, u.ID, s.now())
}

// NoticeSource is one write as the notifications are derived from it: a
// customer's profile, a case or a task before and after.
type NoticeSource struct {
	CustomerBefore, Customer *Customer
	CaseBefore, Case         *Case
	TaskBefore, Task         *Task
	LeadBefore, Lead         *Lead
	ContractBefore, Contract *Contract
}

// Notices returns the notifications a write means, in a fixed order; none
// for most writes. It is a function of the write (and the grade levels'
// ranks), so deriving it again gives the same notifications with the same
// ids.
func (s *Service) Notices(ctx context.Context, src NoticeSource) ([]*Notification, error) {
	switch {
	case src.Customer != nil && src.CustomerBefore != nil:
		p, err := s.policy(ctx)
		if err != nil {
			return nil, err
		}
		return customerNotices(p, src.CustomerBefore, src.Customer), nil
	case src.Case != nil:
		return caseNotices(src.CaseBefore, src.Case), nil
	case src.Task != nil:
		return taskNotices(src.TaskBefore, src.Task), nil
	case src.Lead != nil:
		return leadNotices(src.LeadBefore, src.Lead), nil
	case src.Contract != nil:
		return s.contractNotices(ctx, src.ContractBefore, src.Contract)
	}
	return nil, nil
}

// NewNotice is a notification to user of kind, caused at at by what key
// names (NoticeID): for writers of notifications outside the stream (the
// webhook delivery function's, in the write that causes them).
func NewNotice(user string, kind NotificationKind, at time.Time, key string, n Notification) *Notification {
	return notice(user, kind, at, key, n)
}

func notice(user string, kind NotificationKind, at time.Time, key string, n Notification) *Notification {
	n.ID, n.UserID, n.Kind, n.At = NoticeID(at, user+"|"+key), user, kind, at
	return &n
}

// customerNotices: a claim's warning to its holder, a change of hands to
// the new owner (unless they took it themselves) and, for a handover to an
// account owner, to the seller it was taken from, a fall in grade to the
// owner (unless they set it by hand; a rule's regrade that their own call
// set off is news to them).
func customerNotices(p *GradingPolicy, prev, next *Customer) []*Notification {
	if next.Version == prev.Version {
		return nil // a rewrite (a migration), not a change
	}
	var out []*Notification
	if cl := next.Claim; cl.Active() && cl.WarnedAt != nil && (prev.Claim == nil || prev.Claim.WarnedAt == nil || !prev.Claim.WarnedAt.Equal(*cl.WarnedAt)) {
		out = append(out, notice(cl.By, NoticeClaimExpiring, *cl.WarnedAt, fmt.Sprintf("claim|%s|%s", next.ID, cl.ExpiresAt.Format(time.RFC3339Nano)), Notification{
			CustomerID: next.ID, Actor: SystemUserID, DueAt: ptr(cl.ExpiresAt),
			Message: fmt.Sprintf("Your claim on customer %s expires at %s unless you follow it up.", next.ID, cl.ExpiresAt.Format(time.RFC3339)),
		}))
	}
	if w := NewPoolWarning(prev, next); w != nil {
		act := "get in touch"
		if w.Rule == RuleNoDeal {
			act = "close a deal"
		}
		out = append(out, notice(next.OwnerID, NoticePoolReturnDue, w.At, fmt.Sprintf("takeback|%s|%s|%s", next.ID, w.Rule, w.DueAt.Format(time.RFC3339Nano)), Notification{
			CustomerID: next.ID, Actor: SystemUserID, DueAt: ptr(w.DueAt),
			Message: fmt.Sprintf("Customer %s of yours goes back to the pool at %s unless you %s (the %s take-back rule of grade %s).",
				next.ID, w.DueAt.Format(time.RFC3339), act, w.Rule, next.Grade.Level),
		}))
	}
	claimed := prev.OwnerID == "" && next.Claim != nil && next.Claim.By == next.OwnerID
	if next.OwnerID != "" && next.OwnerID != prev.OwnerID && !claimed && next.UpdatedBy != next.OwnerID {
		n := Notification{CustomerID: next.ID, Actor: next.UpdatedBy, From: prev.OwnerID, To: next.OwnerID}
		from := "from the pool"
		if prev.OwnerID != "" {
			from = "from " + prev.OwnerID
		}
		n.Message = fmt.Sprintf("%s handed customer %s to you, %s.", next.UpdatedBy, next.ID, from)
		if h := next.LastHandover; h != nil && h.To == next.OwnerID && h.Reason != "" {
			n.Message += " Reason: " + h.Reason
		}
		out = append(out, notice(next.OwnerID, NoticeCustomerHandedOver, next.UpdatedAt, fmt.Sprintf("owner|%s|%d", next.ID, next.Version), n))
	}
	if n := accountNotice(prev, next); n != nil {
		out = append(out, n)
	}
	byHand := next.Grade.Source == GradeManual && next.Grade.By == next.OwnerID
	if next.OwnerID != "" && next.OwnerID == prev.OwnerID && regradedDown(p, prev.Grade.Level, next.Grade.Level) && !byHand {
		out = append(out, notice(next.OwnerID, NoticeCustomerRegradedDown, next.UpdatedAt, fmt.Sprintf("grade|%s|%d", next.ID, next.Version), Notification{
			CustomerID: next.ID, Actor: next.UpdatedBy, From: prev.Grade.Level, To: next.Grade.Level,
			Message: fmt.Sprintf("Customer %s of yours went from grade %s to %s.", next.ID, prev.Grade.Level, next.Grade.Level),
		}))
	}
	return out
}

// regradedDown reports whether a customer fell from level from to a less
// important one by the policy's ranks. O is not a fall: a target becomes an
// existing customer by its first deal (seed 000: 「O级是老客户」).
func regradedDown(p *GradingPolicy, from, to string) bool {
	if from == "" || to == "" || from == to || to == "O" {
		return false
	}
	a, aok := p.Level(from)
	b, bok := p.Level(to)
	return aok && bok && b.Rank > a.Rank
}

// caseNotices: an escalation to whoever holds the case after it and
// whoever held it before; otherwise a new assignee, unless they assigned
// it to themselves.
func caseNotices(prev, next *Case) []*Notification {
	if prev != nil && prev.Version == next.Version {
		return nil
	}
	var actor string
	if n := len(next.Transitions); n > 0 {
		actor = next.Transitions[n-1].By
	}
	prevAssignee := ""
	if prev != nil {
		prevAssignee = prev.AssignedTo
	}
	base := Notification{CustomerID: next.CustomerID, CaseID: next.ID, Actor: actor, DueAt: ptr(next.DueAt),
		From: prevAssignee, To: next.AssignedTo}
	if prev != nil && NewlyEscalated(prev, next) {
		at := *next.EscalatedAt
		key := fmt.Sprintf("escalated|%s|%s", next.ID, at.Format(time.RFC3339Nano))
		var out []*Notification
		if next.AssignedTo != "" {
			n := base
			n.Message = fmt.Sprintf("Case %s (%s) of customer %s is overdue and escalated to URGENT.", next.ID, next.Type, next.CustomerID)
			if prevAssignee != next.AssignedTo {
				who := "nobody"
				if prevAssignee != "" {
					who = prevAssignee
				}
				n.Message = fmt.Sprintf("Case %s (%s) of customer %s is overdue: escalated to URGENT and reassigned to you from %s, who had not acted on it.",
					next.ID, next.Type, next.CustomerID, who)
			}
			out = append(out, notice(next.AssignedTo, NoticeCaseEscalated, at, key, n))
		}
		if prevAssignee != "" && prevAssignee != next.AssignedTo {
			n := base
			n.Message = fmt.Sprintf("Case %s (%s) of customer %s is overdue: escalated to URGENT and reassigned to %s.", next.ID, next.Type, next.CustomerID, next.AssignedTo)
			out = append(out, notice(prevAssignee, NoticeCaseEscalated, at, key, n))
		}
		return out
	}
	if next.AssignedTo == "" || next.AssignedTo == prevAssignee || next.AssignedTo == actor || !next.Status.IsOpen() {
		return nil
	}
	n := base
	n.Message = fmt.Sprintf("%s assigned case %s (%s, %s) of customer %s to you; due %s.", actor, next.ID, next.Type, next.Priority,
		next.CustomerID, next.DueAt.Format(time.RFC3339))
	return []*Notification{notice(next.AssignedTo, NoticeCaseAssigned, next.UpdatedAt, fmt.Sprintf("assigned|%s|%d", next.ID, next.Version), n)}
}

// taskNotices: the job's due notice of an open task, to its assignee.
func taskNotices(prev, next *Task) []*Notification {
	d := next.DueNoticeFor
	if next.Status != TaskOpen || d == nil || !d.Equal(next.DueAt) || (prev != nil && prev.DueNoticeFor != nil && prev.DueNoticeFor.Equal(*d)) {
		return nil
	}
	title := next.Title
	if title == "" {
		title = taskSubject[next.Type]
	}
	return []*Notification{notice(next.AssigneeID, NoticeTaskDue, next.UpdatedAt, fmt.Sprintf("task|%s|%s", next.ID, d.Format(time.RFC3339Nano)), Notification{
		CustomerID: next.CustomerID, TaskID: next.ID, Actor: SystemUserID, DueAt: ptr(next.DueAt),
		Message: fmt.Sprintf("Task \"%s\" (%s) on customer %s %s %s.", title, next.Type, next.CustomerID, dueWord(next.DueAt, next.UpdatedAt), next.DueAt.Format(time.RFC3339)),
	})}
}

// NoticeTasksDue gives the assignee of every open task due within
// TaskDueNotice its due notice: the task records the due time it was told
// of, once per due time (moving the due time owes a new notice), and the
// notification follows from that write. It runs as the system in the
// scheduled job; running it again finds nothing owed.
func (s *Service) NoticeTasksDue(ctx context.Context) ([]string, error) {
	now := s.now()
	due, err := s.Store.TasksDue(ctx, now.Add(TaskDueNotice))
	if err != nil {
		return nil, err
	}
	return s.eachDue(ctx, "due notice of task", due, func(k InteractionKey) (*Change, error) {
		prev, err := s.Store.Task(ctx, k.CustomerID, k.ID)
		if err != nil {
			return nil, err
		}
		if !prev.DueNoticePending() || !prev.DueAt.Before(now.Add(TaskDueNotice)) {
			return nil, errNothingToDo
		}
		cust, err := s.dueScope(ctx, k.CustomerID)
		if err != nil {
			return nil, err
		}
		next := prev.Clone()
		next.DueNoticeFor = ptr(prev.DueAt)
		next.Version++
		next.UpdatedAt, next.UpdatedBy = now, SystemUserID
		return &Change{Scope: cust, TaskPrev: prev, Task: next}, nil
	})
}

// dueWord says whether a deadline told of at now is ahead or passed.
func dueWord(due, now time.Time) string {
	if due.Before(now) {
		return "is overdue since"
	}
	return "is due at"
}

// MaxApproversTold bounds who is told of one contract awaiting approval:
// the first by name of its team's managers (or of the admins).
const MaxApproversTold = 50

// contractNotices: a contract that starts waiting for approval, to those
// who may approve it; its approval or rejection, to its owner and who
// recorded it (not to whoever decided). Who may approve is read from the
// directory when the contract starts waiting, so a redelivery of the same
// write tells the same people again only if the directory is unchanged;
// each notice's id is per person and contract, so nobody is told twice.
func (s *Service) contractNotices(ctx context.Context, prev, next *Contract) ([]*Notification, error) {
	a := next.Approval
	if a == nil {
		return nil, nil
	}
	wasPending := prev != nil && prev.Approval != nil && prev.Approval.Status == ApprovalPending
	n := Notification{CustomerID: next.CustomerID, ContractID: next.ID, Actor: next.UpdatedBy}
	switch {
	case a.Status == ApprovalPending && !wasPending:
		to, err := s.approvers(ctx, next)
		if err != nil {
			return nil, err
		}
		n.Message = fmt.Sprintf("contract %s on customer %s (%s %s) goes beyond credit level %s and waits for your approval: %s",
			next.ID, next.CustomerID, next.Amount, next.Currency, a.Level, truncate(strings.Join(a.Exceeded, "; "), 300))
		out := make([]*Notification, 0, len(to))
		for _, id := range to {
			out = append(out, notice(id, NoticeContractApproval, next.UpdatedAt, "contract-approval|"+next.ID, n))
		}
		return out, nil
	case wasPending && (a.Status == ApprovalApproved || a.Status == ApprovalRejected):
		verb := "approved"
		if a.Status == ApprovalRejected {
			verb = "rejected"
		}
		n.Actor = a.DecidedBy
		n.Message = fmt.Sprintf("%s %s contract %s on customer %s", a.DecidedBy, verb, next.ID, next.CustomerID)
		if a.Reason != "" {
			n.Message += ". Reason: " + truncate(a.Reason, 200)
		}
		var out []*Notification
		for _, id := range []string{next.OwnerID, next.CreatedBy} {
			if id != "" && id != a.DecidedBy && !slices.ContainsFunc(out, func(o *Notification) bool { return o.UserID == id }) {
				out = append(out, notice(id, NoticeContractDecided, next.UpdatedAt, "contract-decided|"+next.ID, n))
			}
		}
		return out, nil
	}
	return nil, nil
}

// approvers lists who may approve c, as the directory knows them: the
// active managers of its team, or when there are none the active ADMINs;
// never its owner nor who recorded it (canApprove).
func (s *Service) approvers(ctx context.Context, c *Contract) ([]string, error) {
	active := true
	for _, f := range []UserFilter{{Team: c.Team, Role: RoleManager, Active: &active}, {Role: RoleAdmin, Active: &active}} {
		if f.Role == RoleManager && c.Team == "" {
			continue
		}
		page, err := s.Store.ListUsers(ctx, f, PageRequest{First: MaxApproversTold})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, u := range page.Items {
			if u.ID != c.OwnerID && u.ID != c.CreatedBy {
				ids = append(ids, u.ID)
			}
		}
		if len(ids) > 0 {
			return ids, nil
		}
	}
	return nil, nil
}

// leadNotices: a lead handed (made, or handed again) to its recipient; a
// lead returned to the telesales user who made it.
func leadNotices(prev, next *Lead) []*Notification {
	if prev != nil && (prev.Version == next.Version || prev.Status == next.Status) {
		return nil
	}
	n := Notification{CustomerID: next.CustomerID, LeadID: next.ID, Actor: next.UpdatedBy, From: next.QualifiedBy, To: next.HandedTo}
	key := fmt.Sprintf("lead|%s|%d", next.ID, next.Version)
	switch next.Status {
	case LeadHanded:
		n.Message = fmt.Sprintf("%s handed you a lead on customer %s: %s", next.QualifiedBy, next.CustomerID, truncate(next.Need, 200))
		return []*Notification{notice(next.HandedTo, NoticeLeadHanded, next.UpdatedAt, key, n)}
	case LeadReturned:
		n.Message = fmt.Sprintf("%s returned your lead on customer %s. Reason: %s", next.HandedTo, next.CustomerID, truncate(next.ReturnReason, 200))
		return []*Notification{notice(next.QualifiedBy, NoticeLeadReturned, next.UpdatedAt, key, n)}
	}
	return nil
}
