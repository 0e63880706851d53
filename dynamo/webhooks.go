package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/webhooks"
)

// Partner webhooks (docs/access-patterns.md, "Partner webhooks"):
//
//	WHEP#<endpoint> / WHEP      an endpoint; gList WEBHOOKS#<org>, gSort id
//	WHEP#<endpoint> / D#<id>    a delivery; while PENDING gDue WEBHOOK,
//	                            gDueAt next attempt # endpoint # id
const (
	skEndpoint       = "WHEP"
	skDeliveryPrefix = "D#"
	dueWebhooks      = "WEBHOOK"
	// deliveryKept is how long a delivery stays in the log (TTL).
	deliveryKept = 35 * 24 * time.Hour
)

var _ webhooks.Store = (*Store)(nil)

func endpointPK(id string) string        { return "WHEP#" + id }
func endpointsListKey(org string) string { return "WEBHOOKS#" + org }

type secretItem struct {
	Sealed    []byte     `dynamodbav:"sealed"`
	CreatedAt time.Time  `dynamodbav:"createdAt"`
	ExpiresAt *time.Time `dynamodbav:"expiresAt,omitempty"`
}

type endpointItem struct {
	PK    string `dynamodbav:"pk"`
	SK    string `dynamodbav:"sk"`
	Type  string `dynamodbav:"type"`
	GList string `dynamodbav:"gList"`
	GSort string `dynamodbav:"gSort"`

	ID             string       `dynamodbav:"id"`
	OrgID          string       `dynamodbav:"org"`
	URL            string       `dynamodbav:"url"`
	Types          []string     `dynamodbav:"eventTypes"`
	Status         string       `dynamodbav:"status"`
	Secrets        []secretItem `dynamodbav:"secrets"`
	FailingSince   *time.Time   `dynamodbav:"failingSince,omitempty"`
	DisabledAt     *time.Time   `dynamodbav:"disabledAt,omitempty"`
	DisabledReason string       `dynamodbav:"disabledReason,omitempty"`
	Version        int          `dynamodbav:"version"`
	CreatedAt      time.Time    `dynamodbav:"createdAt"`
	CreatedBy      string       `dynamodbav:"createdBy"`
	UpdatedAt      time.Time    `dynamodbav:"updatedAt"`
	UpdatedBy      string       `dynamodbav:"updatedBy"`
}

func toEndpointItem(e *webhooks.Endpoint) *endpointItem {
	it := &endpointItem{PK: endpointPK(e.ID), SK: skEndpoint, Type: "webhookEndpoint", GList: endpointsListKey(e.OrgID), GSort: e.ID,
		ID: e.ID, OrgID: e.OrgID, URL: e.URL, Status: string(e.Status), FailingSince: e.FailingSince, DisabledAt: e.DisabledAt,
		DisabledReason: e.DisabledReason, Version: e.Version, CreatedAt: e.CreatedAt, CreatedBy: e.CreatedBy,
		UpdatedAt: e.UpdatedAt, UpdatedBy: e.UpdatedBy}
	for _, t := range e.Types {
		it.Types = append(it.Types, string(t))
	}
	for _, s := range e.Secrets {
		it.Secrets = append(it.Secrets, secretItem(s))
	}
	return it
}

func fromEndpointItem(it *endpointItem) *webhooks.Endpoint {
	e := &webhooks.Endpoint{ID: it.ID, OrgID: it.OrgID, URL: it.URL, Status: webhooks.EndpointStatus(it.Status),
		FailingSince: it.FailingSince, DisabledAt: it.DisabledAt, DisabledReason: it.DisabledReason, Version: it.Version,
		CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy}
	for _, t := range it.Types {
		e.Types = append(e.Types, events.Type(t))
	}
	for _, s := range it.Secrets {
		e.Secrets = append(e.Secrets, webhooks.Secret(s))
	}
	return e
}

// auditedEndpoint is an endpoint as the audit log records it: its
// secrets by count and dates, never their sealed bytes.
func auditedEndpoint(t *tx, e *webhooks.Endpoint) map[string]types.AttributeValue {
	if e == nil {
		return nil
	}
	m := t.marshal(toEndpointItem(e))
	var dates []string
	for _, s := range e.Secrets {
		d := "created " + s.CreatedAt.Format(time.RFC3339)
		if s.ExpiresAt != nil {
			d += ", signs until " + s.ExpiresAt.Format(time.RFC3339)
		}
		dates = append(dates, d)
	}
	m["secrets"] = t.marshalValue(dates)
	return m
}

