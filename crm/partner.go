package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Partner organizations: agencies, resellers and outsourced
// service desks that query, with API keys, only the customers shared with
// them, their personal data masked by the organization's policy. ADMIN
// manages organizations and keys; ADMIN or the team's MANAGER shares a
// customer with an organization.

// PartnerStatus says whether an organization's keys work.
type PartnerStatus string

const (
	PartnerActive    PartnerStatus = "ACTIVE"
	PartnerSuspended PartnerStatus = "SUSPENDED" // every key is refused
)

// PartnerStatuses lists every status.
var PartnerStatuses = []PartnerStatus{PartnerActive, PartnerSuspended}

// MaskField names personal data a masking policy can hide from a partner.
type MaskField string

const (
	MaskPhones        MaskField = "PHONES"         // the customer's phones: +86 *** **** 1234
	MaskEmails        MaskField = "EMAILS"         // the customer's emails: l***@example.com
	MaskAddresses     MaskField = "ADDRESSES"      // street lines and postal codes (city, region, country stay)
	MaskContactPhones MaskField = "CONTACT_PHONES" // contact persons' phones
	MaskContactEmails MaskField = "CONTACT_EMAILS" // contact persons' emails
	MaskAttributes    MaskField = "ATTRIBUTES"     // values of the free-form archive (keys stay)
	// MaskInteractionContent hides what staff wrote about the customer:
	// interaction content, outcome and attachment links, case plans and
	// step notes, evaluation comments.
	MaskInteractionContent MaskField = "INTERACTION_CONTENT"
)

// MaskFields lists every maskable field; a new organization masks them all.
var MaskFields = []MaskField{MaskPhones, MaskEmails, MaskAddresses, MaskContactPhones, MaskContactEmails,
	MaskAttributes, MaskInteractionContent}

// PartnerOrg is a partner organization.
type PartnerOrg struct {
	ID     string
	Name   string
	Status PartnerStatus
	// Masked is the masking policy: the fields hidden from the
	// organization's principals, in MaskFields order.
	Masked []MaskField
	// ShowAmounts lets its principals read the amounts of interactions
	// (a TRANSACTION's, which a won deal or a contract logs) and the
	// customer's transaction total; false (the default) hides them.
	ShowAmounts bool
	Version     int
	CreatedAt   time.Time
	CreatedBy   string
	UpdatedAt   time.Time
	UpdatedBy   string
}

// PartnerOrgInput is a new organization. Masked nil masks every field.
type PartnerOrgInput struct {
	Name   string
	Masked []MaskField
	// ShowAmounts: see PartnerOrg (default false: amounts hidden).
	ShowAmounts bool
}

// PartnerOrgUpdate changes the fields that are non-nil; an empty Masked
// masks nothing.
type PartnerOrgUpdate struct {
	Name        *string
	Status      *PartnerStatus
	Masked      []MaskField
	ShowAmounts *bool
}

// PartnerShare records that a customer is shared with an organization.
type PartnerShare struct {
	OrgID string
	By    string
	At    time.Time
}

// MaxPartnersPerCustomer bounds the organizations a customer is shared
// with (each share is an index entry written with the profile).
const MaxPartnersPerCustomer = 10

// SharedWith reports whether c is shared with the organization org.
func (c *Customer) SharedWith(org string) bool {
	return org != "" && slices.ContainsFunc(c.Partners, func(p PartnerShare) bool { return p.OrgID == org })
}

