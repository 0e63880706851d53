package resolvers

import (
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

func toSalesTarget(t *crm.Target) *model.SalesTarget {
	return &model.SalesTarget{Team: t.Team, UserID: t.UserID, Month: t.Month, Currency: t.Currency, Revenue: t.Revenue.String(),
		Collected: t.Collected.String(), Margin: t.Margin.String(), Customers: t.Customers, Version: t.Version,
		UpdatedAt: t.UpdatedAt, UpdatedBy: t.UpdatedBy}
}

func toForecastMonth(m crm.ForecastMonth) *model.ForecastMonth {
	return &model.ForecastMonth{Month: opt(m.Month), Count: m.Count, Amounts: toMoneySums(m.Amounts)}
}

func toForecast(f *crm.Forecast) *model.Forecast {
	out := &model.Forecast{AsOf: f.AsOf.Format(time.DateOnly), Overdue: toForecastMonth(f.Overdue), Later: toForecastMonth(f.Later),
		Months: []*model.ForecastMonth{}}
	for _, m := range f.Months {
		out.Months = append(out.Months, toForecastMonth(m))
	}
	return out
}

func toCycleTime(c crm.CycleTime) *model.CycleTime {
	out := &model.CycleTime{Won: c.Won, AverageDays: c.AverageDays, Buckets: []*model.CycleBucket{}}
	for _, b := range c.Buckets {
		mb := &model.CycleBucket{Count: b.Count}
		if b.UpTo > 0 {
			mb.UpToDays = ptrTo(b.UpTo)
		}
		out.Buckets = append(out.Buckets, mb)
	}
	if c.MedianWithin != nil {
		if *c.MedianWithin > 0 {
			out.MedianWithinDays = c.MedianWithin
		} else {
			out.MedianOverLast = true
		}
	}
	return out
}

func toSalesFigures(f crm.SalesFigures) *model.SalesFigures {
	return &model.SalesFigures{Customers: f.Customers, Revenue: f.Revenue.String(), Collected: f.Collected.String(), Margin: f.Margin.String()}
}

func toPerformanceRow(r crm.PerformanceRow) *model.PerformanceRow {
	a := r.Attainment
	return &model.PerformanceRow{UserID: opt(r.UserID), TargetMonths: r.TargetMonths, Target: toSalesFigures(r.Target),
		Actual: toSalesFigures(r.Actual), Contracts: r.Contracts, CostedRevenue: r.CostedRevenue.String(),
		Attainment: &model.SalesAttainment{Customers: a.Customers, Revenue: a.Revenue, Collected: a.Collected, Margin: a.Margin}}
}

func toPerformance(p *crm.Performance) *model.Performance {
	out := &model.Performance{Team: p.Team, Period: p.Period.Name, Months: p.Period.Months, Currency: p.Currency,
		Rows: []*model.PerformanceRow{}, Total: toPerformanceRow(p.Total)}
	for _, r := range p.Rows {
		out.Rows = append(out.Rows, toPerformanceRow(r))
	}
	return out
}

// contractCost is a contract's cost and margin as the schema writes them.
func contractCost(c *crm.Contract) (cost, margin *string) {
	if c.Cost == nil {
		return nil, nil
	}
	return ptrTo(c.Cost.String()), ptrTo(c.Margin().String())
}
