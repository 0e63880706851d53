package crm

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"
)

// Contracts follow the pipeline's rules of who may do what
// (service_opportunities.go), applied to the contract's team and owner:
// ADMIN does everything; AUDITOR reads everything; MANAGER reads and works
// the contracts of their teams; SERVICE reads them; SALES read and work the
// contracts they own. Partners have no part in the pipeline: every call is
// FORBIDDEN to them, so no contract amount is ever shown to one.

// ContractKey locates a contract.
type ContractKey struct {
	CustomerID string
	ID         string
}

func contractNotVisible(k ContractKey) error {
	return Errorf(ENOTFOUND, "contract %s of customer %s not found", k.ID, k.CustomerID)
}

// CreateContract records a contract signed with a customer the caller may
// edit, with its payment plan. Given a WON opportunity (the deal's owner,
// its team's MANAGER, or ADMIN may do it), the deal's title, amount,
// currency and owner are the defaults, the contract counts for the deal's
// team, and the deal may have only one contract. Winning a deal does not
// create its contract by itself: the plan (when the customer pays what) is
// not part of the deal, so the contract is offered from the won deal and
// recorded with its plan.
//
// The contract books its amount in the month it was signed and puts its
// instalments in the receivables of its team and owner, in the same
// transaction. A contract signed without a deal is the customer's deal: it
// logs a TRANSACTION of its amount on the customer's timeline in the same
// write, from which the grading policy's rules grade the customer (by
// default its first deal makes it O, "existing-customer"), as a won deal
// does.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) CreateContract(ctx context.Context, in ContractInput) (*Contract, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("input.customerId", in.CustomerID); err != nil {
		return nil, err
	}
	now := s.now()
	id := s.newID(now)
	// The request as sent is hashed, and a retry answered, before the deal
	// fills anything in (firstResult).
	idem, err := s.idempotency(u, "createContract", in.IdempotencyKey, in, id)
	if err != nil {
		return nil, err
	}
	load := func(ctx context.Context, id string) (*Contract, error) {
		return s.Contract(ctx, ContractKey{CustomerID: in.CustomerID, ID: id})
	}
	if first, done, err := firstResult(ctx, s, idem, load); done {
		return first, err
	}
	c := &Contract{
		ID: id, CustomerID: in.CustomerID, OpportunityID: in.OpportunityID, Title: strings.TrimSpace(in.Title),
		OwnerID: in.OwnerID, Currency: DefaultCurrency, SignedOn: closeDate(in.SignedOn), EndsOn: closeDate(in.EndsOn),
		Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID,
	}
	var deal *Opportunity
	if in.OpportunityID != "" {
		if err := checkID("input.opportunityId", in.OpportunityID); err != nil {
			return nil, err
		}
		deal, err = s.readableDeal(ctx, u, OpportunityKey{CustomerID: in.CustomerID, ID: in.OpportunityID})
		if err != nil {
			return nil, err
		}
		if deal.Stage != StageWon {
			return nil, Invalid("input.opportunityId", "opportunity %s is %s: a contract comes from a WON deal", deal.ID, deal.Stage)
		}
		c.Title, c.Currency, c.Team = cmp.Or(c.Title, deal.Title), deal.Currency, deal.Team
		c.OwnerID = cmp.Or(c.OwnerID, deal.OwnerID)
		in.Amount = cmp.Or(in.Amount, deal.Amount.String())
	}
	var ck checker
	m, ok := ParseMoney(in.Amount)
	if !ok {
		ck.fail("input.amount", "must be a decimal amount of at most two decimals, such as 12500 or 12500.50, up to %s (got %q)", MaxMoneyHundredths, in.Amount)
	}
	c.Amount = m
	parseCost(&ck, c, in.Cost)
	c.Currency = cmp.Or(in.Currency, c.Currency)
	if !isCurrency(c.Currency) {
		ck.fail("input.currency", "must be an ISO 4217 code of three capital letters, e.g. CNY (got %q)", c.Currency)
	}
	validateContract(&ck, c, now)
	if ck.result() == nil {
		parsePlan(&ck, c, in.Instalments)
	}
	if err := ck.result(); err != nil {
		return nil, err
	}
	cu, err := s.editable(ctx, u, in.CustomerID, func(u *User, cu *Customer) bool {
		return canEdit(u, cu) || (deal != nil && canWorkDeal(u, deal))
	}, "sign a contract with")
	if err != nil {
		return nil, err
	}
	if deal == nil {
		c.Team, c.NewCustomer = cu.Team, firstDeal(cu)
	}
	// The deal's owner is credited with its contract, whoever records it.
	if deal == nil || c.OwnerID != deal.OwnerID {
		if c.OwnerID, err = s.saleOwner(ctx, u, cu, c.OwnerID, "is credited with the contract", "credit a contract to"); err != nil {
			return nil, err
		}
	}
	// Beyond the customer's credit terms or limit, it waits for approval.
	// A contract of the customer written since the check makes the store
	// refuse this one: check again, against what is there now.
	for attempt := 0; ; attempt++ {
		var seen int
		if c.Approval, seen, err = s.creditApproval(ctx, c); err != nil {
			return nil, err
		}
		ch := &Change{Contract: c, Idempotency: idem, CreditSeen: &seen}
		if deal == nil && c.Booked() {
			ch.Scope, ch.Interaction = cu, s.signedDeal(c, u)
		}
		err = s.Store.Apply(ctx, ch)
		if contractsMoved(err) && attempt < maxContendedAttempts && retryPause(ctx, attempt) == nil {
			continue
		}
		if first, err, ok := replay(ctx, err, load); ok {
			return first, err
		}
		if err != nil {
			return nil, err
		}
		s.afterContract(ctx, c.CustomerID)
		return c, nil
	}
}

