package crm

import (
	"cmp"
	"context"
	"strings"
)

// Opportunities follow the customer's rules of who may do what
// (authz.go), applied to the deal's own team and owner: ADMIN does
// everything; AUDITOR reads everything; MANAGER reads and works the deals
// of their teams; SERVICE reads them; SALES reads and works the deals they
// own. Partners have no part in the pipeline: every call is FORBIDDEN to
// them, so no amount is ever shown to one.

func canReadDeal(u *User, o *Opportunity) bool { return canReadSale(u, o.Team, o.OwnerID) }

func canWorkDeal(u *User, o *Opportunity) bool { return canWorkSale(u, o.Team, o.OwnerID) }

// canReadSale and canWorkSale apply the pipeline's rules to a deal or a
// contract of team owned by owner.
func canReadSale(u *User, team, owner string) bool {
	return canWorkSale(u, team, owner) || (!u.IsPartner() && (u.HasRole(RoleAuditor) || (u.HasRole(RoleService) && u.InTeam(team))))
}

func canWorkSale(u *User, team, owner string) bool {
	switch {
	case u.IsPartner():
		return false
	case u.HasRole(RoleAdmin):
		return true
	case u.HasRole(RoleManager) && u.InTeam(team):
		return true
	case u.HasRole(RoleSales) && owner == u.ID:
		return true
	}
	return false
}

// pipelineUser is the caller, refused when a partner.
func pipelineUser(ctx context.Context) (*User, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.IsPartner() {
		return nil, Errorf(EFORBIDDEN, "partners have no access to the sales pipeline")
	}
	return u, nil
}

func dealNotVisible(k OpportunityKey) error {
	return Errorf(ENOTFOUND, "opportunity %s of customer %s not found", k.ID, k.CustomerID)
}

// OpportunityKey locates an opportunity.
type OpportunityKey struct {
	CustomerID string
	ID         string
}

// CreateOpportunity opens a deal on a customer the caller may edit, in the
// pipeline's first stage unless another open stage is given. The deal
// counts in the pipeline of the customer's team and of its owner, whose
// counters move in the same transaction. Given an accepted lead of the
// customer (in.LeadID, lead_opportunity.go), the deal follows it up and
// claims it: a lead has one deal.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) CreateOpportunity(ctx context.Context, in OpportunityInput) (*Opportunity, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("input.customerId", in.CustomerID); err != nil {
		return nil, err
	}
	now := s.now()
	o := &Opportunity{
		ID: s.newID(now), CustomerID: in.CustomerID, Title: strings.TrimSpace(in.Title), OwnerID: in.OwnerID,
		Currency: DefaultCurrency, Stage: cmp.Or(in.Stage, s.Pipeline.Open[0].Code), ExpectedClose: closeDate(in.ExpectedClose),
		ForecastCounted: true, Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID,
	}
	var c checker
	parseAmount(&c, o, in.Amount, in.Currency, "input")
	validateOpportunity(&c, o)
	if st, ok := s.Pipeline.Stage(o.Stage); !ok || st.Code == StageWon || st.Code == StageLostDeal {
		c.fail("input.stage", "must be one of the pipeline's open stages %v (got %q)", codes(s.Pipeline.Open), o.Stage)
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	// A retry is answered before the lead is checked: the first request
	// claimed it (firstResult).
	idem, err := s.idempotency(u, "createOpportunity", in.IdempotencyKey, in, o.ID)
	if err != nil {
		return nil, err
	}
	load := func(ctx context.Context, id string) (*Opportunity, error) {
		return s.Opportunity(ctx, OpportunityKey{CustomerID: in.CustomerID, ID: id})
	}
	if first, done, err := firstResult(ctx, s, idem, load); done {
		return first, err
	}
	cu, err := s.editable(ctx, u, in.CustomerID, canEdit, "open an opportunity on")
	if err != nil {
		return nil, err
	}
	// The lead after the customer: whoever may not open a deal on it hears
	// nothing of its leads.
	if o.LeadID, err = s.dealLead(ctx, u, in); err != nil {
		return nil, err
	}
	o.Team = cu.Team
	if o.OwnerID, err = s.saleOwner(ctx, u, cu, o.OwnerID, "works the deal", "open a deal for"); err != nil {
		return nil, err
	}
	o.History = []OpportunityMove{{To: o.Stage, By: u.ID, At: now}}
	err = s.Store.Apply(ctx, &Change{Opportunity: o, Idempotency: idem})
	if first, err, ok := replay(ctx, err, load); ok {
		return first, err
	}
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Opportunity returns a deal the caller may read.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners), NOT_FOUND.
func (s *Service) Opportunity(ctx context.Context, k OpportunityKey) (*Opportunity, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	return s.readableDeal(ctx, u, k)
}

