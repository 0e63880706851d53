package crm

import (
	"slices"
	"time"
)

// CustomerKind tells a person from an organization.
type CustomerKind string

const (
	KindPerson       CustomerKind = "PERSON"
	KindOrganization CustomerKind = "ORGANIZATION"
)

// Stage is the lifecycle stage of the relationship.
type Stage string

const (
	StageExploration Stage = "EXPLORATION"
	StageFormation   Stage = "FORMATION"
	StageStability   Stage = "STABILITY"
	StageDecline     Stage = "DECLINE"
	StageLost        Stage = "LOST"
	StageWonBack     Stage = "WON_BACK"
)

// Stages lists every lifecycle stage in lifecycle order.
var Stages = []Stage{StageExploration, StageFormation, StageStability, StageDecline, StageLost, StageWonBack}

// Status says whether a customer is in use or archived. Archived customers
// keep their history and unique phone and email claims, and can be restored.
// A merged customer is a tombstone: its history, phones and emails went to
// the customer named by MergedInto, and it refuses every write.
type Status string

const (
	StatusActive   Status = "ACTIVE"
	StatusArchived Status = "ARCHIVED"
	StatusMerged   Status = "MERGED"
)

// Source is how the customer came to the company.
type Source string

const (
	SourceTelesales Source = "TELESALES"
	SourceReferral  Source = "REFERRAL"
	SourceWeb       Source = "WEB"
	SourcePartner   Source = "PARTNER"
	SourceImport    Source = "IMPORT"
	SourceEvent     Source = "EVENT"
	SourceWalkIn    Source = "WALK_IN"
	SourceOther     Source = "OTHER"
)

// Sources lists every customer source.
var Sources = []Source{SourceTelesales, SourceReferral, SourceWeb, SourcePartner, SourceImport, SourceEvent, SourceWalkIn, SourceOther}

// CompanyStatus is a customer's standing in the company registry, the fact
// behind two grades of seed 000: E also covers bankrupt companies
// (「E级是破产企业」) and V invalid customers (「V级是无效客户」). Empty: not
// known. The values follow the registry states of Chinese enterprise
// credit records (存续/在业, 吊销, 注销, 破产) plus INVALID for a record that
// names no real customer.
type CompanyStatus string

const (
	// CompanyActive is registered and trading (存续, 在业).
	CompanyActive CompanyStatus = "ACTIVE"
	// CompanyRevoked has had its business licence revoked (吊销): it may
	// not trade, though it is not yet struck off.
	CompanyRevoked CompanyStatus = "REVOKED"
	// CompanyDeregistered is struck off the register (注销): it no longer
	// exists.
	CompanyDeregistered CompanyStatus = "DEREGISTERED"
	// CompanyBankrupt is in bankruptcy or liquidation (破产, 清算).
	CompanyBankrupt CompanyStatus = "BANKRUPT"
	// CompanyInvalid marks a record that names no real customer: no such
	// registration, made-up or unusable data.
	CompanyInvalid CompanyStatus = "INVALID"
)

// CompanyStatuses lists every company status.
var CompanyStatuses = []CompanyStatus{CompanyActive, CompanyRevoked, CompanyDeregistered, CompanyBankrupt, CompanyInvalid}

// Verification is whether staff-entered data has been checked by a reviewer.
// A customer's Verification is derived from its field marks (see
// FieldVerification): VERIFIED when every non-empty verifiable field is.
type Verification string

const (
	Unverified Verification = "UNVERIFIED"
	Verified   Verification = "VERIFIED"
)

// Address is a postal address.
type Address struct {
	Label      string
	Line1      string
	Line2      string
	City       string
	Region     string
	PostalCode string
	Country    string
}

// Attribute is one entry of a customer's free-form archive (equipment,
// technical lead, network layout…).
type Attribute struct {
	Key   string
	Value string
}

