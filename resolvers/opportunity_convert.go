package resolvers

import (
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

// Converters of the sales pipeline (graph/opportunity.graphqls).

func toOpportunity(p crm.PipelinePolicy, o *crm.Opportunity) *model.Opportunity {
	st, _ := p.Stage(o.Stage)
	m := &model.Opportunity{
		ID: o.ID, CustomerID: o.CustomerID, Title: o.Title, OwnerID: o.OwnerID, Team: opt(o.Team),
		Amount: o.Amount.String(), Currency: o.Currency, Stage: o.Stage, Probability: st.Probability,
		WeightedAmount: o.Amount.Weighted(st.Probability).String(), ExpectedCloseDate: o.ExpectedClose.Format(time.DateOnly),
		LossNote: opt(o.LossNote), ClosedAt: o.ClosedAt, LeadID: opt(o.LeadID), Version: o.Version,
		CreatedAt: o.CreatedAt, CreatedBy: o.CreatedBy, UpdatedAt: o.UpdatedAt, UpdatedBy: o.UpdatedBy,
		History: make([]*model.OpportunityMove, len(o.History)),
	}
	if o.LossReason != "" {
		m.LossReason = ptrTo(model.LossReason(o.LossReason))
	}
	for i, h := range o.History {
		m.History[i] = &model.OpportunityMove{From: opt(h.From), To: h.To, By: h.By, At: h.At}
	}
	return m
}

func ptrTo[T any](v T) *T { return &v }

func opportunityConnection(pol crm.PipelinePolicy, p *crm.Page[*crm.Opportunity]) *model.OpportunityConnection {
	return &model.OpportunityConnection{PageInfo: pageInfo(p),
		Edges: edges(p, func(cursor string, it *crm.Opportunity) *model.OpportunityEdge {
			return &model.OpportunityEdge{Cursor: cursor, Node: toOpportunity(pol, it)}
		})}
}

// closeDate reads a YYYY-MM-DD date of the input at field.
func closeDate(field, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, crm.Invalid(field, "must be a date written YYYY-MM-DD, e.g. 2026-06-30 (got %q)", s)
	}
	return t, nil
}

func toPipelineStages(stages []crm.PipelineStage) []*model.PipelineStage {
	var out []*model.PipelineStage
	for _, s := range stages {
		out = append(out, &model.PipelineStage{Code: s.Code, Probability: s.Probability,
			Open: s.Code != crm.StageWon && s.Code != crm.StageLostDeal})
	}
	return out
}

func toMoneySums(as []crm.CurrencyAmount) []*model.MoneySum {
	out := make([]*model.MoneySum, len(as))
	for i, a := range as {
		out[i] = &model.MoneySum{Currency: a.Currency, Amount: a.Amount.String(), Weighted: a.Weighted.String()}
	}
	return out
}

func toStageFigures(s crm.StageFigures, probability *int) *model.PipelineStageFigures {
	return &model.PipelineStageFigures{Stage: s.Stage, Probability: probability, Count: s.Count, Amounts: toMoneySums(s.Amounts)}
}

func toPipeline(f *crm.PipelineFigures) *model.Pipeline {
	m := &model.Pipeline{
		Open: toStageFigures(crm.StageFigures{Stage: "OPEN", Count: f.Open.Count, Amounts: f.Open.Amounts}, nil),
		Won:  f.Won, WonAmounts: toMoneySums(f.WonAmounts), Lost: f.Lost, LostAmounts: toMoneySums(f.LostAmounts),
		WinRate: f.WinRate(), LossReasons: []*model.LossReasonCount{}, CycleTime: toCycleTime(f.Cycle),
	}
	for _, s := range f.Stages {
		m.Stages = append(m.Stages, toStageFigures(s, ptrTo(s.Probability)))
	}
	for _, r := range crm.LossReasons {
		if n := f.LossReasons[r]; n > 0 {
			m.LossReasons = append(m.LossReasons, &model.LossReasonCount{Reason: model.LossReason(r), Count: n})
		}
	}
	return m
}