// CreateEndpoint stores a new endpoint, audited.
func (s *Store) CreateEndpoint(ctx context.Context, e *webhooks.Endpoint) error {
	have, err := s.Endpoints(ctx, e.OrgID)
	if err != nil {
		return err
	}
	if len(have) >= webhooks.MaxEndpointsPerPartner {
		return crm.Invalid("input.partnerId", "partner organization %s has the maximum of %d webhook endpoints", e.OrgID, webhooks.MaxEndpointsPerPartner)
	}
	x := &tx{s: s}
	x.put(x.marshal(toEndpointItem(e)), notExists, nil, conflict("webhook endpoint "+e.ID))
	x.add(pkWebhooks, skEndpointsN, 1) // the marker the fan-out reads (EndpointsExist)
	x.record("webhookEndpoint", e.ID, "", nil, auditedEndpoint(x, e))
	return x.commit(ctx)
}

// UpdateEndpoint replaces prev by next at prev's version, audited, with
// notices in the same transaction (each conditioned on not existing).
func (s *Store) UpdateEndpoint(ctx context.Context, prev, next *webhooks.Endpoint, notices ...*crm.Notification) error {
	if len(notices) > webhooks.MaxAdminsTold {
		return fmt.Errorf("update webhook endpoint %s: %d notices, at most %d fit its transaction", next.ID, len(notices), webhooks.MaxAdminsTold)
	}
	x := &tx{s: s}
	cond, vals := versioned(prev.Version)
	x.put(x.marshal(toEndpointItem(next)), cond, vals, conflict("webhook endpoint "+next.ID))
	for _, n := range notices {
		x.put(x.marshal(toNotificationItem(n)), notExists, nil, conflict("notification "+n.ID))
	}
	x.record("webhookEndpoint", next.ID, "", auditedEndpoint(x, prev), auditedEndpoint(x, next))
	return x.commit(ctx)
}

// Endpoint reads one endpoint, consistently.
func (s *Store) Endpoint(ctx context.Context, id string) (*webhooks.Endpoint, error) {
	var it endpointItem
	if err := s.get(ctx, endpointPK(id), skEndpoint, &it, "webhook endpoint "+id+" not found"); err != nil {
		return nil, err
	}
	return fromEndpointItem(&it), nil
}

// Endpoints lists an organization's endpoints, oldest first: the index's
// keys, then the items.
func (s *Store) Endpoints(ctx context.Context, orgID string) ([]*webhooks.Endpoint, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(s.idx.List),
		KeyConditionExpression:    aws.String("gList = :k"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(endpointsListKey(orgID))},
	})
	if err != nil {
		return nil, wrap("query webhook endpoints", err)
	}
	if len(res.Items) == 0 {
		return nil, nil
	}
	items, err := s.fetch(ctx, res.Items)
	if err != nil {
		return nil, err
	}
	var out []*webhooks.Endpoint
	for _, raw := range items {
		if raw == nil {
			continue
		}
		var it endpointItem
		if err := unmarshalItem(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal webhook endpoint: %w", err)
		}
		out = append(out, fromEndpointItem(&it))
	}
	return out, nil
}

type deliveryItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Type   string `dynamodbav:"type"`
	GDue   string `dynamodbav:"gDue,omitempty"`
	GDueAt string `dynamodbav:"gDueAt,omitempty"`
	TTL    int64  `dynamodbav:"ttl"`

	ID            string     `dynamodbav:"id"`
	EndpointID    string     `dynamodbav:"endpoint"`
	OrgID         string     `dynamodbav:"org"`
	MessageID     string     `dynamodbav:"messageId"`
	EventID       string     `dynamodbav:"eventId"`
	Sequence      string     `dynamodbav:"seq,omitempty"`
	EventType     string     `dynamodbav:"eventType"`
	CustomerID    string     `dynamodbav:"customerId"`
	Payload       string     `dynamodbav:"payload"`
	Status        string     `dynamodbav:"status"`
	Attempts      int        `dynamodbav:"attempts"`
	NextAttemptAt *time.Time `dynamodbav:"nextAttemptAt,omitempty"`
	LastAttemptAt *time.Time `dynamodbav:"lastAttemptAt,omitempty"`
	ResponseCode  int        `dynamodbav:"responseCode,omitempty"`
	LatencyMs     int64      `dynamodbav:"latencyMs,omitempty"`
	LastError     string     `dynamodbav:"lastError,omitempty"`
	ReplayOf      string     `dynamodbav:"replayOf,omitempty"`
	CreatedAt     time.Time  `dynamodbav:"createdAt"`
	Version       int        `dynamodbav:"version"`
}

