package resolvers

import (
	"strconv"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

// Converters of contracts and receivables (graph/contract.graphqls). now
// is the service's clock: what is overdue is overdue today.

func toContract(now time.Time, c *crm.Contract) *model.Contract {
	m := &model.Contract{
		ID: c.ID, CustomerID: c.CustomerID, OpportunityID: opt(c.OpportunityID), Title: c.Title, OwnerID: c.OwnerID,
		Team: opt(c.Team), Amount: c.Amount.String(), Currency: c.Currency, SignedDate: c.SignedOn.Format(time.DateOnly),
		EndDate: c.EndsOn.Format(time.DateOnly), Paid: c.Paid().String(), Outstanding: c.Outstanding().String(),
		Instalments: []*model.Instalment{}, Payments: []*model.Payment{}, Version: c.Version,
		CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy, UpdatedAt: c.UpdatedAt, UpdatedBy: c.UpdatedBy,
		Approval: toContractApproval(c.Approval),
	}
	m.Cost, m.Margin = contractCost(c)
	var overdue crm.Money
	for _, in := range c.Schedule() {
		mi := &model.Instalment{DueDate: in.DueOn.Format(time.DateOnly), Amount: in.Amount.String(), Paid: in.Paid.String(),
			Outstanding: in.Outstanding.String()}
		if in.PaidOn != nil {
			mi.PaidDate = ptrTo(in.PaidOn.Format(time.DateOnly))
		}
		if in.Outstanding > 0 {
			mi.DaysOverdue = crm.DaysOverdue(in.DueOn, now)
			mi.AgingBucket = ptrTo(model.AgingBucket(crm.AgingBucketOf(in.DueOn, now)))
			if mi.DaysOverdue > 0 {
				overdue += in.Outstanding
			}
		}
		m.Instalments = append(m.Instalments, mi)
	}
	m.Overdue = overdue.String()
	for _, p := range c.Payments {
		m.Payments = append(m.Payments, &model.Payment{ID: p.ID, PaidDate: p.PaidOn.Format(time.DateOnly), Amount: p.Amount.String(),
			Reference: opt(p.Reference), RecordedBy: p.RecordedBy, RecordedAt: p.RecordedAt})
	}
	return m
}

func contractConnection(now time.Time, p *crm.Page[*crm.Contract]) *model.ContractConnection {
	return &model.ContractConnection{PageInfo: pageInfo(p),
		Edges: edges(p, func(cursor string, it *crm.Contract) *model.ContractEdge {
			return &model.ContractEdge{Cursor: cursor, Node: toContract(now, it)}
		})}
}

func toInstalmentInputs(in []*model.InstalmentInput) ([]crm.InstalmentInput, error) {
	out := make([]crm.InstalmentInput, len(in))
	for i, it := range in {
		due, err := closeDate("input.instalments["+strconv.Itoa(i)+"].dueDate", it.DueDate)
		if err != nil {
			return nil, err
		}
		out[i] = crm.InstalmentInput{DueOn: due, Amount: it.Amount}
	}
	return out, nil
}

// month reads an optional YYYY-MM argument; zero when absent.
func month(field string, s *string) (time.Time, error) {
	if s == nil {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01", *s)
	if err != nil {
		return time.Time{}, crm.Invalid(field, "must be a month written YYYY-MM, e.g. 2026-06 (got %q)", *s)
	}
	return t, nil
}

func toReceivablesAging(a *crm.ReceivablesAging) *model.ReceivablesAging {
	m := &model.ReceivablesAging{AsOf: a.AsOf.Format(time.DateOnly), Currencies: []*model.CurrencyAging{}}
	for _, c := range a.Currencies {
		ca := &model.CurrencyAging{Currency: c.Currency, Total: c.Total.String(), Overdue: c.Overdue.String()}
		for i, b := range crm.AgingBuckets {
			ca.Buckets = append(ca.Buckets, &model.AgingAmount{Bucket: model.AgingBucket(b), Amount: c.Buckets[i].String()})
		}
		m.Currencies = append(m.Currencies, ca)
	}
	return m
}

func toRevenueMonths(months []crm.RevenueMonth) []*model.RevenueMonth {
	out := make([]*model.RevenueMonth, len(months))
	for i, rm := range months {
		out[i] = &model.RevenueMonth{Month: rm.Month, Contracts: rm.Contracts, Booked: toMoneySums(rm.Booked), Collected: toMoneySums(rm.Collected)}
	}
	return out
}
