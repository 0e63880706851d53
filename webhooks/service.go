package webhooks

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/events"
)

// Service is what ADMIN and partners do with endpoints and the delivery
// log. ADMIN registers and changes endpoints; ADMIN and the
// organization's own principals (its API keys) read its endpoints and
// their deliveries, and replay a delivery.
type Service struct {
	Store  Store
	Sealer *Sealer
	Guard  Guard
	Now    func() time.Time
}

// Registered is an endpoint with its new secret, shown once.
type Registered struct {
	Endpoint *Endpoint
	Secret   string
}

// EndpointInput is a new endpoint.
type EndpointInput struct {
	OrgID string
	URL   string
	Types []events.Type
}

// EndpointUpdate changes the fields that are non-nil.
type EndpointUpdate struct {
	URL    *string
	Types  []events.Type
	Status *EndpointStatus
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func admin(ctx context.Context) (*crm.User, error) {
	u := crm.UserFromContext(ctx)
	if u == nil || u.ID == "" {
		return nil, crm.Errorf(crm.EUNAUTHORIZED, "sign-in required")
	}
	if u.IsPartner() || !u.HasRole(crm.RoleAdmin) {
		return nil, crm.Errorf(crm.EFORBIDDEN, "only an admin may manage webhook endpoints")
	}
	return u, nil
}

// reader may read org's endpoints: ADMIN, or the organization's own
// principal. Another organization's reads as not found.
func reader(ctx context.Context, org string) error {
	u := crm.UserFromContext(ctx)
	switch {
	case u == nil || u.ID == "":
		return crm.Errorf(crm.EUNAUTHORIZED, "sign-in required")
	case u.IsPartner() && u.PartnerOrgID == org:
		return nil
	case u.IsPartner():
		return crm.Errorf(crm.ENOTFOUND, "partner organization %s not found", org)
	case u.HasRole(crm.RoleAdmin):
		return nil
	}
	return crm.Errorf(crm.EFORBIDDEN, "only an admin or the partner may read webhook endpoints")
}

func (s *Service) checkTypes(field string, ts []events.Type) ([]events.Type, error) {
	if len(ts) == 0 {
		return nil, crm.Invalid(field, "name at least one event type")
	}
	var out []events.Type
	for i, t := range ts {
		if !slices.Contains(Types, t) {
			return nil, crm.Invalid(fmt.Sprintf("%s[%d]", field, i), "%q is not an event type a partner can receive", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *Service) checkURL(field, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > MaxURLLen {
		return "", crm.Invalid(field, "must be 1–%d characters", MaxURLLen)
	}
	if err := s.Guard.CheckURL(raw); err != nil {
		return "", crm.Invalid(field, "%s", err.Error())
	}
	return raw, nil
}

// RegisterEndpoint adds an endpoint to an active organization, with a new
// secret (shown once). ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT
// (the organization is suspended).
func (s *Service) RegisterEndpoint(ctx context.Context, in EndpointInput) (*Registered, error) {
	u, err := admin(ctx)
	if err != nil {
		return nil, err
	}
	url, err := s.checkURL("input.url", in.URL)
	if err != nil {
		return nil, err
	}
	types, err := s.checkTypes("input.eventTypes", in.Types)
	if err != nil {
		return nil, err
	}
	org, err := s.Store.PartnerOrg(ctx, in.OrgID)
	if err != nil {
		return nil, err
	}
	if org.Status != crm.PartnerActive {
		return nil, crm.Errorf(crm.ECONFLICT, "partner organization %s is %s; reactivate it first", org.ID, org.Status)
	}
	now := s.now()
	e := &Endpoint{ID: ulid.MustNew(ulid.Timestamp(now), rand.Reader).String(), OrgID: org.ID, URL: url, Types: types,
		Status: EndpointActive, Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID}
	key, shown := NewSecret()
	e.Secrets = []Secret{{Sealed: s.Sealer.Seal(e.ID, key), CreatedAt: now}}
	if err := s.Store.CreateEndpoint(ctx, e); err != nil {
		return nil, err
	}
	return &Registered{Endpoint: e, Secret: shown}, nil
}

// change applies edit to the endpoint as stored now, at the version the
// caller read (0: whatever is stored, for a rotation).
func (s *Service) change(ctx context.Context, u *crm.User, id string, expected int, edit func(*Endpoint) error) (*Endpoint, error) {
	prev, err := s.Store.Endpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if expected != 0 && prev.Version != expected {
		return nil, crm.Errorf(crm.ECONFLICT, "webhook endpoint %s is at version %d, not %d; reload it", id, prev.Version, expected)
	}
	next := *prev
	next.Secrets = slices.Clone(prev.Secrets)
	next.Types = slices.Clone(prev.Types)
	if err := edit(&next); err != nil {
		return nil, err
	}
	next.Version++
	next.UpdatedAt, next.UpdatedBy = s.now(), u.ID
	if err := s.Store.UpdateEndpoint(ctx, prev, &next); err != nil {
		return nil, err
	}
	return &next, nil
}

// UpdateEndpoint changes an endpoint's URL or types, disables it, or
// enables it again (which forgets its failures). ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT.
func (s *Service) UpdateEndpoint(ctx context.Context, id string, expected int, upd EndpointUpdate) (*Endpoint, error) {
	u, err := admin(ctx)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, u, id, expected, func(e *Endpoint) error {
		if upd.URL != nil {
			url, err := s.checkURL("input.url", *upd.URL)
			if err != nil {
				return err
			}
			e.URL = url
		}
		if upd.Types != nil {
			types, err := s.checkTypes("input.eventTypes", upd.Types)
			if err != nil {
				return err
			}
			e.Types = types
		}
		if st := upd.Status; st != nil && *st != e.Status {
			if !slices.Contains(EndpointStatuses, *st) {
				return crm.Invalid("input.status", "must be one of %v", EndpointStatuses)
			}
			e.Status = *st
			now := s.now()
			if *st == EndpointDisabled {
				e.DisabledAt, e.DisabledReason = &now, ""
			} else {
				e.DisabledAt, e.DisabledReason, e.FailingSince = nil, "", nil
			}
		}
		return nil
	})
}

// RotateSecret gives an endpoint a new secret (shown once). The secrets
// it had keep signing, beside the new one, for overlap (0 ends them now;
// at most MaxOverlap), so the receiver can switch without losing a
// delivery. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) RotateSecret(ctx context.Context, id string, overlap time.Duration) (*Registered, error) {
	u, err := admin(ctx)
	if err != nil {
		return nil, err
	}
	if overlap < 0 || overlap > MaxOverlap {
		return nil, crm.Invalid("overlapMinutes", "must be between 0 and %d", int(MaxOverlap/time.Minute))
	}
	key, shown := NewSecret()
	e, err := s.change(ctx, u, id, 0, func(e *Endpoint) error {
		now := s.now()
		until := now.Add(overlap)
		kept := []Secret{{Sealed: s.Sealer.Seal(e.ID, key), CreatedAt: now}}
		for _, old := range e.Signing(now) {
			if old.ExpiresAt == nil || old.ExpiresAt.After(until) {
				old.ExpiresAt = &until
			}
			if overlap > 0 {
				kept = append(kept, old)
			}
		}
		e.Secrets = kept
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Registered{Endpoint: e, Secret: shown}, nil
}

// Endpoint reads one endpoint. ADMIN, or its organization's principal.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
func (s *Service) Endpoint(ctx context.Context, id string) (*Endpoint, error) {
	if crm.UserFromContext(ctx) == nil {
		return nil, crm.Errorf(crm.EUNAUTHORIZED, "sign-in required")
	}
	e, err := s.Store.Endpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := reader(ctx, e.OrgID); err != nil {
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			// Worded as for an endpoint that does not exist, so that
			// another organization's ids cannot be probed.
			return nil, crm.Errorf(crm.ENOTFOUND, "webhook endpoint %s not found", id)
		}
		return nil, err
	}
	return e, nil
}

// Endpoints lists an organization's endpoints, oldest first. ADMIN, or
// the organization's own principal.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
func (s *Service) Endpoints(ctx context.Context, orgID string) ([]*Endpoint, error) {
	if err := reader(ctx, orgID); err != nil {
		return nil, err
	}
	return s.Store.Endpoints(ctx, orgID)
}

// Deliveries is an endpoint's delivery log, newest first. ADMIN, or the
// endpoint's organization's principal.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT.
func (s *Service) Deliveries(ctx context.Context, endpointID string, p crm.PageRequest) (*crm.Page[*Delivery], error) {
	if _, err := s.Endpoint(ctx, endpointID); err != nil {
		return nil, err
	}
	if p.First < 1 || p.First > 100 {
		return nil, crm.Invalid("first", "must be 1–100")
	}
	return s.Store.Deliveries(ctx, endpointID, p)
}

// Replay sends a delivery's message again, as a new delivery due now,
// with the same webhook-id (the receiver de-duplicates by it). ADMIN, or
// the endpoint's organization's principal; the endpoint must be active.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT.
func (s *Service) Replay(ctx context.Context, endpointID, deliveryID string) (*Delivery, error) {
	e, err := s.Endpoint(ctx, endpointID)
	if err != nil {
		return nil, err
	}
	if e.Status != EndpointActive {
		return nil, crm.Errorf(crm.ECONFLICT, "webhook endpoint %s is %s; enable it first", e.ID, e.Status)
	}
	d, err := s.Store.Delivery(ctx, endpointID, deliveryID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	r := &Delivery{ID: ulid.MustNew(ulid.Timestamp(now), rand.Reader).String(), EndpointID: d.EndpointID, OrgID: d.OrgID,
		MessageID: d.MessageID, EventID: d.EventID, Sequence: d.Sequence, Type: d.Type, CustomerID: d.CustomerID, Payload: d.Payload,
		Status: DeliveryPending, NextAttemptAt: &now, ReplayOf: d.ID, CreatedAt: now, Version: 1}
	if err := s.Store.AddReplay(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}
