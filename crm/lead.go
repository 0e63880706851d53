package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Leads: the seed's 提单. Telesales find a company's need on the phone and
// hand it to new-customer sales, who follow it up and close the deal
// (seed 000: 「所有电销集中在电话中心,通过电话寻找企业的潜在客户,然后提单给新客业务,
// 由新客业务进行跟进,达成交易」). A lead lives in its customer's item
// collection and is handed to one salesperson at a time, who accepts it
// (the customer becomes theirs) or returns it with a reason (the customer
// stays with the telesales user who holds it).
//
// The telesales pick the company first: they claim it from their group's
// pool, which holds it for them for the claim period, call it, and hand
// the lead afterwards (「一旦企业被某一个销售人员选中,七天内其他电销人员就不能再选择」).
// So a lead is made on a customer the caller holds (claimed from the pool
// or of their portfolio); a pool customer is claimed first.

// LeadStatus is where a lead stands.
type LeadStatus string

const (
	// LeadHanded: waiting for its recipient to accept or return it.
	LeadHanded LeadStatus = "HANDED"
	// LeadAccepted: the recipient took it; the customer is theirs.
	LeadAccepted LeadStatus = "ACCEPTED"
	// LeadReturned: the recipient gave it back, saying why; the telesales
	// user may hand it to someone else or withdraw it.
	LeadReturned LeadStatus = "RETURNED"
	// LeadWithdrawn: the telesales user took it back before anyone
	// accepted it.
	LeadWithdrawn LeadStatus = "WITHDRAWN"
)

// LeadStatuses lists every status.
var LeadStatuses = []LeadStatus{LeadHanded, LeadAccepted, LeadReturned, LeadWithdrawn}

