package crm

import (
	"context"
	"fmt"
	"time"
)

// The lifecycle of seed 001 (「考察期、形成期、稳定期、衰退期」: exploration,
// formation, stability, decline) is the owner's judgement, recorded with
// changeStage; the data only suggests moves, with the fact behind each, for
// the owner to confirm. The seeds name the stages, not their thresholds:
// the rules and DefaultDeclineAfter are ours.

// DefaultDeclineAfter is how long a customer may go without contact
// before its data suggests decline.
const DefaultDeclineAfter = 60 * day

// StageSuggestion is a stage change a customer's data suggests.
type StageSuggestion struct {
	Stage  Stage
	Reason string
	Since  time.Time
}

// SuggestStage says which move c's data suggests at now, if any: the first
// deal turns exploration into formation; nobody in touch for declineAfter
// (from the last contact, or the creation) turns a forming, stable or
// won-back relationship into decline. Archived and merged customers get
// none.
func SuggestStage(c *Customer, now time.Time, declineAfter time.Duration) *StageSuggestion {
	if c.Status != StatusActive || c.MergedInto != "" {
		return nil
	}
	switch c.Stage {
	case StageExploration:
		if first := c.Transactions.FirstAt; first != nil {
			return &StageSuggestion{Stage: StageFormation, Since: *first,
				Reason: fmt.Sprintf("first deal on %s: the relationship is forming", first.Format(time.DateOnly))}
		}
	case StageFormation, StageStability, StageWonBack:
		last := c.CreatedAt
		if c.ContactedAt != nil {
			last = *c.ContactedAt
		}
		if declineAfter > 0 && !now.Before(last.Add(declineAfter)) {
			return &StageSuggestion{Stage: StageDecline, Since: last.Add(declineAfter),
				Reason: fmt.Sprintf("nobody in touch for %d days (last contact %s)", int(now.Sub(last)/day), last.Format(time.DateOnly))}
		}
	}
	return nil
}

// StageSuggestionOf is the move c's data suggests now (nil: none, and
// always for partners, who do not see the staff's workflow).
func (s *Service) StageSuggestionOf(ctx context.Context, c *Customer) (*StageSuggestion, error) {
	u, err := currentUser(ctx)
	if err != nil || u.IsPartner() {
		return nil, err
	}
	return SuggestStage(c, s.now(), s.DeclineAfter), nil
}