// signedDeal is the TRANSACTION a contract signed without a deal logs on
// its customer's timeline, credited to its owner.
func (s *Service) signedDeal(c *Contract, u *User) *Interaction {
	at := c.CreatedAt
	return &Interaction{
		ID: s.newID(at), CustomerID: c.CustomerID, Channel: ChannelOther, Direction: Outbound, Type: TypeTransaction,
		Subject: "Contract signed: " + truncate(c.Title, MaxSubjectLen-17), Outcome: "contract " + c.ID,
		OccurredAt: at, HandledBy: c.OwnerID, Amount: ptr(c.Amount.Float()), Currency: c.Currency,
		Version: 1, CreatedAt: at, CreatedBy: u.ID, UpdatedAt: at, UpdatedBy: u.ID,
	}
}

// Contract returns a contract the caller may read.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners), NOT_FOUND.
func (s *Service) Contract(ctx context.Context, k ContractKey) (*Contract, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	return s.readableContract(ctx, u, k)
}

func (s *Service) readableContract(ctx context.Context, u *User, k ContractKey) (*Contract, error) {
	return readableOf(ctx, k.CustomerID, k.ID, func(ctx context.Context) (*Contract, error) { return s.Store.Contract(ctx, k) },
		func(c *Contract) bool { return canReadSale(u, c.Team, c.OwnerID) }, func() error { return contractNotVisible(k) })
}

// workableContract loads a contract the caller may work; expectedVersion
// 0 takes the version read.
func (s *Service) workableContract(ctx context.Context, u *User, k ContractKey, expectedVersion int) (*Contract, error) {
	c, err := s.readableContract(ctx, u, k)
	if err != nil {
		return nil, err
	}
	if !canWorkSale(u, c.Team, c.OwnerID) {
		return nil, Errorf(EFORBIDDEN, "not allowed to work contract %s", k.ID)
	}
	if expectedVersion != 0 && c.Version != expectedVersion {
		return nil, staleVersion("contract", k.ID, expectedVersion, c.Version)
	}
	return c, nil
}

func (s *Service) touchContract(c *Contract, u *User) {
	c.Version++
	c.UpdatedAt, c.UpdatedBy = s.now(), u.ID
}

