// Package demo fills an empty Rapport with realistic demo data through the
// domain service, so every rule (validation, counters, unique claims) holds
// for it exactly as for real data.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// Users are the demo staff, as the demo seed registers them in the user
// directory (SeedDirectory); `make token USER_ID=sales-li` signs in as one,
// with their roles, teams and name as the directory holds them
// (cmd/devtoken).
var Users = []crm.User{
	{ID: "admin", Name: "Ada Admin", Email: "admin@example.test", Roles: []crm.Role{crm.RoleAdmin}},
	{ID: "manager-north", Name: "Wang Fang", Email: "manager-north@example.test", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"north"}},
	{ID: "manager-south", Name: "Chen Jie", Email: "manager-south@example.test", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"south"}},
	{ID: "sales-li", Name: "Li Wei", Email: "sales-li@example.test", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"north"}},
	{ID: "sales-zhao", Name: "Zhao Min", Email: "sales-zhao@example.test", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"north"}},
	{ID: "sales-liu", Name: "Liu Yang", Email: "sales-liu@example.test", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"south"}},
	{ID: "service-sun", Name: "Sun Lei", Email: "service-sun@example.test", Roles: []crm.Role{crm.RoleService}, Teams: []string{"north"}},
	{ID: "auditor", Name: "Audrey Auditor", Email: "auditor@example.test", Roles: []crm.Role{crm.RoleAuditor}},
}

var (
	orgWords   = []string{"Huaxin", "Jinlong", "Tianhe", "Donghai", "Xinghua", "Changjiang", "Hengtai", "Yuanda", "Boda", "Kaiyuan", "Ruifeng", "Zhongke"}
	orgKinds   = []string{"Power Supply", "Telecom", "Insurance Agency", "Machinery", "Logistics", "Retail", "Software", "Bank Branch", "Steel", "Textiles"}
	surnames   = []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu"}
	givenNames = []string{"Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan", "Jun", "Tao", "Xiu", "Hui"}
	industries = []string{"utilities", "telecom", "insurance", "manufacturing", "logistics", "retail", "software", "banking"}
	tags       = []string{"vip", "green-channel", "big-account", "renewal-due", "price-sensitive", "referral-source", "at-risk"}
	subjects   = map[crm.InteractionType][]string{
		crm.TypeCall:           {"Quarterly check-in", "Follow-up on quote", "Renewal reminder"},
		crm.TypeVisit:          {"On-site visit", "Equipment inspection"},
		crm.TypeNote:           {"Decision maker changed", "Budget cycle starts in Q3"},
		crm.TypeInquiry:        {"Asked about tariffs", "Asked for a product demo"},
		crm.TypeComplaint:      {"Billing error", "Late delivery", "Service outage"},
		crm.TypeFeedback:       {"Praised the engineer", "Suggested a portal feature"},
		crm.TypeServiceRequest: {"Change contract address", "Add a meter"},
		crm.TypeTransaction:    {"Annual contract signed", "Add-on purchase", "Equipment order"},
	}
)

// Options size the demo data.
type Options struct {
	Customers int // at least 200 for the demo
	Seed      uint64
	Now       time.Time
	// Settle, when set, waits until the table's stream has applied the
	// writes so far (the customers' activity, grades and counters), before
	// the scheduled run ranks them.
	Settle func(context.Context) error
}