func toDeliveryItem(d *webhooks.Delivery) *deliveryItem {
	it := &deliveryItem{PK: endpointPK(d.EndpointID), SK: skDeliveryPrefix + d.ID, Type: "webhookDelivery",
		TTL: d.CreatedAt.Add(deliveryKept).Unix(), ID: d.ID, EndpointID: d.EndpointID, OrgID: d.OrgID, MessageID: d.MessageID,
		EventID: d.EventID, Sequence: d.Sequence, EventType: string(d.Type), CustomerID: d.CustomerID, Payload: string(d.Payload),
		Status: string(d.Status), Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt, LastAttemptAt: d.LastAttemptAt,
		ResponseCode: d.ResponseCode, LatencyMs: d.Latency.Milliseconds(), LastError: d.LastError, ReplayOf: d.ReplayOf,
		CreatedAt: d.CreatedAt, Version: d.Version}
	if d.Status == webhooks.DeliveryPending && d.NextAttemptAt != nil {
		it.GDue, it.GDueAt = dueWebhooks, dueKey(*d.NextAttemptAt, d.EndpointID+"#"+d.ID)
	}
	return it
}

func fromDeliveryItem(it *deliveryItem) *webhooks.Delivery {
	return &webhooks.Delivery{ID: it.ID, EndpointID: it.EndpointID, OrgID: it.OrgID, MessageID: it.MessageID,
		EventID: it.EventID, Sequence: it.Sequence, Type: events.Type(it.EventType), CustomerID: it.CustomerID, Payload: []byte(it.Payload),
		Status: webhooks.DeliveryStatus(it.Status), Attempts: it.Attempts, NextAttemptAt: it.NextAttemptAt,
		LastAttemptAt: it.LastAttemptAt, ResponseCode: it.ResponseCode, Latency: time.Duration(it.LatencyMs) * time.Millisecond,
		LastError: it.LastError, ReplayOf: it.ReplayOf, CreatedAt: it.CreatedAt, Version: it.Version}
}

// AddDeliveries puts each new delivery unless it exists: one PutItem each,
// conditioned on its absence, a failed condition being a delivery written
// by an earlier delivery of the same stream batch.
func (s *Store) AddDeliveries(ctx context.Context, ds []*webhooks.Delivery) error {
	for _, d := range ds {
		x := &tx{s: s}
		item := x.marshal(toDeliveryItem(d))
		if x.err != nil {
			return x.err
		}
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String(notExists)})
		var cf *types.ConditionalCheckFailedException
		if errors.As(err, &cf) {
			continue
		}
		if err != nil {
			return wrap("put webhook delivery", err)
		}
	}
	return nil
}

// AddReplay writes a replay with its audit entry.
func (s *Store) AddReplay(ctx context.Context, d *webhooks.Delivery) error {
	x := &tx{s: s}
	item := x.marshal(toDeliveryItem(d))
	x.put(item, notExists, nil, conflict("webhook delivery "+d.ID))
	audited := x.marshal(toDeliveryItem(d))
	delete(audited, "payload")
	x.record("webhookDelivery", d.ID, d.CustomerID, nil, audited)
	return x.commit(ctx)
}

// SaveDelivery replaces a delivery at the version before d's.
func (s *Store) SaveDelivery(ctx context.Context, d *webhooks.Delivery) error {
	x := &tx{s: s}
	item := x.marshal(toDeliveryItem(d))
	if x.err != nil {
		return x.err
	}
	cond, vals := versioned(d.Version - 1)
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: &cond, ExpressionAttributeValues: vals})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return crm.Errorf(crm.ECONFLICT, "webhook delivery %s was changed by another run", d.ID)
	}
	return wrap("save webhook delivery", err)
}

// Delivery reads one delivery, consistently.
func (s *Store) Delivery(ctx context.Context, endpointID, id string) (*webhooks.Delivery, error) {
	var it deliveryItem
	if err := s.get(ctx, endpointPK(endpointID), skDeliveryPrefix+id, &it, "webhook delivery "+id+" not found"); err != nil {
		return nil, err
	}
	return fromDeliveryItem(&it), nil
}