func (s *Service) readableDeal(ctx context.Context, u *User, k OpportunityKey) (*Opportunity, error) {
	return readableOf(ctx, k.CustomerID, k.ID, func(ctx context.Context) (*Opportunity, error) { return s.Store.Opportunity(ctx, k) },
		func(o *Opportunity) bool { return canReadDeal(u, o) }, func() error { return dealNotVisible(k) })
}

// readableOf loads an item of a customer's collection (a deal, a
// contract, a lead) by its customer's id and its own, with get: a missing
// item and one the caller may not read (may) are the same NOT_FOUND
// (hidden), so that the answer tells nobody what exists.
func readableOf[T any](ctx context.Context, customerID, id string, get func(context.Context) (*T, error), may func(*T) bool, hidden func() error) (*T, error) {
	if err := checkID("customerId", customerID); err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	v, err := get(ctx)
	if ErrorCode(err) == ENOTFOUND || (err == nil && !may(v)) {
		return nil, hidden()
	}
	return v, err
}

// workableDeal loads a deal the caller may work, at expectedVersion.
func (s *Service) workableDeal(ctx context.Context, u *User, k OpportunityKey, expectedVersion int) (*Opportunity, error) {
	o, err := s.readableDeal(ctx, u, k)
	if err != nil {
		return nil, err
	}
	if !canWorkDeal(u, o) {
		return nil, Errorf(EFORBIDDEN, "not allowed to work opportunity %s", k.ID)
	}
	if o.Version != expectedVersion {
		return nil, staleVersion("opportunity", k.ID, expectedVersion, o.Version)
	}
	return o, nil
}

// UpdateOpportunity changes an open deal's title, owner, amount, currency
// or expected close date; expectedVersion must be the version the caller
// read. Giving the deal to another owner is for ADMIN and the team's
// MANAGER, and names an active SALES or MANAGER user.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) UpdateOpportunity(ctx context.Context, k OpportunityKey, expectedVersion int, upd OpportunityUpdate) (*Opportunity, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkInputKey(k.CustomerID, k.ID, "id"); err != nil {
		return nil, err
	}
	prev, err := s.workableDeal(ctx, u, k, expectedVersion)
	if err != nil {
		return nil, err
	}
	if !prev.Open() {
		return nil, Errorf(ECONFLICT, "opportunity %s is %s: a closed deal is not edited", k.ID, prev.Stage)
	}
	next := prev.Clone()
	var c checker
	if upd.Title != nil {
		next.Title = strings.TrimSpace(*upd.Title)
	}
	if upd.Amount != nil || upd.Currency != nil {
		amount := prev.Amount.String()
		if upd.Amount != nil {
			amount = *upd.Amount
		}
		parseAmount(&c, next, amount, deref(upd.Currency), "input")
	}
	if upd.ExpectedClose != nil {
		next.ExpectedClose = closeDate(*upd.ExpectedClose)
	}
	set(&next.OwnerID, upd.OwnerID)
	validateOpportunity(&c, next)
	if err := c.result(); err != nil {
		return nil, err
	}
	if next.OwnerID != prev.OwnerID {
		if err := s.checkCredit(ctx, u, prev.Team, next.OwnerID, "give a deal to another owner"); err != nil {
			return nil, err
		}
	}
	s.touchDeal(next, u)
	if err := s.Store.Apply(ctx, &Change{OpportunityPrev: prev, Opportunity: next}); err != nil {
		return nil, err
	}
	return next, nil
}

// saleOwner is who works a new deal or is credited with a new contract on
// cu: owner when named, else the caller when they sell, else the
// customer's owner (a manager acting on a pool customer takes it
// themselves). Naming someone else is for ADMIN and the team's MANAGER,
// and names an active SALES or MANAGER user. role and action word the
// refusals.
func (s *Service) saleOwner(ctx context.Context, u *User, cu *Customer, owner, role, action string) (string, error) {
	if owner == "" {
		owner = cu.OwnerID
		if u.HasRole(RoleSales) || (owner == "" && u.HasRole(RoleManager)) {
			owner = u.ID
		}
	}
	if owner == "" {
		return "", Invalid("input.ownerId", "is required for a customer in the pool: name the salesperson who %s", role)
	}
	if owner != u.ID {
		if !canAssign(u, cu) {
			return "", &Error{Code: EFORBIDDEN, Field: "input.ownerId", Message: "only an admin or the team's manager may " + action + " someone else"}
		}
		if err := s.CheckAssignee(ctx, "input.ownerId", owner, OwnerRoles...); err != nil {
			return "", err
		}
	}
	return owner, nil
}

