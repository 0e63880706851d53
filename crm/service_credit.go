package crm

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// Credit follows the pipeline's rules of who may do what: partners have no
// part in it (FORBIDDEN); whoever reads a customer reads its credit level
// and history; ADMIN and the team's MANAGER set or clear a level by hand;
// ADMIN and a MANAGER of the contract's team, but not its owner nor who
// recorded it, approve or reject a contract beyond the customer's credit.

// CreditPolicy is the credit policy in force: Service.Credit, else the
// built-in default.
func (s *Service) CreditPolicy() *CreditPolicy {
	if len(s.Credit.Levels) == 0 {
		return &DefaultCreditPolicy
	}
	return &s.Credit
}

// CustomerCredit returns a customer's credit level. A customer never
// evaluated (no contract since credit levels exist) is evaluated on the
// fly, read-only.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners), NOT_FOUND.
func (s *Service) CustomerCredit(ctx context.Context, customerID string) (*CreditState, error) {
	out, errs := s.CustomerCredits(ctx, []string{customerID})
	return out[0], errs[0]
}

// CustomerCredits is CustomerCredit of many customers, for a batch
// loader: one read of their stored credit for them all. A customer never
// evaluated is evaluated on the fly: with no read when the store knows it
// has no contract (nothing stored, every customer with a contract having
// something stored), else from its contracts.
func (s *Service) CustomerCredits(ctx context.Context, customerIDs []string) ([]*CreditState, []error) {
	out, errs := make([]*CreditState, len(customerIDs)), make([]error, len(customerIDs))
	fail := func(err error) ([]*CreditState, []error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return out, errs
	}
	u, err := pipelineUser(ctx)
	if err != nil {
		return fail(err)
	}
	// Together, so that the request's customer loader reads in one batch
	// those it has not read yet.
	cus := make([]*Customer, len(customerIDs))
	var wg sync.WaitGroup
	for i, id := range customerIDs {
		wg.Go(func() { cus[i], errs[i] = s.visible(ctx, u, id) })
	}
	wg.Wait()
	var ids []string
	for i, id := range customerIDs {
		if errs[i] == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return out, errs
	}
	states, complete, err := s.Store.CreditStates(ctx, ids)
	if err != nil {
		return fail(err)
	}
	// Those never evaluated whose contracts must be read are read
	// together, a few at a time.
	sem := make(chan struct{}, 10)
	for i, id := range customerIDs {
		if errs[i] != nil {
			continue
		}
		wg.Go(func() {
			st, stored := states[id]
			if !stored {
				st = &CreditState{CustomerID: id}
			}
			if st.Version == 0 {
				var contracts []*Contract
				if stored || !complete {
					sem <- struct{}{}
					contracts, errs[i] = s.Store.AllContracts(ctx, id)
					<-sem
					if errs[i] != nil {
						return
					}
				}
				st, _ = s.creditVerdict(st, contracts, SystemUserID)
			}
			if !readsCreditFacts(u, cus[i]) {
				v := *st
				v.Explanation, v.RuleExplanation = creditFactsHidden, creditFactsHidden
				st = &v
			}
			out[i] = st
		})
	}
	wg.Wait()
	return out, errs
}

// creditFactsHidden stands for an explanation its reader may not read.
const creditFactsHidden = "set from the customer's payment history (the details are for those who work its sales)"

// readsCreditFacts reports whether u may read what a credit level was set
// from: the rule's facts name the customer's contracts, their amounts and
// days late, and a reason given by hand may too. Those who work or read
// the customer's sales may (its owner, its team's managers and service
// staff, ADMIN, AUDITOR); a salesperson reading a pool customer may not.
func readsCreditFacts(u *User, cu *Customer) bool { return canReadSale(u, cu.Team, cu.OwnerID) }

// CreditHistory lists a customer's credit level changes, newest first.
// Errors: UNAUTHENTICATED, FORBIDDEN (partners), NOT_FOUND, BAD_USER_INPUT.
func (s *Service) CreditHistory(ctx context.Context, customerID string, p PageRequest) (*Page[*CreditChange], error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	page, err := customerList(ctx, s, customerID, p, s.Store.ListCreditChanges)
	if err != nil || len(page.Items) == 0 {
		return page, err
	}
	// customerList has just read the customer as visible to u.
	cu, err := s.Store.Customer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	if !readsCreditFacts(u, cu) {
		for i, c := range page.Items {
			v := *c
			v.Explanation = creditFactsHidden
			page.Items[i] = &v
		}
	}
	return page, nil
}