// Deliveries lists an endpoint's deliveries, newest first: one Query of
// its collection per page.
func (s *Store) Deliveries(ctx context.Context, endpointID string, p crm.PageRequest) (*crm.Page[*webhooks.Delivery], error) {
	plan := listPlan[*webhooks.Delivery]{
		name: "webhookDeliveries/" + endpointID,
		query: dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :d)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(endpointPK(endpointID)), ":d": str(skDeliveryPrefix)},
			ScanIndexForward: aws.Bool(false),
		},
		keyAttr: []string{"pk", "sk"},
		decode:  decodeAll(fromDeliveryItem),
	}
	return collect(ctx, s, plan, p)
}

// DueDeliveries reads the due ones, in webhooks.SortDue's order, from the sparse byDue index (keys),
// then the items, consistently.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*webhooks.Delivery, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(s.idx.Due),
		KeyConditionExpression:    aws.String("gDue = :d AND gDueAt < :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(dueWebhooks), ":t": str(dueKey(now, "~"))},
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, wrap("query due webhook deliveries", err)
	}
	if len(res.Items) == 0 {
		return nil, nil
	}
	keys := make([]map[string]types.AttributeValue, len(res.Items))
	for i, e := range res.Items {
		keys[i] = key(strAttr(e["pk"]), strAttr(e["sk"]))
	}
	items, err := s.batchGetConsistent(ctx, keys, true)
	if err != nil {
		return nil, err
	}
	var out []*webhooks.Delivery
	for _, raw := range items {
		var it deliveryItem
		if err := unmarshalItem(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal webhook delivery: %w", err)
		}
		if it.Status == string(webhooks.DeliveryPending) && it.NextAttemptAt != nil && !it.NextAttemptAt.After(now) {
			out = append(out, fromDeliveryItem(&it))
		}
	}
	webhooks.SortDue(out)
	return out, nil
}

// The endpoint marker: whether any endpoint was ever registered, so that
// the stream's fan-out skips reading the shares of a batch's customers in
// a stack without endpoints (EndpointsExist). Endpoints are never deleted,
// so once one exists the answer stays yes.
const (
	pkWebhooks    = "WEBHOOKS"
	skEndpointsN  = "ENDPOINTS"
	endpointsSeen = "2026-12-webhook-endpoints"
)

// EndpointsExist reports whether any webhook endpoint may exist: one
// consistent BatchGetItem of the marker (n, added to by each registration;
// legacy, set by the migration for endpoints registered before the
// marker) and the migration's progress. Until that migration is done an
// absent marker answers yes.
func (s *Store) EndpointsExist(ctx context.Context) (bool, error) {
	items, err := s.batchGetConsistent(ctx, []map[string]types.AttributeValue{
		key(pkWebhooks, skEndpointsN), key(migrationPK(endpointsSeen), skProgress)}, true)
	if err != nil {
		return false, err
	}
	migrated := false
	for _, it := range items {
		switch strAttr(it["pk"]) {
		case pkWebhooks:
			var m struct {
				N      int  `dynamodbav:"n"`
				Legacy bool `dynamodbav:"legacy"`
			}
			if err := unmarshalItem(it, &m); err != nil {
				return false, fmt.Errorf("unmarshal the endpoint marker: %w", err)
			}
			if m.N > 0 || m.Legacy {
				return true, nil
			}
		default:
			var p progressItem
			if err := unmarshalItem(it, &p); err != nil {
				return false, fmt.Errorf("unmarshal %s: %w", endpointsSeen, err)
			}
			migrated = p.Done
		}
	}
	return !migrated, nil
}

// endpointsPage marks the endpoint marker legacy when a page holds an
// endpoint (registered before the marker counted them): one UpdateItem,
// the same however often it is applied.
func endpointsPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	for _, raw := range items {
		if strAttr(raw["sk"]) != skEndpoint || !strings.HasPrefix(strAttr(raw["pk"]), "WHEP#") {
			continue
		}
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(pkWebhooks, skEndpointsN),
			UpdateExpression:          aws.String("SET legacy = :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}})
		if err != nil {
			return 0, wrap("mark the endpoint marker", err)
		}
		return 1, nil
	}
	return 0, nil
}