// checkCredit lets ADMIN and team's MANAGER give a deal or a contract to
// owner, an active SALES or MANAGER user.
func (s *Service) checkCredit(ctx context.Context, u *User, team, owner, action string) error {
	if !(u.HasRole(RoleAdmin) || (u.HasRole(RoleManager) && u.InTeam(team))) {
		return &Error{Code: EFORBIDDEN, Field: "input.ownerId", Message: "only an admin or the team's manager may " + action}
	}
	return s.CheckAssignee(ctx, "input.ownerId", owner, OwnerRoles...)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// touchDeal stamps a deal's new version; a deal written is counted in
// the forecast (PipelineDeltas counts it there).
func (s *Service) touchDeal(o *Opportunity, u *User) {
	o.Version++
	o.ForecastCounted = true
	o.UpdatedAt, o.UpdatedBy = s.now(), u.ID
}

// MoveOpportunity moves an open deal to another stage of the pipeline,
// recorded in its history (who, when, from, to); expectedVersion must be
// the version the caller read, so of two people moving the same deal at
// once one gets a CONFLICT. LOST needs a loss reason and a note. WON is
// the customer's deal: it is logged on the customer's timeline as a
// TRANSACTION of the deal's amount in the same write, from which the
// grading policy's rules grade the customer (by default its first deal
// makes it O, "existing-customer"), explained like every grade.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) MoveOpportunity(ctx context.Context, k OpportunityKey, expectedVersion int, in OpportunityMoveInput) (*Opportunity, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkInputKey(k.CustomerID, k.ID, "id"); err != nil {
		return nil, err
	}
	prev, err := s.workableDeal(ctx, u, k, expectedVersion)
	if err != nil {
		return nil, err
	}
	if err := checkMove(s.Pipeline, prev, in); err != nil {
		return nil, err
	}
	next := prev.Clone()
	s.touchDeal(next, u)
	next.Stage = in.Stage
	next.History = append(next.History, OpportunityMove{From: prev.Stage, To: in.Stage, By: u.ID, At: next.UpdatedAt})
	ch := &Change{OpportunityPrev: prev, Opportunity: next}
	switch in.Stage {
	case StageLostDeal:
		next.LossReason, next.LossNote, next.ClosedAt = in.LossReason, strings.TrimSpace(in.LossNote), ptr(next.UpdatedAt)
	case StageWon:
		next.ClosedAt = ptr(next.UpdatedAt)
		cu, err := s.Store.Customer(ctx, k.CustomerID)
		if err != nil {
			return nil, err
		}
		ch.Scope, ch.Interaction, next.NewCustomer = cu, s.wonDeal(next, u), firstDeal(cu)
	}
	if err := s.Store.Apply(ctx, ch); err != nil {
		return nil, err
	}
	return next, nil
}

