package crm

import (
	"context"
	"slices"
	"time"
)

// The agenda answers a salesperson's or a service agent's morning
// question, what do I do today, in one request of at most three DynamoDB
// calls (docs/access-patterns.md): the open tasks assigned to the user due
// by the end of the day (overdue ones included), the open cases assigned to
// them due by then, their claims from the pool expiring within 48 hours,
// the follow-ups of their portfolio due by then, and leads (lead.go)
// waiting for them to accept or returned to them, ordered by urgency.

// AgendaKind is what an agenda entry is.
type AgendaKind string

const (
	AgendaTask     AgendaKind = "TASK"
	AgendaCase     AgendaKind = "CASE"
	AgendaClaim    AgendaKind = "CLAIM"
	AgendaFollowUp AgendaKind = "FOLLOW_UP"
	// AgendaLead: a lead handed to the user and waiting for them, or one
	// they made that was returned to them.
	AgendaLead AgendaKind = "LEAD"
)

// Agenda reading limits: what one BatchGetItem (100 keys) holds with the
// customers (profile and activity) of every entry. A day with more is
// reported incomplete; the work queues list everything.
const (
	AgendaDatedRead    = 25
	AgendaFollowUpRead = 10
	// AgendaClaimWindow is how soon a claim must expire to be on the
	// agenda.
	AgendaClaimWindow = 48 * time.Hour
)

// AgendaQuery asks the store for a user's day.
type AgendaQuery struct {
	UserID string
	// DueBefore bounds tasks, cases and follow-ups (the end of the day);
	// ClaimsBefore bounds claim expiries.
	DueBefore, ClaimsBefore time.Time
	// WithUser also reads UserID's directory entry, to authorize a
	// manager asking for a member of their team.
	WithUser bool
}

// AgendaRead is what the store read for an agenda. Entries are read from
// indexes that lag the table; Service.Agenda checks each again.
type AgendaRead struct {
	Tasks     []*Task
	Cases     []*Case
	Claims    []*Customer
	FollowUps []*Customer
	Leads     []*Lead
	// Customers holds the customer of every entry, by id.
	Customers map[string]*Customer
	User      *DirectoryUser // when WithUser; nil when unknown
	// Complete is false when an index held more than was read.
	Complete bool
}

// AgendaItem is one entry of an agenda.
type AgendaItem struct {
	Kind AgendaKind
	// At is when it is due: the task's or case's due time, the claim's
	// expiry, the follow-up's date.
	At       time.Time
	Overdue  bool
	Priority Priority
	Customer *Customer
	Task     *Task // TASK
	Case     *Case // CASE
	Lead     *Lead // LEAD
}

// Agenda is a user's day.
type Agenda struct {
	UserID   string
	Date     time.Time // the UTC day
	Items    []*AgendaItem
	Complete bool
}

