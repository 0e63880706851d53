package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/rapportcrm/rapport/crm"
)

// demoLeads are the needs sales-li found on their last calls of the year
// and handed (提单) to sales-zhao, who has not decided on them yet: they
// wait on sales-zhao's agenda. Without LEAD_TEAMS a lead goes to a
// colleague of the customer's team, as here.
var demoLeads = []struct{ need, notes string }{
	{"Wants to replace the billing system of its three branches before the next budget year",
		"The IT head decides; the finance director signs. Asked for a demo in the next two weeks."},
	{"Looking for a maintenance contract covering 40 sites, the current supplier's ends in March",
		"Unhappy with response times of the current supplier; price is second."},
}

// seedLeads hands the demo's leads: sales-li's on active customers of
// theirs still to be won (not O, V or G; seed 000: 「针对潜在客户,电销会在收集相关信息后,
// 将其划入DE级,重点跟进」), to sales-zhao. It runs once the year is replayed, on the wall
// clock.
func seedLeads(ctx context.Context, svc *crm.Service) error {
	li := crm.NewContextWithUser(ctx, user("sales-li"))
	page, err := svc.Customers(li, crm.CustomerFilter{OwnerID: "sales-li"}, crm.PageRequest{First: 50})
	if err != nil {
		return fmt.Errorf("seed leads: %w", err)
	}
	n := 0
	for _, c := range page.Items {
		if n == len(demoLeads) {
			break
		}
		if strings.Contains("OVG", c.Grade.Level) || c.Status != crm.StatusActive {
			continue
		}
		l := demoLeads[n]
		if _, err := svc.CreateLead(operation(li, "createLead"), crm.LeadInput{CustomerID: c.ID, Need: l.need, Notes: l.notes, HandedTo: "sales-zhao",
			IdempotencyKey: fmt.Sprintf("demo-lead-%d", n)}); err != nil {
			return fmt.Errorf("seed lead on %s: %w", c.ID, err)
		}
		n++
	}
	return nil
}
