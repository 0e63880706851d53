// Package events turns the table's changes into Rapport's domain events
// (docs/events.md): what happened to a customer, one of its interactions,
// cases or evaluations, in a CloudEvents 1.0 JSON envelope. The rules are
// here, apart from the stream consumer that feeds them (package stream)
// and the sinks that carry them (events/eventbridge in the stack, a JSON
// lines file locally); this package imports no AWS.
//
// An event's id is derived from the stream record it comes from, so a
// record delivered again yields the same events with the same ids: a
// subscriber de-duplicates by id.
package events

import (
	"encoding/json"
	"time"
)

// SpecVersion is the CloudEvents version of the envelope.
const SpecVersion = "1.0"

// DefaultSource is the CloudEvents source of Rapport's events when the
// deployment names none.
const DefaultSource = "rapport"

// Type is a domain event's type: the CloudEvents type attribute.
type Type string

const (
	CustomerCreated         Type = "rapport.customer.created"
	CustomerUpdated         Type = "rapport.customer.updated"
	CustomerArchived        Type = "rapport.customer.archived"
	CustomerRestored        Type = "rapport.customer.restored"
	CustomerMerged          Type = "rapport.customer.merged"
	CustomerRegraded        Type = "rapport.customer.regraded"
	CustomerStageChanged    Type = "rapport.customer.stage_changed"
	CustomerClaimed         Type = "rapport.customer.claimed"
	CustomerReleased        Type = "rapport.customer.released"
	CustomerExpiredToPool   Type = "rapport.customer.expired_to_pool"
	CustomerHandedOver      Type = "rapport.customer.handed_over"
	CustomerClaimExpiring   Type = "rapport.customer.claim_expiring"
	InteractionLogged       Type = "rapport.interaction.logged"
	CaseOpened              Type = "rapport.case.opened"
	CaseMoved               Type = "rapport.case.moved"
	CaseEscalated           Type = "rapport.case.escalated"
	CaseAssigned            Type = "rapport.case.assigned"
	CaseClosed              Type = "rapport.case.closed"
	EvaluationSubmitted     Type = "rapport.evaluation.submitted"
	OpportunityCreated      Type = "rapport.opportunity.created"
	OpportunityMoved        Type = "rapport.opportunity.stage_changed"
	OpportunityWon          Type = "rapport.opportunity.won"
	OpportunityLost         Type = "rapport.opportunity.lost"
	TaskDue                 Type = "rapport.task.due"
	LeadCreated             Type = "rapport.lead.created"
	LeadHanded              Type = "rapport.lead.handed"
	LeadAccepted            Type = "rapport.lead.accepted"
	LeadReturned            Type = "rapport.lead.returned"
	LeadWithdrawn           Type = "rapport.lead.withdrawn"
	CustomerPoolReturnDue   Type = "rapport.customer.pool_return_due"
	ContractSigned          Type = "rapport.contract.signed"
	ContractUpdated         Type = "rapport.contract.updated"
	ContractPaymentRecorded Type = "rapport.contract.payment_recorded"
	ContractPaid            Type = "rapport.contract.paid"
	// A contract beyond its customer's credit waits for a manager, who
	// approves (then it is signed) or rejects it (crm/credit.go).
	ContractApprovalRequested Type = "rapport.contract.approval_requested"
	ContractApproved          Type = "rapport.contract.approved"
	ContractRejected          Type = "rapport.contract.rejected"
)

// Types lists every event type, in the order docs/events.md gives them.
var Types = []Type{
	CustomerCreated, CustomerUpdated, CustomerArchived, CustomerRestored, CustomerMerged,
	CustomerRegraded, CustomerStageChanged, CustomerClaimed, CustomerReleased,
	CustomerExpiredToPool, CustomerHandedOver, CustomerClaimExpiring, InteractionLogged,
	CaseOpened, CaseMoved, CaseEscalated, CaseAssigned, CaseClosed, EvaluationSubmitted,
	OpportunityCreated, OpportunityMoved, OpportunityWon, OpportunityLost, TaskDue,
	LeadCreated, LeadHanded, LeadAccepted, LeadReturned, LeadWithdrawn, CustomerPoolReturnDue,
	ContractSigned, ContractUpdated, ContractPaymentRecorded, ContractPaid,
	ContractApprovalRequested, ContractApproved, ContractRejected,
}