// Customer is a person or organization: the company's asset, with its whole
// history, whoever owns it today.
type Customer struct {
	ID            string
	Kind          CustomerKind
	Name          string
	Phones        []string // normalized, see NormalizePhone
	Emails        []string // normalized, see NormalizeEmail
	Addresses     []Address
	Industry      string
	Region        string
	Source        Source
	AnnualRevenue *float64
	CreditRating  string
	// CreditCode is an organization's unified social credit code
	// (统一社会信用代码), normalized (uscc.Normalize), unique; empty when
	// not known.
	CreditCode string
	// CompanyStatus is the registry status; empty when not known.
	CompanyStatus CompanyStatus
	Tags          []string // normalized, see NormalizeTag
	Attributes    []Attribute
	Stage         Stage
	Status        Status
	OwnerID       string // empty: the customer is in the public pool of its region
	Team          string
	// Partners are the partner organizations the customer is shared with.
	Partners []PartnerShare
	// Claim is set while the owner holds the customer by a claim from the pool.
	Claim *Claim
	// LastHolder and ReturnedAt remember who last held a customer returned
	// to the pool, and when, for the re-claim cooldown.
	LastHolder string
	ReturnedAt *time.Time
	// LastHandover is the latest change of hands someone decided, with
	// why; the audit log keeps every one as a change of this field.
	LastHandover *OwnerChange
	// PoolWarning is the owner's advance notice that the pool takes the
	// customer back by its grade's rule (see PoolReturnOf).
	PoolWarning *PoolWarning

	Grade GradeState
	// ValueScore (0–100) is computed by the grading policy's value formula;
	// ValueTier is the customer's percentile tier, assigned by the job and
	// empty until it has ranked the customer.
	ValueScore *float64
	ValueTier  ValueTier

	// Activity is what the customer's appended history implies (counts,
	// latest interaction, next follow-up, transactions, evaluation
	// indexes, open cases): kept apart from the profile, on an item of its
	// own that the table's stream keeps up to date.
	Activity
	// FollowUpSet is a next follow-up set by a profile edit; the stream
	// applies it to the activity, where the latest setting wins.
	FollowUpSet *FollowUpSetting

	ContactCount int

	// FieldVerifications mark the staff-entered fields a reviewer has
	// checked; a mark is dropped when its field's value changes.
	// Verification, VerifiedBy and VerifiedAt are derived from them.
	FieldVerifications []FieldVerification
	Verification       Verification
	VerifiedBy         string
	VerifiedAt         *time.Time

	// MergedInto names the customer this one is being merged into; once
	// Status is MERGED, the merge is complete and this customer is a
	// tombstone. Either way it refuses writes. MergingFrom names the
	// customer being merged into this one while that merge is under way.
	MergedInto  string
	MergingFrom string
	MergedAt    *time.Time

	// Version increases with every write to the profile; updates carry the
	// version they were based on and a stale one is a CONFLICT.
	Version    int
	CreatedAt  time.Time
	CreatedBy  string
	UpdatedAt  time.Time
	UpdatedBy  string
	ArchivedAt *time.Time
}

// TransactionStats summarizes a customer's transactions.
type TransactionStats struct {
	Count int
	// Total is the sum of the amounts, in the company's currency.
	Total   float64
	FirstAt *time.Time
	LastAt  *time.Time
}

// InPool reports whether the customer has no owner.
func (c *Customer) InPool() bool { return c.OwnerID == "" }

// Clone returns a deep copy, so a proposed change never aliases the original.
func (c *Customer) Clone() *Customer {
	d := *c
	d.Phones = slices.Clone(c.Phones)
	d.Emails = slices.Clone(c.Emails)
	d.Addresses = slices.Clone(c.Addresses)
	d.Tags = slices.Clone(c.Tags)
	d.Attributes = slices.Clone(c.Attributes)
	d.Activity = c.Activity.Clone()
	d.FieldVerifications = slices.Clone(c.FieldVerifications)
	d.Partners = slices.Clone(c.Partners)
	if c.FollowUpSet != nil {
		f := *c.FollowUpSet
		d.FollowUpSet = &f
	}
	if c.Claim != nil {
		cl := *c.Claim
		d.Claim = &cl
	}
	return &d
}

