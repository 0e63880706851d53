package dynamo_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func poolEnv(t *testing.T) (*env, *clock) {
	e := mustEnv(t)
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	e.svc.Now = clk.Now
	return e, clk
}

func mustPooled(t *testing.T, e *env, name, grade string) *crm.Customer {
	t.Helper()
	nobody := ""
	return mustCreate(t, e, admin, crm.CustomerInput{Name: name, OwnerID: &nobody, Region: "north", Team: "north", Grade: grade})
}

var sales2 = &crm.User{ID: "sales-2", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"north"}}

func TestTwoSimultaneousClaimsExactlyOneWins(t *testing.T) {
	e, _ := poolEnv(t)
	for round := range 5 {
		c := mustPooled(t, e, fmt.Sprint("Contested ", round), "G")
		var wins atomic.Int64
		var wg sync.WaitGroup
		for _, u := range []*crm.User{sales1, sales2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.svc.ClaimCustomer(as(u), c.ID)
				switch code(err) {
				case "":
					wins.Add(1)
				// A loser that read the customer before the winner's write
				// hears CONFLICT; one that read it after, NOT_FOUND: it is
				// someone else's now.
				case crm.ECONFLICT, crm.ENOTFOUND:
				default:
					t.Errorf("claim: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("round %d: %d claims won, want exactly 1", round, wins.Load())
		}
	}
}

// interleaved runs between once before the first write it passes on: a
// competing writer gets in between a service's read and its write.
type interleaved struct {
	crm.Store
	once    sync.Once
	between func()
}

func (s *interleaved) Apply(ctx context.Context, ch *crm.Change) error {
	s.once.Do(s.between)
	return s.Store.Apply(ctx, ch)
}

// A claim that read the customer in the pool and lost it to another claim
// before its write hears CONFLICT; a claim made afterwards hears NOT_FOUND,
// exactly as for an id that does not exist (the customer is someone
// else's: nothing tells a salesperson it exists).
func TestALostClaimRaceIsConflictAndALaterClaimNotFound(t *testing.T) {
	e, clk := poolEnv(t)
	c := mustPooled(t, e, "Raced", "G")
	loser := crm.NewService(&interleaved{Store: e.svc.Store, between: func() {
		if _, err := e.svc.ClaimCustomer(as(sales2), c.ID); err != nil {
			t.Errorf("the winning claim: %v", err)
		}
	}})
	loser.Now = clk.Now
	if _, err := loser.ClaimCustomer(as(sales1), c.ID); code(err) != crm.ECONFLICT {
		t.Fatalf("the claim that lost the race: %v, want CONFLICT", err)
	}
	_, later := e.svc.ClaimCustomer(as(sales1), c.ID)
	_, missing := e.svc.ClaimCustomer(as(sales1), "01JZZZZZZZZZZZZZZZZZZZZZZZ")
	if code(later) != crm.ENOTFOUND || strings.ReplaceAll(later.Error(), c.ID, "<id>") !=
		strings.ReplaceAll(missing.Error(), "01JZZZZZZZZZZZZZZZZZZZZZZZ", "<id>") {
		t.Fatalf("a later claim: %v; on a missing id: %v", later, missing)
	}
}

func TestExpiredClaimReturnsToPoolUnlessFollowedUp(t *testing.T) {
	e, clk := poolEnv(t)
	idle := mustPooled(t, e, "Idle", "C")       // 7-day claim
	busy := mustPooled(t, e, "Busy", "C")       // followed up in time
	key := mustPooled(t, e, "Key account", "A") // 30-day claim
	for _, c := range []*crm.Customer{idle, busy, key} {
		got, err := e.svc.ClaimCustomer(as(sales1), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.OwnerID != sales1.ID || got.Claim == nil {
			t.Fatalf("claim not recorded: %+v", got)
		}
	}
	clk.Advance(2 * 24 * time.Hour)
	if _, err := e.svc.LogInteraction(as(sales1), crm.InteractionInput{CustomerID: busy.ID, Channel: crm.ChannelPhone, Type: crm.TypeCall}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(4*24*time.Hour + time.Hour) // 6 days 1 hour: inside the warning window
	run, err := e.svc.RunPool(as(admin))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Returned) != 0 || len(run.Warned) != 1 || run.Warned[0] != idle.ID {
		t.Fatalf("day 6: %+v, want only %s warned", run, idle.ID)
	}
	clk.Advance(24 * time.Hour)
	run, err = e.svc.RunPool(as(admin))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Returned) != 1 || run.Returned[0] != idle.ID {
		t.Fatalf("day 7: %+v, want %s returned", run, idle.ID)
	}
	got, _ := e.svc.Customer(as(admin), idle.ID)
	if !got.InPool() || got.LastHolder != sales1.ID || got.Claim != nil {
		t.Fatalf("expired claim not returned: %+v", got)
	}
	for _, c := range []*crm.Customer{busy, key} {
		got, _ := e.svc.Customer(as(admin), c.ID)
		if got.OwnerID != sales1.ID {
			t.Fatalf("%s lost its owner", c.Name)
		}
	}
	// The last holder waits out the cooldown; others need not.
	if _, err := e.svc.ClaimCustomer(as(sales1), idle.ID); code(err) != crm.EFORBIDDEN {
		t.Fatalf("re-claim during cooldown: %v", err)
	}
	clk.Advance(e.svc.Pool.Cooldown)
	if _, err := e.svc.ClaimCustomer(as(sales1), idle.ID); err != nil {
		t.Fatalf("re-claim after cooldown: %v", err)
	}
}

func TestClaimLimits(t *testing.T) {
	e, clk := poolEnv(t)
	e.svc.Pool.MaxActiveClaims, e.svc.Pool.DailyClaims = 2, 3
	var cs []*crm.Customer
	for i := range 5 {
		cs = append(cs, mustPooled(t, e, fmt.Sprint("P", i), "D"))
	}
	for _, c := range cs[:2] {
		if _, err := e.svc.ClaimCustomer(as(sales1), c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.ClaimCustomer(as(sales1), cs[2].ID); code(err) != crm.EFORBIDDEN {
		t.Fatalf("third active claim: %v", err)
	}
	// Releasing one frees a place; the daily quota still counts it.
	if _, err := e.svc.ReleaseCustomer(as(sales1), cs[0].ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ClaimCustomer(as(sales1), cs[2].ID); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	if _, err := e.svc.ReleaseCustomer(as(sales1), cs[1].ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ClaimCustomer(as(sales1), cs[3].ID); code(err) != crm.EFORBIDDEN {
		t.Fatalf("fourth claim of the day: %v", err)
	}
	clk.Advance(24 * time.Hour)
	if _, err := e.svc.ClaimCustomer(as(sales1), cs[3].ID); err != nil {
		t.Fatalf("claim the next day: %v", err)
	}
	if _, err := e.svc.ClaimCustomer(as(manager), cs[4].ID); code(err) != crm.EFORBIDDEN {
		t.Fatalf("a manager claimed: %v", err)
	}
}

func TestHandOverMovesTheWholePortfolio(t *testing.T) {
	e, _ := poolEnv(t)
	leaver := "sales-leaver"
	var ids []string
	for i := range 7 {
		c := mustCreate(t, e, admin, crm.CustomerInput{Name: fmt.Sprint("Book ", i), OwnerID: &leaver, Team: "north"})
		if _, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelVisit, Type: crm.TypeVisit}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	// One archived customer, and an open case the leaver was handling.
	if _, err := e.svc.ArchiveCustomer(as(admin), ids[6], mustCustomer(t, e, ids[6]).Version); err != nil {
		t.Fatal(err)
	}
	it, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: ids[0], Channel: crm.ChannelPhone, Type: crm.TypeComplaint})
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := e.store.Case(as(admin), ids[0], it.ID)
	for _, m := range []crm.CaseMove{{To: crm.CaseTriaged}, {To: crm.CaseAssigned, AssignTo: leaver}} {
		if cs, err = e.svc.MoveCase(as(admin), ids[0], cs.ID, cs.Version, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.HandOver(as(sales1), leaver, sales1.ID); code(err) != crm.EFORBIDDEN {
		t.Fatalf("sales handed over: %v", err)
	}
	h, err := e.svc.HandOver(as(manager), leaver, sales1.ID)
	if err != nil || len(h.Moved) != 7 || len(h.Failed) != 0 {
		t.Fatalf("handover: %+v %v", h, err)
	}
	if cs, _ = e.store.Case(as(admin), ids[0], it.ID); cs.AssignedTo != sales1.ID {
		t.Fatalf("open case still with %s", cs.AssignedTo)
	}
	e.drain(t)
	page, err := e.svc.Customers(as(sales1), crm.CustomerFilter{IncludeArchived: true, WithActivity: true}, crm.PageRequest{First: 50})
	if err != nil || len(page.Items) != 7 {
		t.Fatalf("new owner sees %d customers, %v", len(page.Items), err)
	}
	for _, c := range page.Items {
		if c.InteractionCount < 1 {
			t.Fatalf("history lost for %s", c.ID)
		}
	}
	active, _ := e.svc.Customers(as(sales1), crm.CustomerFilter{}, crm.PageRequest{First: 50})
	if n, _ := active.Total(as(admin)); n != 6 {
		t.Fatalf("owner counter = %d, want the 6 active customers", n)
	}
}

// Telesales groups each work one region (seed 000): a salesperson claims
// in their own team's pool, not another's; a pool customer without a
// team is anyone's and joins the claimer's team. The rule can be turned
// off for a company whose salespeople share one pool.
func TestClaimsStayWithinTheClaimersTeams(t *testing.T) {
	e, _ := poolEnv(t)
	southSeller := &crm.User{ID: "sales-south", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"south"}}
	nobody := ""
	north := mustPooled(t, e, "Northern Pool Ltd", "G")
	teamless := mustCreate(t, e, admin, crm.CustomerInput{Name: "Teamless Pool Ltd", OwnerID: &nobody, Region: "west"})

	_, err := e.svc.ClaimCustomer(as(southSeller), north.ID)
	var ce *crm.Error
	if code(err) != crm.EFORBIDDEN || !asErr(err, &ce) || !strings.Contains(ce.Message, "team north") {
		t.Fatalf("a south salesperson's claim in the north pool: %v, want FORBIDDEN naming the team", err)
	}
	got, err := e.svc.ClaimCustomer(as(southSeller), teamless.ID)
	if err != nil || got.OwnerID != southSeller.ID || got.Team != "south" {
		t.Fatalf("claim of a pool customer without a team: %+v, %v; want it owned, in team south", got, err)
	}

	e.svc.Pool.ClaimWithinTeam = false
	if got, err := e.svc.ClaimCustomer(as(southSeller), north.ID); err != nil || got.OwnerID != southSeller.ID || got.Team != "north" {
		t.Fatalf("with the rule off: %+v, %v; want the claim, the team kept", got, err)
	}
}

// The person responsible can hand the records over at any time (seed 001:
// 「负责人可以随时移交」): an owner hands a customer to a colleague of its
// team, with why, and its open cases go along; the profile keeps the
// latest change of hands, whoever decided it.
func TestOwnerHandsACustomerToAColleagueWithAReason(t *testing.T) {
	e, _ := poolEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Handed Ltd", Team: "north", OwnerID: &owner})
	cs := mustOpenCase(t, e, admin, c.ID, "")
	moved := []crm.CaseMove{{To: crm.CaseTriaged}, {To: crm.CaseAssigned, AssignTo: sales1.ID}}
	for _, m := range moved {
		next, err := e.svc.MoveCase(as(admin), c.ID, cs.ID, cs.Version, m)
		if err != nil {
			t.Fatal(err)
		}
		cs = next
	}
	c = mustCustomer(t, e, c.ID)
	stale := c.Version - 1
	refusals := []struct {
		name, to, reason string
		by               *crm.User
		version          *int
		code, field      string
	}{
		{"NoReason", sales2.ID, "  ", sales1, nil, crm.EINVALID, "input.reason"},
		{"UnknownColleague", "sales-nobody", "moving on", sales1, nil, crm.EINVALID, "input.toUserId"},
		{"ColleagueOfAnotherTeam", "sales-south", "moving on", sales1, nil, crm.EINVALID, "input.toUserId"},
		{"NotTheOwner", sales1.ID, "taking it", sales2, nil, crm.ENOTFOUND, ""},
		{"AlreadyTheirs", sales1.ID, "moving on", sales1, nil, crm.ECONFLICT, ""},
		{"StaleVersion", sales2.ID, "moving on", sales1, &stale, crm.ECONFLICT, ""},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.svc.HandOverCustomer(as(tt.by), c.ID, tt.to, tt.reason, tt.version)
			var ce *crm.Error
			if code(err) != tt.code || (tt.field != "" && (!asErr(err, &ce) || ce.Field != tt.field)) {
				t.Fatalf("handed over: %+v, %v; want %s %s", got, err, tt.code, tt.field)
			}
		})
	}
	got, err := e.svc.HandOverCustomer(as(sales1), c.ID, sales2.ID, " Speaks the customer's dialect ", &c.Version)
	if err != nil {
		t.Fatal(err)
	}
	h := got.LastHandover
	if got.OwnerID != sales2.ID || h == nil || h.From != sales1.ID || h.To != sales2.ID || h.By != sales1.ID ||
		h.Reason != "Speaks the customer's dialect" || !h.At.Equal(got.UpdatedAt) {
		t.Fatalf("handed over: owner %s, last handover %+v", got.OwnerID, h)
	}
	if stored := mustCustomer(t, e, c.ID); stored.LastHandover == nil || *stored.LastHandover != *h {
		t.Fatalf("stored last handover %+v, want %+v", stored.LastHandover, h)
	}
	if next, err := e.store.Case(as(admin), c.ID, cs.ID); err != nil || next.AssignedTo != sales2.ID {
		t.Fatalf("the open case after the handover: %+v, %v; want it assigned to sales-2", next, err)
	}

	// Given back to the pool, with why; a claim not yet followed up is
	// not handed on.
	back, err := e.svc.ReleaseCustomer(as(sales2), c.ID, "no budget this year")
	if err != nil || !back.InPool() || back.LastHandover.From != sales2.ID || back.LastHandover.To != "" ||
		back.LastHandover.Reason != "no budget this year" {
		t.Fatalf("released: %+v, %v", back, err)
	}
	claimed, err := e.svc.ClaimCustomer(as(sales1), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.HandOverCustomer(as(sales1), c.ID, sales2.ID, "too busy", nil); code(err) != crm.ECONFLICT {
		t.Fatalf("handing on a fresh claim: %v, want CONFLICT", err)
	}
	if claimed.LastHandover.Reason != "no budget this year" {
		t.Fatalf("a claim is no handover: last handover %+v", claimed.LastHandover)
	}
}
