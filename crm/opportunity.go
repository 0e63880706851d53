package crm

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Opportunity is a deal being worked on a customer: what may be sold, for
// how much, by whom, how far it has come through the pipeline's stages and
// when it is expected to close. It lives in its customer's item collection;
// its stage history travels with it.
type Opportunity struct {
	ID         string // ULID, time part = CreatedAt
	CustomerID string
	Title      string
	// OwnerID is the salesperson working the deal; Team is the customer's
	// team when the deal was opened: whose pipeline it counts in.
	OwnerID  string
	Team     string
	Amount   Money
	Currency string
	Stage    string
	// ExpectedClose is a UTC date (midnight).
	ExpectedClose time.Time
	// LossReason and LossNote say why a LOST deal was lost.
	LossReason LossReason
	LossNote   string
	// ClosedAt is when it was WON or LOST.
	ClosedAt *time.Time
	// NewCustomer marks a WON deal that was its customer's first deal
	// (no TRANSACTION on its timeline when it was won): a customer won,
	// credited to the deal's owner in the month it closed.
	NewCustomer bool
	// LeadID is the accepted lead of the customer the deal follows up, if
	// any (lead_opportunity.go); the deal claims it.
	LeadID string
	// ForecastCounted says the deal's forecast and cycle-time counters
	// (forecast.go) hold it: every deal written by this release is, a
	// deal stored before them is not until the migration counts it
	// (dynamo's 2026-12-forecast-counters), so a write subtracts a
	// previous version's share only when it was counted.
	ForecastCounted bool
	// History lists every stage move, oldest first, the opening included.
	History   []OpportunityMove
	Version   int
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// OpportunityMove is one entry of an opportunity's stage history.
type OpportunityMove struct {
	From string // empty on the opening entry
	To   string
	By   string
	At   time.Time
}

// Clone returns a deep copy.
func (o *Opportunity) Clone() *Opportunity {
	d := *o
	d.History = slices.Clone(o.History)
	if o.ClosedAt != nil {
		d.ClosedAt = ptr(*o.ClosedAt)
	}
	return &d
}

// Open reports whether the deal is still being worked (not WON or LOST).
func (o *Opportunity) Open() bool { return o.Stage != StageWon && o.Stage != StageLostDeal }

// The pipeline's closing stages; every pipeline ends in them.
const (
	StageWon      = "WON"
	StageLostDeal = "LOST"
)

// MaxOpportunityMoves bounds an opportunity's stage history, which is kept
// on its item: a deal moved this often is refused further moves.
const MaxOpportunityMoves = 100

// LossReason says why a deal was lost (seed 001: analyse why customers are
// lost; the same question for deals).
type LossReason string

const (
	LossPrice      LossReason = "PRICE"
	LossCompetitor LossReason = "COMPETITOR"
	LossNoBudget   LossReason = "NO_BUDGET"
	LossNoDecision LossReason = "NO_DECISION"
	LossTiming     LossReason = "TIMING"
	LossProductFit LossReason = "PRODUCT_FIT"
	LossOther      LossReason = "OTHER"
)

// LossReasons lists every loss reason.
var LossReasons = []LossReason{LossPrice, LossCompetitor, LossNoBudget, LossNoDecision, LossTiming, LossProductFit, LossOther}

// PipelineStage is one stage of the sales pipeline with the probability,
// in percent, that a deal in it is won: what weights its amount in the
// forecast.
type PipelineStage struct {
	Code        string
	Probability int
}

// PipelinePolicy is the sales pipeline: its open stages in order, each
// with its probability. WON (100%) and LOST (0%) close every pipeline and
// are not listed. It is configuration (PIPELINE_STAGES), read once at
// start; the analytics weigh each stage's amount with the probability in
// force when they are read.
type PipelinePolicy struct {
	Open []PipelineStage
}

// DefaultPipelinePolicy is the pipeline without configuration.
var DefaultPipelinePolicy = PipelinePolicy{Open: []PipelineStage{
	{"QUALIFY", 10}, {"NEEDS_ANALYSIS", 25}, {"PROPOSAL", 50}, {"NEGOTIATION", 75},
}}

// Stages lists the open stages, then WON and LOST.
func (p PipelinePolicy) Stages() []PipelineStage {
	return append(slices.Clone(p.Open), PipelineStage{StageWon, 100}, PipelineStage{StageLostDeal, 0})
}

// codes lists the stage codes of stages.
func codes(stages []PipelineStage) []string {
	out := make([]string, len(stages))
	for i, s := range stages {
		out[i] = s.Code
	}
	return out
}

// Stage returns the stage with code, if the pipeline has it.
func (p PipelinePolicy) Stage(code string) (PipelineStage, bool) {
	for _, s := range p.Stages() {
		if s.Code == code {
			return s, true
		}
	}
	return PipelineStage{}, false
}

// Validate checks the pipeline: one to twelve open stages with distinct
// codes of capital letters, digits and '_' (not WON or LOST), each with a
// probability from 0 to 100.
func (p PipelinePolicy) Validate() error {
	var c checker
	if len(p.Open) == 0 || len(p.Open) > 12 {
		c.fail("stages", "must list 1 to 12 open stages")
	}
	seen := map[string]bool{}
	for i, s := range p.Open {
		f := fmt.Sprintf("stages[%d]", i)
		switch {
		case !isStageCode(s.Code):
			c.fail(f+".code", "must be 1 to 30 capital letters, digits or '_' (got %q)", s.Code)
		case s.Code == StageWon || s.Code == StageLostDeal:
			c.fail(f+".code", "WON and LOST close every pipeline and are not listed")
		case seen[s.Code]:
			c.fail(f+".code", "%s is listed twice", s.Code)
		}
		seen[s.Code] = true
		if s.Probability < 0 || s.Probability > 100 {
			c.fail(f+".probability", "must be between 0 and 100")
		}
	}
	return c.result()
}

func isStageCode(s string) bool {
	return len(s) >= 1 && len(s) <= 30 && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}) < 0
}