// Customer360 is everything shown when a customer calls: the profile, its
// contacts and its most recent interactions across every channel. The current
// grade and latest evaluations travel on the profile.
type Customer360 struct {
	Customer           *Customer
	Contacts           []*Contact
	RecentInteractions []*Interaction
}

// CustomerInput is the data of a new customer.
type CustomerInput struct {
	Kind          CustomerKind
	Name          string
	Phones        []string
	Emails        []string
	Addresses     []Address
	Industry      string
	Region        string
	Source        Source
	AnnualRevenue *float64
	CreditRating  string
	CreditCode    string        // organizations only; optional
	CompanyStatus CompanyStatus // default: not known
	Tags          []string
	Attributes    []Attribute
	Stage         Stage // default EXPLORATION
	OwnerID       *string
	Team          string
	Grade         string // default G (never contacted)
	// IdempotencyKey, when set, makes a retry return the first result
	// instead of creating again (see Idempotency).
	IdempotencyKey string
	// StageReason says why the customer starts in Stage; it is required
	// for LOST and, when given, kept as the first entry of the stage
	// history.
	StageReason string

	// imported is set when the customer is a row of an import (import.go).
	imported *importOrigin
}

// CustomerUpdate changes the fields that are non-nil.
type CustomerUpdate struct {
	Kind           *CustomerKind
	Name           *string
	Phones         []string // nil: unchanged; empty slice: clear
	Emails         []string
	Addresses      []Address
	Industry       *string
	Region         *string
	Source         *Source
	AnnualRevenue  *float64
	CreditRating   *string
	CreditCode     *string // "" clears it
	CompanyStatus  *CompanyStatus
	Tags           []string
	Attributes     []Attribute
	Stage          *Stage
	OwnerID        *string // "" moves the customer to the pool
	Team           *string
	NextFollowUpAt *time.Time
	Verification   *Verification
}

// CustomerFilter selects customers in a list. Empty fields do not filter.
type CustomerFilter struct {
	OwnerID string
	// Pool lists unowned customers (of Region, if set).
	Pool   bool
	Grade  string
	Stage  Stage
	Region string
	Team   string
	Tag    string
	// ValueTier, Industry (compared case-insensitively), Kind and Source
	// narrow the list further; they have no index of their own, so a list
	// checks them on each customer it reads.
	ValueTier ValueTier
	Industry  string
	Kind      CustomerKind
	Source    Source
	// IncludeArchived also lists archived customers.
	IncludeArchived bool
	// Order is the order of the list (Customers only; a search ranks).
	Order CustomerOrder

	// VisibleTeams, set by the service from the caller's role, limits the
	// list to customers of these teams; VisibleOwner to customers owned by
	// this user or in the pool. Callers do not set them.
	VisibleTeams []string
	VisibleOwner string
	// VisiblePartner limits the list to customers shared with this
	// partner organization.
	VisiblePartner string

	// WithActivity also reads each listed customer's activity (counts,
	// latest interaction, next follow-up, open cases, indexes), for a
	// caller that shows them; without it those read as empty (or, for a
	// customer not migrated yet, as its profile says).
	WithActivity bool
}

// OrderField is what a list of customers is ordered by.
type OrderField string

const (
	OrderCreatedAt         OrderField = "CREATED_AT"
	OrderName              OrderField = "NAME"
	OrderLastInteractionAt OrderField = "LAST_INTERACTION_AT"
	OrderValueScore        OrderField = "VALUE_SCORE"
	OrderNextFollowUpAt    OrderField = "NEXT_FOLLOW_UP_AT"
)

// OrderFields lists every order of a customer list.
var OrderFields = []OrderField{OrderCreatedAt, OrderName, OrderLastInteractionAt, OrderValueScore, OrderNextFollowUpAt}

// CustomerOrder orders a list of customers; the zero value is newest
// first. Customers without the field's value (never contacted, no score,
// no follow-up scheduled) come last either way; ties go by id.
type CustomerOrder struct {
	Field     OrderField
	Ascending bool
}

// ByCreation reports whether o is an order by creation time (an id's
// order), which every list index keeps.
func (o CustomerOrder) ByCreation() bool { return o.Field == "" || o.Field == OrderCreatedAt }