// PartnerStore persists partner organizations and their API keys; the Store
// embeds it. Errors as for Store.
type PartnerStore interface {
	// CreatePartnerOrg stores a new organization.
	CreatePartnerOrg(ctx context.Context, o *PartnerOrg) error
	// UpdatePartnerOrg replaces prev by o if prev is still the stored version;
	// ECONFLICT otherwise.
	UpdatePartnerOrg(ctx context.Context, prev, o *PartnerOrg) error
	// PartnerOrg returns ENOTFOUND when there is no such organization.
	PartnerOrg(ctx context.Context, id string) (*PartnerOrg, error)
	// ListPartnerOrgs lists organizations, newest first.
	ListPartnerOrgs(ctx context.Context, p PageRequest) (*Page[*PartnerOrg], error)

	// CreateAPIKey stores a new key; ECONFLICT if its id is taken.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKey reads a key by id, consistently; ENOTFOUND when missing.
	APIKey(ctx context.Context, id string) (*APIKey, error)
	// ListAPIKeys lists an organization's keys, newest first.
	ListAPIKeys(ctx context.Context, orgID string, p PageRequest) (*Page[*APIKey], error)
	// RevokeAPIKey stores k.RevokedAt and k.RevokedBy unless the key is
	// revoked already (ECONFLICT).
	RevokeAPIKey(ctx context.Context, k *APIKey) error
	// TouchAPIKey sets the key's last use to at unless it was last used
	// after notBefore (ECONFLICT), so a busy key costs one write per
	// interval, not one per request.
	TouchAPIKey(ctx context.Context, id string, at, notBefore time.Time) error
}

func canManagePartners(u *User) bool { return u.HasRole(RoleAdmin) && !u.IsPartner() }

// canReadPartners: the directory of organizations, which managers need to
// share customers.
func canReadPartners(u *User) bool {
	return !u.IsPartner() && (u.HasRole(RoleAdmin) || u.HasRole(RoleManager) || u.HasRole(RoleAuditor))
}

func partnerAdmin(ctx context.Context) (*User, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !canManagePartners(u) {
		return nil, Errorf(EFORBIDDEN, "only an admin may manage partner organizations and their keys")
	}
	return u, nil
}

// checkMasked validates a masking policy and returns it in MaskFields order
// without repeats.
func checkMasked(c *checker, field string, in []MaskField) []MaskField {
	for i, f := range in {
		checkEnum(c, fmt.Sprintf("%s[%d]", field, i), f, MaskFields)
	}
	out := []MaskField{}
	for _, f := range MaskFields {
		if slices.Contains(in, f) {
			out = append(out, f)
		}
	}
	return out
}

func validatePartnerOrg(o *PartnerOrg) error {
	var c checker
	c.text("input.name", o.Name, 1, MaxNameLen)
	checkEnum(&c, "input.status", o.Status, PartnerStatuses)
	return c.result()
}

// CreatePartnerOrg adds a partner organization, ACTIVE. Without a policy
// it masks every field. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) CreatePartnerOrg(ctx context.Context, in PartnerOrgInput) (*PartnerOrg, error) {
	u, err := partnerAdmin(ctx)
	if err != nil {
		return nil, err
	}
	var c checker
	masked := slices.Clone(MaskFields)
	if in.Masked != nil {
		masked = checkMasked(&c, "input.masked", in.Masked)
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	now := s.now()
	o := &PartnerOrg{ID: s.newID(now), Name: strings.TrimSpace(in.Name), Status: PartnerActive, Masked: masked, ShowAmounts: in.ShowAmounts,
		Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID}
	if err := validatePartnerOrg(o); err != nil {
		return nil, err
	}
	if err := s.Store.CreatePartnerOrg(ctx, o); err != nil {
		return nil, err
	}
	return o, nil
}

