package dynamo

import (
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// The item structs are the storage shape of the domain types; only this
// package knows them. toXItem / fromXItem convert at the boundary.

type addressItem struct {
	Label      string `dynamodbav:"label,omitempty"`
	Line1      string `dynamodbav:"line1,omitempty"`
	Line2      string `dynamodbav:"line2,omitempty"`
	City       string `dynamodbav:"city,omitempty"`
	Region     string `dynamodbav:"region,omitempty"`
	PostalCode string `dynamodbav:"postalCode,omitempty"`
	Country    string `dynamodbav:"country,omitempty"`
}

type attributeItem struct {
	Key   string `dynamodbav:"k"`
	Value string `dynamodbav:"v"`
}

type gradeStateItem struct {
	Level         string             `dynamodbav:"level"`
	Source        string             `dynamodbav:"source"`
	Reason        string             `dynamodbav:"reason,omitempty"`
	Rule          string             `dynamodbav:"rule,omitempty"`
	PolicyVersion int                `dynamodbav:"policyVersion,omitempty"`
	Metrics       map[string]float64 `dynamodbav:"metrics,omitempty"`
	By            string             `dynamodbav:"by,omitempty"`
	At            time.Time          `dynamodbav:"at"`
}

type caseSummaryItem struct {
	ID        string    `dynamodbav:"id"`
	Kind      string    `dynamodbav:"kind"`
	Subject   string    `dynamodbav:"subject,omitempty"`
	Priority  string    `dynamodbav:"priority"`
	Status    string    `dynamodbav:"status"`
	DueAt     time.Time `dynamodbav:"dueAt"`
	Escalated bool      `dynamodbav:"escalated,omitempty"`
}

type scoreItem struct {
	Key   string  `dynamodbav:"k"`
	Value float64 `dynamodbav:"v"`
}

type dimensionItem struct {
	Dimension string  `dynamodbav:"d"`
	Score     float64 `dynamodbav:"s"`
}

type evaluationItem struct {
	PK         string `dynamodbav:"pk,omitempty"`
	SK         string `dynamodbav:"sk,omitempty"`
	Type       string `dynamodbav:"type,omitempty"`
	CustomerID string `dynamodbav:"customerId"`
	evaluationFields
}

// evaluationFields are an evaluation's own attributes; the activity's
// compact copy (evaluationCopy) has the same fields under short names, so
// that each converts to the other.
type evaluationFields struct {
	ID              string          `dynamodbav:"id"`
	TemplateID      string          `dynamodbav:"templateId"`
	TemplateVersion int             `dynamodbav:"templateVersion"`
	Kind            string          `dynamodbav:"kind"`
	EvaluatorID     string          `dynamodbav:"evaluatorId"`
	ThirdParty      string          `dynamodbav:"thirdParty,omitempty"`
	Scores          []scoreItem     `dynamodbav:"scores"`
	Comment         string          `dynamodbav:"comment,omitempty"`
	Overall         float64         `dynamodbav:"overall"`
	Dimensions      []dimensionItem `dynamodbav:"dimensions"`
	NPS             *int            `dynamodbav:"nps,omitempty"`
	CaseID          string          `dynamodbav:"caseId,omitempty"`
	EvaluatedAt     time.Time       `dynamodbav:"evaluatedAt"`
}

type customerItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	Type    string `dynamodbav:"type"`
	GOwner  string `dynamodbav:"gOwner,omitempty"`
	GGrade  string `dynamodbav:"gGrade,omitempty"`
	GStage  string `dynamodbav:"gStage,omitempty"`
	GRegion string `dynamodbav:"gRegion,omitempty"`
	GTeam   string `dynamodbav:"gTeam,omitempty"`
	GList   string `dynamodbav:"gList,omitempty"`
	GSort   string `dynamodbav:"gSort,omitempty"`
	// gName/gNameSort, which grouped customers by the first two letters of
	// their name for the duplicate search, are no longer written: the
	// search index serves it (duplicates.go). A profile written before
	// keeps them until its next write.
	// GDue/GDueAt index active claims by expiry (sparse: absent otherwise).
	GDue   string `dynamodbav:"gDue,omitempty"`
	GDueAt string `dynamodbav:"gDueAt,omitempty"`

	ID            string             `dynamodbav:"id"`
	Kind          string             `dynamodbav:"kind"`
	Name          string             `dynamodbav:"name"`
	NameKey       string             `dynamodbav:"nameKey"`
	Phones        []string           `dynamodbav:"phones,omitempty"`
	Emails        []string           `dynamodbav:"emails,omitempty"`
	Addresses     []addressItem      `dynamodbav:"addresses,omitempty"`
	Industry      string             `dynamodbav:"industry,omitempty"`
	Region        string             `dynamodbav:"region,omitempty"`
	Source        string             `dynamodbav:"source"`
	AnnualRevenue *float64           `dynamodbav:"annualRevenue,omitempty"`
	CreditRating  string             `dynamodbav:"creditRating,omitempty"`
	CreditCode    string             `dynamodbav:"creditCode,omitempty"`
	CompanyStatus string             `dynamodbav:"companyStatus,omitempty"`
	Tags          []string           `dynamodbav:"tags,omitempty"`
	Attributes    []attributeItem    `dynamodbav:"attributes,omitempty"`
	Stage         string             `dynamodbav:"stage"`
	Status        string             `dynamodbav:"status"`
	OwnerID       string             `dynamodbav:"ownerId,omitempty"`
	Team          string             `dynamodbav:"team,omitempty"`
	Partners      []partnerShareItem `dynamodbav:"partners,omitempty"`
	Claim         *claimItem         `dynamodbav:"claim,omitempty"`
	LastHolder    string             `dynamodbav:"lastHolder,omitempty"`
	ReturnedAt    *time.Time         `dynamodbav:"returnedAt,omitempty"`
	LastHandover  *ownerChangeItem   `dynamodbav:"lastHandover,omitempty"`
	PoolWarning   *poolWarningItem   `dynamodbav:"poolWarning,omitempty"`
	Grade         gradeStateItem     `dynamodbav:"grade"`
	ValueScore    *float64           `dynamodbav:"valueScore,omitempty"`
	ValueTier     string             `dynamodbav:"valueTier,omitempty"`
	FollowUp      *followUpItem      `dynamodbav:"followUp,omitempty"`
	ContactCount  int                `dynamodbav:"contactCount"`
	// Profiles written before activity items existed carry the activity's
	// fields themselves; they are read (legacy), never written.
	legacyActivity
	FieldMarks   []fieldMarkItem `dynamodbav:"fieldVerifications,omitempty"`
	Verification string          `dynamodbav:"verification"`
	VerifiedBy   string          `dynamodbav:"verifiedBy,omitempty"`
	VerifiedAt   *time.Time      `dynamodbav:"verifiedAt,omitempty"`
	MergedInto   string          `dynamodbav:"mergedInto,omitempty"`
	MergingFrom  string          `dynamodbav:"mergingFrom,omitempty"`
	MergedAt     *time.Time      `dynamodbav:"mergedAt,omitempty"`
	Version      int             `dynamodbav:"version"`
	CreatedAt    time.Time       `dynamodbav:"createdAt"`
	CreatedBy    string          `dynamodbav:"createdBy"`
	UpdatedAt    time.Time       `dynamodbav:"updatedAt"`
	UpdatedBy    string          `dynamodbav:"updatedBy"`
	ArchivedAt   *time.Time      `dynamodbav:"archivedAt,omitempty"`
}