// Lead is a company's need found by a telesales user and handed to a
// salesperson.
type Lead struct {
	ID         string // ULID, time part = CreatedAt
	CustomerID string
	// Team is the customer's team when the lead was made: its managers
	// read the lead.
	Team string
	// Source is how the need was found (TELESALES by default).
	Source Source
	// Need is what the company wants; Notes what else the caller learnt.
	Need  string
	Notes string
	// QualifiedBy is the telesales user who made the lead.
	QualifiedBy string
	// HandedTo is the salesperson it is (or was last) handed to, HandedAt
	// when; ToTeams are the recipient's teams that receive leads, whose
	// managers read it too.
	HandedTo string
	HandedAt time.Time
	ToTeams  []string
	Status   LeadStatus
	// ReturnReason says why it was last returned.
	ReturnReason string
	// DecidedAt is when it was last accepted, returned or withdrawn.
	DecidedAt *time.Time
	// History lists every move, oldest first, the handing included.
	History   []LeadMove
	Version   int
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// LeadMove is one entry of a lead's history.
type LeadMove struct {
	Status LeadStatus
	// To is the recipient when the move hands the lead.
	To   string
	By   string
	At   time.Time
	Note string
}

// Clone returns a deep copy.
func (l *Lead) Clone() *Lead {
	d := *l
	d.History, d.ToTeams = slices.Clone(l.History), slices.Clone(l.ToTeams)
	if l.DecidedAt != nil {
		d.DecidedAt = ptr(*l.DecidedAt)
	}
	return &d
}

// OnAgendaOf is whose agenda the lead is on and since when: its
// recipient's while it waits for them, the telesales user's once
// returned; nobody's otherwise.
func (l *Lead) OnAgendaOf() (string, time.Time) {
	switch l.Status {
	case LeadHanded:
		return l.HandedTo, l.HandedAt
	case LeadReturned:
		if l.DecidedAt != nil {
			return l.QualifiedBy, *l.DecidedAt
		}
	}
	return "", time.Time{}
}

// MaxLeadMoves bounds a lead's history, kept on its item.
const MaxLeadMoves = 50

// LeadPolicy says who receives leads: the active SALES users of Teams
// (LEAD_TEAMS), the new-customer teams (新客业务). Without teams, a lead
// goes to a SALES colleague of the customer's own team. It is
// configuration, read once at start.
type LeadPolicy struct {
	Teams []string
}

// ParseLeadTeams reads LEAD_TEAMS: team names separated by commas.
func ParseLeadTeams(s string) (LeadPolicy, error) {
	var p LeadPolicy
	var c checker
	for t := range strings.SplitSeq(s, ",") {
		t = strings.TrimSpace(t)
		c.text("teams", t, 1, MaxShortText)
		if !slices.Contains(p.Teams, t) {
			p.Teams = append(p.Teams, t)
		}
	}
	return p, c.result()
}

// LeadInput is a new lead, handed at once.
type LeadInput struct {
	// IdempotencyKey, when set, makes a retry return the first result.
	IdempotencyKey string
	CustomerID     string
	// Source defaults to TELESALES.
	Source Source
	Need   string
	Notes  string
	// HandedTo is the salesperson who receives it.
	HandedTo string
}

// LeadKey locates a lead.
type LeadKey struct {
	CustomerID string
	ID         string
}

// Lead lengths.
const (
	MaxNeedLen      = 2000
	MaxLeadNotesLen = 4000
)

// Leads are staff's: partners are refused every call. Who may do what
// (docs/security.md):
//   - make one: a SALES user on a customer they own (the telesales
//     user);
//   - accept or return one: its recipient, while it waits for them;
//   - hand a returned one again, or withdraw one: the user who made it;
//   - read one: those, ADMIN, AUDITOR, and the MANAGERs of the customer's
//     team or of the recipient's receiving team.
func canReadLead(u *User, l *Lead) bool {
	switch {
	case u.IsPartner():
		return false
	case u.HasRole(RoleAdmin), u.HasRole(RoleAuditor):
		return true
	case u.ID == l.QualifiedBy || slices.Contains(leadRecipients(l), u.ID):
		return true
	case u.HasRole(RoleManager) && (u.InTeam(l.Team) || slices.ContainsFunc(l.ToTeams, u.InTeam)):
		return true
	}
	return false
}

// leadRecipients lists everyone the lead was ever handed to: each may
// still read what they were handed.
func leadRecipients(l *Lead) []string {
	var out []string
	for _, m := range l.History {
		if m.To != "" {
			out = append(out, m.To)
		}
	}
	return out
}

func leadNotVisible(k LeadKey) error {
	return Errorf(ENOTFOUND, "lead %s of customer %s not found", k.ID, k.CustomerID)
}

// recipient checks who a lead is handed to: an active SALES user of the
// directory, not the caller, in a team that receives leads (LeadPolicy),
// or, without such teams, in the customer's team. It returns the
// recipient's receiving teams.
func (s *Service) recipient(ctx context.Context, u *User, field, to string, cu *Customer) ([]string, error) {
	if to == u.ID {
		return nil, Invalid(field, "must be someone else: a lead is handed to a salesperson of the new-customer team")
	}
	d, err := s.assignee(ctx, field, to, RoleSales)
	if err != nil {
		return nil, err
	}
	teams := s.Leads.Teams
	if len(teams) == 0 && cu.Team != "" {
		teams = []string{cu.Team}
	}
	if len(teams) == 0 {
		return nil, nil // a customer of no team, and no teams configured
	}
	var in []string
	for _, t := range d.Teams {
		if slices.Contains(teams, t) {
			in = append(in, t)
		}
	}
	if len(in) == 0 {
		if len(s.Leads.Teams) > 0 {
			return nil, Invalid(field, "user %s is not in a team that receives leads (%s)", to, strings.Join(teams, ", "))
		}
		return nil, Invalid(field, "user %s is not in team %s, the customer's (no LEAD_TEAMS are configured, so leads stay in the team)", to, cu.Team)
	}
	return in, nil
}

// leadable refuses a customer no lead may move: merged, being merged, or
// archived.
func leadable(cu *Customer) error {
	if err := Writable(cu); err != nil {
		return err
	}
	if cu.Status == StatusArchived {
		return Errorf(ECONFLICT, "customer %s is archived; restore it first", cu.ID)
	}
	return nil
}

// CreateLead records a company's need on a customer the caller, a SALES
// user, holds, and hands it to a salesperson who receives leads: it waits
// on their agenda until they accept or return it, and they are notified.
// A customer in the pool is claimed first (claimCustomer), as the
// telesales pick a company before calling it.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) CreateLead(ctx context.Context, in LeadInput) (*Lead, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if !u.HasRole(RoleSales) {
		return nil, Errorf(EFORBIDDEN, "leads are made by salespeople (telesales) on customers they hold")
	}
	if err := checkID("input.customerId", in.CustomerID); err != nil {
		return nil, err
	}
	now := s.now()
	l := &Lead{
		ID: s.newID(now), CustomerID: in.CustomerID, Source: in.Source, Need: strings.TrimSpace(in.Need),
		Notes: strings.TrimSpace(in.Notes), QualifiedBy: u.ID, HandedTo: in.HandedTo, HandedAt: now, Status: LeadHanded,
		Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID,
	}
	if l.Source == "" {
		l.Source = SourceTelesales
	}
	var c checker
	checkEnum(&c, "input.source", l.Source, Sources)
	c.text("input.need", l.Need, 1, MaxNeedLen)
	c.text("input.notes", l.Notes, 0, MaxLeadNotesLen)
	c.text("input.handedTo", in.HandedTo, 1, MaxShortText)
	if err := c.result(); err != nil {
		return nil, err
	}
	// A retry is answered before the customer is read: the first request
	// may have been accepted since, and the customer be its recipient's.
	idem, err := s.idempotency(u, "createLead", in.IdempotencyKey, in, l.ID)
	if err != nil {
		return nil, err
	}
	load := func(ctx context.Context, id string) (*Lead, error) {
		return s.Lead(ctx, LeadKey{CustomerID: in.CustomerID, ID: id})
	}
	if first, done, err := firstResult(ctx, s, idem, load); done {
		return first, err
	}
	cu, err := s.readable(ctx, u, in.CustomerID)
	if err != nil {
		return nil, err
	}
	switch {
	case cu.InPool():
		return nil, Errorf(ECONFLICT, "customer %s is in the pool: claim it first (claimCustomer), then hand the lead", cu.ID)
	case cu.OwnerID != u.ID:
		return nil, forbidden("hand a lead on", cu.ID)
	}
	if err := leadable(cu); err != nil {
		return nil, err
	}
	if l.ToTeams, err = s.recipient(ctx, u, "input.handedTo", in.HandedTo, cu); err != nil {
		return nil, err
	}
	l.Team = cu.Team
	l.History = []LeadMove{{Status: LeadHanded, To: l.HandedTo, By: u.ID, At: now}}
	err = s.Store.Apply(ctx, &Change{Lead: l, Idempotency: idem})
	if first, err, ok := replay(ctx, err, load); ok {
		return first, err
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Lead returns a lead the caller may read.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners), BAD_USER_INPUT, NOT_FOUND.
func (s *Service) Lead(ctx context.Context, k LeadKey) (*Lead, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	return s.readableLead(ctx, u, k)
}

