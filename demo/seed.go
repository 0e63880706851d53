// Package demo fills an empty Rapport with realistic demo data through the
// domain service, so every rule (validation, counters, unique claims) holds
// for it exactly as for real data.
package demo

import (
	"context"
	"errors"
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
	// Now is the end of the demo's year: its history runs from a year
	// before it up to it.
	Now time.Time
	// Clock is the service's clock (svc.Now = Clock.Now): the seed holds
	// it at each moment of the year it replays.
	Clock *Clock
	// Settle, when set, waits until the table's stream has applied the
	// writes so far (the customers' activity, grades and counters), before
	// the scheduled job reads them.
	Settle func(context.Context) error
}

// Seed gives an empty Rapport a year of history, replayed in time order
// through the domain service on Options.Clock, so that every rule
// (validation, counters, grading, the pool's rules, case deadlines) holds
// for it exactly as for real data, and every record carries the time it
// would have had. Customers arrive through the year, are contacted by
// their owners as their grade's follow-up interval asks, win and lose
// deals, complain and have their cases worked; some are lost, one in a few
// of those won back; the scheduled job runs weekly (daily over the last
// two weeks), so the pool takes back the prospects their owners got no
// deal from, overdue cases escalate and value tiers are ranked monthly. The
// grading policy grades every customer from its history; nobody grades by
// hand. On the last day, sales-li hands two leads to sales-zhao (leads.go),
// and the managers set their salespeople's monthly targets for the year
// (targets.go).
func Seed(ctx context.Context, svc *crm.Service, o Options) error {
	if o.Clock == nil {
		return errors.New("demo seed: Options.Clock must be the service's clock")
	}
	// The customers' owners must be users of the directory.
	if err := SeedDirectory(ctx, svc); err != nil {
		return err
	}
	now := o.Now.UTC().Truncate(time.Second)
	start := now.AddDate(-1, 0, 0).Truncate(24 * time.Hour)
	o.Clock.hold(start)
	defer o.Clock.release()
	adminCtx := crm.NewContextWithUser(ctx, &Users[0])
	tpl, err := seedTemplates(adminCtx, svc)
	if err != nil {
		return err
	}
	t := &timeline{until: now}
	keyAccounts := 0
	for i := range o.Customers {
		s := &story{svc: svc, t: t, r: rand.New(rand.NewPCG(o.Seed, uint64(i))), tpl: tpl, i: i, profile: book[i%len(book)],
			start: start, now: now}
		if s.profile == keyAccount {
			s.fate = keyAccountFates[keyAccounts%len(keyAccountFates)]
			keyAccounts++
		}
		s.plan()
	}
	settle := func(ctx context.Context) error {
		if o.Settle == nil {
			return nil
		}
		if err := o.Settle(ctx); err != nil {
			return fmt.Errorf("apply the stream: %w", err)
		}
		return nil
	}
	ranked := start
	tick := func(ctx context.Context) error {
		if err := settle(ctx); err != nil {
			return err
		}
		if _, err := svc.RunFrequent(ctx); err != nil {
			return err
		}
		// As the job runs them, so that their audit entries say so.
		if _, err := svc.RunTakeBack(crm.AsJob(ctx, "pool-take-back")); err != nil {
			return err
		}
		// Value tiers monthly: the weekly regrading would mostly rewrite
		// value scores that drift with every passing day.
		if at := o.Clock.Now(); at.Month() != ranked.Month() {
			ranked = at
			if _, err := svc.RunGrading(crm.AsJob(ctx, "regrading")); err != nil {
				return err
			}
		}
		return nil
	}
	if err := t.replay(ctx, o.Clock, jobTicks(start, now), tick); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	o.Clock.release()
	if err := seedLeads(ctx, svc); err != nil {
		return err
	}
	if err := seedTargets(ctx, svc, now); err != nil {
		return err
	}
	if err := settle(ctx); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if _, err := svc.RunScheduled(ctx); err != nil {
		return fmt.Errorf("seed: scheduled job: %w", err)
	}
	return settle(ctx)
}

// seedTemplates creates the demo's evaluation templates; it returns the
// relationship review's.
func seedTemplates(adminCtx context.Context, svc *crm.Service) (*crm.Template, error) {
	tpl, err := svc.CreateTemplate(operation(adminCtx, "createTemplate"), crm.TemplateInput{
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
		return nil, fmt.Errorf("seed template: %w", err)
	}
	if _, err := svc.CreateTemplate(operation(adminCtx, "createTemplate"), crm.TemplateInput{
		Name: "Credit and value check",
		Indicators: []crm.Indicator{
			{Key: "payment_record", Name: "Payment record", Dimension: crm.DimCredit, Weight: 0.5, ScaleMin: 0, ScaleMax: 100},
			{Key: "growth_potential", Name: "Growth potential", Dimension: crm.DimValue, Weight: 0.5, ScaleMin: 1, ScaleMax: 5},
		},
	}); err != nil {
		return nil, fmt.Errorf("seed template: %w", err)
	}
	return tpl, nil
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
	org, err := svc.CreatePartnerOrg(operation(adminCtx, "createPartnerOrganization"), crm.PartnerOrgInput{Name: Partner})
	if err != nil {
		return "", fmt.Errorf("seed partner: %w", err)
	}
	page, err := svc.Customers(managerCtx, crm.CustomerFilter{Team: "north"}, crm.PageRequest{First: 40})
	if err != nil {
		return "", fmt.Errorf("seed partner: %w", err)
	}
	for i, c := range page.Items {
		if i%2 == 0 {
			if _, err := svc.ShareCustomer(operation(managerCtx, "shareCustomer"), c.ID, org.ID); err != nil {
				return "", fmt.Errorf("seed partner: share %s: %w", c.ID, err)
			}
		}
	}
	k, err := svc.IssueAPIKey(operation(adminCtx, "issueApiKey"), org.ID, "demo portal (local only)")
	if err != nil {
		return "", fmt.Errorf("seed partner: %w", err)
	}
	return k.Secret, nil
}
