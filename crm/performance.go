package crm

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Staff performance (seed 004 judges staff by the customers they win and
// the margin they bring): what each salesperson of a team won, booked,
// collected and earned in a period, against the targets their managers
// set per month. The actuals come from the owners' counter items
// (PIPE#OWNER and REV#OWNER), never from the deals or contracts:
//
//   - customers won: deals whose win was the customer's first deal
//     (custwon.<yyyy-mm> on the pipeline item), and contracts signed
//     without a deal that were (the same name on the revenue item);
//   - revenue booked: booked.<yyyy-mm>.<currency> (contract_counts.go);
//   - collected: collected.<yyyy-mm>.<currency>;
//   - margin: costed.<yyyy-mm>.<currency> (the amounts of the contracts
//     signed that month with a cost) less cost.<yyyy-mm>.<currency> (their
//     costs): contracts without a cost are not in the margin.
//
// An owner's counters span their teams: a salesperson in two teams shows
// the same actuals in both.
const (
	cntCosted = "costed."
	cntCost   = "cost."
)

// firstDeal reports whether cu has no deal on its timeline yet: a deal
// won or a contract signed now wins the customer. It reads the activity
// the stream keeps, so two deals won within the stream's lag (seconds)
// both count as the first.
func firstDeal(cu *Customer) bool { return cu.Transactions.Count == 0 }

// marginCounts adds to out what c holds in the margin and customers-won
// counters.
func marginCounts(c *Contract, out map[string]int64) {
	month := c.SignedOn.Format(monthLayout)
	if c.Cost != nil {
		out[cntCosted+month+"."+c.Currency] += int64(c.Amount)
		out[cntCost+month+"."+c.Currency] += int64(*c.Cost)
	}
	if c.NewCustomer {
		out[cntCustomers+month]++
	}
}

// parseCost reads an optional cost into c: empty leaves it unknown.
func parseCost(ck *checker, c *Contract, cost string) {
	if cost == "" {
		c.Cost = nil
		return
	}
	m, ok := ParseMoney(cost)
	if !ok {
		ck.fail("input.cost", "must be a decimal amount of at most two decimals, such as 80000 or 80000.50, up to %s (got %q)", MaxMoneyHundredths, cost)
	}
	c.Cost = &m
}

// Margin is a contract's amount less its cost; nil without a cost.
func (c *Contract) Margin() *Money {
	if c.Cost == nil {
		return nil
	}
	return ptr(c.Amount - *c.Cost)
}

// Target is what a manager expects of one salesperson of a team in one
// month, in one currency. Quarters and years are the sums of their months.
type Target struct {
	Team     string
	UserID   string
	Month    string // YYYY-MM
	Currency string
	// Revenue is the amount to book (contracts signed), Collected the
	// payments to receive, Margin the margin of the contracts signed.
	Revenue   Money
	Collected Money
	Margin    Money
	// Customers is how many customers to win.
	Customers int
	Version   int
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// TargetInput sets a salesperson's target for a month.
type TargetInput struct {
	Team   string
	UserID string
	Month  string
	// Currency defaults to CNY; Revenue, Collected and Margin are
	// decimals, empty for none (0).
	Currency  string
	Revenue   string
	Collected string
	Margin    string
	Customers int
	// ExpectedVersion is the version read, 0 for a month without a
	// target yet: setting a target is optimistically locked, so of two
	// managers setting the same one at once, one hears CONFLICT.
	ExpectedVersion int
}

// MaxTargetCustomers bounds a target's customers.
const MaxTargetCustomers = 100_000

// The patterns are compiled on first use, not at package init: every
// cold start of every function linking crm would pay for them.
var monthPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`) })

// canSetTargets: ADMIN, and a MANAGER for their teams.
func canSetTargets(u *User, team string) bool {
	return !u.IsPartner() && (u.HasRole(RoleAdmin) || (u.HasRole(RoleManager) && u.InTeam(team)))
}

// SetTarget sets (creates or replaces) a salesperson's target for a
// month: for ADMIN and the team's MANAGER, of an active SALES or MANAGER
// user of the team. Audited like every write.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) SetTarget(ctx context.Context, in TargetInput) (*Target, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	var ck checker
	ck.text("input.team", in.Team, 1, MaxShortText)
	if !monthPattern().MatchString(in.Month) {
		ck.fail("input.month", "must be a month written YYYY-MM, e.g. 2026-03 (got %q)", in.Month)
	}
	t := &Target{Team: in.Team, UserID: in.UserID, Month: in.Month, Currency: cmp.Or(in.Currency, DefaultCurrency), Customers: in.Customers}
	if !isCurrency(t.Currency) {
		ck.fail("input.currency", "must be an ISO 4217 code of three capital letters, e.g. CNY (got %q)", t.Currency)
	}
	for _, a := range []struct {
		field, value string
		into         *Money
	}{{"input.revenue", in.Revenue, &t.Revenue}, {"input.collected", in.Collected, &t.Collected}, {"input.margin", in.Margin, &t.Margin}} {
		m, ok := ParseMoney(cmp.Or(a.value, "0"))
		if !ok {
			ck.fail(a.field, "must be a decimal amount of at most two decimals, such as 500000, up to %s (got %q)", MaxMoneyHundredths, a.value)
		}
		*a.into = m
	}
	if in.Customers < 0 || in.Customers > MaxTargetCustomers {
		ck.fail("input.customers", "must be between 0 and %d (got %d)", MaxTargetCustomers, in.Customers)
	}
	if in.ExpectedVersion < 0 {
		ck.fail("input.expectedVersion", "must be the target's version as read, or 0 for a month without one")
	}
	if err := ck.result(); err != nil {
		return nil, err
	}
	if !canSetTargets(u, in.Team) {
		return nil, &Error{Code: EFORBIDDEN, Field: "input.team", Message: "only an admin or the team's manager may set its targets"}
	}
	d, err := s.assignee(ctx, "input.userId", in.UserID, OwnerRoles...)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(d.Teams, in.Team) {
		return nil, Invalid("input.userId", "user %s is not in team %s", in.UserID, in.Team)
	}
	prev, err := s.Store.Target(ctx, in.Team, in.Month, in.UserID)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		prev = nil
	case err != nil:
		return nil, err
	}
	switch {
	case prev == nil && in.ExpectedVersion != 0:
		return nil, Errorf(ECONFLICT, "%s has no target for %s in team %s yet: set it with expectedVersion 0", in.UserID, in.Month, in.Team)
	case prev != nil && prev.Version != in.ExpectedVersion:
		return nil, staleVersion("target", in.Month+" of "+in.UserID, in.ExpectedVersion, prev.Version)
	}
	now := s.now()
	t.Version, t.CreatedAt, t.CreatedBy, t.UpdatedAt, t.UpdatedBy = 1, now, u.ID, now, u.ID
	if prev != nil {
		t.Version, t.CreatedAt, t.CreatedBy = prev.Version+1, prev.CreatedAt, prev.CreatedBy
	}
	if err := s.Store.PutTarget(ctx, prev, t); err != nil {
		return nil, err
	}
	return t, nil
}

// SalesPeriod is a month (2026-03), a quarter (2026-Q1) or a year (2026): the
// months it spans.
type SalesPeriod struct {
	Name   string
	Months []string // YYYY-MM, oldest first
}

var (
	quarterPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d{4})-Q([1-4])$`) })
	yearPattern    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d{4}$`) })
)

// ParseSalesPeriod reads a month, a quarter or a year.
func ParseSalesPeriod(field, s string) (SalesPeriod, error) {
	p := SalesPeriod{Name: s}
	var first time.Time
	n := 1
	switch {
	case monthPattern().MatchString(s):
		first, _ = time.Parse(monthLayout, s)
	case quarterPattern().MatchString(s):
		m := quarterPattern().FindStringSubmatch(s)
		year, _ := strconv.Atoi(m[1])
		q, _ := strconv.Atoi(m[2])
		first, n = time.Date(year, time.Month(3*q-2), 1, 0, 0, 0, 0, time.UTC), 3
	case yearPattern().MatchString(s):
		year, _ := strconv.Atoi(s)
		first, n = time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), 12
	default:
		return p, Invalid(field, "must be a month (2026-03), a quarter (2026-Q1) or a year (2026) (got %q)", s)
	}
	if first.Year() < 1970 {
		return p, Invalid(field, "must be in 1970 or after (got %q)", s)
	}
	for i := range n {
		p.Months = append(p.Months, first.AddDate(0, i, 0).Format(monthLayout))
	}
	return p, nil
}

// SalesFigures are what one salesperson achieved, or was expected to,
// in a period, in one currency.
type SalesFigures struct {
	Customers int
	Revenue   Money
	Collected Money
	Margin    Money
}

// Attainment is actual over target in percent, one decimal; nil for a
// target of 0 (none set).
type Attainment struct {
	Customers, Revenue, Collected, Margin *float64
}

// PerformanceRow is one salesperson's period.
type PerformanceRow struct {
	UserID string
	// TargetMonths is how many of the period's months have a target in
	// the report's currency; Target sums them.
	TargetMonths int
	Target       SalesFigures
	Actual       SalesFigures
	// Contracts counts the contracts signed (in any currency).
	Contracts int
	// CostedRevenue is the part of Actual.Revenue of contracts with a
	// cost: what Actual.Margin is the margin of.
	CostedRevenue Money
	Attainment    Attainment
}

// Performance is a team's staff performance in a period.
type Performance struct {
	Team     string
	Period   SalesPeriod
	Currency string
	// Rows are the team's active SALES and MANAGER users and anyone with
	// a target in the period, by user id; a SALES caller sees their own.
	Rows []PerformanceRow
	// Total sums the rows.
	Total PerformanceRow
}

// MaxPerformanceRows bounds the people a performance report reads.
const MaxPerformanceRows = 200

// SalesPerformance reads a team's staff performance in a period (a month,
// a quarter or a year) in one currency (default CNY): each member's
// customers won, revenue booked and collected, and margin, against the
// sum of their monthly targets, with the attainment in percent. ADMIN and
// AUDITOR read any team; a MANAGER their teams; SALES their own row of
// their teams. SERVICE and partners: FORBIDDEN.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) SalesPerformance(ctx context.Context, team, period, currency string) (*Performance, error) {
	u, err := pipelineUser(ctx)
	if err != nil {
		return nil, err
	}
	var ck checker
	ck.text("team", team, 1, MaxShortText)
	currency = cmp.Or(currency, DefaultCurrency)
	if !isCurrency(currency) {
		ck.fail("currency", "must be an ISO 4217 code of three capital letters, e.g. CNY (got %q)", currency)
	}
	if err := ck.result(); err != nil {
		return nil, err
	}
	p, err := ParseSalesPeriod("period", period)
	if err != nil {
		return nil, err
	}
	var only string
	switch {
	case u.HasRole(RoleAdmin), u.HasRole(RoleAuditor), u.HasRole(RoleManager) && u.InTeam(team):
	case u.HasRole(RoleSales) && u.InTeam(team):
		only = u.ID
	default:
		return nil, &Error{Code: EFORBIDDEN, Field: "team", Message: "a team's performance is read by admins, auditors and the team's managers, and by its salespeople for their own row"}
	}
	targets, err := s.Store.Targets(ctx, team, p.Months[0], p.Months[len(p.Months)-1])
	if err != nil {
		return nil, err
	}
	people := map[string]bool{}
	if only != "" {
		people[only] = true
	} else {
		members, err := s.teamSellers(ctx, team)
		if err != nil {
			return nil, err
		}
		for _, id := range members {
			people[id] = true
		}
		for _, t := range targets {
			people[t.UserID] = true
		}
	}
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range people {
			if !yield(id) {
				return
			}
		}
	})
	if len(ids) > MaxPerformanceRows {
		ids = ids[:MaxPerformanceRows]
	}
	counters, err := s.Store.OwnerCounters(ctx, ids)
	if err != nil {
		return nil, err
	}
	return performanceFrom(team, p, currency, ids, targets, counters), nil
}

// teamSellers lists the ids of the team's active SALES and MANAGER users,
// up to MaxPerformanceRows.
func (s *Service) teamSellers(ctx context.Context, team string) ([]string, error) {
	active := true
	var out []string
	req := PageRequest{First: MaxPageSize}
	for len(out) < MaxPerformanceRows {
		page, err := s.Store.ListUsers(ctx, UserFilter{Team: team, Active: &active}, req)
		if err != nil {
			return nil, err
		}
		for _, d := range page.Items {
			if slices.ContainsFunc(OwnerRoles, d.HasRole) {
				out = append(out, d.ID)
			}
		}
		if !page.HasNext {
			break
		}
		req.After = page.EndCursor
	}
	return out, nil
}

// performanceFrom works a report out of the targets and each person's
// summed owner counters.
func performanceFrom(team string, p SalesPeriod, currency string, ids []string, targets []*Target, counters map[string]map[string]int64) *Performance {
	out := &Performance{Team: team, Period: p, Currency: currency, Rows: []PerformanceRow{}}
	rows := map[string]*PerformanceRow{}
	for _, id := range ids {
		r := PerformanceRow{UserID: id}
		c := counters[id]
		for _, m := range p.Months {
			r.Actual.Customers += int(c[cntCustomers+m])
			r.Actual.Revenue += Money(c[cntBooked+m+"."+currency])
			r.Actual.Collected += Money(c[cntCollected+m+"."+currency])
			r.CostedRevenue += Money(c[cntCosted+m+"."+currency])
			r.Actual.Margin += Money(c[cntCosted+m+"."+currency] - c[cntCost+m+"."+currency])
			r.Contracts += int(c[cntSigned+m])
		}
		out.Rows = append(out.Rows, r)
	}
	for i := range out.Rows {
		rows[out.Rows[i].UserID] = &out.Rows[i]
	}
	for _, t := range targets {
		r := rows[t.UserID]
		if r == nil || t.Currency != currency || !slices.Contains(p.Months, t.Month) {
			continue
		}
		r.TargetMonths++
		r.Target.Customers += t.Customers
		r.Target.Revenue += t.Revenue
		r.Target.Collected += t.Collected
		r.Target.Margin += t.Margin
	}
	total := &out.Total
	for i := range out.Rows {
		r := &out.Rows[i]
		r.Attainment = attainment(r.Actual, r.Target)
		total.TargetMonths += r.TargetMonths
		total.Contracts += r.Contracts
		total.CostedRevenue += r.CostedRevenue
		addFigures(&total.Actual, r.Actual)
		addFigures(&total.Target, r.Target)
	}
	total.Attainment = attainment(total.Actual, total.Target)
	return out
}

func addFigures(to *SalesFigures, f SalesFigures) {
	to.Customers += f.Customers
	to.Revenue += f.Revenue
	to.Collected += f.Collected
	to.Margin += f.Margin
}

func attainment(actual, target SalesFigures) Attainment {
	pct := func(a, t int64) *float64 {
		if t == 0 {
			return nil
		}
		return ptr(math.Round(float64(a)*1000/float64(t)) / 10)
	}
	return Attainment{
		Customers: pct(int64(actual.Customers), int64(target.Customers)),
		Revenue:   pct(int64(actual.Revenue), int64(target.Revenue)),
		Collected: pct(int64(actual.Collected), int64(target.Collected)),
		Margin:    pct(int64(actual.Margin), int64(target.Margin)),
	}
}

// TargetID names a target in the audit log: team/month/user.
func (t *Target) TargetID() string { return fmt.Sprintf("%s/%s/%s", t.Team, t.Month, t.UserID) }

// PerformanceStore persists targets and reads the owners' counters.
type PerformanceStore interface {
	// Target returns ENOTFOUND when the user has no target for the month
	// in the team.
	Target(ctx context.Context, team, month, userID string) (*Target, error)
	// Targets lists a team's targets of the months from to to (YYYY-MM,
	// both included).
	Targets(ctx context.Context, team, from, to string) ([]*Target, error)
	// PutTarget writes next, created when prev is nil (it must not
	// exist), else conditioned on prev's version, with its audit entry.
	PutTarget(ctx context.Context, prev, next *Target) error
	// OwnerCounters sums each owner's pipeline and revenue counter items,
	// by owner id.
	OwnerCounters(ctx context.Context, owners []string) (map[string]map[string]int64, error)
}