// SetCreditLevel sets a customer's credit level by hand (ADMIN or the
// team's MANAGER) with a reason: it holds until cleared, or until the day
// until when given (the first evaluation from that day on returns the
// customer to the rule). The rule keeps being evaluated beside it.
// expectedVersion, when set, must be the credit's version as read.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT.
func (s *Service) SetCreditLevel(ctx context.Context, customerID, level, reason string, until *time.Time, expectedVersion *int) (*CreditState, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	p := s.CreditPolicy()
	if _, ok := p.Level(level); !ok {
		return nil, Invalid("input.level", "must be one of the credit levels %s (got %q)", p.codes(), level)
	}
	reason = strings.TrimSpace(reason)
	var ck checker
	ck.text("input.reason", reason, 1, MaxReasonLen)
	today := closeDate(s.now())
	if until != nil {
		d := closeDate(*until)
		if !d.After(today) || d.Year() > 9999 {
			ck.fail("input.until", "must be a day after today")
		}
		until = &d
	}
	if err := ck.result(); err != nil {
		return nil, err
	}
	return s.writeCredit(ctx, u, customerID, expectedVersion, func(prev *CreditState, now time.Time) *CreditState {
		next := *prev
		next.Level, next.Source, next.Explanation, next.Until = level, CreditManual, reason, until
		next.Since, next.By = now, u.ID
		return &next
	})
}

// ClearCreditLevel ends a level set by hand (ADMIN or the team's MANAGER),
// with a reason: the rule's level applies again at once.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT.
func (s *Service) ClearCreditLevel(ctx context.Context, customerID, reason string, expectedVersion *int) (*CreditState, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	var ck checker
	ck.text("input.reason", reason, 1, MaxReasonLen)
	if err := ck.result(); err != nil {
		return nil, err
	}
	return s.writeCredit(ctx, u, customerID, expectedVersion, func(prev *CreditState, now time.Time) *CreditState {
		if prev.Source != CreditManual {
			return nil
		}
		next := *prev
		next.Level, next.Source, next.Until = prev.RuleLevel, CreditRule, nil
		next.Explanation = prev.RuleExplanation + " (level set by hand cleared: " + reason + ")"
		next.Since, next.By = now, u.ID
		return &next
	})
}

