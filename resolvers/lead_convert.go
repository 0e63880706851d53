package resolvers

import (
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

// Converters of leads (graph/lead.graphqls).

func toLead(l *crm.Lead) *model.Lead {
	m := &model.Lead{
		ID: l.ID, CustomerID: l.CustomerID, Team: opt(l.Team), Source: model.CustomerSource(l.Source), Need: l.Need,
		Notes: opt(l.Notes), QualifiedBy: l.QualifiedBy, HandedTo: l.HandedTo, HandedAt: l.HandedAt,
		ToTeams: append([]string{}, l.ToTeams...), Status: model.LeadStatus(l.Status), ReturnReason: opt(l.ReturnReason),
		DecidedAt: l.DecidedAt, Version: l.Version, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt, UpdatedBy: l.UpdatedBy,
		History: make([]*model.LeadMove, len(l.History)),
	}
	for i, h := range l.History {
		m.History[i] = &model.LeadMove{Status: model.LeadStatus(h.Status), To: opt(h.To), By: h.By, At: h.At, Note: opt(h.Note)}
	}
	return m
}

// leadOrErr converts a service's answer.
func leadOrErr(l *crm.Lead, err error) (*model.Lead, error) {
	if err != nil {
		return nil, err
	}
	return toLead(l), nil
}

func leadConnection(p *crm.Page[*crm.Lead]) *model.LeadConnection {
	return &model.LeadConnection{PageInfo: pageInfo(p),
		Edges: edges(p, func(cursor string, it *crm.Lead) *model.LeadEdge {
			return &model.LeadEdge{Cursor: cursor, Node: toLead(it)}
		})}
}
