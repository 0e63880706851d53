package crm

import (
	"context"
	"slices"
)

// Contacts returns a customer's contacts.
// Errors: UNAUTHENTICATED, NOT_FOUND.
func (s *Service) Contacts(ctx context.Context, customerID string) ([]*Contact, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.visible(ctx, u, customerID); err != nil {
		return nil, err
	}
	cs, err := s.Store.Contacts(ctx, customerID)
	return viewAll(u, cs, viewContact), err
}

// AddContact adds a contact person to a customer. A primary contact takes
// the flag from the previous one in the same write.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) AddContact(ctx context.Context, customerID string, in ContactInput) (*Contact, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ct := &Contact{
		ID: s.newID(now), CustomerID: customerID, Name: in.Name, Title: in.Title, Role: in.Role,
		Phones: slices.Clone(in.Phones), Emails: slices.Clone(in.Emails), Primary: in.Primary,
		Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID,
	}
	if ct.Role == "" {
		ct.Role = ContactOther
	}
	if err := validateContact(ct); err != nil {
		return nil, err
	}
	idem, err := s.idempotency(u, "addContact", in.IdempotencyKey, struct {
		CustomerID string
		In         ContactInput
	}{customerID, in}, ct.ID)
	if err != nil {
		return nil, err
	}
	err = s.applyFresh(ctx, func() (*Change, error) {
		c, err := s.editable(ctx, u, customerID, canEdit, "add a contact to")
		if err != nil {
			return nil, err
		}
		if c.ContactCount >= MaxContacts {
			return nil, Invalid("customerId", "customer %s already has the maximum of %d contacts", customerID, MaxContacts)
		}
		next := c.Clone()
		next.ContactCount++
		s.touch(next, u)
		ch := &Change{CustomerPrev: c, Customer: next, Contact: ct, Idempotency: idem}
		return ch, s.demotePrimary(ctx, ch, u)
	})
	if first, err, ok := replay(ctx, err, func(ctx context.Context, id string) (*Contact, error) {
		return s.Store.Contact(ctx, customerID, id)
	}); ok {
		return first, err
	}
	if err != nil {
		return nil, err
	}
	return ct, nil
}

// demotePrimary adds to ch the removal of the primary flag from the current
// primary contact when ch.Contact becomes primary.
func (s *Service) demotePrimary(ctx context.Context, ch *Change, u *User) error {
	if !ch.Contact.Primary || (ch.ContactPrev != nil && ch.ContactPrev.Primary) {
		return nil
	}
	all, err := s.Store.Contacts(ctx, ch.Contact.CustomerID)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.Primary && o.ID != ch.Contact.ID {
			d := o.Clone()
			d.Primary = false
			d.Version++
			d.UpdatedAt, d.UpdatedBy = s.now(), u.ID
			ch.DemotedContactPrev, ch.DemotedContact = o, d
			return nil
		}
	}
	return nil
}

// UpdateContact changes a contact; expectedVersion is the contact's. The
// customer's profile is written too, so that changes of the primary flag
// on two contacts at once cannot both win.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, BAD_USER_INPUT, CONFLICT.
func (s *Service) UpdateContact(ctx context.Context, customerID, contactID string, expectedVersion int, upd ContactUpdate) (*Contact, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("contactId", contactID); err != nil {
		return nil, err
	}
	var next *Contact
	err = s.applyFresh(ctx, func() (*Change, error) {
		c, err := s.editable(ctx, u, customerID, canEdit, "update a contact of")
		if err != nil {
			return nil, err
		}
		prev, err := s.Store.Contact(ctx, customerID, contactID)
		if err != nil {
			return nil, err
		}
		if prev.Version != expectedVersion {
			return nil, staleVersion("contact", contactID, expectedVersion, prev.Version)
		}
		next = prev.Clone()
		set(&next.Name, upd.Name)
		set(&next.Title, upd.Title)
		set(&next.Role, upd.Role)
		set(&next.Primary, upd.Primary)
		if upd.Phones != nil {
			next.Phones = slices.Clone(upd.Phones)
		}
		if upd.Emails != nil {
			next.Emails = slices.Clone(upd.Emails)
		}
		if err := validateContact(next); err != nil {
			return nil, err
		}
		next.Version++
		next.UpdatedAt, next.UpdatedBy = s.now(), u.ID
		nc := c.Clone()
		s.touch(nc, u)
		ch := &Change{CustomerPrev: c, Customer: nc, ContactPrev: prev, Contact: next}
		return ch, s.demotePrimary(ctx, ch, u)
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// RemoveContact deletes a contact; expectedVersion is the contact's.
// Errors: UNAUTHENTICATED, NOT_FOUND, FORBIDDEN, CONFLICT.
func (s *Service) RemoveContact(ctx context.Context, customerID, contactID string, expectedVersion int) (*Contact, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("contactId", contactID); err != nil {
		return nil, err
	}
	var removed *Contact
	err = s.applyFresh(ctx, func() (*Change, error) {
		c, err := s.editable(ctx, u, customerID, canEdit, "remove a contact of")
		if err != nil {
			return nil, err
		}
		ct, err := s.Store.Contact(ctx, customerID, contactID)
		if err != nil {
			return nil, err
		}
		if ct.Version != expectedVersion {
			return nil, staleVersion("contact", contactID, expectedVersion, ct.Version)
		}
		next := c.Clone()
		next.ContactCount = max(0, next.ContactCount-1)
		s.touch(next, u)
		removed = ct
		return &Change{CustomerPrev: c, Customer: next, DeleteContact: ct}, nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}