// UpdateContract changes a contract's title, owner, end date, or payment
// plan (with its amount); expectedVersion must be the version the caller
// read. A new plan must sum to the amount, and the amount may not fall
// below what has been paid; the payments are allocated to the new plan's
// oldest instalments first. Crediting the contract to another owner is for
// ADMIN and the team's MANAGER.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) UpdateContract(ctx context.Context, k ContractKey, expectedVersion int, upd ContractUpdate) (*Contract, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkInputKey(k.CustomerID, k.ID, "id"); err != nil {
		return nil, err
	}
	if expectedVersion < 1 {
		return nil, Invalid("input.expectedVersion", "must be the contract's version as read (1 or more)")
	}
	prev, err := s.workableContract(ctx, u, k, expectedVersion)
	if err != nil {
		return nil, err
	}
	if err := contractWorkable(prev); err != nil {
		return nil, err
	}
	next := prev.Clone()
	var ck checker
	if upd.Title != nil {
		next.Title = strings.TrimSpace(*upd.Title)
	}
	set(&next.OwnerID, upd.OwnerID)
	if upd.EndsOn != nil {
		next.EndsOn = closeDate(*upd.EndsOn)
	}
	if upd.Cost != nil {
		parseCost(&ck, next, *upd.Cost)
	}
	if upd.Amount != nil {
		if upd.Instalments == nil {
			ck.fail("input.instalments", "are required with a new amount: the plan must sum to it")
		}
		m, ok := ParseMoney(*upd.Amount)
		if !ok {
			ck.fail("input.amount", "must be a decimal amount of at most two decimals (got %q)", *upd.Amount)
		}
		if m < prev.Paid() {
			ck.fail("input.amount", "must be at least what has been paid, %s", prev.Paid())
		}
		next.Amount = m
	}
	validateContract(&ck, next, prev.SignedOn)
	if upd.Instalments != nil && ck.result() == nil {
		parsePlan(&ck, next, upd.Instalments)
	}
	if err := ck.result(); err != nil {
		return nil, err
	}
	if next.OwnerID != prev.OwnerID {
		if err := s.checkCredit(ctx, u, prev.Team, next.OwnerID, "credit a contract to someone else"); err != nil {
			return nil, err
		}
	}
	s.touchContract(next, u)
	// A contract of the customer written since the credit check makes the
	// store refuse the change: check again, against what is there now.
	for attempt := 0; ; attempt++ {
		seen, err := s.creditWithin(ctx, u, prev, next)
		if err != nil {
			return nil, err
		}
		err = s.Store.Apply(ctx, &Change{ContractPrev: prev, Contract: next, CreditSeen: seen})
		if contractsMoved(err) && attempt < maxContendedAttempts && retryPause(ctx, attempt) == nil {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.afterContract(ctx, k.CustomerID)
		return next, nil
	}
}

// RecordPayment records money received against a contract (its owner,
// its team's MANAGER, or ADMIN): allocated to the oldest open instalment
// first, collected in the month it was paid, and taken off the
// receivables in the same transaction. More than what is outstanding is
// refused. Payments need no expectedVersion: two recorded at once are
// both kept (the loser of the race reads the contract again and is
// checked against what the winner left outstanding). Retried with the
// same idempotency key it records nothing more and returns the contract.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) RecordPayment(ctx context.Context, in PaymentInput) (*Contract, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	k := ContractKey{CustomerID: in.CustomerID, ID: in.ContractID}
	if err := checkInputKey(k.CustomerID, k.ID, "contractId"); err != nil {
		return nil, err
	}
	amount, ok := ParseMoney(in.Amount)
	var ck checker
	if !ok || amount == 0 {
		ck.fail("input.amount", "must be a decimal amount above 0 with at most two decimals, such as 12500 or 12500.50 (got %q)", in.Amount)
	}
	ck.text("input.reference", in.Reference, 0, MaxPaymentReference)
	if err := ck.result(); err != nil {
		return nil, err
	}
	today := closeDate(s.now())
	paidOn := today
	if !in.PaidOn.IsZero() {
		paidOn = closeDate(in.PaidOn)
	}
	if paidOn.After(today) {
		return nil, Invalid("input.paidDate", "must not be in the future: record a payment once received")
	}
	idem, err := s.idempotency(u, "recordPayment", in.IdempotencyKey, in, k.ID)
	if err != nil {
		return nil, err
	}
	var request string
	if idem != nil {
		request = idem.Key + "#" + idem.RequestHash
	}
	for attempt := 0; ; attempt++ {
		prev, err := s.workableContract(ctx, u, k, 0)
		if err != nil {
			return nil, err
		}
		if err := contractWorkable(prev); err != nil {
			return nil, err
		}
		if idem != nil {
			// A retry of a payment already recorded: its result, before
			// anything is checked against what is outstanding now.
			for _, p := range prev.Payments {
				switch {
				case p.Request == request:
					return prev, nil
				case strings.HasPrefix(p.Request, idem.Key+"#"):
					return nil, &Error{Code: ECONFLICT, Field: "input.idempotencyKey",
						Message: "this idempotency key was already used for a different request; use a new key for a new request"}
				}
			}
		}
		switch out := prev.Outstanding(); {
		case amount > out:
			return nil, Invalid("input.amount", "overpays contract %s: %s is outstanding of %s %s, the payment is %s", k.ID, out, prev.Amount, prev.Currency, amount)
		case paidOn.Before(prev.SignedOn):
			return nil, Invalid("input.paidDate", "must not be before the contract was signed, %s", prev.SignedOn.Format(time.DateOnly))
		case len(prev.Payments) >= MaxContractPayments:
			return nil, Errorf(ECONFLICT, "contract %s has %d payments, the most it keeps", k.ID, MaxContractPayments)
		}
		next := prev.Clone()
		s.touchContract(next, u)
		next.Payments = append(next.Payments, Payment{ID: s.newID(next.UpdatedAt), PaidOn: paidOn, Amount: amount,
			Reference: strings.TrimSpace(in.Reference), RecordedBy: u.ID, RecordedAt: next.UpdatedAt, Request: request})
		err = s.Store.Apply(ctx, &Change{ContractPrev: prev, Contract: next, Idempotency: idem})
		if first, err, ok := replay(ctx, err, func(ctx context.Context, _ string) (*Contract, error) {
			return s.Contract(ctx, k)
		}); ok {
			return first, err
		}
		if !versionConflict(err) || attempt >= maxContendedAttempts || retryPause(ctx, attempt) != nil {
			if err != nil {
				return nil, err
			}
			s.afterContract(ctx, k.CustomerID)
			return next, nil
		}
	}
}

