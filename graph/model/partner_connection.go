package model

// PartnerOrganizationConnection is a page of partner organizations.
type PartnerOrganizationConnection struct {
	Edges    []*PartnerOrganizationEdge
	PageInfo *PageInfo
	Counted
}

// APIKeyConnection is a page of API keys.
type APIKeyConnection struct {
	Edges    []*APIKeyEdge
	PageInfo *PageInfo
	Counted
}

// WebhookDeliveryConnection is a page of webhook deliveries.
type WebhookDeliveryConnection struct {
	Edges    []*WebhookDeliveryEdge
	PageInfo *PageInfo
	Counted
}
