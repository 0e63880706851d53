package resolvers

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

// listedCustomers turns a page of customers into a connection. Customers
// read with their activity prime the request's loader (a customer read
// without it would show its counts as empty to a nested field). The
// latest interactions come from the activities' summaries; only a query
// asking for their content reads them, in one batch.
func (r *Resolver) listedCustomers(ctx context.Context, p *crm.Page[*crm.Customer], withActivity bool) *model.CustomerConnection {
	l := r.loadersFor(ctx)
	if withActivity {
		for _, c := range p.Items {
			l.customer.Prime(c.ID, c)
		}
	} else {
		l.primeListed(p.Items)
	}
	if selects(ctx, "edges", "node", "latestInteraction", "content") || selects(ctx, "edges", "node", "latestInteraction", "attachments") {
		r.prefetchLatestInteractions(ctx, p.Items)
	}
	return customerConnection(p)
}

func fromScope(in *model.AnalyticsScopeInput) crm.Scope {
	if in == nil {
		return crm.Scope{}
	}
	return crm.Scope{Team: val(in.Team), OwnerID: val(in.OwnerID), Pool: val(in.Pool)}
}

func fromPeriod(in model.PeriodInput) crm.Period {
	return crm.Period{From: in.From, To: in.To, Granularity: crm.Granularity(in.Granularity)}
}

func toActivityReport(r *crm.ActivityReport) *model.ActivityReport {
	return &model.ActivityReport{
		Granularity: model.Granularity(r.Period.Granularity),
		Buckets: mapAll(r.Buckets, func(b crm.BucketFigures) *model.ActivityBucket {
			return &model.ActivityBucket{Period: b.Key, Start: b.Start, Figures: toActivityFigures(b.Figures)}
		}),
		Total: toActivityFigures(r.Total),
	}
}

func toActivityFigures(f crm.Figures) *model.ActivityFigures {
	out := &model.ActivityFigures{Cases: toCaseFigures(f.Cases)}
	if c := f.Customers; c != nil {
		out.Customers = &model.CustomerFlow{Gained: c.Gained, WonBack: c.WonBack, Lost: c.Lost}
	}
	if i := f.Interactions; i != nil {
		out.Interactions = &model.InteractionFigures{Total: i.Total,
			ByChannel: mapAll(mostFirst(i.ByChannel), func(k crm.Channel) *model.ChannelCount {
				return &model.ChannelCount{Channel: model.Channel(k), Count: i.ByChannel[k]}
			}),
			ByOwner: mapAll(mostFirst(i.ByOwner), func(k string) *model.OwnerCount {
				return &model.OwnerCount{OwnerID: opt(k), Count: i.ByOwner[k]}
			}),
		}
	}
	if e := f.Evaluations; e != nil {
		out.Evaluations = toEvaluationFigures(e)
	}
	return out
}

// mostFirst orders a count map's keys by count, largest first, then by key.
func mostFirst[K cmp.Ordered](m map[K]int) []K {
	return slices.SortedFunc(maps.Keys(m), func(a, b K) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
}

func toCaseFigures(c *crm.CaseFigures) *model.CaseFigures {
	if c == nil {
		c = &crm.CaseFigures{}
	}
	out := &model.CaseFigures{Opened: c.Opened, Resolved: c.Resolved, SLABreaches: c.ResolvedLate, Escalated: c.Escalated,
		Closed: c.Closed, Rejected: c.Rejected, Reopened: c.Reopened, AverageSatisfaction: c.AverageSatisfaction(),
		PlansRejected: c.PlansRejected, Withdrawn: c.Withdrawn, FirstResponses: c.Responded, ResponseBreaches: c.RespondedLate,
		AverageResolutionHours: hours(c.AverageResolution()), AverageFirstResponseHours: hours(c.AverageFirstResponse())}
	return out
}

func toEvaluationFigures(e *crm.EvaluationFigures) *model.EvaluationFigures {
	out := &model.EvaluationFigures{Count: e.Overall.Count, AverageOverall: e.Overall.Value(),
		Promoters: e.Promoters, Passives: e.Passives, Detractors: e.Detractors, Nps: e.NPS(),
		Dimensions: []*model.DimensionAverage{}, ByGrade: []*model.GradeEvaluations{}}
	for _, d := range crm.Dimensions {
		if m, ok := e.Dimensions[d]; ok {
			out.Dimensions = append(out.Dimensions, &model.DimensionAverage{Dimension: model.Dimension(d), Count: m.Count, Average: *m.Value()})
		}
	}
	for _, g := range slices.Sorted(maps.Keys(e.ByGrade)) {
		out.ByGrade = append(out.ByGrade, &model.GradeEvaluations{Grade: g, Figures: toEvaluationFigures(e.ByGrade[g])})
	}
	return out
}

func toGradeDistribution(d *crm.Distribution) *model.GradeDistribution {
	return &model.GradeDistribution{Total: d.Total, Unranked: d.Unranked(),
		Grades: mapAll(d.Levels, func(l string) *model.GradeCount { return &model.GradeCount{Grade: l, Count: d.Grades[l]} }),
		Tiers: mapAll(crm.ValueTiers, func(t crm.ValueTier) *model.TierCount {
			return &model.TierCount{Tier: model.ValueTier(t), Count: d.Tiers[t]}
		}),
	}
}

// hours says a mean duration in hours, to the second; nil stays nil.
func hours(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	h := d.Round(time.Second).Hours()
	return &h
}