// derivedFields are the activity's fields that profiles carried before
// the activity item, under the same names on both items.
type derivedFields struct {
	Transactions      *transactionsItem `dynamodbav:"transactions,omitempty"`
	NPS               *float64          `dynamodbav:"nps,omitempty"`
	SatisfactionIndex *float64          `dynamodbav:"satisfactionIndex,omitempty"`
	LoyaltyIndex      *float64          `dynamodbav:"loyaltyIndex,omitempty"`
	TrustIndex        *float64          `dynamodbav:"trustIndex,omitempty"`
	AcceptanceIndex   *float64          `dynamodbav:"acceptanceIndex,omitempty"`
	CreditIndex       *float64          `dynamodbav:"creditIndex,omitempty"`
	RecentEvaluations []evaluationItem  `dynamodbav:"recentEvaluations,omitempty"`
	OpenCases         []caseSummaryItem `dynamodbav:"openCases,omitempty"`
	OpenCaseCount     int               `dynamodbav:"openCaseCount,omitempty"`
	LastInteractionAt *time.Time        `dynamodbav:"lastInteractionAt,omitempty"`
	LastInteractionID string            `dynamodbav:"lastInteractionId,omitempty"`
	NextFollowUpAt    *time.Time        `dynamodbav:"nextFollowUpAt,omitempty"`
}

// toDerived writes an activity's derived fields, but for its evaluations,
// which the activity item writes in its layout (toActivityItemLayout).
func toDerived(a *crm.Activity) derivedFields {
	d := derivedFields{LastInteractionAt: a.LastInteractionAt, LastInteractionID: a.LastInteractionID,
		NextFollowUpAt: a.NextFollowUpAt, NPS: a.NPS, SatisfactionIndex: a.SatisfactionIndex, LoyaltyIndex: a.LoyaltyIndex,
		TrustIndex: a.TrustIndex, AcceptanceIndex: a.AcceptanceIndex, CreditIndex: a.CreditIndex,
		OpenCases: toCaseSummaries(a.OpenCases), OpenCaseCount: a.OpenCaseCount}
	if a.Transactions != (crm.TransactionStats{}) {
		t := transactionsItem(a.Transactions)
		d.Transactions = &t
	}
	return d
}