func (s *Service) readableLead(ctx context.Context, u *User, k LeadKey) (*Lead, error) {
	return readableOf(ctx, k.CustomerID, k.ID, func(ctx context.Context) (*Lead, error) { return s.Store.Lead(ctx, k) },
		func(l *Lead) bool { return canReadLead(u, l) }, func() error { return leadNotVisible(k) })
}

// leadAt loads a lead the caller may read at expectedVersion, in status.
func (s *Service) leadAt(ctx context.Context, u *User, k LeadKey, expectedVersion int, may func(*Lead) bool, action string, status ...LeadStatus) (*Lead, error) {
	l, err := s.readableLead(ctx, u, k)
	if err != nil {
		return nil, err
	}
	if !may(l) {
		return nil, Errorf(EFORBIDDEN, "not allowed to %s lead %s", action, k.ID)
	}
	if l.Version != expectedVersion {
		return nil, staleVersion("lead", k.ID, expectedVersion, l.Version)
	}
	if !slices.Contains(status, l.Status) {
		return nil, Errorf(ECONFLICT, "lead %s is %s; to %s it, it must be %v", k.ID, l.Status, action, status)
	}
	if len(l.History) >= MaxLeadMoves {
		return nil, Errorf(ECONFLICT, "lead %s has moved %d times, the most its history keeps", k.ID, MaxLeadMoves)
	}
	return l, nil
}

