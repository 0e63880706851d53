package resolvers

import (
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/graph/model"
	"github.com/rapportcrm/rapport/webhooks"
)

// Converters of partner webhooks.

// hooks is the webhook service, or UNAVAILABLE where the binary has none.
func (r *Resolver) hooks() (*webhooks.Service, error) {
	if r.Webhooks == nil {
		return nil, crm.Errorf(crm.EUNAVAILABLE, "partner webhooks are not configured here")
	}
	return r.Webhooks, nil
}

func toWebhookEndpoint(e *webhooks.Endpoint) *model.WebhookEndpoint {
	out := &model.WebhookEndpoint{ID: e.ID, PartnerID: e.OrgID, URL: e.URL, Status: model.WebhookEndpointStatus(e.Status),
		EventTypes:   mapAll(e.Types, func(t events.Type) string { return string(t) }),
		FailingSince: e.FailingSince, DisabledAt: e.DisabledAt, DisabledReason: opt(e.DisabledReason), Version: e.Version,
		CreatedAt: e.CreatedAt, CreatedBy: e.CreatedBy, UpdatedAt: e.UpdatedAt, UpdatedBy: e.UpdatedBy}
	for _, s := range e.Signing(time.Now()) {
		if s.ExpiresAt != nil && (out.PreviousSecretExpiresAt == nil || s.ExpiresAt.After(*out.PreviousSecretExpiresAt)) {
			out.PreviousSecretExpiresAt = s.ExpiresAt
		}
	}
	return out
}

func toWebhookSecret(r *webhooks.Registered, err error) (*model.WebhookEndpointSecret, error) {
	if err != nil {
		return nil, err
	}
	return &model.WebhookEndpointSecret{Endpoint: toWebhookEndpoint(r.Endpoint), Secret: r.Secret}, nil
}

func toWebhookDelivery(d *webhooks.Delivery) *model.WebhookDelivery {
	out := &model.WebhookDelivery{ID: d.ID, EndpointID: d.EndpointID, MessageID: d.MessageID, EventID: d.EventID,
		EventType: string(d.Type), CustomerID: d.CustomerID, Status: model.WebhookDeliveryStatus(d.Status), Attempts: d.Attempts,
		LastError: opt(d.LastError), LastAttemptAt: d.LastAttemptAt, NextAttemptAt: d.NextAttemptAt, ReplayOf: opt(d.ReplayOf),
		CreatedAt: d.CreatedAt, Payload: string(d.Payload)}
	if d.ResponseCode != 0 {
		out.ResponseCode = &d.ResponseCode
	}
	if d.Attempts > 0 {
		ms := int(d.Latency.Milliseconds())
		out.LatencyMs = &ms
	}
	return out
}

func webhookDeliveryConnection(p *crm.Page[*webhooks.Delivery]) *model.WebhookDeliveryConnection {
	return &model.WebhookDeliveryConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *webhooks.Delivery) *model.WebhookDeliveryEdge {
			return &model.WebhookDeliveryEdge{Cursor: cursor, Node: toWebhookDelivery(it)}
		})}
}

func eventTypes(in []string) []events.Type {
	if in == nil {
		return nil
	}
	return mapAll(in, func(s string) events.Type { return events.Type(s) })
}