// activity reads derived fields into an activity.
func (d *derivedFields) activity() crm.Activity {
	a := crm.Activity{LastInteractionAt: d.LastInteractionAt, LastInteractionID: d.LastInteractionID,
		NextFollowUpAt: d.NextFollowUpAt, SatisfactionIndex: d.SatisfactionIndex, LoyaltyIndex: d.LoyaltyIndex,
		TrustIndex: d.TrustIndex, AcceptanceIndex: d.AcceptanceIndex, CreditIndex: d.CreditIndex, NPS: d.NPS, OpenCaseCount: d.OpenCaseCount, OpenCases: fromCaseSummaries(d.OpenCases)}
	if d.Transactions != nil {
		a.Transactions = crm.TransactionStats(*d.Transactions)
	}
	for i := range d.RecentEvaluations {
		a.RecentEvaluations = append(a.RecentEvaluations, *fromEvaluationItem(&d.RecentEvaluations[i]))
	}
	return a
}

// legacyActivity are the derived fields profiles carried before the
// activity item: read from a profile not migrated yet, never written.
type legacyActivity struct {
	derivedFields
	// InteractionCount is on every legacy profile, even at 0: it tells
	// one from a profile written since.
	InteractionCount *int `dynamodbav:"interactionCount,omitempty"`
}

// legacyAttrs are the attribute names of legacyActivity, which migrating
// a profile removes.
var legacyAttrs = []string{"transactions", "nps", "satisfactionIndex", "loyaltyIndex", "trustIndex", "recentEvaluations",
	"openCases", "openCaseCount", "lastInteractionAt", "lastInteractionId", "nextFollowUpAt", "interactionCount"}

// isLegacy reports whether a profile still carries its activity.
func (it *customerItem) isLegacy() bool { return it.InteractionCount != nil }

// activity reads a legacy profile's activity.
func (l *legacyActivity) activity() crm.Activity {
	a := l.derivedFields.activity()
	if l.InteractionCount != nil {
		a.InteractionCount = *l.InteractionCount
	}
	// Before schedules, the next follow-up was the date asked for.
	a.FollowUpAsked, a.ContactedAt = a.NextFollowUpAt, a.LastInteractionAt
	return a
}

type followUpItem struct {
	At    time.Time `dynamodbav:"at"`
	SetAt time.Time `dynamodbav:"setAt"`
	By    string    `dynamodbav:"by,omitempty"`
}

type fieldMarkItem struct {
	Field string    `dynamodbav:"f"`
	By    string    `dynamodbav:"by"`
	At    time.Time `dynamodbav:"at"`
}

type transactionsItem struct {
	Count   int        `dynamodbav:"n"`
	Total   float64    `dynamodbav:"total"`
	FirstAt *time.Time `dynamodbav:"firstAt,omitempty"`
	LastAt  *time.Time `dynamodbav:"lastAt,omitempty"`
}

type claimItem struct {
	By           string     `dynamodbav:"by"`
	At           time.Time  `dynamodbav:"at"`
	ExpiresAt    time.Time  `dynamodbav:"expiresAt"`
	FollowedUpAt *time.Time `dynamodbav:"followedUpAt,omitempty"`
	WarnedAt     *time.Time `dynamodbav:"warnedAt,omitempty"`
}