// writeCredit applies a change by hand of a customer's credit: change
// gets the state evaluated afresh and returns the next one (nil: not set
// by hand, a CONFLICT).
func (s *Service) writeCredit(ctx context.Context, u *User, customerID string, expectedVersion *int,
	change func(prev *CreditState, now time.Time) *CreditState) (*CreditState, error) {
	if err := checkID("input.customerId", customerID); err != nil {
		return nil, err
	}
	if _, err := s.editable(ctx, u, customerID, canAssign, "set the credit level of"); err != nil {
		return nil, err
	}
	var out *CreditState
	err := s.applyFresh(ctx, func() (*Change, error) {
		stored, err := s.Store.CreditState(ctx, customerID)
		if err != nil {
			return nil, err
		}
		if expectedVersion != nil && *expectedVersion != stored.Version {
			return nil, staleVersion("credit of customer", customerID, *expectedVersion, stored.Version)
		}
		fresh, _, err := s.evaluateCredit(ctx, stored, u.ID)
		if err != nil {
			return nil, err
		}
		now := s.now()
		next := change(fresh, now)
		if next == nil {
			return nil, Errorf(ECONFLICT, "the credit level of customer %s was not set by hand", customerID)
		}
		next.ReviewAt = creditReviewAt(next, fresh.ReviewAt)
		next.Version = stored.Version + 1
		out = next
		return &Change{CreditPrev: stored, Credit: next, CreditChange: &CreditChange{ID: s.newID(now), CustomerID: customerID,
			From: stored.Level, To: next.Level, Source: next.Source, Explanation: next.Explanation, Until: next.Until, By: u.ID, At: now}}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// evaluateCredit gives the state the rule leaves prev in today: the rule's
// verdict, which becomes the level unless a level set by hand holds. The
// change is the history entry a new level makes (nil when it stays).
func (s *Service) evaluateCredit(ctx context.Context, prev *CreditState, by string) (*CreditState, *CreditChange, error) {
	contracts, err := s.Store.AllContracts(ctx, prev.CustomerID)
	if err != nil {
		return nil, nil, err
	}
	next, ch := s.creditVerdict(prev, contracts, by)
	return next, ch, nil
}

// creditVerdict is evaluateCredit on the customer's contracts as read.
func (s *Service) creditVerdict(prev *CreditState, contracts []*Contract, by string) (*CreditState, *CreditChange) {
	now := s.now()
	p := s.CreditPolicy()
	f := CreditFactsOf(p, contracts, now)
	v := p.Evaluate(f)
	next := *prev
	next.RuleLevel, next.RuleExplanation, next.EvaluatedAt = v.Level, v.Explanation, now
	if !prev.Manual(now) {
		if _, ok := p.Level(prev.Level); !ok || prev.Level != v.Level || prev.Source != CreditRule {
			next.Since, next.By = now, by
		}
		next.Level, next.Source, next.Explanation, next.Until = v.Level, CreditRule, v.Explanation, nil
	}
	next.ReviewAt = creditReviewAt(&next, f.ReviewAt)
	var ch *CreditChange
	if next.Level != prev.Level || next.Source != prev.Source {
		ch = &CreditChange{ID: s.newID(now), CustomerID: prev.CustomerID, From: prev.Level, To: next.Level, Source: next.Source,
			Explanation: next.Explanation, By: by, At: now}
	}
	return &next, ch
}

// creditReviewAt is when the job looks at a state again: when the facts
// change by time alone, or a hand's hold ends, whichever is first.
func creditReviewAt(st *CreditState, facts time.Time) time.Time {
	if st.Source == CreditManual && st.Until != nil && (facts.IsZero() || st.Until.Before(facts)) {
		return *st.Until
	}
	return facts
}

// ReevaluateCredit evaluates a customer's credit level again and stores it
// when the level, its explanation or its review day changed: after every
// write of a contract (service_contracts.go) and by the daily job. A
// change of level is a history entry (RULE, with the rule's explanation).
// A racing writer makes it read and evaluate again.
func (s *Service) ReevaluateCredit(ctx context.Context, customerID string) (*CreditState, error) {
	by := SystemUserID
	if u := UserFromContext(ctx); u != nil && u.ID != "" {
		by = u.ID
	}
	var out *CreditState
	err := s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.Store.CreditState(ctx, customerID)
		if err != nil {
			return nil, err
		}
		next, ch, err := s.evaluateCredit(ctx, prev, by)
		if err != nil {
			return nil, err
		}
		out = next
		if prev.Version > 0 && ch == nil && next.Explanation == prev.Explanation && next.RuleLevel == prev.RuleLevel &&
			next.RuleExplanation == prev.RuleExplanation && next.ReviewAt.Equal(prev.ReviewAt) && !prev.Reviewing {
			return nil, errUnchanged
		}
		next.Version = prev.Version + 1
		next.Reviewing = false
		return &Change{CreditPrev: prev, Credit: next, CreditChange: ch}, nil
	})
	if errors.Is(err, errUnchanged) {
		return out, nil
	}
	return out, err
}

// errUnchanged stops applyFresh when there is nothing to write.
var errUnchanged = errors.New("credit unchanged")

// RunCredit evaluates again the credit of every customer whose review day
// has come (an instalment fell due, lateness left the lookback, a hand's
// hold ended) or whose contracts changed since it was last evaluated (a
// write whose own evaluation did not finish). It returns the customers
// evaluated; a customer that fails does not stop the others.
func (s *Service) RunCredit(ctx context.Context) ([]string, error) {
	ids, err := s.Store.CreditReviewsDue(ctx, closeDate(s.now()))
	if err != nil {
		return nil, err
	}
	var done []string
	var errs []error
	for _, id := range ids {
		if _, err := s.ReevaluateCredit(ctx, id); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, id)
	}
	return done, errors.Join(errs...)
}