// moveLead is l after u's move to status, now.
func (s *Service) moveLead(l *Lead, u *User, status LeadStatus, note string) *Lead {
	next := l.Clone()
	now := s.now()
	next.Status, next.Version, next.UpdatedAt, next.UpdatedBy = status, l.Version+1, now, u.ID
	m := LeadMove{Status: status, By: u.ID, At: now, Note: note}
	if status == LeadHanded {
		m.To = next.HandedTo
	} else {
		next.DecidedAt = ptr(now)
	}
	next.History = append(next.History, m)
	return next
}

// AcceptLead takes a lead handed to the caller: its customer becomes
// theirs in the same write (ordinary ownership: a claim it was held by
// ends), and, when leads go to configured teams (LEAD_TEAMS) and the
// customer is of another team, it joins the recipient's receiving team,
// whose manager then sees it. The telesales user who made the lead keeps
// reading the lead, not the customer: a salesperson reads their own
// customers. expectedVersion must be the lead's version the caller read:
// of an accept and a return at once, one hears CONFLICT.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, CONFLICT (stale version;
// not waiting; the customer changed hands since the lead was made).
func (s *Service) AcceptLead(ctx context.Context, k LeadKey, expectedVersion int) (*Lead, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkInputKey(k.CustomerID, k.ID, "id"); err != nil {
		return nil, err
	}
	var next *Lead
	err = s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.leadAt(ctx, u, k, expectedVersion, func(l *Lead) bool { return l.HandedTo == u.ID }, "accept", LeadHanded)
		if err != nil {
			return nil, err
		}
		cu, err := s.Store.Customer(ctx, k.CustomerID)
		if err != nil {
			return nil, err
		}
		if err := leadable(cu); err != nil {
			return nil, err
		}
		if cu.OwnerID != prev.QualifiedBy && !cu.InPool() {
			return nil, Errorf(ECONFLICT, "customer %s is no longer held by %s, who handed the lead", cu.ID, prev.QualifiedBy)
		}
		next = s.moveLead(prev, u, LeadAccepted, "")
		moved := cu.Clone()
		moved.OwnerID, moved.Claim = u.ID, nil
		if len(s.Leads.Teams) > 0 && len(prev.ToTeams) > 0 && !slices.Contains(prev.ToTeams, cu.Team) {
			moved.Team = prev.ToTeams[0]
		}
		s.touch(moved, u)
		handedOver(cu, moved, u, fmt.Sprintf("lead %s handed by %s accepted", prev.ID, prev.QualifiedBy))
		return &Change{CustomerPrev: cu, Customer: moved, ClaimQuota: endClaim(cu), LeadPrev: prev, Lead: next}, nil
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// ReturnLead gives a lead handed to the caller back to the telesales user
// who made it, with why; the customer, which stayed theirs while the lead
// waited, stays theirs (or in the pool, had their claim lapsed). The lead
// goes on their agenda and they are notified. expectedVersion as for
// AcceptLead.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) ReturnLead(ctx context.Context, k LeadKey, expectedVersion int, reason string) (*Lead, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkInputKey(k.CustomerID, k.ID, "id"); err != nil {
		return nil, err
	}
	if reason, err = checkHandoverReason("input.reason", reason, true); err != nil {
		return nil, err
	}
	prev, err := s.leadAt(ctx, u, k, expectedVersion, func(l *Lead) bool { return l.HandedTo == u.ID }, "return", LeadHanded)
	if err != nil {
		return nil, err
	}
	next := s.moveLead(prev, u, LeadReturned, reason)
	next.ReturnReason = reason
	return s.applyLead(ctx, prev, next)
}

