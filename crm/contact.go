package crm

import (
	"slices"
	"time"
)

// ContactRole is the part a contact person plays at an organization.
type ContactRole string

const (
	ContactDecisionMaker ContactRole = "DECISION_MAKER"
	ContactTechnicalLead ContactRole = "TECHNICAL_LEAD"
	ContactPurchaser     ContactRole = "PURCHASER"
	ContactFinance       ContactRole = "FINANCE"
	ContactUser          ContactRole = "USER"
	ContactOther         ContactRole = "OTHER"
)

// ContactRoles lists every contact role.
var ContactRoles = []ContactRole{ContactDecisionMaker, ContactTechnicalLead, ContactPurchaser, ContactFinance, ContactUser, ContactOther}

// MaxContacts bounds a customer's contacts, which keeps the 360 view a single
// bounded read.
const MaxContacts = 50

// Contact is a person at a customer.
type Contact struct {
	ID         string
	CustomerID string
	Name       string
	Title      string
	Role       ContactRole
	Phones     []string
	Emails     []string
	Primary    bool
	Version    int
	CreatedAt  time.Time
	CreatedBy  string
	UpdatedAt  time.Time
	UpdatedBy  string
}

// Clone returns a deep copy.
func (c *Contact) Clone() *Contact {
	d := *c
	d.Phones = slices.Clone(c.Phones)
	d.Emails = slices.Clone(c.Emails)
	return &d
}

// ContactInput is the data of a new contact.
type ContactInput struct {
	// IdempotencyKey, when set, makes a retry return the first result
	// instead of creating again (see Idempotency).
	IdempotencyKey string
	Name           string
	Title          string
	Role           ContactRole
	Phones         []string
	Emails         []string
	Primary        bool
}

// ContactUpdate changes the fields that are non-nil.
type ContactUpdate struct {
	Name    *string
	Title   *string
	Role    *ContactRole
	Phones  []string
	Emails  []string
	Primary *bool
}