// UpdatePartnerOrg renames an organization, suspends or reactivates it, or
// changes its masking policy. expectedVersion must be the version read.
// Within the stack, principals already authorized keep the old status and
// policy for up to the authorizer's cache TTL (docs/partners.md). ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT.
func (s *Service) UpdatePartnerOrg(ctx context.Context, id string, expectedVersion int, upd PartnerOrgUpdate) (*PartnerOrg, error) {
	u, err := partnerAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	prev, err := s.Store.PartnerOrg(ctx, id)
	if err != nil {
		return nil, err
	}
	if prev.Version != expectedVersion {
		return nil, staleVersion("partner organization", id, expectedVersion, prev.Version)
	}
	next := *prev
	var c checker
	if upd.Name != nil {
		next.Name = strings.TrimSpace(*upd.Name)
	}
	set(&next.Status, upd.Status)
	set(&next.ShowAmounts, upd.ShowAmounts)
	if upd.Masked != nil {
		next.Masked = checkMasked(&c, "input.masked", upd.Masked)
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	if err := validatePartnerOrg(&next); err != nil {
		return nil, err
	}
	next.Version++
	next.UpdatedAt, next.UpdatedBy = s.now(), u.ID
	if err := s.Store.UpdatePartnerOrg(ctx, prev, &next); err != nil {
		return nil, err
	}
	return &next, nil
}

// PartnerOrg returns an organization. Staff who share customers (ADMIN,
// MANAGER) and AUDITOR read any; a partner principal reads its own only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
func (s *Service) PartnerOrg(ctx context.Context, id string) (*PartnerOrg, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	switch {
	case u.IsPartner() && id != u.PartnerOrgID:
		return nil, Errorf(ENOTFOUND, "partner organization %s not found", id)
	case !u.IsPartner() && !canReadPartners(u):
		return nil, Errorf(EFORBIDDEN, "your role may not read partner organizations")
	}
	return s.Store.PartnerOrg(ctx, id)
}

// PartnerOrgs lists the organizations, newest first. ADMIN, MANAGER, AUDITOR.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) PartnerOrgs(ctx context.Context, p PageRequest) (*Page[*PartnerOrg], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !canReadPartners(u) {
		return nil, Errorf(EFORBIDDEN, "your role may not list partner organizations")
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	return s.Store.ListPartnerOrgs(ctx, p)
}

// ShareCustomer lets a partner organization read a customer. Sharing again
// changes nothing. ADMIN or the team's MANAGER; the customer must be active.
// Errors: UNAUTHENTICATED, NOT_FOUND (customer or organization), FORBIDDEN,
// BAD_USER_INPUT (too many partners), CONFLICT (archived).
func (s *Service) ShareCustomer(ctx context.Context, customerID, orgID string) (*Customer, error) {
	return s.changeShare(ctx, customerID, orgID, true)
}

// UnshareCustomer withdraws a partner organization's access to a customer,
// archived ones too. Unsharing what is not shared changes nothing. ADMIN or
// the team's MANAGER.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN.
func (s *Service) UnshareCustomer(ctx context.Context, customerID, orgID string) (*Customer, error) {
	return s.changeShare(ctx, customerID, orgID, false)
}

func (s *Service) changeShare(ctx context.Context, customerID, orgID string, share bool) (*Customer, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("partnerId", orgID); err != nil {
		return nil, err
	}
	// Authorize first, so that nobody who may not share learns which
	// organizations exist.
	if c, err := s.readable(ctx, u, customerID); err != nil {
		return nil, err
	} else if !canAssign(u, c) {
		return nil, forbidden("share or unshare", customerID)
	}
	if share {
		if _, err := s.Store.PartnerOrg(ctx, orgID); err != nil {
			return nil, err
		}
	}
	var result *Customer
	err = s.applyFresh(ctx, func() (*Change, error) {
		prev, err := s.readable(ctx, u, customerID)
		if err != nil {
			return nil, err
		}
		if !canAssign(u, prev) {
			return nil, forbidden("share or unshare", customerID)
		}
		if err := Writable(prev); err != nil {
			return nil, err
		}
		result = prev
		if prev.SharedWith(orgID) == share {
			return nil, errNothingToDo
		}
		next := prev.Clone()
		if share {
			if prev.Status == StatusArchived {
				return nil, Errorf(ECONFLICT, "customer %s is archived; restore it first", customerID)
			}
			if len(prev.Partners) >= MaxPartnersPerCustomer {
				return nil, Invalid("partnerId", "customer %s is already shared with the maximum of %d partner organizations", customerID, MaxPartnersPerCustomer)
			}
			next.Partners = append(next.Partners, PartnerShare{OrgID: orgID, By: u.ID, At: s.now()})
		} else {
			next.Partners = slices.DeleteFunc(next.Partners, func(p PartnerShare) bool { return p.OrgID == orgID })
		}
		s.touch(next, u)
		result = next
		return &Change{CustomerPrev: prev, Customer: next}, nil
	})
	if err != nil && err != errNothingToDo {
		return nil, err
	}
	return result, nil
}