// Seed creates templates, customers across every stage, contacts,
// interactions on several channels, transactions and evaluations. The
// grading policy grades them from that history, as it would real
// customers; one in nine is never contacted (G) and one in nine is outside
// the strong industries (V). A scheduled run then ranks them into value
// tiers.
func Seed(ctx context.Context, svc *crm.Service, o Options) error {
	adminCtx := crm.NewContextWithUser(ctx, &Users[0])
	// The customers' owners must be users of the directory.
	if err := SeedDirectory(ctx, svc); err != nil {
		return err
	}
	tpl, err := svc.CreateTemplate(adminCtx, crm.TemplateInput{
		Name:        "Customer relationship review",
		Description: "Satisfaction, loyalty and trust indicators after seed 000 and 001.",
		Indicators: []crm.Indicator{
			{Key: "service_satisfaction", Name: "Satisfaction with service", Dimension: crm.DimSatisfaction, Weight: 0.25, ScaleMin: 1, ScaleMax: 5},
			{Key: "repeat_purchase", Name: "Repeat purchases", Dimension: crm.DimLoyalty, Weight: 0.2, ScaleMin: 0, ScaleMax: 10},
			{Key: "competitor_attitude", Name: "Attitude to competitors", Dimension: crm.DimLoyalty, Weight: 0.15, ScaleMin: 1, ScaleMax: 5},
			{Key: "quality_tolerance", Name: "Tolerance of quality problems", Dimension: crm.DimTrust, Weight: 0.15, ScaleMin: 1, ScaleMax: 5},
			{Key: "recommend", Name: "Would recommend us (NPS)", Dimension: crm.DimSatisfaction, Weight: 0.25, ScaleMin: 0, ScaleMax: 10, NPS: true},
		},
	})
	if err != nil {
		return fmt.Errorf("seed template: %w", err)
	}
	if _, err := svc.CreateTemplate(adminCtx, crm.TemplateInput{
		Name: "Credit and value check",
		Indicators: []crm.Indicator{
			{Key: "payment_record", Name: "Payment record", Dimension: crm.DimCredit, Weight: 0.5, ScaleMin: 0, ScaleMax: 100},
			{Key: "growth_potential", Name: "Growth potential", Dimension: crm.DimValue, Weight: 0.5, ScaleMin: 1, ScaleMax: 5},
		},
	}); err != nil {
		return fmt.Errorf("seed template: %w", err)
	}

	// One writer: every customer write also bumps the shared list counters,
	// so parallel writers mostly wait on each other's transactions.
	for i := range o.Customers {
		if err := seedCustomer(adminCtx, svc, rand.New(rand.NewPCG(o.Seed, uint64(i))), i, tpl, o.Now); err != nil {
			return err
		}
	}
	if o.Settle != nil {
		if err := o.Settle(ctx); err != nil {
			return fmt.Errorf("seed: apply the stream: %w", err)
		}
	}
	if _, err := svc.RunGrading(adminCtx); err != nil {
		return fmt.Errorf("seed value tiers: %w", err)
	}
	return nil
}

// Each customer follows one of nine profiles (by its index modulo 9), so
// that the default grading policy's rules give the demo every level, as
// seed 000 means them: key accounts that buy (O), the largest companies in
// strong industries not yet buying (A) and large ones (B), fairly
// important prospects (C), potential customers (D, E), contacted but
// unclassified (F), never contacted (G) and one outside the strong
// industries (V).
const (
	keyAccount = iota
	keyTarget
	target
	largeProspect
	midProspect
	developing
	neverContacted
	contacted
	invalid
)

// keptOutOfPool are the profiles whose grades (O, A, B, V) the default
// grading policy keeps out of the pool: they always have an owner.
var keptOutOfPool = map[int]bool{keyAccount: true, keyTarget: true, target: true, invalid: true}

// strongIndustries are the demo's industries in the default policy's
// list; the others are outside it.
var strongIndustries = crm.DefaultStrongIndustries

// lostReasons are why the demo's lost customers were lost (seed 001:
// 「分析客戶流失原因」).
var lostReasons = []string{"Moved to a competitor's lower tariff", "Budget cut after a merger", "Unhappy with the response to an outage"}

