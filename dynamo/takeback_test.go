package dynamo_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
)

// The pool takes back what an owner neglects, by the rules of the
// customer's grade in the default policy (C: nobody in touch for 45 days or
// no deal for 180; F: 45 and 90), as Chinese CRMs run their public pool.
// The owner is warned three days ahead, once per deadline; being in touch
// moves the deadline, even a call the stream has not applied yet; O, A, B
// and V never go to the pool (O customers are the account staff's: 「O级
// 是老客户」, seed 000), and a claim not yet followed up is left to the
// claim's own expiry.
func TestPoolTakesBackNeglectedCustomersByTheirGradesRulesAfterAWarning(t *testing.T) {
	e, clk := poolEnv(t)
	published := publishTo(t, e.consumer.Consumer)
	owner := sales1.ID
	const day = 24 * time.Hour
	owned := func(name, grade string) *crm.Customer {
		return mustCreate(t, e, admin, crm.CustomerInput{Name: name, OwnerID: &owner, Team: "north", Region: "north", Grade: grade})
	}
	quiet := owned("Quiet Castings", "C")
	saved := owned("Saved Stamping", "C")
	chatty := owned("Chatty Fasteners", "F")
	key := owned("Key Account Steel", "O")
	claimed := mustPooled(t, e, "Claimed Moulds", "G")
	if _, err := e.svc.ClaimCustomer(as(sales1), claimed.ID); err != nil {
		t.Fatal(err)
	}
	start := clk.Now()

	poolReturn := func(id string) *crm.PoolReturn {
		t.Helper()
		pr, err := e.svc.PoolReturnOf(as(sales1), mustCustomer(t, e, id))
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	run := func(step string, wantReturned, wantWarned []string) {
		t.Helper()
		r, err := e.svc.RunTakeBack(as(admin))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(r.Returned)
		slices.Sort(r.Warned)
		slices.Sort(wantReturned)
		slices.Sort(wantWarned)
		if !slices.Equal(r.Returned, wantReturned) || !slices.Equal(r.Warned, wantWarned) {
			t.Fatalf("%s: returned %v warned %v, want returned %v warned %v", step, r.Returned, r.Warned, wantReturned, wantWarned)
		}
	}
	call := func(c *crm.Customer) {
		t.Helper()
		mustLog(t, e, sales1, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeCall, Channel: crm.ChannelPhone})
	}

	// Who the rules do not touch.
	if pr := poolReturn(key.ID); pr != nil {
		t.Fatalf("an O customer has a take-back deadline: %+v", pr)
	}
	if pr := poolReturn(claimed.ID); pr != nil {
		t.Fatalf("a claim not yet followed up has a take-back deadline: %+v", pr)
	}
	if _, err := e.svc.ReleaseCustomer(as(sales1), key.ID, "too much work"); code(err) != crm.EFORBIDDEN {
		t.Fatalf("releasing an O customer to the pool: %v, want FORBIDDEN", err)
	}
	if _, err := e.svc.AssignCustomer(as(admin), key.ID, "", "clean-up"); code(err) != crm.EFORBIDDEN {
		t.Fatalf("assigning an O customer to the pool: %v, want FORBIDDEN", err)
	}
	pr := poolReturn(quiet.ID)
	if pr == nil || pr.Rule != crm.RuleNoContact || !pr.DueAt.Equal(quiet.CreatedAt.Add(45*day)) || pr.WarnedAt != nil {
		t.Fatalf("a C customer never contacted: %+v, want NO_CONTACT due 45 days after its creation", pr)
	}

	// Day 30: the F customer is called (its no-contact clock restarts;
	// the no-deal one does not). Day 41: nothing is due within 3 days.
	clk.Advance(30 * day)
	call(chatty)
	e.drain(t)
	clk.Advance(11 * day)
	run("day 41", nil, nil)

	// Day 42: the two quiet C customers are due on day 45: warned, once.
	clk.Advance(day + time.Hour)
	run("day 42", nil, []string{quiet.ID, saved.ID})
	run("day 42 again", nil, nil)
	if pr := poolReturn(quiet.ID); pr == nil || pr.WarnedAt == nil {
		t.Fatalf("the warning does not show: %+v", pr)
	}
	// The owner's inbox tells of each warning, once.
	warnings := func(step string, want ...*crm.Customer) {
		t.Helper()
		e.drain(t)
		var got, ids []string
		for _, n := range inbox(t, e, sales1, false) {
			if n.Kind == crm.NoticePoolReturnDue {
				got = append(got, n.CustomerID)
				if c := mustCustomer(t, e, n.CustomerID); n.DueAt == nil || n.Actor != crm.SystemUserID ||
					(c.PoolWarning != nil && !n.DueAt.Equal(c.PoolWarning.DueAt)) || !strings.Contains(n.Message, "goes back to the pool") {
					t.Fatalf("%s: the warning %+v", step, n)
				}
			}
		}
		for _, c := range want {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(sorted(got), sorted(ids)) {
			t.Fatalf("%s: take-back warnings in the owner's inbox for %v, want %v", step, got, ids)
		}
	}
	warnings("day 42", quiet, saved)

	// Day 43: the owner calls one of them; the stream has not applied
	// the call when the job runs on day 45.
	clk.Advance(day)
	call(saved)
	clk.Advance(2 * day)
	run("day 45", []string{quiet.ID}, nil)
	got := mustCustomer(t, e, quiet.ID)
	if !got.InPool() || got.LastHolder != owner || got.LastHandover == nil || got.LastHandover.By != crm.SystemUserID ||
		!strings.Contains(got.LastHandover.Reason, "grade C take-back rule: nobody in touch for 45 days") || got.PoolWarning != nil {
		t.Fatalf("the neglected customer was not returned with the rule as reason: %+v", got)
	}
	e.drain(t)
	if pr := poolReturn(saved.ID); pr == nil || pr.WarnedAt != nil || !pr.DueAt.After(clk.Now().Add(40*day)) {
		t.Fatalf("the call did not move the deadline or the old warning still shows: %+v", pr)
	}
	if got := mustCustomer(t, e, saved.ID); got.OwnerID != owner {
		t.Fatalf("a customer called in time lost its owner")
	}

	// The F customer is called every few weeks but never buys: its
	// no-deal rule (90 days since it was taken on) comes first.
	clk.Advance(15 * day) // day 60
	call(chatty)
	clk.Advance(25 * day) // day 85: the C customer called on day 43 is called again
	call(chatty)
	call(saved)
	e.drain(t)
	pr = poolReturn(chatty.ID)
	if pr == nil || pr.Rule != crm.RuleNoDeal || !pr.DueAt.Equal(chatty.CreatedAt.Add(90*day)) {
		t.Fatalf("an F customer called often without a deal: %+v, want NO_DEAL due 90 days after its creation", pr)
	}
	clk.Advance(2 * day) // day 87: warned
	run("day 87", nil, []string{chatty.ID})
	run("day 87 again", nil, nil)
	warnings("day 87", quiet, saved, chatty)
	clk.Advance(3 * day) // day 90
	run("day 90", []string{chatty.ID}, nil)
	warnings("day 90: a return tells nothing new", quiet, saved, chatty)
	// Each warning is also its domain event, once, naming the rule.
	rules := map[string]string{}
	for _, ev := range mustEvents(t, published) {
		if ev.Type == events.CustomerPoolReturnDue {
			if _, twice := rules[ev.Subject]; twice || ev.Data.DueAt == nil || ev.Data.Owner == nil || ev.Data.Owner.To != owner {
				t.Fatalf("take-back warning event %+v", ev)
			}
			rules[ev.Subject] = ev.Data.Kind
		}
	}
	if want := map[string]string{quiet.ID: crm.RuleNoContact, saved.ID: crm.RuleNoContact, chatty.ID: crm.RuleNoDeal}; !maps.Equal(rules, want) {
		t.Fatalf("take-back warning events %v, want %v", rules, want)
	}
	if got := mustCustomer(t, e, chatty.ID); !got.InPool() || !strings.Contains(got.LastHandover.Reason, "no deal for 90 days") {
		t.Fatalf("the F customer without a deal was not returned by its rule: %+v", got.LastHandover)
	}
	for _, c := range []*crm.Customer{key, claimed, saved} {
		if got := mustCustomer(t, e, c.ID); got.OwnerID != owner {
			t.Fatalf("%s lost its owner after %v", c.Name, clk.Now().Sub(start))
		}
	}
}

// The grading policy decides which levels sit in the pool and what each
// takes back; a rule on a level kept out of the pool is refused, naming
// the field, and a level kept out refuses its customers the pool.
func TestPoolRulesAreTheGradingPolicys(t *testing.T) {
	e, _ := poolEnv(t)
	p, err := e.svc.GradingPolicy(as(admin))
	if err != nil {
		t.Fatal(err)
	}
	in := crm.GradingPolicyInput{Levels: slices.Clone(p.Levels), Rules: p.Rules, Value: p.Value, Tiers: p.Tiers,
		ManualHoldDays: p.ManualHoldDays, StrongIndustries: p.StrongIndustries}
	o := slices.IndexFunc(in.Levels, func(l crm.GradeLevel) bool { return l.Code == "O" })
	in.Levels[o].TakeBackWithoutContact = 30 * 24 * time.Hour
	_, err = e.svc.UpdateGradingPolicy(as(admin), in, p.Version)
	if ce, ok := err.(*crm.Error); !ok || ce.Code != crm.EINVALID || ce.Field != "input.levels[5].takeBackWithoutContactDays" {
		t.Fatalf("a take-back rule on a level kept out of the pool: %v, want BAD_USER_INPUT on input.levels[5].takeBackWithoutContactDays", err)
	}

	// Letting O into the pool with a rule: the owner may now give one back.
	in.Levels[o].KeepOutOfPool = false
	if _, err := e.svc.UpdateGradingPolicy(as(admin), in, p.Version); err != nil {
		t.Fatal(err)
	}
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Old Friend Ltd", OwnerID: &owner, Team: "north", Region: "north", Grade: "O"})
	pr, err := e.svc.PoolReturnOf(as(sales1), c)
	if err != nil || pr == nil || pr.Rule != crm.RuleNoContact {
		t.Fatalf("O with a 30-day rule: %+v, %v", pr, err)
	}
	if _, err := e.svc.ReleaseCustomer(as(sales1), c.ID, "moving to key accounts"); err != nil {
		t.Fatalf("release once O may sit in the pool: %v", err)
	}
}

// A pool customer regraded into a level the policy keeps out of the pool
// (an O, by a deal logged on it while nobody owned it) does not stay
// there: the daily run hands it to its team's manager, with why, once.
func TestAPoolCustomerRegradedOutOfThePoolGoesToTheTeamsManager(t *testing.T) {
	e, _ := poolEnv(t)
	nobody := ""
	buyer := mustCreate(t, e, admin, crm.CustomerInput{Name: "Walk-in Buyer Ltd", OwnerID: &nobody, Region: "north", Team: "north"})
	waiting := mustCreate(t, e, admin, crm.CustomerInput{Name: "Never Called Ltd", OwnerID: &nobody, Region: "north", Team: "north"})
	amount := 12000.0
	mustLog(t, e, admin, crm.InteractionInput{CustomerID: buyer.ID, Type: crm.TypeTransaction, Channel: crm.ChannelVisit,
		Amount: &amount, Currency: "CNY"})
	e.drain(t)
	if got := mustCustomer(t, e, buyer.ID); got.Grade.Level != "O" || !got.InPool() {
		t.Fatalf("the pool customer that bought: grade %s, in the pool %v; want an O still in the pool", got.Grade.Level, got.InPool())
	}
	for _, step := range []struct {
		name string
		want []string
	}{{"first run", []string{buyer.ID}}, {"run again", nil}} {
		r, err := e.svc.RunTakeBack(as(admin))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Placed, step.want) {
			t.Fatalf("%s: placed %v, want %v", step.name, r.Placed, step.want)
		}
	}
	got := mustCustomer(t, e, buyer.ID)
	if got.OwnerID != manager.ID || got.LastHandover == nil || got.LastHandover.By != crm.SystemUserID ||
		!strings.Contains(got.LastHandover.Reason, "grade O (Existing customer) is kept out of the pool") {
		t.Fatalf("the O customer was not handed to the team's manager with why: owner %q, %+v", got.OwnerID, got.LastHandover)
	}
	if got := mustCustomer(t, e, waiting.ID); !got.InPool() {
		t.Fatalf("a G customer left the pool: owner %q", got.OwnerID)
	}
}
