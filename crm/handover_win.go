package crm

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// Handover to an account owner: seed 000's telesales flow ends with
// new-customer sales closing the deal and handing the customer to
// old-customer (account) staff (「新客业务……达成交易」, then the O customer is
// served as an existing one). With ACCOUNT_TEAMS configured, a customer
// that its first deal makes an O is handed, in the same write as the
// regrade, to a salesperson of the account team its team maps to, and
// joins that team. The seller keeps the deal's credit: the opportunity,
// the contract and the TRANSACTION stay theirs; only the customer moves.
//
// It happens when the stream settles the customer (Settle), not in the
// win's own transaction: the grade O is the grading policy's decision,
// made there from the customer's activity, and the handover follows that
// decision, so grade and owner change in one write (one audit entry, one
// change-feed record) whatever the policy's rules are. A win writes its
// deal and its TRANSACTION as appends that are conditioned on nothing the
// customer's other writers touch; writing the profile there too would
// make a won deal fail whenever the customer was edited at the same
// moment. The cost is the stream's seconds of delay, during which the
// seller still owns the customer.

// AccountPolicy says who takes a customer its first deal makes an O
// (ACCOUNT_TEAMS). Without it nothing moves.
type AccountPolicy struct {
	// Teams maps a customer's team to its account team.
	Teams map[string]string
	// Default is the account team of a customer whose team Teams does
	// not name ("" none: such a customer stays).
	Default string
}

// ParseAccountTeams reads ACCOUNT_TEAMS: entries separated by commas,
// each team:accountTeam (the customers of team go to accountTeam) or a
// lone accountTeam (every other team's go there).
func ParseAccountTeams(s string) (AccountPolicy, error) {
	var p AccountPolicy
	var c checker
	for e := range strings.SplitSeq(s, ",") {
		from, to, paired := strings.Cut(e, ":")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !paired {
			to, from = from, ""
			if p.Default != "" && p.Default != to {
				c.fail("teams", "name one default account team (got %s and %s)", p.Default, to)
			}
			p.Default = to
		} else {
			c.text("teams", from, 1, MaxShortText)
			if prev, ok := p.Teams[from]; ok && prev != to {
				c.fail("teams", "map team %s to one account team (got %s and %s)", from, prev, to)
			}
			if p.Teams == nil {
				p.Teams = map[string]string{}
			}
			p.Teams[from] = to
		}
		c.text("teams", to, 1, MaxShortText)
	}
	return p, c.result()
}

// TeamFor is the account team of a customer of team, "" for none.
func (p AccountPolicy) TeamFor(team string) string {
	if t, ok := p.Teams[team]; ok {
		return t
	}
	return p.Default
}

// accountHandover hands the customer ch settles to an account owner when
// the regrade it carries makes the customer an O by its first deal: the
// grade moves to O and every TRANSACTION the customer has is among the
// interactions just applied (followUps). A deal is a won opportunity, a
// contract signed without one, or a TRANSACTION logged by hand (Rapport's
// deals before the pipeline); a customer that was O before, or that
// becomes O by a new policy (the daily grading) or by hand, stays.
//
// The account owner is the active SALES user of the account team with the
// fewest customers (the TOTAL#OWNER counters), ties by id, among the first
// MaxPageSize by name; a team without one gives the customer to its
// MANAGER (teamManager); a team without either leaves it where it is. A
// customer whose owner is already one of the team's salespeople stays
// with them. Handing over ends a pool claim, as any assignment does.
func (s *Service) accountHandover(ctx context.Context, prev *Customer, ch *Change, followUps []*Interaction) error {
	next, gc := ch.Customer, ch.GradeChange
	if gc == nil || gc.To != "O" || gc.From == "O" || !firstDeals(next, followUps) {
		return nil
	}
	team := s.Accounts.TeamFor(prev.Team)
	if team == "" {
		return nil
	}
	to, err := s.accountOwner(ctx, team, prev.OwnerID)
	if err != nil || to == "" || to == prev.OwnerID {
		return err
	}
	next.OwnerID, next.Team, next.Claim = to, team, nil
	ch.ClaimQuota = endClaim(prev)
	handedOver(prev, next, &User{ID: SystemUserID}, fmt.Sprintf("first deal made it an O (grade %s to O): handed to account team %s (ACCOUNT_TEAMS)", cmp.Or(gc.From, "none"), team))
	return nil
}

// firstDeals reports whether every TRANSACTION c's activity counts is
// among its, the interactions the stream just applied: c's first deal (or
// first deals, logged together) is among them.
func firstDeals(c *Customer, its []*Interaction) bool {
	var ids []string
	for _, it := range its {
		if it.Type == TypeTransaction && !slices.Contains(ids, it.ID) {
			ids = append(ids, it.ID)
		}
	}
	return len(ids) > 0 && c.Transactions.Count <= len(ids)
}

// accountOwner picks the account owner of team for a customer held by
// owner (see accountHandover): owner when they sell in the team.
func (s *Service) accountOwner(ctx context.Context, team, owner string) (string, error) {
	active := true
	page, err := s.Store.ListUsers(ctx, UserFilter{Team: team, Role: RoleSales, Active: &active}, PageRequest{First: MaxPageSize})
	if err != nil {
		return "", err
	}
	var ids []string
	for _, d := range page.Items {
		if d.ID == owner {
			return owner, nil
		}
		ids = append(ids, d.ID)
	}
	if len(ids) == 0 {
		return s.teamManager(ctx, team)
	}
	loads, err := s.Store.Workloads(ctx, ids)
	if err != nil {
		return "", err
	}
	slices.Sort(ids)
	best := ids[0]
	for _, id := range ids[1:] {
		if loads[id].Customers < loads[best].Customers {
			best = id
		}
	}
	return best, nil
}

// accountNotice tells the seller a customer they won was handed to an
// account owner (the new owner hears of it as of any handover).
func accountNotice(prev, next *Customer) *Notification {
	h := next.LastHandover
	if prev.OwnerID == "" || next.OwnerID == "" || next.OwnerID == prev.OwnerID || next.UpdatedBy != SystemUserID || h == nil || h.To != next.OwnerID ||
		prev.Grade.Level == "O" || next.Grade.Level != "O" {
		return nil
	}
	return notice(prev.OwnerID, NoticeCustomerHandedOver, next.UpdatedAt, fmt.Sprintf("account|%s|%d", next.ID, next.Version), Notification{
		CustomerID: next.ID, Actor: SystemUserID, From: prev.OwnerID, To: next.OwnerID,
		Message: fmt.Sprintf("Customer %s became an O by its first deal and was handed to %s of account team %s; the deal stays yours.",
			next.ID, next.OwnerID, next.Team),
	})
}