func seedCustomer(adminCtx context.Context, svc *crm.Service, r *rand.Rand, i int, tpl *crm.Template, now time.Time) error {
	profile := i % 9
	owners := []string{"sales-li", "sales-zhao", "sales-liu", ""}
	if keptOutOfPool[profile] {
		owners = owners[:3] // the grading policy keeps their grades out of the pool
	}
	owner := owners[r.IntN(len(owners))]
	team, region := "north", "north"
	if owner == "sales-liu" || (owner == "" && r.IntN(2) == 0) {
		team, region = "south", "south"
	}
	in := crm.CustomerInput{
		Region: region, Team: team, OwnerID: &owner,
		Stage:    crm.Stages[i%len(crm.Stages)],
		Source:   crm.Sources[r.IntN(len(crm.Sources))],
		Industry: strongIndustries[r.IntN(len(strongIndustries))],
		Phones:   []string{fmt.Sprintf("+86 1%02d %04d %04d", 30+r.IntN(60), i, r.IntN(10000))},
		Tags:     []string{tags[r.IntN(len(tags))]},
	}
	switch profile {
	case keyAccount: // buyers come from any industry
		in.Industry = industries[r.IntN(len(industries))]
	case invalid:
		in.Industry = []string{"insurance", "retail", "banking", "software"}[r.IntN(4)]
	}
	wonBack := in.Stage == crm.StageWonBack
	if in.Stage == crm.StageLost || wonBack {
		// No customer is born WON_BACK: it is created LOST, with why, and
		// won back below.
		in.Stage, in.StageReason = crm.StageLost, lostReasons[r.IntN(len(lostReasons))]
	}
	revenue := map[int][2]float64{keyAccount: {5e7, 1e9}, keyTarget: {3e8, 1e9}, target: {5e7, 2.9e8}, largeProspect: {1e7, 4.9e7},
		midProspect: {2e6, 9e6}, developing: {1e5, 9e5}, invalid: {1e5, 9e5}}
	if span, ok := revenue[profile]; ok {
		in.Kind = crm.KindOrganization
		in.Name = fmt.Sprintf("%s %s Co., Ltd.", orgWords[r.IntN(len(orgWords))], orgKinds[r.IntN(len(orgKinds))])
		in.Emails = []string{fmt.Sprintf("contact%d@example.com.cn", i)}
		rev := float64(int(span[0]+r.Float64()*(span[1]-span[0]))/1000) * 1000
		in.AnnualRevenue = &rev
		in.Attributes = []crm.Attribute{{Key: "technical lead", Value: surnames[r.IntN(len(surnames))] + " " + givenNames[r.IntN(len(givenNames))]}}
	} else {
		in.Kind = crm.KindPerson
		in.Name = surnames[r.IntN(len(surnames))] + " " + givenNames[r.IntN(len(givenNames))]
		in.Emails = []string{fmt.Sprintf("customer%d@example.cn", i)}
	}
	c, err := svc.CreateCustomer(adminCtx, in)
	if err != nil {
		return fmt.Errorf("seed customer %d: %w", i, err)
	}
	if wonBack {
		if c, err = svc.ChangeStage(adminCtx, c.ID, crm.StageWonBack, "Came back for the new service package", nil); err != nil {
			return fmt.Errorf("seed customer %d: win back: %w", i, err)
		}
	}
	if err := seedHistory(adminCtx, svc, r, c, profile, tpl, now); err != nil {
		return fmt.Errorf("seed customer %d history: %w", i, err)
	}
	if err := seedDeals(adminCtx, svc, r, c, profile, now); err != nil {
		return fmt.Errorf("seed customer %d deals: %w", i, err)
	}
	return nil
}

// deal is one opportunity a profile's owned customers carry: its title,
// the range of its amount (whole hundreds of CNY) and where it stands.
type deal struct {
	title    string
	min, max int
	stages   []string // one is picked; WON and LOST close the deal
	lost     []crm.LossReason
}

// deals are the pipeline of each profile, in line with its history: key
// accounts (O) renewed their contract through the pipeline and are
// negotiating an expansion; the targets (A, B) are being worked; the
// larger prospects (C) are qualified or were lost on price or to a
// competitor, the smaller (D) lost for now. Prospects win nothing here:
// their first deal would make them O, and the demo keeps every level.
var deals = map[int][]deal{
	keyAccount: {
		{"Annual service renewal", 100_000, 300_000, []string{crm.StageWon}, nil},
		{"Capacity expansion", 150_000, 600_000, []string{"PROPOSAL", "NEGOTIATION"}, nil},
	},
	keyTarget:     {{"Network modernisation", 200_000, 800_000, []string{"NEEDS_ANALYSIS", "PROPOSAL", "NEGOTIATION"}, nil}},
	target:        {{"Pilot project", 80_000, 300_000, []string{"QUALIFY", "NEEDS_ANALYSIS", "PROPOSAL"}, nil}},
	largeProspect: {{"First order", 30_000, 150_000, []string{"QUALIFY", crm.StageLostDeal}, []crm.LossReason{crm.LossPrice, crm.LossCompetitor}}},
	midProspect:   {{"Starter package", 10_000, 50_000, []string{"QUALIFY", crm.StageLostDeal}, []crm.LossReason{crm.LossTiming, crm.LossNoBudget}}},
}

var lossNotes = map[crm.LossReason]string{
	crm.LossPrice:      "Our quote was 12% above the incumbent's",
	crm.LossCompetitor: "Chose the supplier its parent company uses",
	crm.LossTiming:     "Postponed to next year's budget",
	crm.LossNoBudget:   "Budget frozen after the merger",
}

// dealPath is the moves that take a new deal from the pipeline's first
// stage to target: through the open stages up to it; to WON through all
// of them; to LOST after the needs analysis (the second stage).
func dealPath(p crm.PipelinePolicy, target string) []string {
	var path []string
	for _, st := range p.Open[1:] {
		if target == p.Open[0].Code || (target == crm.StageLostDeal && len(path) == 1) {
			break
		}
		path = append(path, st.Code)
		if st.Code == target {
			return path
		}
	}
	if target == crm.StageWon || target == crm.StageLostDeal {
		path = append(path, target)
	}
	return path
}

