// Package webhooks sends partner organizations the domain events of the
// customers shared with them (docs/partners.md, "Webhooks"): ADMIN
// registers an organization's endpoints; the stream consumer's Fanout
// writes one delivery item per event and endpoint, with the customer
// masked by the organization's policy; the Deliverer sends the due ones,
// signed as the Standard Webhooks specification says, and retries a
// failing one with exponential backoff and jitter for a day before it
// dead-letters it. The rules are here; package dynamo persists them.
package webhooks

import (
	"context"
	"slices"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
)

// Webhook-only event types: a customer starts or stops being shared with
// the receiving organization. The others are the domain events'
// (events.Types).
const (
	CustomerShared   events.Type = "rapport.customer.shared"
	CustomerUnshared events.Type = "rapport.customer.unshared"
	// EndpointDisabled is published on the event bus (not to partners)
	// when an endpoint that failed for DisableAfter is disabled.
	TypeEndpointDisabled events.Type = "rapport.webhook.endpoint_disabled"
)

// staffOnly are the domain events of the staff's own workflow (a claim
// about to lapse, who a case is assigned to, a task falling due, the leads
// telesales hand to sales, a customer the pool is about to take back) and
// of contracts, which partners never see: a partner is not told of them.
var staffOnly = []events.Type{events.CustomerClaimExpiring, events.CaseAssigned, events.TaskDue,
	events.LeadCreated, events.LeadHanded, events.LeadAccepted, events.LeadReturned, events.LeadWithdrawn,
	events.CustomerPoolReturnDue,
	events.ContractSigned, events.ContractUpdated, events.ContractPaymentRecorded, events.ContractPaid,
	events.ContractApprovalRequested, events.ContractApproved, events.ContractRejected}

// Types lists every event type an endpoint may subscribe to.
var Types = append([]events.Type{CustomerShared, CustomerUnshared}, slices.DeleteFunc(slices.Clone(events.Types),
	func(t events.Type) bool { return slices.Contains(staffOnly, t) })...)

// EndpointStatus says whether an endpoint is sent deliveries.
type EndpointStatus string

const (
	EndpointActive EndpointStatus = "ACTIVE"
	// EndpointDisabled: sent nothing; set by ADMIN, or by the Deliverer
	// when the endpoint failed for DisableAfter.
	EndpointDisabled EndpointStatus = "DISABLED"
)

// EndpointStatuses lists every status.
var EndpointStatuses = []EndpointStatus{EndpointActive, EndpointDisabled}

// Bounds.
const (
	MaxEndpointsPerPartner = 5
	MaxURLLen              = 2000
	// MaxOverlap bounds how long a rotated secret keeps signing.
	MaxOverlap = 7 * 24 * time.Hour
	// DefaultOverlap is the rotation's overlap when none is given.
	DefaultOverlap = 24 * time.Hour
)

// Endpoint is where an organization is sent its events.
type Endpoint struct {
	ID      string
	OrgID   string
	URL     string
	Types   []events.Type
	Status  EndpointStatus
	Secrets []Secret
	// FailingSince is the first failed attempt since the last success;
	// nil while the endpoint answers.
	FailingSince *time.Time
	DisabledAt   *time.Time
	// DisabledReason says why it was disabled ("" when by hand).
	DisabledReason string
	Version        int
	CreatedAt      time.Time
	CreatedBy      string
	UpdatedAt      time.Time
	UpdatedBy      string
}

// Secret is one signing secret of an endpoint, sealed (Sealer): the
// newest first. A rotated-out secret signs until ExpiresAt.
type Secret struct {
	Sealed    []byte
	CreatedAt time.Time
	ExpiresAt *time.Time
}

// Signing returns the secrets that sign at now, newest first.
func (e *Endpoint) Signing(now time.Time) []Secret {
	var out []Secret
	for _, s := range e.Secrets {
		if s.ExpiresAt == nil || now.Before(*s.ExpiresAt) {
			out = append(out, s)
		}
	}
	return out
}