// versionConflict reports whether err is a stale version of the item
// written (not a refused idempotency key, which names its field).
func versionConflict(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == ECONFLICT && e.Field == ""
}

// CustomerContracts lists the contracts of a customer the caller may
// read, newest first; a SALES caller sees the ones they own.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners), NOT_FOUND, BAD_USER_INPUT.
func (s *Service) CustomerContracts(ctx context.Context, customerID string, p PageRequest) (*Page[*Contract], error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	page, err := customerList(ctx, s, customerID, p, s.Store.ListContracts)
	if err != nil {
		return nil, err
	}
	out := &Page[*Contract]{EndCursor: page.EndCursor, HasNext: page.HasNext}
	for i, c := range page.Items {
		if canReadSale(u, c.Team, c.OwnerID) {
			out.Items, out.Cursors = append(out.Items, c), append(out.Cursors, page.Cursors[i])
		}
	}
	return out, nil
}

// ReceivablesAging ages the outstanding instalments of a scope's
// contracts on today's date (the service's clock): not yet due, 1–30,
// 31–90 and more than 90 days overdue, per currency, read from the
// revenue counters. Scopes as PipelineAnalytics.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) ReceivablesAging(ctx context.Context, q PipelineQuery) (*ReceivablesAging, error) {
	c, err := s.revenueCounters(ctx, q)
	if err != nil {
		return nil, err
	}
	return ReceivablesAgingFrom(c, s.now()), nil
}

// Revenue reads what a scope's contracts booked (signed) and collected
// (paid) per month, from the month from to the month to (first days of
// their months; both default to the twelve months up to this one), from
// the revenue counters. Scopes as PipelineAnalytics.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) Revenue(ctx context.Context, q PipelineQuery, from, to time.Time) ([]RevenueMonth, error) {
	now := s.now().UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if to.IsZero() {
		to = thisMonth
	}
	if from.IsZero() {
		from = to.AddDate(0, -11, 0)
	}
	from, to = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC), time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
	switch months := (to.Year()-from.Year())*12 + int(to.Month()-from.Month()) + 1; {
	case months < 1:
		return nil, Invalid("from", "must not be after to")
	case months > MaxRevenueMonths:
		return nil, Invalid("from", "reads at most %d months at once (got %d)", MaxRevenueMonths, months)
	}
	c, err := s.revenueCounters(ctx, q)
	if err != nil {
		return nil, err
	}
	return RevenueMonthsFrom(c, from, to), nil
}

func (s *Service) revenueCounters(ctx context.Context, q PipelineQuery) (map[string]int64, error) {
	return s.scopedCounters(ctx, q, s.Store.RevenueCounters)
}

// ContractStore persists contracts' reads.
type ContractStore interface {
	// Contract returns ENOTFOUND when there is no such contract.
	Contract(ctx context.Context, k ContractKey) (*Contract, error)
	// ListContracts lists a customer's contracts, newest first.
	ListContracts(ctx context.Context, customerID string, p PageRequest) (*Page[*Contract], error)
	// RevenueCounters sums the revenue counters of the items q names.
	RevenueCounters(ctx context.Context, q PipelineCounterQuery) (map[string]int64, error)
}