func toCustomerItem(c *crm.Customer) *customerItem {
	it := &customerItem{
		PK: customerPK(c.ID), SK: skProfile, Type: "customer",
		GGrade: c.Grade.Level, GStage: string(c.Stage), GRegion: c.Region, GTeam: c.Team,
		GList: listCustomers, GSort: c.ID,
		ID: c.ID, Kind: string(c.Kind), Name: c.Name, NameKey: crm.NormalizeName(c.Name),
		Phones: c.Phones, Emails: c.Emails, Industry: c.Industry, Region: c.Region, Source: string(c.Source),
		AnnualRevenue: c.AnnualRevenue, CreditRating: c.CreditRating, CreditCode: c.CreditCode, Tags: c.Tags, Stage: string(c.Stage),
		Status: string(c.Status), OwnerID: c.OwnerID, Team: c.Team, Partners: toShareItems(c.Partners),
		Grade: gradeStateItem{Level: c.Grade.Level, Source: string(c.Grade.Source), Reason: c.Grade.Reason,
			Rule: c.Grade.Rule, PolicyVersion: c.Grade.PolicyVersion, Metrics: c.Grade.Metrics, By: c.Grade.By, At: c.Grade.At},
		ValueScore: c.ValueScore, ValueTier: string(c.ValueTier), ContactCount: c.ContactCount,
		Verification: string(c.Verification), VerifiedBy: c.VerifiedBy, VerifiedAt: c.VerifiedAt,
		Version: c.Version, CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy, UpdatedAt: c.UpdatedAt,
		UpdatedBy: c.UpdatedBy, ArchivedAt: c.ArchivedAt,
	}
	if c.InPool() {
		it.GOwner = poolKey(c.Region)
	} else {
		it.GOwner = ownerKey(c.OwnerID)
	}
	it.LastHolder, it.ReturnedAt = c.LastHolder, c.ReturnedAt
	if h := c.LastHandover; h != nil {
		it.LastHandover = &ownerChangeItem{From: h.From, To: h.To, Reason: h.Reason, By: h.By, At: h.At}
	}
	if w := c.PoolWarning; w != nil {
		it.PoolWarning = &poolWarningItem{Rule: w.Rule, DueAt: w.DueAt, At: w.At}
	}
	it.CompanyStatus = string(c.CompanyStatus)
	if cl := c.Claim; cl != nil {
		ci := claimItem(*cl)
		it.Claim = &ci
		if cl.Active() {
			it.GDue, it.GDueAt = dueClaims, dueKey(cl.ExpiresAt, c.ID)
		}
	}
	for _, a := range c.Addresses {
		it.Addresses = append(it.Addresses, addressItem(a))
	}
	for _, a := range c.Attributes {
		it.Attributes = append(it.Attributes, attributeItem(a))
	}
	if f := c.FollowUpSet; f != nil {
		it.FollowUp = &followUpItem{At: f.At, SetAt: f.SetAt, By: f.By}
	}
	for _, m := range c.FieldVerifications {
		it.FieldMarks = append(it.FieldMarks, fieldMarkItem{Field: string(m.Field), By: m.By, At: m.At})
	}
	it.MergedInto, it.MergingFrom, it.MergedAt = c.MergedInto, c.MergingFrom, c.MergedAt
	if c.Status == crm.StatusMerged {
		// A tombstone is in no list: without index keys, no index holds it.
		it.GOwner, it.GGrade, it.GStage, it.GRegion, it.GTeam, it.GList, it.GSort = "", "", "", "", "", "", ""
		it.GDue, it.GDueAt = "", ""
	}
	return it
}

func fromCustomerItem(it *customerItem) *crm.Customer {
	c := &crm.Customer{
		ID: it.ID, Kind: crm.CustomerKind(it.Kind), Name: it.Name, Phones: it.Phones, Emails: it.Emails,
		Industry: it.Industry, Region: it.Region, Source: crm.Source(it.Source), AnnualRevenue: it.AnnualRevenue,
		CreditRating: it.CreditRating, CreditCode: it.CreditCode, Tags: it.Tags, Stage: crm.Stage(it.Stage), Status: crm.Status(it.Status),
		OwnerID: it.OwnerID, Team: it.Team, Partners: fromShareItems(it.Partners),
		Grade: crm.GradeState{Level: it.Grade.Level, Source: crm.GradeSource(it.Grade.Source), Reason: it.Grade.Reason,
			Rule: it.Grade.Rule, PolicyVersion: it.Grade.PolicyVersion, Metrics: it.Grade.Metrics, By: it.Grade.By, At: it.Grade.At},
		ValueScore: it.ValueScore, ValueTier: crm.ValueTier(it.ValueTier), ContactCount: it.ContactCount,
		Verification: crm.Verification(it.Verification), VerifiedBy: it.VerifiedBy, VerifiedAt: it.VerifiedAt,
		Version: it.Version, CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt,
		UpdatedBy: it.UpdatedBy, ArchivedAt: it.ArchivedAt,
	}
	c.LastHolder, c.ReturnedAt = it.LastHolder, it.ReturnedAt
	if h := it.LastHandover; h != nil {
		c.LastHandover = &crm.OwnerChange{From: h.From, To: h.To, Reason: h.Reason, By: h.By, At: h.At}
	}
	if w := it.PoolWarning; w != nil {
		c.PoolWarning = &crm.PoolWarning{Rule: w.Rule, DueAt: w.DueAt, At: w.At}
	}
	c.CompanyStatus = crm.CompanyStatus(it.CompanyStatus)
	if it.Claim != nil {
		cl := crm.Claim(*it.Claim)
		c.Claim = &cl
	}
	for _, a := range it.Addresses {
		c.Addresses = append(c.Addresses, crm.Address(a))
	}
	for _, a := range it.Attributes {
		c.Attributes = append(c.Attributes, crm.Attribute(a))
	}
	if f := it.FollowUp; f != nil {
		c.FollowUpSet = &crm.FollowUpSetting{At: f.At, SetAt: f.SetAt, By: f.By}
	}
	// A profile not migrated yet still carries its activity.
	c.Activity = it.legacyActivity.activity()
	for _, m := range it.FieldMarks {
		c.FieldVerifications = append(c.FieldVerifications, crm.FieldVerification{Field: crm.CustomerField(m.Field), By: m.By, At: m.At})
	}
	c.MergedInto, c.MergingFrom, c.MergedAt = it.MergedInto, it.MergingFrom, it.MergedAt
	// Profiles stored before field marks existed carry only the flag.
	crm.AdoptLegacyVerification(c)
	return c
}