// afterContract evaluates the credit of a contract's customer after a
// write of the contract. Its failure does not fail the write: the write
// marked the customer for review (Change.Contract), and the daily job
// evaluates it.
func (s *Service) afterContract(ctx context.Context, customerID string) {
	_, _ = s.ReevaluateCredit(ctx, customerID)
}

// creditApproval is what a new contract needs from the customer's credit:
// nil when it stays within the level's terms and limit, else a pending
// approval naming what it exceeds; and the count of contract writes the
// check read (Change.CreditSeen). The count is read before the
// contracts, so a contract written after it was read changes it.
func (s *Service) creditApproval(ctx context.Context, c *Contract) (*ContractApproval, int, error) {
	st, err := s.Store.CreditState(ctx, c.CustomerID)
	if err != nil {
		return nil, 0, err
	}
	contracts, err := s.Store.AllContracts(ctx, c.CustomerID)
	if err != nil {
		return nil, 0, err
	}
	p := s.CreditPolicy()
	now := s.now()
	// The level in force: one set by hand while it holds, else the
	// rule's on today's facts (fresher than the stored verdict).
	l, ok := p.Level(st.Level)
	if !ok || !st.Manual(now) {
		l, _ = p.Level(p.Evaluate(CreditFactsOf(p, contracts, now)).Level)
	}
	var owed Money
	for _, k := range contracts {
		if k.Booked() && k.ID != c.ID && k.Currency == p.Currency {
			owed += k.Outstanding()
		}
	}
	exceeded := CreditExceeded(p, l, c, owed)
	if len(exceeded) == 0 {
		return nil, st.ContractWrites, nil
	}
	return &ContractApproval{Status: ApprovalPending, Level: l.Code, Exceeded: exceeded}, st.ContractWrites, nil
}

// ErrContractsMoved is the cause (Error.Err) of the CONFLICT a store
// answers when a write's credit check is stale (Change.CreditSeen): the
// service checks again and retries, the caller never sees it unless the
// customer's contracts keep changing through every retry.
var ErrContractsMoved = errors.New("the customer's contracts changed since its credit was checked")

// contractsMoved reports whether err is a stale credit check.
func contractsMoved(err error) bool { return errors.Is(err, ErrContractsMoved) }

// canApprove: ADMIN, or a MANAGER of the contract's team; never its owner
// nor who recorded it (separation of duties).
func canApprove(u *User, c *Contract) bool {
	if u.IsPartner() || u.ID == c.OwnerID || u.ID == c.CreatedBy {
		return false
	}
	return u.HasRole(RoleAdmin) || (u.HasRole(RoleManager) && u.InTeam(c.Team))
}

// contractWorkable refuses a change of a contract that does not count
// (awaiting approval, or rejected): only its approval moves it.
func contractWorkable(c *Contract) error {
	if c.Booked() {
		return nil
	}
	return Errorf(ECONFLICT, "contract %s is %s: approve or reject it first (a rejected contract stays as it is)", c.ID, c.Approval.Status)
}

// ApproveContract approves a contract that waits for approval: it then
// counts as signed in the approval's own transaction (its amount booked,
// its instalments in the receivables, and without a deal the TRANSACTION
// on the customer's timeline), as if it had been recorded within the
// customer's credit. expectedVersion must be the version read.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) ApproveContract(ctx context.Context, k ContractKey, expectedVersion int, reason string) (*Contract, error) {
	return s.decideContract(ctx, k, expectedVersion, ApprovalApproved, reason)
}

// RejectContract rejects a contract that waits for approval, with a
// reason: it never counts, and a deal's contract frees its deal for
// another. expectedVersion must be the version read.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) RejectContract(ctx context.Context, k ContractKey, expectedVersion int, reason string) (*Contract, error) {
	return s.decideContract(ctx, k, expectedVersion, ApprovalRejected, reason)
}