// seedDeals opens the customer's deals as its owner (pool customers have
// none) and moves each through the stages before the one it stands in.
func seedDeals(adminCtx context.Context, svc *crm.Service, r *rand.Rand, c *crm.Customer, profile int, now time.Time) error {
	if c.OwnerID == "" || c.Stage == crm.StageLost {
		return nil // the pool's and churned customers have no deals
	}
	var owner *crm.User
	for i := range Users {
		if Users[i].ID == c.OwnerID {
			owner = &Users[i]
		}
	}
	ctx := crm.NewContextWithUser(adminCtx, owner)
	for _, d := range deals[profile] {
		target := d.stages[r.IntN(len(d.stages))]
		amount := (d.min + r.IntN(d.max-d.min)) / 100 * 100
		closeOn := now.AddDate(0, 0, 15+r.IntN(100))
		if target == crm.StageWon || target == crm.StageLostDeal {
			closeOn = now.AddDate(0, 0, -r.IntN(20))
		}
		o, err := svc.CreateOpportunity(ctx, crm.OpportunityInput{CustomerID: c.ID, Title: d.title, Amount: fmt.Sprintf("%d.00", amount),
			ExpectedClose: closeOn})
		if err != nil {
			return err
		}
		for _, st := range dealPath(svc.Pipeline, target) {
			move := crm.OpportunityMoveInput{Stage: st}
			if st == crm.StageLostDeal {
				reason := d.lost[r.IntN(len(d.lost))]
				move.LossReason, move.LossNote = reason, lossNotes[reason]
			}
			if o, err = svc.MoveOpportunity(ctx, crm.OpportunityKey{CustomerID: c.ID, ID: o.ID}, o.Version, move); err != nil {
				return err
			}
		}
	}
	return nil
}

// history says what a profile's timeline holds: how many contacts that
// are not deals, how many deals of what size and how long ago, and how
// the customer was evaluated (a share of each indicator's scale; 0: not).
type history struct {
	contacts, deals  int
	dealMin, dealMax float64
	dealDaysAgo      int
	evaluation       float64
}

var histories = map[int]history{
	keyAccount:    {contacts: 3, deals: 6, dealMin: 1e5, dealMax: 3e5, dealDaysAgo: 60, evaluation: 0.9},
	keyTarget:     {contacts: 3},
	target:        {contacts: 2},
	largeProspect: {contacts: 2},
	midProspect:   {contacts: 1},
	developing:    {contacts: 4},
	contacted:     {contacts: 1},
	invalid:       {contacts: 1},
}

func seedHistory(ctx context.Context, svc *crm.Service, r *rand.Rand, c *crm.Customer, profile int, tpl *crm.Template, now time.Time) error {
	h, ok := histories[profile]
	if !ok {
		return nil // never contacted
	}
	var contactID string
	if c.Kind == crm.KindOrganization {
		for j := range 1 + r.IntN(3) {
			ct, err := svc.AddContact(ctx, c.ID, crm.ContactInput{
				Name:    surnames[r.IntN(len(surnames))] + " " + givenNames[r.IntN(len(givenNames))],
				Title:   []string{"General Manager", "CTO", "Procurement Lead", "Finance Director"}[j%4],
				Role:    crm.ContactRoles[j%len(crm.ContactRoles)],
				Primary: j == 0,
				Emails:  []string{fmt.Sprintf("p%d.%s@example.com.cn", j, c.ID[len(c.ID)-6:])},
			})
			if err != nil {
				return err
			}
			if j == 0 {
				contactID = ct.ID
			}
		}
	}
	types := []crm.InteractionType{crm.TypeCall, crm.TypeVisit, crm.TypeNote, crm.TypeInquiry, crm.TypeComplaint, crm.TypeFeedback, crm.TypeServiceRequest}
	log := func(typ crm.InteractionType, at time.Time, amount *float64, followUp bool) (*crm.Interaction, error) {
		in := crm.InteractionInput{
			CustomerID: c.ID, Type: typ, Channel: crm.Channels[r.IntN(len(crm.Channels))],
			Direction: []crm.Direction{crm.Inbound, crm.Outbound}[r.IntN(2)],
			Subject:   subjects[typ][r.IntN(len(subjects[typ]))], OccurredAt: &at, ContactID: contactID,
			Content: "Logged by the demo seed.",
		}
		if amount != nil {
			in.Amount, in.Currency = amount, "CNY"
		}
		if followUp {
			// The contact asks for a follow-up within two weeks of it; the
			// schedule takes it while it is sooner than the grade's and no
			// later contact was logged.
			next := at.Add(time.Duration(r.IntN(14*24)) * time.Hour)
			in.NextFollowUpAt = &next
		}
		return svc.LogInteraction(ctx, in)
	}
	var latest *crm.Interaction
	for k := range h.contacts {
		at := now.Add(-time.Duration(r.IntN(365*24)) * time.Hour)
		it, err := log(types[r.IntN(len(types))], at, nil, k == 0)
		if err != nil {
			return err
		}
		if latest == nil || it.OccurredAt.After(latest.OccurredAt) {
			latest = it
		}
	}
	for range h.deals {
		at := now.Add(-time.Duration(r.IntN(h.dealDaysAgo*24)) * time.Hour)
		amount := float64(int(h.dealMin+r.Float64()*(h.dealMax-h.dealMin))/100) * 100
		if _, err := log(crm.TypeTransaction, at, &amount, false); err != nil {
			return err
		}
	}
	if h.evaluation > 0 {
		var scores []crm.IndicatorScore
		for _, ind := range tpl.Indicators {
			v := ind.ScaleMin + h.evaluation*(ind.ScaleMax-ind.ScaleMin) + float64(r.IntN(2))
			scores = append(scores, crm.IndicatorScore{Key: ind.Key, Value: min(float64(int(v)), ind.ScaleMax)})
		}
		if _, err := svc.SubmitEvaluation(ctx, crm.EvaluationInput{CustomerID: c.ID, TemplateID: tpl.ID,
			Kind: crm.EvalInternalReview, Scores: scores, Comment: "Demo evaluation."}); err != nil {
			return err
		}
	}
	return seedTask(ctx, svc, r, c, latest, now)
}

