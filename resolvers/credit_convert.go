package resolvers

import (
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

func toCreditLevel(p *crm.CreditPolicy, l crm.CreditLevel) *model.CreditLevel {
	return &model.CreditLevel{Code: l.Code, Label: l.Label, Prepayment: l.Prepayment, CreditDays: l.CreditDays,
		Limit: l.Limit.String(), Currency: p.Currency, Terms: l.Terms()}
}

func optDay(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	return opt(t.Format(time.DateOnly))
}

func toCustomerCredit(p *crm.CreditPolicy, st *crm.CreditState) *model.CustomerCredit {
	l, ok := p.Level(st.Level)
	if !ok { // a level the policy no longer has: named, without terms
		l = crm.CreditLevel{Code: st.Level, Label: st.Level}
	}
	m := &model.CustomerCredit{Level: st.Level, Terms: toCreditLevel(p, l), Source: model.CreditSource(st.Source),
		Explanation: st.Explanation, SetBy: opt(st.By), Until: optDay(st.Until), RuleLevel: st.RuleLevel,
		RuleExplanation: st.RuleExplanation, EvaluatedAt: st.EvaluatedAt, ReviewDate: optDay(&st.ReviewAt), Version: st.Version}
	if !st.Since.IsZero() && st.Version > 0 {
		m.Since = &st.Since
	}
	return m
}

func toCreditChange(c *crm.CreditChange) *model.CreditChange {
	return &model.CreditChange{ID: c.ID, From: opt(c.From), To: c.To, Source: model.CreditSource(c.Source),
		Explanation: c.Explanation, Until: optDay(c.Until), By: c.By, At: c.At}
}

func creditChangeConnection(p *crm.Page[*crm.CreditChange]) *model.CreditChangeConnection {
	return &model.CreditChangeConnection{PageInfo: pageInfo(p),
		Edges: edges(p, func(cursor string, it *crm.CreditChange) *model.CreditChangeEdge {
			return &model.CreditChangeEdge{Cursor: cursor, Node: toCreditChange(it)}
		})}
}

func toContractApproval(a *crm.ContractApproval) *model.ContractApproval {
	if a == nil {
		return nil
	}
	return &model.ContractApproval{Status: model.ApprovalStatus(a.Status), Level: a.Level, Exceeded: nonNil(a.Exceeded),
		DecidedBy: opt(a.DecidedBy), DecidedAt: a.DecidedAt, Reason: opt(a.Reason)}
}