// HandLead hands a returned lead again, to another salesperson who
// receives leads (or the same one), as CreateLead does. Its maker may.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) HandLead(ctx context.Context, k LeadKey, expectedVersion int, to string) (*Lead, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkInputKey(k.CustomerID, k.ID, "id"); err != nil {
		return nil, err
	}
	var c checker
	c.text("input.handedTo", to, 1, MaxShortText)
	if err := c.result(); err != nil {
		return nil, err
	}
	prev, err := s.leadAt(ctx, u, k, expectedVersion, func(l *Lead) bool { return l.QualifiedBy == u.ID }, "hand", LeadReturned)
	if err != nil {
		return nil, err
	}
	cu, err := s.Store.Customer(ctx, k.CustomerID)
	if err != nil {
		return nil, err
	}
	if cu.OwnerID != u.ID {
		return nil, Errorf(ECONFLICT, "customer %s is no longer yours: claim it again before handing the lead", cu.ID)
	}
	if err := leadable(cu); err != nil {
		return nil, err
	}
	teams, err := s.recipient(ctx, u, "input.handedTo", to, cu)
	if err != nil {
		return nil, err
	}
	next := prev.Clone()
	next.HandedTo, next.ToTeams, next.HandedAt = to, teams, s.now()
	next = s.moveLead(next, u, LeadHanded, "")
	return s.applyLead(ctx, prev, next)
}

// WithdrawLead takes back a lead not accepted (waiting or returned): it
// leaves every agenda. Its maker may.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) WithdrawLead(ctx context.Context, k LeadKey, expectedVersion int, reason string) (*Lead, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkInputKey(k.CustomerID, k.ID, "id"); err != nil {
		return nil, err
	}
	if reason, err = checkHandoverReason("input.reason", reason, false); err != nil {
		return nil, err
	}
	prev, err := s.leadAt(ctx, u, k, expectedVersion, func(l *Lead) bool { return l.QualifiedBy == u.ID }, "withdraw", LeadHanded, LeadReturned)
	if err != nil {
		return nil, err
	}
	next := s.moveLead(prev, u, LeadWithdrawn, reason)
	return s.applyLead(ctx, prev, next)
}

// applyLead writes a lead's move.
func (s *Service) applyLead(ctx context.Context, prev, next *Lead) (*Lead, error) {
	if err := s.Store.Apply(ctx, &Change{LeadPrev: prev, Lead: next}); err != nil {
		return nil, err
	}
	return next, nil
}

// CustomerLeads lists the leads of a customer the caller may read that
// the caller may read, newest first.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners), NOT_FOUND, BAD_USER_INPUT.
func (s *Service) CustomerLeads(ctx context.Context, customerID string, p PageRequest) (*Page[*Lead], error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	page, err := customerList(ctx, s, customerID, p, s.Store.ListLeads)
	if err != nil {
		return nil, err
	}
	out := &Page[*Lead]{EndCursor: page.EndCursor, HasNext: page.HasNext}
	for i, l := range page.Items {
		if canReadLead(u, l) {
			out.Items, out.Cursors = append(out.Items, l), append(out.Cursors, page.Cursors[i])
		}
	}
	return out, nil
}

// LeadStore persists leads.
type LeadStore interface {
	// Lead returns ENOTFOUND when there is no such lead.
	Lead(ctx context.Context, k LeadKey) (*Lead, error)
	// ListLeads lists a customer's leads, newest first.
	ListLeads(ctx context.Context, customerID string, p PageRequest) (*Page[*Lead], error)
	// LeadOpportunity returns the id of the deal opened from a lead ("" for
	// none), from the deal's claim on it.
	LeadOpportunity(ctx context.Context, leadID string) (string, error)
}