// ParsePipelinePolicy reads a pipeline written as its open stages with
// their probabilities, in order: "QUALIFY:10,PROPOSAL:50,NEGOTIATION:80".
func ParsePipelinePolicy(s string) (PipelinePolicy, error) {
	var p PipelinePolicy
	for part := range strings.SplitSeq(s, ",") {
		code, prob, ok := strings.Cut(strings.TrimSpace(part), ":")
		n, err := strconv.Atoi(prob)
		if !ok || err != nil {
			return p, Invalid("stages", "write each stage as CODE:probability, e.g. PROPOSAL:50 (got %q)", part)
		}
		p.Open = append(p.Open, PipelineStage{Code: code, Probability: n})
	}
	return p, p.Validate()
}

// OpportunityInput is a new opportunity.
type OpportunityInput struct {
	// IdempotencyKey, when set, makes a retry return the first result.
	IdempotencyKey string
	CustomerID     string
	Title          string
	// OwnerID defaults to the caller when they sell, else to the
	// customer's owner.
	OwnerID string
	// Amount is a decimal (ParseMoney); Currency defaults to CNY.
	Amount   string
	Currency string
	// Stage defaults to the pipeline's first stage; it must be open.
	Stage         string
	ExpectedClose time.Time
	// LeadID, optional, is an ACCEPTED lead of the customer the deal
	// follows up; a lead has one deal.
	LeadID string
}

// OpportunityUpdate changes the fields that are non-nil; stage moves go
// through MoveOpportunity.
type OpportunityUpdate struct {
	Title         *string
	OwnerID       *string
	Amount        *string
	Currency      *string
	ExpectedClose *time.Time
}

// OpportunityMoveInput moves an opportunity to another stage.
type OpportunityMoveInput struct {
	Stage string
	// LossReason and LossNote are required when Stage is LOST, and only
	// then allowed.
	LossReason LossReason
	LossNote   string
}

// MaxTitleLen bounds an opportunity's title.
const MaxTitleLen = 200

// parseAmount reads an amount and its currency into o.
func parseAmount(c *checker, o *Opportunity, amount, currency, field string) {
	m, ok := ParseMoney(amount)
	if !ok {
		c.fail(field+".amount", "must be a decimal amount of at most two decimals, such as 12500 or 12500.50, up to %s (got %q)",
			MaxMoneyHundredths, amount)
	}
	o.Amount = m
	if currency != "" {
		o.Currency = currency
	}
	if !isCurrency(o.Currency) {
		c.fail(field+".currency", "must be an ISO 4217 code of three capital letters, e.g. CNY (got %q)", o.Currency)
	}
}

// closeDate is the UTC date t names.
func closeDate(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// validateOpportunity checks what every version of an opportunity must
// hold.
func validateOpportunity(c *checker, o *Opportunity) {
	c.text("input.title", strings.TrimSpace(o.Title), 1, MaxTitleLen)
	if o.ExpectedClose.Before(epoch) || o.ExpectedClose.Year() > 9999 {
		c.fail("input.expectedCloseDate", "must be a date between 1970 and 9999")
	}
}

// checkMove checks a stage move of o under policy p.
func checkMove(p PipelinePolicy, o *Opportunity, in OpportunityMoveInput) error {
	var c checker
	if _, ok := p.Stage(in.Stage); !ok {
		c.fail("input.stage", "must be one of the pipeline's stages %v (got %q)", codes(p.Stages()), in.Stage)
	}
	switch {
	case !o.Open():
		c.fail("input.stage", "opportunity %s is %s: a closed deal does not move again (open a new opportunity)", o.ID, o.Stage)
	case in.Stage == o.Stage:
		c.fail("input.stage", "the opportunity is already in %s", o.Stage)
	case len(o.History) >= MaxOpportunityMoves:
		c.fail("input.stage", "the opportunity has moved %d times, the most its history keeps", MaxOpportunityMoves)
	}
	if in.Stage == StageLostDeal {
		if in.LossReason == "" {
			c.fail("input.lossReason", "is required when a deal is LOST: one of %v", LossReasons)
		} else {
			checkEnum(&c, "input.lossReason", in.LossReason, LossReasons)
		}
		if strings.TrimSpace(in.LossNote) == "" {
			c.fail("input.lossNote", "is required when a deal is LOST: say what happened")
		}
		c.text("input.lossNote", in.LossNote, 0, MaxReasonLen)
	} else if in.LossReason != "" || in.LossNote != "" {
		c.fail("input.lossReason", "is only for a move to LOST")
	}
	return c.result()
}