// Agenda returns the day date (a UTC day; today when zero) of userID (the
// caller when empty): ADMIN may ask for anyone, a MANAGER for a member of
// one of their teams; partners have none. Entries on customers the caller
// may not read are left out.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) Agenda(ctx context.Context, date time.Time, userID string) (*Agenda, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.IsPartner() {
		return nil, Errorf(EFORBIDDEN, "partners have no agenda")
	}
	if userID == "" {
		userID = u.ID
	}
	if err := checkID("userId", userID); err != nil {
		return nil, err
	}
	other := userID != u.ID
	if other && !u.HasRole(RoleAdmin) && !u.HasRole(RoleManager) {
		return nil, &Error{Code: EFORBIDDEN, Field: "userId", Message: "only an admin or the team's manager may read someone else's agenda"}
	}
	now := s.now()
	today := now.UTC().Truncate(24 * time.Hour)
	day := today
	if !date.IsZero() {
		day = date.UTC().Truncate(24 * time.Hour)
		if day.Before(epoch) || day.After(today.AddDate(1, 0, 0)) {
			return nil, Invalid("date", "must be between 1970 and a year from today")
		}
	}
	end := day.Add(24 * time.Hour)
	from := day
	if day.Equal(today) {
		from = now
	}
	q := AgendaQuery{UserID: userID, DueBefore: end, ClaimsBefore: from.Add(AgendaClaimWindow), WithUser: other}
	r, err := s.Store.Agenda(ctx, q)
	if err != nil {
		return nil, err
	}
	if other && !u.HasRole(RoleAdmin) {
		// The same answer for an unknown user and a stranger, so that it
		// tells nobody which ids are users.
		if r.User == nil || !slices.ContainsFunc(r.User.Teams, u.InTeam) {
			return nil, &Error{Code: EFORBIDDEN, Field: "userId", Message: "you may read the agenda of the members of your teams only"}
		}
	} else if other && r.User == nil {
		return nil, Invalid("userId", "%q is not a user of the directory", userID)
	}
	a := &Agenda{UserID: userID, Date: day, Complete: r.Complete}
	add := func(kind AgendaKind, at time.Time, p Priority, c *Customer, t *Task, cs *Case) {
		if c == nil || !canRead(u, c) {
			return
		}
		a.Items = append(a.Items, &AgendaItem{Kind: kind, At: at, Overdue: at.Before(now), Priority: p,
			Customer: viewCustomer(u, c), Task: t, Case: cs})
	}
	for _, t := range r.Tasks {
		if t.Status == TaskOpen && t.AssigneeID == userID && t.DueAt.Before(end) {
			add(AgendaTask, t.DueAt, t.Priority, r.Customers[t.CustomerID], t, nil)
		}
	}
	for _, c := range r.Cases {
		if c.Status.IsOpen() && c.AssignedTo == userID && c.DueAt.Before(end) {
			add(AgendaCase, c.DueAt, c.Priority, r.Customers[c.CustomerID], nil, c)
		}
	}
	for _, c := range r.Claims {
		if c.Claim.Active() && c.Claim.By == userID && c.Status == StatusActive && c.Claim.ExpiresAt.Before(q.ClaimsBefore) {
			// A claim about to lapse loses the customer: urgent.
			add(AgendaClaim, c.Claim.ExpiresAt, PriorityHigh, c, nil, nil)
		}
	}
	for _, c := range r.FollowUps {
		if c.OwnerID == userID && c.Status == StatusActive && c.NextFollowUpAt != nil && c.NextFollowUpAt.Before(end) {
			add(AgendaFollowUp, *c.NextFollowUpAt, PriorityNormal, c, nil, nil)
		}
	}
	for _, l := range r.Leads {
		if who, since := l.OnAgendaOf(); who == userID && canReadLead(u, l) && leadShowsCustomer(u, l, r.Customers[l.CustomerID]) {
			a.Items = append(a.Items, &AgendaItem{Kind: AgendaLead, At: since, Priority: PriorityNormal,
				Customer: viewCustomer(u, r.Customers[l.CustomerID]), Lead: l})
		}
	}
	sortAgenda(a.Items)
	return a, nil
}

// leadShowsCustomer reports whether u's agenda may show the customer c of
// the lead l. Beyond what u may read anyway, a lead lets its recipient see
// its customer while it waits for them and the customer is still the
// maker's, as it was handed: they decide on it. Once the lead is decided,
// or the customer has changed hands (another's claim, a reassignment, a
// merge into another customer, an archive), only the usual read rules
// apply, and an entry whose customer u may not read is left off.
func leadShowsCustomer(u *User, l *Lead, c *Customer) bool {
	if c == nil {
		return false
	}
	if canRead(u, c) {
		return true
	}
	return l.Status == LeadHanded && l.HandedTo == u.ID && c.Status == StatusActive &&
		c.MergedInto == "" && c.OwnerID == l.QualifiedBy
}

// agendaKinds orders entries due at the same time: what is lost when
// missed first.
var agendaKinds = []AgendaKind{AgendaClaim, AgendaCase, AgendaTask, AgendaLead, AgendaFollowUp}

// sortAgenda orders entries by urgency: by when each is due (overdue ones
// first, the longest overdue at the top), then by priority, then by kind.
func sortAgenda(items []*AgendaItem) {
	slices.SortStableFunc(items, func(a, b *AgendaItem) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if c := slices.Index(Priorities, b.Priority) - slices.Index(Priorities, a.Priority); c != 0 {
			return c
		}
		return slices.Index(agendaKinds, a.Kind) - slices.Index(agendaKinds, b.Kind)
	})
}