// seedTask gives each owned customer contacted in the last 30 days the task
// its latest contact calls for, assigned to its owner and due one to seven
// days after that contact: a quote asked for in an inquiry, a satisfaction
// callback after a complaint or service request, a call back after anything
// else.
func seedTask(ctx context.Context, svc *crm.Service, r *rand.Rand, c *crm.Customer, latest *crm.Interaction, now time.Time) error {
	if c.OwnerID == "" || latest == nil || latest.OccurredAt.Before(now.AddDate(0, 0, -30)) {
		return nil
	}
	day := latest.OccurredAt.Format("2 Jan")
	in := crm.TaskInput{CustomerID: c.ID, AssigneeID: c.OwnerID, Type: crm.TaskCallBack,
		Title: fmt.Sprintf("Follow up on %q (%s)", latest.Subject, day), Priority: crm.PriorityNormal,
		DueAt: latest.OccurredAt.Add(time.Duration(24+r.IntN(6*24)) * time.Hour).Truncate(time.Hour)}
	switch latest.Type {
	case crm.TypeInquiry:
		in.Type, in.Title = crm.TaskSendQuote, fmt.Sprintf("Send the quote asked for on %s", day)
	case crm.TypeComplaint, crm.TypeServiceRequest:
		in.Type, in.Title, in.Priority = crm.TaskSatisfactionCallBack, fmt.Sprintf("Ask how %q was handled (%s)", latest.Subject, day), crm.PriorityHigh
	case crm.TypeVisit:
		in.Title = fmt.Sprintf("Call back after the visit of %s", day)
	}
	if _, err := svc.CreateTask(ctx, in); err != nil {
		return fmt.Errorf("seed task: %w", err)
	}
	return nil
}

// Partner is the demo partner organization's name.
const Partner = "Demo Service Desk"

// SeedPartner creates the demo partner organization, masking every field,
// shares with it every other customer of team north (about twenty), and
// issues it an API key, which it returns: the caller keeps it, since only
// its hash is stored.
func SeedPartner(ctx context.Context, svc *crm.Service) (key string, err error) {
	adminCtx := crm.NewContextWithUser(ctx, &Users[0])
	managerCtx := crm.NewContextWithUser(ctx, &Users[1]) // manager-north shares their team's customers
	org, err := svc.CreatePartnerOrg(adminCtx, crm.PartnerOrgInput{Name: Partner})
	if err != nil {
		return "", fmt.Errorf("seed partner: %w", err)
	}
	page, err := svc.Customers(managerCtx, crm.CustomerFilter{Team: "north"}, crm.PageRequest{First: 40})
	if err != nil {
		return "", fmt.Errorf("seed partner: %w", err)
	}
	for i, c := range page.Items {
		if i%2 == 0 {
			if _, err := svc.ShareCustomer(managerCtx, c.ID, org.ID); err != nil {
				return "", fmt.Errorf("seed partner: share %s: %w", c.ID, err)
			}
		}
	}
	k, err := svc.IssueAPIKey(adminCtx, org.ID, "demo portal (local only)")
	if err != nil {
		return "", fmt.Errorf("seed partner: %w", err)
	}
	return k.Secret, nil
}
