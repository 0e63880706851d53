package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// monthlyTargets are what the managers expect of each salesperson a
// month: revenue to book, collected and margin in CNY, and customers to
// win. They are the same every month, so a quarter's target is three
// times a month's.
var monthlyTargets = map[string]crm.TargetInput{
	"sales-li":   {Team: "north", Revenue: "400000", Collected: "300000", Margin: "120000", Customers: 1},
	"sales-zhao": {Team: "north", Revenue: "300000", Collected: "250000", Margin: "90000", Customers: 1},
	"sales-liu":  {Team: "south", Revenue: "350000", Collected: "280000", Margin: "100000", Customers: 1},
}

// managers are who sets each team's targets.
var managers = map[string]*crm.User{"north": &Users[1], "south": &Users[2]}

// seedTargets has each team's manager set its salespeople's targets for
// every month of the demo's year, the one now included.
func seedTargets(ctx context.Context, svc *crm.Service, now time.Time) error {
	first := time.Date(now.Year()-1, now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"sales-li", "sales-zhao", "sales-liu"} {
		in := monthlyTargets[id]
		mgr := crm.NewContextWithUser(ctx, managers[in.Team])
		for m := first; !m.After(now); m = m.AddDate(0, 1, 0) {
			in.UserID, in.Month = id, m.Format("2006-01")
			if _, err := svc.SetTarget(operation(mgr, "setSalesTarget"), in); err != nil && crm.ErrorCode(err) != crm.ECONFLICT {
				return fmt.Errorf("seed: target of %s for %s: %w", id, in.Month, err)
			}
		}
	}
	return nil
}

// contractCost is what a demo contract costs: 55 to 74% of its amount,
// by the story's number (no draw, so the rest of the demo is what it was
// without costs), in whole hundreds.
func contractCost(amount crm.Money, story int) string {
	return (amount * crm.Money(55+story%20) / 100 / 10000 * 10000).String()
}
