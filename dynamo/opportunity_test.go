package dynamo_test

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

func mustDeal(t *testing.T, e *env, u *crm.User, in crm.OpportunityInput) *crm.Opportunity {
	t.Helper()
	if in.ExpectedClose.IsZero() {
		in.ExpectedClose = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	}
	o, err := e.svc.CreateOpportunity(as(u), in)
	if err != nil {
		t.Fatalf("open %q: %v", in.Title, err)
	}
	return o
}

func mustMove(t *testing.T, e *env, u *crm.User, o *crm.Opportunity, in crm.OpportunityMoveInput) *crm.Opportunity {
	t.Helper()
	next, err := e.svc.MoveOpportunity(as(u), crm.OpportunityKey{CustomerID: o.CustomerID, ID: o.ID}, o.Version, in)
	if err != nil {
		t.Fatalf("move %q to %s: %v", o.Title, in.Stage, err)
	}
	return next
}

func mustPipeline(t *testing.T, e *env, u *crm.User, q crm.PipelineQuery) *crm.PipelineFigures {
	t.Helper()
	f, err := e.svc.PipelineAnalytics(as(u), q)
	if err != nil {
		t.Fatalf("pipeline %+v as %s: %v", q, u.ID, err)
	}
	return f
}

// stageLine writes a stage's figures as "count CUR amount/weighted …".
func stageLine(s crm.StageFigures) string {
	parts := []string{strconv.Itoa(s.Count)}
	for _, a := range s.Amounts {
		parts = append(parts, a.Currency+" "+a.Amount.String()+"/"+a.Weighted.String())
	}
	return strings.Join(parts, " ")
}

func pipelineLines(f *crm.PipelineFigures) map[string]string {
	out := map[string]string{"open": stageLine(f.Open)}
	for _, s := range f.Stages {
		out[s.Stage] = stageLine(s)
	}
	return out
}