// Event is one domain event as it travels: a CloudEvents 1.0 envelope in
// its JSON format, with Rapport's data. The field names are the contract
// documented in docs/events.md.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            Type      `json:"type"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	// Sequence is the stream record's sequence number (the CloudEvents
	// sequence extension): within a customer, a later change has a later
	// sequence (compare by length, then as text).
	Sequence string `json:"sequence"`
	Data     Data   `json:"data"`
}

// Data is an event's data. Every event names its customer and the
// version of the item it is about; the other fields are set by the types
// docs/events.md lists for them.
type Data struct {
	CustomerID string `json:"customerId"`
	// Version is the version of the item the event is about: the
	// customer's profile for customer events, the interaction's, the
	// case's; 1 for an evaluation, which never changes.
	Version int `json:"version"`
	// ChangedFields names the customer fields the change set or cleared
	// (schema names of Customer); values of personal data are not carried.
	ChangedFields []string `json:"changedFields,omitempty"`
	// Actor is the user who made the change ("system" for the scheduled
	// jobs and the stream's own settling).
	Actor string `json:"actor,omitempty"`

	Status     *FromTo `json:"status,omitempty"`
	Stage      *FromTo `json:"stage,omitempty"`
	Grade      *FromTo `json:"grade,omitempty"`
	Owner      *FromTo `json:"owner,omitempty"`
	Team       *FromTo `json:"team,omitempty"`
	MergedInto string  `json:"mergedInto,omitempty"`

	// ClaimExpiresAt: when a claim lapses unless followed up.
	ClaimExpiresAt *time.Time `json:"claimExpiresAt,omitempty"`

	InteractionID string     `json:"interactionId,omitempty"`
	Channel       string     `json:"channel,omitempty"`
	Direction     string     `json:"direction,omitempty"`
	Kind          string     `json:"kind,omitempty"`
	OccurredAt    *time.Time `json:"occurredAt,omitempty"`
	HandledBy     string     `json:"handledBy,omitempty"`

	CaseID     string     `json:"caseId,omitempty"`
	Priority   string     `json:"priority,omitempty"`
	AssignedTo string     `json:"assignedTo,omitempty"`
	DueAt      *time.Time `json:"dueAt,omitempty"`

	EvaluationID string   `json:"evaluationId,omitempty"`
	TemplateID   string   `json:"templateId,omitempty"`
	Overall      *float64 `json:"overall,omitempty"`

	// OpportunityID names the deal of an opportunity event; its stage
	// moves in Stage and its owner in Owner. Amounts are not carried.
	OpportunityID string `json:"opportunityId,omitempty"`
	LossReason    string `json:"lossReason,omitempty"`

	// TaskID names the task of a task event; its assignee is in
	// AssignedTo, its type in Kind, its due time in DueAt.
	TaskID string `json:"taskId,omitempty"`

	// LeadID names the lead of a lead event; its status moves in Status,
	// its hand from the telesales user to the salesperson in Owner (from
	// the maker to the recipient), the recipient in AssignedTo. Needs,
	// notes and reasons are not carried.
	LeadID string `json:"leadId,omitempty"`
	// ContractID names the contract of a contract event (OpportunityID
	// the won deal it came from, if any); PaymentID the payment of
	// payment_recorded. Amounts are not carried.
	ContractID string `json:"contractId,omitempty"`
	PaymentID  string `json:"paymentId,omitempty"`
}

// FromTo is a value's move: "" for none (no owner: the pool).
type FromTo struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// JSON is the event in the CloudEvents JSON format.
func (e Event) JSON() ([]byte, error) { return json.Marshal(e) }