// Wants reports whether the endpoint is sent events of type t.
func (e *Endpoint) Wants(t events.Type) bool {
	if e.Status != EndpointActive {
		return false
	}
	for _, w := range e.Types {
		if w == t {
			return true
		}
	}
	return false
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	// DeliveryPending: not attempted yet, or failed and due again.
	DeliveryPending   DeliveryStatus = "PENDING"
	DeliveryDelivered DeliveryStatus = "DELIVERED"
	// DeliveryDead: failed for RetryFor, or its endpoint was disabled:
	// no more attempts (a replay sends it again).
	DeliveryDead DeliveryStatus = "DEAD"
)

// Delivery is one event sent to one endpoint: the delivery log's entry.
type Delivery struct {
	// ID is a ULID whose time is the event's (a replay's: the replay's).
	ID         string
	EndpointID string
	OrgID      string
	// MessageID is the webhook-id header: the same on every attempt and
	// replay of the event to this endpoint, for the receiver to
	// de-duplicate.
	MessageID string
	EventID   string
	// Sequence is the event's (the stream record's sequence number): due
	// deliveries go in its order.
	Sequence   string
	Type       events.Type
	CustomerID string
	// Payload is the body sent, exactly.
	Payload []byte
	Status  DeliveryStatus
	// Attempts made so far.
	Attempts int
	// NextAttemptAt is when it is due (PENDING only).
	NextAttemptAt *time.Time
	LastAttemptAt *time.Time
	// ResponseCode of the last attempt; 0 when none came back.
	ResponseCode int
	// Latency of the last attempt.
	Latency time.Duration
	// LastError says why the last attempt failed ("" when it did not).
	LastError string
	// ReplayOf names the delivery this one sends again.
	ReplayOf  string
	CreatedAt time.Time
	Version   int
}

// Store persists endpoints and deliveries (package dynamo). Errors are
// crm.Error values as for crm.Store; endpoint writes are audited.
type Store interface {
	// CreateEndpoint stores a new endpoint, unless its organization has
	// MaxEndpointsPerPartner already (BAD_USER_INPUT).
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	// UpdateEndpoint replaces prev by next if prev is the stored version
	// (CONFLICT otherwise), and writes notices in the same transaction
	// (at most MaxAdminsTold).
	UpdateEndpoint(ctx context.Context, prev, next *Endpoint, notices ...*crm.Notification) error
	// Endpoint reads one, consistently; NOT_FOUND when missing.
	Endpoint(ctx context.Context, id string) (*Endpoint, error)
	// Endpoints lists an organization's endpoints, oldest first.
	Endpoints(ctx context.Context, orgID string) ([]*Endpoint, error)

	// AddDeliveries writes new deliveries; one that exists already (a
	// stream batch delivered again) is left as it is.
	AddDeliveries(ctx context.Context, ds []*Delivery) error
	// AddReplay writes a replay, audited.
	AddReplay(ctx context.Context, d *Delivery) error
	// SaveDelivery replaces a delivery if its stored version is
	// d.Version-1 (CONFLICT otherwise).
	SaveDelivery(ctx context.Context, d *Delivery) error
	// Delivery reads one; NOT_FOUND when missing.
	Delivery(ctx context.Context, endpointID, id string) (*Delivery, error)
	// Deliveries lists an endpoint's deliveries, newest first.
	Deliveries(ctx context.Context, endpointID string, p crm.PageRequest) (*crm.Page[*Delivery], error)
	// DueDeliveries returns up to limit PENDING deliveries due at now,
	// soonest first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*Delivery, error)

	// EndpointsExist reports whether any endpoint may exist (false only
	// when none was ever registered); consistent.
	EndpointsExist(ctx context.Context) (bool, error)

	// PartnerOrg, Customers and ListUsers are crm.Store's.
	PartnerOrg(ctx context.Context, id string) (*crm.PartnerOrg, error)
	Customers(ctx context.Context, ids []string) (map[string]*crm.Customer, error)
	ListUsers(ctx context.Context, f crm.UserFilter, p crm.PageRequest) (*crm.Page[*crm.DirectoryUser], error)
}
