package resolvers

import (
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

// Converters of partner organizations, API keys and shares.

func toPartnerShare(p crm.PartnerShare) *model.PartnerShare {
	return &model.PartnerShare{PartnerID: p.OrgID, SharedBy: p.By, SharedAt: p.At}
}

func toPartnerOrg(o *crm.PartnerOrg) *model.PartnerOrganization {
	return &model.PartnerOrganization{ID: o.ID, Name: o.Name, Status: model.PartnerStatus(o.Status),
		Masked: mapAll(o.Masked, func(f crm.MaskField) model.MaskedField { return model.MaskedField(f) }), ShowAmounts: o.ShowAmounts,
		Version: o.Version, CreatedAt: o.CreatedAt, CreatedBy: o.CreatedBy, UpdatedAt: o.UpdatedAt, UpdatedBy: o.UpdatedBy}
}

func toAPIKey(k *crm.APIKey) *model.APIKey {
	return &model.APIKey{ID: k.ID, PartnerID: k.OrgID, Name: k.Name, Hint: k.Hint(), CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt, RevokedBy: opt(k.RevokedBy)}
}

// fromMasked keeps nil (not given) apart from an empty list (mask nothing).
func fromMasked(in []model.MaskedField) []crm.MaskField {
	if in == nil {
		return nil
	}
	return mapAll(in, func(f model.MaskedField) crm.MaskField { return crm.MaskField(f) })
}

func partnerOrgConnection(p *crm.Page[*crm.PartnerOrg]) *model.PartnerOrganizationConnection {
	return &model.PartnerOrganizationConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.PartnerOrg) *model.PartnerOrganizationEdge {
			return &model.PartnerOrganizationEdge{Cursor: cursor, Node: toPartnerOrg(it)}
		})}
}

func apiKeyConnection(p *crm.Page[*crm.APIKey]) *model.APIKeyConnection {
	return &model.APIKeyConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.APIKey) *model.APIKeyEdge {
			return &model.APIKeyEdge{Cursor: cursor, Node: toAPIKey(it)}
		})}
}