type contactItem struct {
	PK         string    `dynamodbav:"pk"`
	SK         string    `dynamodbav:"sk"`
	Type       string    `dynamodbav:"type"`
	ID         string    `dynamodbav:"id"`
	CustomerID string    `dynamodbav:"customerId"`
	Name       string    `dynamodbav:"name"`
	Title      string    `dynamodbav:"title,omitempty"`
	Role       string    `dynamodbav:"role"`
	Phones     []string  `dynamodbav:"phones,omitempty"`
	Emails     []string  `dynamodbav:"emails,omitempty"`
	Primary    bool      `dynamodbav:"primary"`
	Version    int       `dynamodbav:"version"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
	CreatedBy  string    `dynamodbav:"createdBy"`
	UpdatedAt  time.Time `dynamodbav:"updatedAt"`
	UpdatedBy  string    `dynamodbav:"updatedBy"`
}

func toContactItem(c *crm.Contact) *contactItem {
	return &contactItem{
		PK: customerPK(c.CustomerID), SK: contactSK(c.ID), Type: "contact",
		ID: c.ID, CustomerID: c.CustomerID, Name: c.Name, Title: c.Title, Role: string(c.Role),
		Phones: c.Phones, Emails: c.Emails, Primary: c.Primary, Version: c.Version,
		CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy, UpdatedAt: c.UpdatedAt, UpdatedBy: c.UpdatedBy,
	}
}

func fromContactItem(it *contactItem) *crm.Contact {
	return &crm.Contact{
		ID: it.ID, CustomerID: it.CustomerID, Name: it.Name, Title: it.Title, Role: crm.ContactRole(it.Role),
		Phones: it.Phones, Emails: it.Emails, Primary: it.Primary, Version: it.Version,
		CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy,
	}
}

type interactionItem struct {
	PK              string     `dynamodbav:"pk,omitempty"`
	SK              string     `dynamodbav:"sk,omitempty"`
	Type            string     `dynamodbav:"type,omitempty"`
	ID              string     `dynamodbav:"id"`
	CustomerID      string     `dynamodbav:"customerId"`
	Channel         string     `dynamodbav:"channel"`
	Direction       string     `dynamodbav:"direction"`
	Kind            string     `dynamodbav:"kind"`
	Subject         string     `dynamodbav:"subject,omitempty"`
	Content         string     `dynamodbav:"content,omitempty"`
	OccurredAt      time.Time  `dynamodbav:"occurredAt"`
	DurationSeconds *int       `dynamodbav:"durationSeconds,omitempty"`
	HandledBy       string     `dynamodbav:"handledBy,omitempty"`
	ContactID       string     `dynamodbav:"contactId,omitempty"`
	Outcome         string     `dynamodbav:"outcome,omitempty"`
	Attachments     []string   `dynamodbav:"attachments,omitempty"`
	NextFollowUpAt  *time.Time `dynamodbav:"nextFollowUpAt,omitempty"`
	Amount          *float64   `dynamodbav:"amount,omitempty"`
	Currency        string     `dynamodbav:"currency,omitempty"`
	Version         int        `dynamodbav:"version"`
	CreatedAt       time.Time  `dynamodbav:"createdAt"`
	CreatedBy       string     `dynamodbav:"createdBy"`
	UpdatedAt       time.Time  `dynamodbav:"updatedAt"`
	UpdatedBy       string     `dynamodbav:"updatedBy"`
}

func toInteractionItem(i *crm.Interaction) *interactionItem {
	return &interactionItem{
		PK: customerPK(i.CustomerID), SK: interactionSK(i.ID), Type: "interaction",
		ID: i.ID, CustomerID: i.CustomerID, Channel: string(i.Channel), Direction: string(i.Direction),
		Kind: string(i.Type), Subject: i.Subject, Content: i.Content, OccurredAt: i.OccurredAt,
		DurationSeconds: i.DurationSeconds, HandledBy: i.HandledBy, ContactID: i.ContactID, Outcome: i.Outcome,
		Attachments: i.Attachments, NextFollowUpAt: i.NextFollowUpAt, Amount: i.Amount, Currency: i.Currency,
		Version: i.Version, CreatedAt: i.CreatedAt, CreatedBy: i.CreatedBy, UpdatedAt: i.UpdatedAt, UpdatedBy: i.UpdatedBy,
	}
}

func fromInteractionItem(it *interactionItem) *crm.Interaction {
	return &crm.Interaction{
		ID: it.ID, CustomerID: it.CustomerID, Channel: crm.Channel(it.Channel), Direction: crm.Direction(it.Direction),
		Type: crm.InteractionType(it.Kind), Subject: it.Subject, Content: it.Content, OccurredAt: it.OccurredAt,
		DurationSeconds: it.DurationSeconds, HandledBy: it.HandledBy, ContactID: it.ContactID, Outcome: it.Outcome,
		Attachments: it.Attachments, NextFollowUpAt: it.NextFollowUpAt, Amount: it.Amount, Currency: it.Currency,
		Version: it.Version, CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy,
	}
}

type gradeChangeItem struct {
	PK         string             `dynamodbav:"pk"`
	SK         string             `dynamodbav:"sk"`
	Type       string             `dynamodbav:"type"`
	ID         string             `dynamodbav:"id"`
	CustomerID string             `dynamodbav:"customerId"`
	From       string             `dynamodbav:"from,omitempty"`
	FromSource string             `dynamodbav:"fromSource,omitempty"`
	FromRule   string             `dynamodbav:"fromRule,omitempty"`
	FromAt     *time.Time         `dynamodbav:"fromAt,omitempty"`
	To         string             `dynamodbav:"to"`
	Source     string             `dynamodbav:"source"`
	Reason     string             `dynamodbav:"reason,omitempty"`
	Rule       string             `dynamodbav:"rule,omitempty"`
	Metrics    map[string]float64 `dynamodbav:"metrics,omitempty"`
	PolicyVer  int                `dynamodbav:"policyVersion,omitempty"`
	By         string             `dynamodbav:"by,omitempty"`
	At         time.Time          `dynamodbav:"at"`
	MergedFrom string             `dynamodbav:"mergedFrom,omitempty"`
}

func toGradeChangeItem(g *crm.GradeChange) *gradeChangeItem {
	it := &gradeChangeItem{
		PK: customerPK(g.CustomerID), SK: gradeSK(g.ID), Type: "gradeChange",
		ID: g.ID, CustomerID: g.CustomerID, From: g.From, To: g.To, Source: string(g.Source),
		Reason: g.Reason, Rule: g.Rule, Metrics: g.Metrics, PolicyVer: g.PolicyVersion, By: g.By, At: g.At, MergedFrom: g.MergedFrom,
		FromSource: string(g.FromSource), FromRule: g.FromRule,
	}
	if !g.FromAt.IsZero() {
		it.FromAt = &g.FromAt
	}
	return it
}

func fromGradeChangeItem(it *gradeChangeItem) *crm.GradeChange {
	return &crm.GradeChange{
		ID: it.ID, CustomerID: it.CustomerID, From: it.From, To: it.To, Source: crm.GradeSource(it.Source),
		Reason: it.Reason, Rule: it.Rule, Metrics: it.Metrics, PolicyVersion: it.PolicyVer, By: it.By, At: it.At, MergedFrom: it.MergedFrom,
		FromSource: crm.GradeSource(it.FromSource), FromRule: it.FromRule, FromAt: timeOr(it.FromAt),
	}
}

func timeOr(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// toEvaluationItem converts an evaluation; keyed adds the table keys for
// the evaluation's own item (copies on the profile carry none).
func toEvaluationItem(e *crm.Evaluation, keyed bool) *evaluationItem {
	it := &evaluationItem{CustomerID: e.CustomerID, evaluationFields: evaluationFields{
		ID: e.ID, TemplateID: e.TemplateID, TemplateVersion: e.TemplateVersion,
		Kind: string(e.Kind), EvaluatorID: e.EvaluatorID, ThirdParty: e.ThirdParty, Comment: e.Comment, Overall: e.Overall,
		NPS: e.NPS, CaseID: e.CaseID, EvaluatedAt: e.EvaluatedAt,
	}}
	if keyed {
		it.PK, it.SK, it.Type = customerPK(e.CustomerID), evaluationSK(e.ID), "evaluation"
	}
	for _, s := range e.Scores {
		it.Scores = append(it.Scores, scoreItem(s))
	}
	for _, d := range e.Dimensions {
		it.Dimensions = append(it.Dimensions, dimensionItem{Dimension: string(d.Dimension), Score: d.Score})
	}
	return it
}

func fromEvaluationItem(it *evaluationItem) *crm.Evaluation {
	e := &crm.Evaluation{
		ID: it.ID, CustomerID: it.CustomerID, TemplateID: it.TemplateID, TemplateVersion: it.TemplateVersion,
		Kind: crm.EvaluationKind(it.Kind), EvaluatorID: it.EvaluatorID, ThirdParty: it.ThirdParty, Comment: it.Comment, Overall: it.Overall,
		NPS: it.NPS, CaseID: it.CaseID, EvaluatedAt: it.EvaluatedAt,
	}
	for _, s := range it.Scores {
		e.Scores = append(e.Scores, crm.IndicatorScore(s))
	}
	for _, d := range it.Dimensions {
		e.Dimensions = append(e.Dimensions, crm.DimensionScore{Dimension: crm.Dimension(d.Dimension), Score: d.Score})
	}
	return e
}

type indicatorItem struct {
	Key       string  `dynamodbav:"key"`
	Name      string  `dynamodbav:"name"`
	Dimension string  `dynamodbav:"dimension"`
	Weight    float64 `dynamodbav:"weight"`
	ScaleMin  float64 `dynamodbav:"scaleMin"`
	ScaleMax  float64 `dynamodbav:"scaleMax"`
	NPS       bool    `dynamodbav:"nps,omitempty"`
}

type templateItem struct {
	PK            string          `dynamodbav:"pk"`
	SK            string          `dynamodbav:"sk"`
	Type          string          `dynamodbav:"type"`
	GList         string          `dynamodbav:"gList,omitempty"`
	GSort         string          `dynamodbav:"gSort,omitempty"`
	ID            string          `dynamodbav:"id"`
	Name          string          `dynamodbav:"name"`
	Description   string          `dynamodbav:"description,omitempty"`
	Version       int             `dynamodbav:"version"`
	LatestVersion int             `dynamodbav:"latestVersion,omitempty"`
	Indicators    []indicatorItem `dynamodbav:"indicators"`
	CreatedAt     time.Time       `dynamodbav:"createdAt"`
	CreatedBy     string          `dynamodbav:"createdBy"`
}

// toTemplateItem converts a template version; latest makes the item that
// points at the newest version and lists the template.
func toTemplateItem(t *crm.Template, latest bool) *templateItem {
	it := &templateItem{
		PK: templatePK(t.ID), SK: templateSK(t.Version), Type: "template",
		ID: t.ID, Name: t.Name, Description: t.Description, Version: t.Version,
		CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy,
	}
	if latest {
		it.SK, it.GList, it.GSort, it.LatestVersion = skTplLatest, listTemplates, t.ID, t.Version
	}
	for _, ind := range t.Indicators {
		it.Indicators = append(it.Indicators, indicatorItem{Key: ind.Key, Name: ind.Name, Dimension: string(ind.Dimension),
			Weight: ind.Weight, ScaleMin: ind.ScaleMin, ScaleMax: ind.ScaleMax, NPS: ind.NPS})
	}
	return it
}

func fromTemplateItem(it *templateItem) *crm.Template {
	t := &crm.Template{
		ID: it.ID, Name: it.Name, Description: it.Description, Version: it.Version, LatestVersion: it.LatestVersion,
		CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy,
	}
	for _, ind := range it.Indicators {
		t.Indicators = append(t.Indicators, crm.Indicator{Key: ind.Key, Name: ind.Name, Dimension: crm.Dimension(ind.Dimension),
			Weight: ind.Weight, ScaleMin: ind.ScaleMin, ScaleMax: ind.ScaleMax, NPS: ind.NPS})
	}
	return t
}

// ownerChangeItem is a profile's latest change of hands.
type ownerChangeItem struct {
	From   string    `dynamodbav:"from,omitempty"`
	To     string    `dynamodbav:"to,omitempty"`
	Reason string    `dynamodbav:"reason,omitempty"`
	By     string    `dynamodbav:"by"`
	At     time.Time `dynamodbav:"at"`
}

type poolWarningItem struct {
	Rule  string    `dynamodbav:"rule"`
	DueAt time.Time `dynamodbav:"dueAt"`
	At    time.Time `dynamodbav:"at"`
}

type stageChangeItem struct {
	PK         string    `dynamodbav:"pk"`
	SK         string    `dynamodbav:"sk"`
	Type       string    `dynamodbav:"type"`
	ID         string    `dynamodbav:"id"`
	CustomerID string    `dynamodbav:"customerId"`
	From       string    `dynamodbav:"from"`
	To         string    `dynamodbav:"to"`
	Reason     string    `dynamodbav:"reason,omitempty"`
	By         string    `dynamodbav:"by"`
	At         time.Time `dynamodbav:"at"`
	MergedFrom string    `dynamodbav:"mergedFrom,omitempty"`
}

func toStageChangeItem(c *crm.StageChange) *stageChangeItem {
	return &stageChangeItem{PK: customerPK(c.CustomerID), SK: stageSK(c.ID), Type: "stageChange", ID: c.ID,
		CustomerID: c.CustomerID, From: string(c.From), To: string(c.To), Reason: c.Reason, By: c.By, At: c.At,
		MergedFrom: c.MergedFrom}
}

func fromStageChangeItem(it *stageChangeItem) *crm.StageChange {
	return &crm.StageChange{ID: it.ID, CustomerID: it.CustomerID, From: crm.Stage(it.From), To: crm.Stage(it.To),
		Reason: it.Reason, By: it.By, At: it.At, MergedFrom: it.MergedFrom}
}

type caseTransitionItem struct {
	From string    `dynamodbav:"from,omitempty"`
	To   string    `dynamodbav:"to"`
	By   string    `dynamodbav:"by"`
	At   time.Time `dynamodbav:"at"`
	Note string    `dynamodbav:"note,omitempty"`
}

type caseItem struct {
	PK           string               `dynamodbav:"pk"`
	SK           string               `dynamodbav:"sk"`
	Type         string               `dynamodbav:"type"`
	GDue         string               `dynamodbav:"gDue,omitempty"`
	GDueAt       string               `dynamodbav:"gDueAt,omitempty"`
	GName        string               `dynamodbav:"gName,omitempty"`
	GNameSort    string               `dynamodbav:"gNameSort,omitempty"`
	GTeam        string               `dynamodbav:"gTeam,omitempty"`
	GSort        string               `dynamodbav:"gSort,omitempty"`
	ID           string               `dynamodbav:"id"`
	CustomerID   string               `dynamodbav:"customerId"`
	Kind         string               `dynamodbav:"kind"`
	Subject      string               `dynamodbav:"subject,omitempty"`
	Priority     string               `dynamodbav:"priority"`
	Status       string               `dynamodbav:"status"`
	AssignedTo   string               `dynamodbav:"assignedTo,omitempty"`
	Department   string               `dynamodbav:"department,omitempty"`
	Plan         string               `dynamodbav:"plan,omitempty"`
	OpenedAt     time.Time            `dynamodbav:"openedAt"`
	RespondBy    *time.Time           `dynamodbav:"respondBy,omitempty"` // absent on cases opened before
	ResolveBy    *time.Time           `dynamodbav:"resolveBy,omitempty"`
	DueAt        time.Time            `dynamodbav:"dueAt"`
	EscalatedAt  *time.Time           `dynamodbav:"escalatedAt,omitempty"`
	Satisfaction *int                 `dynamodbav:"satisfaction,omitempty"`
	Transitions  []caseTransitionItem `dynamodbav:"transitions"`
	Version      int                  `dynamodbav:"version"`
	UpdatedAt    time.Time            `dynamodbav:"updatedAt"`
}

func toCaseItem(c *crm.Case) *caseItem {
	it := &caseItem{
		PK: customerPK(c.CustomerID), SK: caseSK(c.ID), Type: "case", ID: c.ID, CustomerID: c.CustomerID,
		Kind: string(c.Type), Subject: c.Subject, Priority: string(c.Priority), Status: string(c.Status),
		AssignedTo: c.AssignedTo, Department: c.Department, Plan: c.Plan, OpenedAt: c.OpenedAt, DueAt: c.DueAt,
		EscalatedAt: c.EscalatedAt, Satisfaction: c.Satisfaction, Version: c.Version, UpdatedAt: c.UpdatedAt,
	}
	if !c.RespondBy.IsZero() {
		it.RespondBy, it.ResolveBy = &c.RespondBy, &c.ResolveBy
	}
	if c.Status.IsOpen() && !c.EscalatedForDeadline() {
		// Indexed by its deadline in force until handled or escalated
		// for that deadline.
		it.GDue, it.GDueAt = dueCases, dueKey(c.DueAt, c.ID)
	}
	it.GName, it.GNameSort, it.GTeam, it.GSort = departmentQueues(c)
	for _, t := range c.Transitions {
		it.Transitions = append(it.Transitions, caseTransitionItem{From: string(t.From), To: string(t.To), By: t.By, At: t.At, Note: t.Note})
	}
	return it
}

func fromCaseItem(it *caseItem) *crm.Case {
	c := &crm.Case{
		ID: it.ID, CustomerID: it.CustomerID, Type: crm.InteractionType(it.Kind), Subject: it.Subject,
		Priority: crm.Priority(it.Priority), Status: crm.CaseStatus(it.Status), AssignedTo: it.AssignedTo,
		Department: it.Department, Plan: it.Plan, OpenedAt: it.OpenedAt, DueAt: it.DueAt, EscalatedAt: it.EscalatedAt,
		Satisfaction: it.Satisfaction, Version: it.Version, UpdatedAt: it.UpdatedAt,
	}
	if it.RespondBy != nil && it.ResolveBy != nil {
		c.RespondBy, c.ResolveBy = *it.RespondBy, *it.ResolveBy
	}
	for _, t := range it.Transitions {
		c.Transitions = append(c.Transitions, crm.CaseTransition{From: crm.CaseStatus(t.From), To: crm.CaseStatus(t.To), By: t.By, At: t.At, Note: t.Note})
	}
	return c
}