// wonDeal is the TRANSACTION a won deal logs on its customer's timeline,
// credited to the deal's owner.
func (s *Service) wonDeal(o *Opportunity, u *User) *Interaction {
	at := o.UpdatedAt
	return &Interaction{
		ID: s.newID(at), CustomerID: o.CustomerID, Channel: ChannelOther, Direction: Outbound, Type: TypeTransaction,
		Subject: "Deal won: " + truncate(o.Title, MaxSubjectLen-11), Outcome: "opportunity " + o.ID,
		OccurredAt: at, HandledBy: o.OwnerID, Amount: ptr(o.Amount.Float()), Currency: o.Currency,
		Version: 1, CreatedAt: at, CreatedBy: u.ID, UpdatedAt: at, UpdatedBy: u.ID,
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// CustomerOpportunities lists the deals of a customer the caller may read,
// newest first; a SALES caller sees the ones they own.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners), NOT_FOUND, BAD_USER_INPUT.
func (s *Service) CustomerOpportunities(ctx context.Context, customerID string, p PageRequest) (*Page[*Opportunity], error) {
	if _, err := pipelineUser(ctx); err != nil {
		return nil, err
	}
	page, err := customerList(ctx, s, customerID, p, s.Store.ListOpportunities)
	if err != nil {
		return nil, err
	}
	return visibleDeals(ctx, page), nil
}

func visibleDeals(ctx context.Context, page *Page[*Opportunity]) *Page[*Opportunity] {
	u := UserFromContext(ctx)
	out := &Page[*Opportunity]{EndCursor: page.EndCursor, HasNext: page.HasNext}
	for i, o := range page.Items {
		if canReadDeal(u, o) {
			out.Items, out.Cursors = append(out.Items, o), append(out.Cursors, page.Cursors[i])
		}
	}
	return out
}

// OpenOpportunities lists an owner's open deals by expected close date,
// soonest first: a SALES caller's own (ownerID empty or theirs), any
// owner's for ADMIN and AUDITOR; a MANAGER or SERVICE caller sees those of
// their teams.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) OpenOpportunities(ctx context.Context, ownerID string, p PageRequest) (*Page[*Opportunity], error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	ownerID = cmp.Or(ownerID, u.ID)
	if err := checkUserID("ownerId", ownerID); err != nil {
		return nil, err
	}
	if u.HasRole(RoleSales) && !u.HasRole(RoleAdmin) && !u.HasRole(RoleAuditor) && !u.HasRole(RoleManager) && ownerID != u.ID {
		return nil, &Error{Code: EFORBIDDEN, Field: "ownerId", Message: "you may list only your own opportunities"}
	}
	page, err := s.Store.OpenOpportunities(ctx, ownerID, p)
	if err != nil {
		return nil, err
	}
	return visibleDeals(ctx, page), nil
}

// PipelineStages returns the pipeline in force: its open stages, then WON
// and LOST, with their probabilities.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners).
func (s *Service) PipelineStages(ctx context.Context) ([]PipelineStage, error) {
	if _, err := pipelineUser(ctx); err != nil {
		return nil, err
	}
	return s.Pipeline.Stages(), nil
}

// PipelineQuery names whose pipeline to read: a team's, an owner's across
// teams, or (neither) everything the caller may see.
type PipelineQuery struct {
	Team    string
	OwnerID string
}

// PipelineAnalytics reads the pipeline's figures from its counters: open deals by
// stage with their amounts and weighted amounts, deals won and lost, the
// win rate and loss reasons. ADMIN and AUDITOR read any scope; a MANAGER
// reads their teams (all of them together without a team) and their own
// deals; SALES read their own deals.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) PipelineAnalytics(ctx context.Context, q PipelineQuery) (*PipelineFigures, error) {
	counters, err := s.scopedCounters(ctx, q, s.Store.PipelineCounters)
	if err != nil {
		return nil, err
	}
	return PipelineFiguresFrom(s.Pipeline, counters), nil
}

// salesScope is which counter items q names for u: ADMIN and AUDITOR read
// any scope; a MANAGER reads their teams (all of them together without a
// team) and their own; SALES read their own.
func salesScope(u *User, q PipelineQuery) (PipelineCounterQuery, error) {
	scope := PipelineCounterQuery{OwnerID: q.OwnerID}
	if q.Team != "" && q.OwnerID != "" {
		return scope, Invalid("ownerId", "cannot be combined with team: an owner's figures span their teams")
	}
	var c checker
	c.text("team", q.Team, 0, MaxShortText)
	c.text("ownerId", q.OwnerID, 0, MaxShortText)
	if err := c.result(); err != nil {
		return scope, err
	}
	if q.Team != "" {
		scope.Teams = []string{q.Team}
	}
	switch {
	case u.HasRole(RoleAdmin), u.HasRole(RoleAuditor):
	case q.OwnerID == u.ID && (u.HasRole(RoleSales) || u.HasRole(RoleManager)):
	case u.HasRole(RoleManager) && q.OwnerID == "":
		if q.Team != "" && !u.InTeam(q.Team) {
			return scope, &Error{Code: EFORBIDDEN, Field: "team", Message: "not one of your teams"}
		}
		if q.Team == "" {
			scope.Teams = u.Teams
		}
		if len(scope.Teams) == 0 {
			return scope, Errorf(EFORBIDDEN, "no team is assigned to you")
		}
	case u.HasRole(RoleSales) && q.OwnerID == "" && q.Team == "":
		scope.OwnerID = u.ID
	default:
		return scope, Errorf(EFORBIDDEN, "your role may read only the pipelines of your own deals or your teams")
	}
	return scope, nil
}

// PipelineCounterQuery is which counter items to sum: an owner's, the
// given teams', or (neither) every team's.
type PipelineCounterQuery struct {
	Teams   []string
	OwnerID string
}

// PipelineStore persists the pipeline's reads.
type PipelineStore interface {
	// Opportunity returns ENOTFOUND when there is no such deal.
	Opportunity(ctx context.Context, k OpportunityKey) (*Opportunity, error)
	// ListOpportunities lists a customer's deals, newest first.
	ListOpportunities(ctx context.Context, customerID string, p PageRequest) (*Page[*Opportunity], error)
	// OpenOpportunities lists an owner's open deals, soonest expected
	// close first.
	OpenOpportunities(ctx context.Context, ownerID string, p PageRequest) (*Page[*Opportunity], error)
	// PipelineCounters sums the counters of the items q names.
	PipelineCounters(ctx context.Context, q PipelineCounterQuery) (map[string]int64, error)
}