func (s *Service) decideContract(ctx context.Context, k ContractKey, expectedVersion int, to ApprovalStatus, reason string) (*Contract, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkInputKey(k.CustomerID, k.ID, "id"); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	var ck checker
	if expectedVersion < 1 {
		ck.fail("input.expectedVersion", "must be the contract's version as read (1 or more)")
	}
	min := 0
	if to == ApprovalRejected {
		min = 1
	}
	ck.text("input.reason", reason, min, MaxReasonLen)
	if err := ck.result(); err != nil {
		return nil, err
	}
	prev, err := s.readableContract(ctx, u, k)
	if err != nil {
		return nil, err
	}
	if !canApprove(u, prev) {
		return nil, Errorf(EFORBIDDEN, "only an admin or a manager of team %q other than its owner and who recorded it may approve or reject contract %s", prev.Team, k.ID)
	}
	if prev.Version != expectedVersion {
		return nil, staleVersion("contract", k.ID, expectedVersion, prev.Version)
	}
	if prev.Approval == nil || prev.Approval.Status != ApprovalPending {
		return nil, Errorf(ECONFLICT, "contract %s does not wait for approval", k.ID)
	}
	next := prev.Clone()
	s.touchContract(next, u)
	next.Approval.Status, next.Approval.DecidedBy, next.Approval.DecidedAt, next.Approval.Reason = to, u.ID, ptr(next.UpdatedAt), reason
	ch := &Change{ContractPrev: prev, Contract: next}
	if to == ApprovalApproved && next.OpportunityID == "" {
		// canApprove on the contract is the authority here: the customer
		// may since have been handed to an account team the approver
		// does not manage.
		cu, err := s.Store.Customer(ctx, k.CustomerID)
		if err != nil {
			return nil, err
		}
		// Whether it wins the customer is decided now, when it books:
		// another deal may have won it while this one waited.
		next.NewCustomer = firstDeal(cu)
		ch.Scope, ch.Interaction = cu, s.signedDeal(next, u)
	}
	if err := s.Store.Apply(ctx, ch); err != nil {
		return nil, err
	}
	s.afterContract(ctx, k.CustomerID)
	return next, nil
}

// CreditStore persists credit levels.
type CreditStore interface {
	// CreditState reads a customer's credit state, consistently; a
	// customer never evaluated has Version 0 and no level.
	CreditState(ctx context.Context, customerID string) (*CreditState, error)
	// CreditStates reads the credit states stored for customers,
	// consistently; a customer with none is not in the map. complete
	// reports that every customer with a contract has one stored, so that
	// one without has no contract.
	CreditStates(ctx context.Context, customerIDs []string) (states map[string]*CreditState, complete bool, err error)
	// ListCreditChanges lists a customer's credit history, newest first.
	ListCreditChanges(ctx context.Context, customerID string, p PageRequest) (*Page[*CreditChange], error)
	// AllContracts reads every contract of a customer (at most
	// MaxCustomerContracts), consistently.
	AllContracts(ctx context.Context, customerID string) ([]*Contract, error)
	// CreditReviewsDue returns the customers whose credit review day is
	// on or before day, or whose contracts changed since their last
	// evaluation.
	CreditReviewsDue(ctx context.Context, day time.Time) ([]string, error)
}

// MaxCustomerContracts bounds the contracts the credit rule reads of one
// customer.
const MaxCustomerContracts = 1000

// creditWithin refuses a change of a contract's plan or amount that goes
// beyond the customer's credit, unless the caller may approve it (ADMIN,
// a MANAGER of the team who neither owns nor recorded it): their change
// is the approval. It returns the count of contract writes a check that
// passed read (Change.CreditSeen), nil when nothing was checked.
func (s *Service) creditWithin(ctx context.Context, u *User, prev, next *Contract) (*int, error) {
	if next.Amount == prev.Amount && slices.Equal(next.Instalments, prev.Instalments) {
		return nil, nil
	}
	a, seen, err := s.creditApproval(ctx, next)
	if err != nil {
		return nil, err
	}
	if a != nil && canApprove(u, next) {
		return nil, nil
	}
	if a != nil {
		return nil, Errorf(EFORBIDDEN, "the change goes beyond customer %s's credit level %s and needs a manager's approval: %s",
			next.CustomerID, a.Level, strings.Join(a.Exceeded, "; "))
	}
	return &seen, nil
}

// CreditLevels returns the credit policy in force (partners: FORBIDDEN).
// Errors: UNAUTHENTICATED, FORBIDDEN.
func (s *Service) CreditLevels(ctx context.Context) (*CreditPolicy, error) {
	if _, err := pipelineUser(ctx); err != nil {
		return nil, err
	}
	return s.CreditPolicy(), nil
}