// TestOpportunityThroughThePipelineToWon runs deals of two salespeople of
// one team through the stages, one to WON and one to LOST, and checks the
// customer's first deal making it O and the pipeline's figures against
// hand-computed values.
func TestOpportunityThroughThePipelineToWon(t *testing.T) {
	e, clk := poolEnv(t)
	sales1Owner, sales2Owner := sales1.ID, sales2.ID
	acme := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery", OwnerID: &sales1Owner, Team: "north", Industry: "Manufacturing"})
	fjord := mustCreate(t, e, admin, crm.CustomerInput{Name: "Fjord Logistics", OwnerID: &sales2Owner, Team: "north", Industry: "Manufacturing"})
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: acme.ID, Type: crm.TypeCall, Subject: "Needs a new line"})
	if got := mustCustomer(t, e, acme.ID); got.Grade.Level == "O" {
		t.Fatalf("before any deal the customer is already O: %+v", got.Grade)
	}

	clk.Advance(time.Hour)
	line := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: acme.ID, Title: "Line automation", Amount: "120000",
		ExpectedClose: time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC), IdempotencyKey: "open-line-automation"})
	if line.Stage != "QUALIFY" || line.OwnerID != sales1.ID || line.Team != "north" || line.Currency != "CNY" || line.Amount.String() != "120000.00" {
		t.Fatalf("new deal %+v: want QUALIFY, owned by sales-1 in north, 120000.00 CNY", line)
	}
	again := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: acme.ID, Title: "Line automation", Amount: "120000",
		ExpectedClose: time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC), IdempotencyKey: "open-line-automation"})
	if again.ID != line.ID {
		t.Fatalf("a retried create opened %s, want the first deal %s", again.ID, line.ID)
	}
	mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: acme.ID, Title: "Spare parts", Amount: "8000.5", Stage: "PROPOSAL",
		ExpectedClose: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
	service := mustDeal(t, e, sales2, crm.OpportunityInput{CustomerID: fjord.ID, Title: "Service contract", Amount: "45000", Stage: "NEGOTIATION"})
	mustDeal(t, e, sales2, crm.OpportunityInput{CustomerID: fjord.ID, Title: "Pilot", Amount: "20000"})
	mustDeal(t, e, sales2, crm.OpportunityInput{CustomerID: fjord.ID, Title: "Export lane", Amount: "3333.33", Currency: "USD",
		Stage: "NEEDS_ANALYSIS"})

	// The owner's open deals, soonest expected close first.
	open, err := e.svc.OpenOpportunities(as(sales1), "", crm.PageRequest{First: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := dealTitles(open.Items); !slices.Equal(got, []string{"Spare parts", "Line automation"}) {
		t.Fatalf("sales-1's open deals %v, want Spare parts (1 April) before Line automation (15 May)", got)
	}

	for _, stage := range []string{"NEEDS_ANALYSIS", "PROPOSAL", "NEGOTIATION", "WON"} {
		clk.Advance(24 * time.Hour)
		line = mustMove(t, e, sales1, line, crm.OpportunityMoveInput{Stage: stage})
	}
	var moves []string
	for _, m := range line.History {
		moves = append(moves, m.From+">"+m.To+" by "+m.By)
	}
	if want := []string{">QUALIFY by sales-1", "QUALIFY>NEEDS_ANALYSIS by sales-1", "NEEDS_ANALYSIS>PROPOSAL by sales-1",
		"PROPOSAL>NEGOTIATION by sales-1", "NEGOTIATION>WON by sales-1"}; !slices.Equal(moves, want) {
		t.Fatalf("stage history %v, want %v", moves, want)
	}
	if line.ClosedAt == nil || !line.ClosedAt.Equal(clk.Now()) || !line.History[4].At.Equal(clk.Now()) {
		t.Fatalf("won at %v (history %v), want the clock's %v", line.ClosedAt, line.History[4].At, clk.Now())
	}

	// The first deal makes the customer O, by the grading policy's rule.
	got := mustCustomer(t, e, acme.ID)
	if got.Grade.Level != "O" || got.Grade.Rule != "existing-customer" || !strings.Contains(got.Grade.Reason, "transactionCount") ||
		got.Transactions.Count != 1 || got.Transactions.Total != 120000 {
		t.Fatalf("after the won deal: grade %+v, transactions %+v; want O by existing-customer from one deal of 120000", got.Grade, got.Transactions)
	}
	if _, err := e.svc.MoveOpportunity(as(sales1), crm.OpportunityKey{CustomerID: acme.ID, ID: line.ID}, line.Version,
		crm.OpportunityMoveInput{Stage: "PROPOSAL"}); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("moving a won deal: %v, want BAD_USER_INPUT", err)
	}

	// LOST without a reason is refused, naming the field; with one it closes.
	svcKey := crm.OpportunityKey{CustomerID: fjord.ID, ID: service.ID}
	_, err = e.svc.MoveOpportunity(as(sales2), svcKey, service.Version, crm.OpportunityMoveInput{Stage: "LOST", LossNote: "went elsewhere"})
	if e, ok := err.(*crm.Error); !ok || e.Code != crm.EINVALID || e.Field != "input.lossReason" {
		t.Fatalf("LOST without a reason: %v, want BAD_USER_INPUT on input.lossReason", err)
	}
	service = mustMove(t, e, sales2, service, crm.OpportunityMoveInput{Stage: "LOST", LossReason: crm.LossPrice,
		LossNote: "A competitor quoted 15% less"})

	// Hand-computed: open deals in north are Pilot (QUALIFY, 20000 CNY,
	// 10%: 2000), Export lane (NEEDS_ANALYSIS, 3333.33 USD, 25%: 833.3325
	// rounds to 833.33) and Spare parts (PROPOSAL, 8000.50 CNY, 50%:
	// 4000.25); one deal won of 120000, one lost of 45000 on price.
	north := mustPipeline(t, e, manager, crm.PipelineQuery{Team: "north"})
	want := map[string]string{
		"QUALIFY": "1 CNY 20000.00/2000.00", "NEEDS_ANALYSIS": "1 USD 3333.33/833.33", "PROPOSAL": "1 CNY 8000.50/4000.25",
		"NEGOTIATION": "0", "open": "3 CNY 28000.50/6000.25 USD 3333.33/833.33",
	}
	if got := pipelineLines(north); !mapsEqual(got, want) {
		t.Fatalf("north's pipeline %v, want %v", got, want)
	}
	if north.Won != 1 || north.Lost != 1 || *north.WinRate() != 0.5 || north.LossReasons[crm.LossPrice] != 1 ||
		len(north.WonAmounts) != 1 || north.WonAmounts[0].Amount.String() != "120000.00" || north.LostAmounts[0].Amount.String() != "45000.00" {
		t.Fatalf("north closed won %d lost %d (%v, %v), reasons %v; want 1 won of 120000.00, 1 lost of 45000.00 on PRICE", north.Won, north.Lost,
			north.WonAmounts, north.LostAmounts, north.LossReasons)
	}
	mine := mustPipeline(t, e, sales1, crm.PipelineQuery{})
	if got := pipelineLines(mine); got["open"] != "1 CNY 8000.50/4000.25" || mine.Won != 1 || mine.Lost != 0 || *mine.WinRate() != 1 {
		t.Fatalf("sales-1's own pipeline %v, won %d lost %d; want Spare parts open and one deal won", got, mine.Won, mine.Lost)
	}
	everything := mustPipeline(t, e, admin, crm.PipelineQuery{})
	if got := pipelineLines(everything); !mapsEqual(got, want) {
		t.Fatalf("everything's pipeline %v, want north's %v", got, want)
	}

	open, err = e.svc.OpenOpportunities(as(sales1), "", crm.PageRequest{First: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := dealTitles(open.Items); !slices.Equal(got, []string{"Spare parts"}) {
		t.Fatalf("sales-1's open deals after the win %v, want only Spare parts", got)
	}
	deals, err := e.svc.CustomerOpportunities(as(manager), acme.ID, crm.PageRequest{First: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := dealTitles(deals.Items); !slices.Equal(got, []string{"Spare parts", "Line automation"}) {
		t.Fatalf("Acme's deals %v, want both, newest first", got)
	}
	audit, err := e.svc.AuditLog(as(admin), crm.AuditFilter{CustomerID: fjord.ID}, crm.PageRequest{First: 20})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(audit.Items, func(a *crm.AuditEntry) bool {
		return slices.ContainsFunc(a.Changes, func(c crm.AuditChange) bool {
			return c.Entity == "opportunity" && c.ID == service.ID && c.Action == crm.AuditUpdate &&
				slices.ContainsFunc(c.Fields, func(f crm.FieldChange) bool { return f.Name == "stage" && f.After == `"LOST"` })
		})
	}) {
		t.Fatalf("no audit entry records the Service contract's move to LOST")
	}
	mustHoldInvariants(t, e)
}

func dealTitles(os []*crm.Opportunity) []string {
	var out []string
	for _, o := range os {
		out = append(out, o.Title)
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestConcurrentStageMovesOneWinsOneConflicts has two people move the same
// deal at once from the version they both read: one move is recorded, the
// other is a CONFLICT, and the counters hold the deal once.
func TestConcurrentStageMovesOneWinsOneConflicts(t *testing.T) {
	e, _ := poolEnv(t)
	owner := "sales-south"
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Harbour Tools", OwnerID: &owner, Team: "south"})
	deal := mustDeal(t, e, managerSouth, crm.OpportunityInput{CustomerID: c.ID, Title: "Dock cranes", Amount: "500000", OwnerID: owner})
	k := crm.OpportunityKey{CustomerID: c.ID, ID: deal.ID}
	targets := []string{"NEEDS_ANALYSIS", "PROPOSAL"}
	errs := make([]error, len(targets))
	var start, done sync.WaitGroup
	start.Add(1)
	for i, stage := range targets {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			_, errs[i] = e.svc.MoveOpportunity(as(managerSouth), k, deal.Version, crm.OpportunityMoveInput{Stage: stage})
		}()
	}
	start.Done()
	done.Wait()
	won := -1
	for i, err := range errs {
		switch crm.ErrorCode(err) {
		case "":
			if won >= 0 {
				t.Fatalf("both moves from version %d succeeded", deal.Version)
			}
			won = i
		case crm.ECONFLICT:
		default:
			t.Fatalf("move to %s: %v, want success or CONFLICT", targets[i], err)
		}
	}
	if won < 0 {
		t.Fatalf("neither move succeeded: %v", errs)
	}
	got, err := e.svc.Opportunity(as(admin), k)
	if err != nil {
		t.Fatal(err)
	}
	if got.Stage != targets[won] || got.Version != 2 || len(got.History) != 2 {
		t.Fatalf("after the race: %s v%d with %d moves, want %s v2 with 2", got.Stage, got.Version, len(got.History), targets[won])
	}
	f := mustPipeline(t, e, managerSouth, crm.PipelineQuery{Team: "south"})
	if f.Open.Count != 1 || pipelineLines(f)[targets[won]] != "1 CNY 500000.00/"+crm.Money(50000000).Weighted(map[string]int{"NEEDS_ANALYSIS": 25, "PROPOSAL": 50}[targets[won]]).String() {
		t.Fatalf("south's pipeline after the race %v, want the deal once, in %s", pipelineLines(f), targets[won])
	}
	mustHoldInvariants(t, e)
}

// TestPipelineAccess checks who may open, read and move deals and read
// pipelines: partners nothing, salespeople their own, managers their
// teams'.
func TestPipelineAccess(t *testing.T) {
	e, _ := poolEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery", OwnerID: &owner, Team: "north"})
	deal := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: c.ID, Title: "Line automation", Amount: "1000"})
	k := crm.OpportunityKey{CustomerID: c.ID, ID: deal.ID}
	tests := []struct {
		name string
		u    *crm.User
		call func(*crm.User) error
		want string
	}{
		{"PartnerCannotRead", partnerUser, func(u *crm.User) error { _, err := e.svc.Opportunity(as(u), k); return err }, crm.EFORBIDDEN},
		{"PartnerCannotReadPipeline", partnerUser, func(u *crm.User) error { _, err := e.svc.PipelineAnalytics(as(u), crm.PipelineQuery{}); return err }, crm.EFORBIDDEN},
		{"PartnerCannotOpen", partnerUser, func(u *crm.User) error {
			_, err := e.svc.CreateOpportunity(as(u), crm.OpportunityInput{CustomerID: c.ID, Title: "x", Amount: "1", ExpectedClose: time.Now()})
			return err
		}, crm.EFORBIDDEN},
		{"OtherSalesCannotSee", sales2, func(u *crm.User) error { _, err := e.svc.Opportunity(as(u), k); return err }, crm.ENOTFOUND},
		{"OtherTeamsManagerCannotSee", managerSouth, func(u *crm.User) error { _, err := e.svc.Opportunity(as(u), k); return err }, crm.ENOTFOUND},
		{"ServiceReadsTheTeams", serviceUser, func(u *crm.User) error { _, err := e.svc.Opportunity(as(u), k); return err }, ""},
		{"ServiceCannotMove", serviceUser, func(u *crm.User) error {
			_, err := e.svc.MoveOpportunity(as(u), k, deal.Version, crm.OpportunityMoveInput{Stage: "PROPOSAL"})
			return err
		}, crm.EFORBIDDEN},
		{"AuditorCannotMove", auditorUser, func(u *crm.User) error {
			_, err := e.svc.MoveOpportunity(as(u), k, deal.Version, crm.OpportunityMoveInput{Stage: "PROPOSAL"})
			return err
		}, crm.EFORBIDDEN},
		{"StaleVersionConflicts", sales1, func(u *crm.User) error {
			_, err := e.svc.MoveOpportunity(as(u), k, deal.Version+1, crm.OpportunityMoveInput{Stage: "PROPOSAL"})
			return err
		}, crm.ECONFLICT},
		{"SalesCannotReadTheTeamsPipeline", sales1, func(u *crm.User) error {
			_, err := e.svc.PipelineAnalytics(as(u), crm.PipelineQuery{Team: "north"})
			return err
		}, crm.EFORBIDDEN},
		{"ManagerCannotReadAnotherTeam", managerSouth, func(u *crm.User) error {
			_, err := e.svc.PipelineAnalytics(as(u), crm.PipelineQuery{Team: "north"})
			return err
		}, crm.EFORBIDDEN},
		{"SalesCannotGiveTheDealAway", sales1, func(u *crm.User) error {
			other := sales2.ID
			_, err := e.svc.UpdateOpportunity(as(u), k, deal.Version, crm.OpportunityUpdate{OwnerID: &other})
			return err
		}, crm.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := crm.ErrorCode(tt.call(tt.u)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestOpportunityInputIsChecked refuses bad input naming the field.
func TestOpportunityInputIsChecked(t *testing.T) {
	e, _ := poolEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery", OwnerID: &owner, Team: "north"})
	closeOn := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		in    crm.OpportunityInput
		field string
	}{
		{"ErrAmountNotDecimal", crm.OpportunityInput{Title: "x", Amount: "1e5"}, "input.amount"},
		{"ErrAmountThreeDecimals", crm.OpportunityInput{Title: "x", Amount: "10.005"}, "input.amount"},
		{"ErrAmountNegative", crm.OpportunityInput{Title: "x", Amount: "-10"}, "input.amount"},
		{"ErrCurrency", crm.OpportunityInput{Title: "x", Amount: "10", Currency: "yuan"}, "input.currency"},
		{"ErrTitleRequired", crm.OpportunityInput{Title: "  ", Amount: "10"}, "input.title"},
		{"ErrClosedStage", crm.OpportunityInput{Title: "x", Amount: "10", Stage: "WON"}, "input.stage"},
		{"ErrUnknownStage", crm.OpportunityInput{Title: "x", Amount: "10", Stage: "DREAMING"}, "input.stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.CustomerID, tt.in.ExpectedClose = c.ID, closeOn
			_, err := e.svc.CreateOpportunity(as(sales1), tt.in)
			if e, ok := err.(*crm.Error); !ok || e.Code != crm.EINVALID || e.Field != tt.field {
				t.Fatalf("got %v, want BAD_USER_INPUT on %s", err, tt.field)
			}
		})
	}
}

// TestMergeMovesTheDealsToTheSurvivor: a merged customer's deals move with
// its history, open ones still listed for their owner, and the pipeline
// counts each once.
func TestMergeMovesTheDealsToTheSurvivor(t *testing.T) {
	e, _ := poolEnv(t)
	owner := sales1.ID
	sv := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery", OwnerID: &owner, Team: "north"})
	m := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery Co", OwnerID: &owner, Team: "north"})
	deal := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: m.ID, Title: "Line automation", Amount: "120000"})
	e.drain(t)
	sv, m = mustCustomer(t, e, sv.ID), mustCustomer(t, e, m.ID)
	mustMerge(t, e, admin, sv, m)

	moved, err := e.svc.Opportunity(as(sales1), crm.OpportunityKey{CustomerID: sv.ID, ID: deal.ID})
	if err != nil || moved.CustomerID != sv.ID || moved.Version != deal.Version {
		t.Fatalf("the deal under the survivor: %+v, %v; want it moved as it was", moved, err)
	}
	if _, err := e.svc.Opportunity(as(sales1), crm.OpportunityKey{CustomerID: m.ID, ID: deal.ID}); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("the deal under the merged customer: %v, want NOT_FOUND", err)
	}
	open, err := e.svc.OpenOpportunities(as(sales1), "", crm.PageRequest{First: 10})
	if err != nil || len(open.Items) != 1 || open.Items[0].CustomerID != sv.ID {
		t.Fatalf("sales-1's open deals after the merge: %v (%v), want the one deal, on the survivor", dealTitles(open.Items), err)
	}
	if _, err := e.svc.MoveOpportunity(as(sales1), crm.OpportunityKey{CustomerID: sv.ID, ID: deal.ID}, moved.Version,
		crm.OpportunityMoveInput{Stage: "PROPOSAL"}); err != nil {
		t.Fatalf("moving the moved deal: %v", err)
	}
	if f := mustPipeline(t, e, sales1, crm.PipelineQuery{}); f.Open.Count != 1 || pipelineLines(f)["PROPOSAL"] != "1 CNY 120000.00/60000.00" {
		t.Fatalf("sales-1's pipeline after the merge %v, want the deal once, in PROPOSAL", pipelineLines(f))
	}
	mustHoldInvariants(t, e)
}

// TestGivingADealAwayMovesItsCounters: a manager gives a deal to another
// salesperson; it leaves the first one's open list and pipeline for the
// second one's, and the team's figures hold it once, at its new amount.
func TestGivingADealAwayMovesItsCounters(t *testing.T) {
	e, _ := poolEnv(t)
	owner := "sales-south"
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Harbour Tools", OwnerID: &owner, Team: "south"})
	deal := mustDeal(t, e, managerSouth, crm.OpportunityInput{CustomerID: c.ID, Title: "Dock cranes", Amount: "500000", OwnerID: owner,
		Stage: "PROPOSAL"})
	to, amount := sales3.ID, "480000.50"
	got, err := e.svc.UpdateOpportunity(as(managerSouth), crm.OpportunityKey{CustomerID: c.ID, ID: deal.ID}, deal.Version,
		crm.OpportunityUpdate{OwnerID: &to, Amount: &amount})
	if err != nil {
		t.Fatal(err)
	}
	if got.OwnerID != to || got.Amount.String() != amount || got.Version != 2 {
		t.Fatalf("after the hand-over: %+v", got)
	}
	for _, tt := range []struct {
		q    crm.PipelineQuery
		want string
	}{
		{crm.PipelineQuery{OwnerID: owner}, "0"},
		{crm.PipelineQuery{OwnerID: to}, "1 CNY 480000.50/240000.25"},
		{crm.PipelineQuery{Team: "south"}, "1 CNY 480000.50/240000.25"},
	} {
		if got := pipelineLines(mustPipeline(t, e, admin, tt.q))["PROPOSAL"]; got != tt.want {
			t.Errorf("%+v: PROPOSAL %q, want %q", tt.q, got, tt.want)
		}
	}
	for who, want := range map[string]int{owner: 0, to: 1} {
		page, err := e.svc.OpenOpportunities(as(admin), who, crm.PageRequest{First: 10})
		if err != nil || len(page.Items) != want {
			t.Errorf("%s's open deals: %d (%v), want %d", who, len(page.Items), err, want)
		}
	}
	mustHoldInvariants(t, e)
}

// TestInvariantsCatchAPipelineCounterAdrift: the invariant check the
// pipeline tests end with does see a counter that disagrees with the deals.
func TestInvariantsCatchAPipelineCounterAdrift(t *testing.T) {
	e, _ := poolEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery", OwnerID: &owner, Team: "north"})
	mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: c.ID, Title: "Line automation", Amount: "1000"})
	if _, err := e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table,
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "PIPE#TEAM#north"}, "sk": &types.AttributeValueMemberS{Value: "PIPE"}},
		UpdateExpression:          aws.String("ADD #n :one"),
		ExpressionAttributeNames:  map[string]string{"#n": "n.QUALIFY"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
	}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	broken, err := dynamo.CheckInvariants(t.Context(), e.db, e.table)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(broken, func(b string) bool { return strings.Contains(b, "pipeline counters PIPE#TEAM#north") }) {
		t.Fatalf("invariants %v: the drifted team counter is not reported", broken)
	}
}
