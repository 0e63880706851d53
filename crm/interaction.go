package crm

import (
	"slices"
	"time"
)

// Channel is the medium of an interaction.
type Channel string

const (
	ChannelPhone      Channel = "PHONE"
	ChannelEmail      Channel = "EMAIL"
	ChannelSMS        Channel = "SMS"
	ChannelIM         Channel = "IM"
	ChannelSocial     Channel = "SOCIAL"
	ChannelVisit      Channel = "VISIT"
	ChannelMeeting    Channel = "MEETING"
	ChannelWeb        Channel = "WEB"
	ChannelCallCenter Channel = "CALL_CENTER"
	ChannelFax        Channel = "FAX"
	ChannelLetter     Channel = "LETTER"
	ChannelOther      Channel = "OTHER"
)

// Channels lists every channel.
var Channels = []Channel{ChannelPhone, ChannelEmail, ChannelSMS, ChannelIM, ChannelSocial, ChannelVisit,
	ChannelMeeting, ChannelWeb, ChannelCallCenter, ChannelFax, ChannelLetter, ChannelOther}

// Direction says who started an interaction.
type Direction string

const (
	Inbound  Direction = "INBOUND"
	Outbound Direction = "OUTBOUND"
)

// InteractionType is what an interaction was about.
type InteractionType string

const (
	TypeCall           InteractionType = "CALL"
	TypeVisit          InteractionType = "VISIT"
	TypeNote           InteractionType = "NOTE"
	TypeInquiry        InteractionType = "INQUIRY"
	TypeComplaint      InteractionType = "COMPLAINT"
	TypeFeedback       InteractionType = "FEEDBACK"
	TypeSuggestion     InteractionType = "SUGGESTION"
	TypeServiceRequest InteractionType = "SERVICE_REQUEST"
	TypeFaultReport    InteractionType = "FAULT_REPORT"
	TypeSurvey         InteractionType = "SURVEY"
	TypeTransaction    InteractionType = "TRANSACTION"
)

// InteractionTypes lists every interaction type.
var InteractionTypes = []InteractionType{TypeCall, TypeVisit, TypeNote, TypeInquiry, TypeComplaint, TypeFeedback,
	TypeSuggestion, TypeServiceRequest, TypeFaultReport, TypeSurvey, TypeTransaction}

// Interaction is one contact between the company and a customer. Its ID is a
// ULID whose time part is OccurredAt, so a customer's timeline sorts by when
// things happened; OccurredAt is therefore fixed once logged.
type Interaction struct {
	ID              string
	CustomerID      string
	Channel         Channel
	Direction       Direction
	Type            InteractionType
	Subject         string
	Content         string
	OccurredAt      time.Time
	DurationSeconds *int
	HandledBy       string
	ContactID       string
	Outcome         string
	Attachments     []string
	NextFollowUpAt  *time.Time
	Amount          *float64
	Currency        string
	Version         int
	CreatedAt       time.Time
	CreatedBy       string
	UpdatedAt       time.Time
	UpdatedBy       string
}

// Clone returns a deep copy.
func (i *Interaction) Clone() *Interaction {
	d := *i
	d.Attachments = slices.Clone(i.Attachments)
	return &d
}

// InteractionInput is the data of a new interaction.
type InteractionInput struct {
	// IdempotencyKey, when set, makes a retry return the first result
	// instead of creating again (see Idempotency).
	IdempotencyKey  string
	CustomerID      string
	Channel         Channel
	Direction       Direction
	Type            InteractionType
	Subject         string
	Content         string
	OccurredAt      *time.Time // default: now
	DurationSeconds *int
	HandledBy       string // default: the caller
	ContactID       string
	Outcome         string
	Attachments     []string
	NextFollowUpAt  *time.Time
	Amount          *float64
	Currency        string
	// Priority of the case a COMPLAINT, SERVICE_REQUEST, FAULT_REPORT or
	// SUGGESTION opens; default NORMAL.
	Priority Priority
}

// InteractionUpdate changes the fields that are non-nil.
type InteractionUpdate struct {
	Channel         *Channel
	Direction       *Direction
	Type            *InteractionType
	Subject         *string
	Content         *string
	DurationSeconds *int
	ContactID       *string
	Outcome         *string
	Attachments     []string
	NextFollowUpAt  *time.Time
	Amount          *float64
	Currency        *string
}

// InteractionKey locates an interaction.
type InteractionKey struct {
	CustomerID string
	ID         string
}
