package dynamo

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// The activity item (docs/access-patterns.md): CUST#<id> / ~S, beside the
// profile (~P), so one Query of sk BETWEEN ~P AND ~S reads both. Only the
// stream consumer writes it (and the merge's finish, and the migration
// that creates it), each write conditioned on the revision read. Its
// sparse index keys place the customer on the watch lists:
//
//   - no contact (QUIET): gOwner = QUIET#<owner scope>, gTeam =
//     QUIET#<team key>, gSort = last contact (or creation) # id;
//   - follow-ups (FOLLOWUP): gDue = FOLLOWUP#<owner scope>, gDueAt = due #
//     id, and gName = FOLLOWUP#<team key>, gNameSort = due # id;
//
// none while the customer is archived or merged. Falling scores, which
// move rarely, have an item of their own (#W#FALLING) with the same two
// scopes.
const (
	skActivity = "~S"
	skFalling  = "#W#FALLING"
)

// teamKey names a team in keys: the team escaped, "-" for no team (a
// team named "-" escapes its dash).
func teamKey(team string) string {
	if team == "" {
		return "-"
	}
	k := url.PathEscape(team)
	if strings.HasPrefix(k, "-") {
		k = "%2D" + k[1:]
	}
	return k
}

// ownerScopeKey is the owner part of a customer's scopes: OWNER#<owner>,
// or POOL.
func ownerScopeKey(ownerID string, pool bool) string {
	if pool {
		return "POOL"
	}
	return "OWNER#" + ownerID
}

type appliedMark struct {
	Seq string `dynamodbav:"seq"`
	// At is when the mark was written: a shard's records are kept 24
	// hours, so marks older than a day can be forgotten.
	At int64 `dynamodbav:"at"`
}

type activityItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	GOwner    string `dynamodbav:"gOwner,omitempty"`
	GTeam     string `dynamodbav:"gTeam,omitempty"`
	GSort     string `dynamodbav:"gSort,omitempty"`
	GDue      string `dynamodbav:"gDue,omitempty"`
	GDueAt    string `dynamodbav:"gDueAt,omitempty"`
	GName     string `dynamodbav:"gName,omitempty"`
	GNameSort string `dynamodbav:"gNameSort,omitempty"`

	CustomerID       string       `dynamodbav:"customerId"`
	InteractionCount int          `dynamodbav:"interactionCount"`
	LastInteraction  *summaryItem `dynamodbav:"lastInteraction,omitempty"`
	FollowUpSetAt    *time.Time   `dynamodbav:"followUpSetAt,omitempty"`
	// The follow-up schedule's inputs (crm.Customer.PlanFollowUp); an item
	// written before schedules (Planned false) held the date asked for in
	// nextFollowUpAt, and counted its last interaction as the last contact.
	Planned       bool       `dynamodbav:"planned,omitempty"`
	FollowUpAsked *time.Time `dynamodbav:"followUpAsked,omitempty"`
	ContactedAt   *time.Time `dynamodbav:"contactedAt,omitempty"`
	// FollowUpEvery is the grade's interval planned with, in seconds.
	FollowUpEvery int64      `dynamodbav:"followUpEvery,omitempty"`
	LoggedThrough *time.Time `dynamodbav:"loggedThrough,omitempty"`
	derivedFields
	// Evaluations are the latest evaluations, newest first, written
	// compactly; an item written before holds them whole in
	// recentEvaluations (derivedFields) instead.
	Evaluations []evaluationCopy `dynamodbav:"evals,omitempty"`

	// Falling is where the falling-scores mark was last written
	// (position|owner list|team list), "" when on none.
	Falling string `dynamodbav:"falling,omitempty"`

	// Ord is where the customer's order entries were written (order.go).
	Ord *orderState `dynamodbav:"ord,omitempty"`

	Rev     int                    `dynamodbav:"rev"`
	Applied map[string]appliedMark `dynamodbav:"applied,omitempty"`
	Counted int                    `dynamodbav:"counted"`
	// ValuesCounted and ValuesAt: counted in the per-value counters at
	// that profile version (stream.Marks).
	ValuesCounted bool   `dynamodbav:"vc,omitempty"`
	ValuesAt      int    `dynamodbav:"vcAt,omitempty"`
	ForwardTo     string `dynamodbav:"forwardTo,omitempty"`
}

// evaluationCopy is an evaluation as the activity keeps it: the whole
// evaluation (evaluationFields, field for field), under short attribute
// names and without its customer's id, which is the activity's. Five are
// kept, and the stream rewrites the item for every interaction at a unit
// per started KB: evaluationItem's
// long names and the id were about 110 of an evaluation's 390 bytes on
// the demo's customers (docs/access-patterns.md, "The activity item on
// the demo's customers").
type evaluationCopy struct {
	ID              string          `dynamodbav:"id"`
	TemplateID      string          `dynamodbav:"t"`
	TemplateVersion int             `dynamodbav:"tv"`
	Kind            string          `dynamodbav:"k"`
	EvaluatorID     string          `dynamodbav:"by"`
	ThirdParty      string          `dynamodbav:"tp,omitempty"`
	Scores          []scoreItem     `dynamodbav:"sc"`
	Comment         string          `dynamodbav:"c,omitempty"`
	Overall         float64         `dynamodbav:"o"`
	Dimensions      []dimensionItem `dynamodbav:"d"`
	NPS             *int            `dynamodbav:"nps,omitempty"`
	CaseID          string          `dynamodbav:"case,omitempty"`
	EvaluatedAt     time.Time       `dynamodbav:"at"`
}

func toEvaluationCopy(e *crm.Evaluation) evaluationCopy {
	return evaluationCopy(toEvaluationItem(e, false).evaluationFields)
}

func (c *evaluationCopy) evaluation(customerID string) crm.Evaluation {
	return *fromEvaluationItem(&evaluationItem{CustomerID: customerID, evaluationFields: evaluationFields(*c)})
}

// summaryItem is the activity's summary of its latest interaction
// (crm.InteractionSummary).
type summaryItem struct {
	ID              string    `dynamodbav:"id"`
	Channel         string    `dynamodbav:"channel"`
	Direction       string    `dynamodbav:"direction"`
	Kind            string    `dynamodbav:"kind"`
	Subject         string    `dynamodbav:"subject,omitempty"`
	OccurredAt      time.Time `dynamodbav:"occurredAt"`
	DurationSeconds *int      `dynamodbav:"durationSeconds,omitempty"`
	HandledBy       string    `dynamodbav:"handledBy,omitempty"`
	ContactID       string    `dynamodbav:"contactId,omitempty"`
	Outcome         string    `dynamodbav:"outcome,omitempty"`
	Amount          *float64  `dynamodbav:"amount,omitempty"`
	Currency        string    `dynamodbav:"currency,omitempty"`
}

func toSummaryItem(i *crm.Interaction) *summaryItem {
	return &summaryItem{ID: i.ID, Channel: string(i.Channel), Direction: string(i.Direction), Kind: string(i.Type),
		Subject: i.Subject, OccurredAt: i.OccurredAt, DurationSeconds: i.DurationSeconds, HandledBy: i.HandledBy,
		ContactID: i.ContactID, Outcome: i.Outcome, Amount: i.Amount, Currency: i.Currency}
}

func (it *summaryItem) interaction(customerID string) *crm.Interaction {
	return crm.InteractionSummary(&crm.Interaction{ID: it.ID, CustomerID: customerID, Channel: crm.Channel(it.Channel),
		Direction: crm.Direction(it.Direction), Type: crm.InteractionType(it.Kind), Subject: it.Subject, OccurredAt: it.OccurredAt,
		DurationSeconds: it.DurationSeconds, HandledBy: it.HandledBy, ContactID: it.ContactID, Outcome: it.Outcome,
		Amount: it.Amount, Currency: it.Currency})
}

// writeCompactActivity says whether activity items are written in the
// compact layout: the evaluations under evals (evaluationCopy), and the
// latest interaction's id and time left to its summary where they are its
// own. It shipped in two releases (docs/deploy.md, "Rolling out and
// rolling back"): the release before this one read both layouts and wrote
// the full one, so that the release before it, which reads only the full
// layout, never met a compact item during a canary or after a rollback;
// this one writes the compact layout, which the release before it reads.
// Items written in the full layout stay readable until the stream
// rewrites them.
const writeCompactActivity = true

// toActivityItem writes c's activity with the index keys its profile
// implies, and the marks m, in the layout writeCompactActivity says.
func toActivityItem(c *crm.Customer, m stream.Marks, applied map[string]appliedMark) *activityItem {
	return toActivityItemLayout(c, m, applied, writeCompactActivity)
}

// toActivityItemLayout is toActivityItem in the compact layout or the
// full one.
func toActivityItemLayout(c *crm.Customer, m stream.Marks, applied map[string]appliedMark, compact bool) *activityItem {
	a := &c.Activity
	it := &activityItem{
		PK: customerPK(c.ID), SK: skActivity, Type: "activity", CustomerID: c.ID,
		InteractionCount: a.InteractionCount, FollowUpSetAt: a.FollowUpSetAt, LoggedThrough: a.LoggedThrough,
		Planned: true, FollowUpAsked: a.FollowUpAsked, ContactedAt: a.ContactedAt, FollowUpEvery: int64(a.FollowUpEvery / time.Second),
		derivedFields: toDerived(a),
		Rev:           m.Revision, Applied: applied, Counted: m.Counted, ForwardTo: m.ForwardTo,
		ValuesCounted: m.ValuesCounted, ValuesAt: m.ValuesAt,
	}
	for i := range a.RecentEvaluations {
		if compact {
			it.Evaluations = append(it.Evaluations, toEvaluationCopy(&a.RecentEvaluations[i]))
		} else {
			it.RecentEvaluations = append(it.RecentEvaluations, *toEvaluationItem(&a.RecentEvaluations[i], false))
		}
	}
	if li := a.LastInteraction; li != nil {
		it.LastInteraction = toSummaryItem(li)
		// Compact: the latest interaction's id and time are its summary's,
		// stored again only when they differ. The two attributes are 80
		// bytes; without them a rewrite of each of the demo's 200 activity
		// items costs 246 write units instead of 298, since many sit just
		// over 1 KB (fromActivityItem reads them back).
		if compact && a.LastInteractionID == li.ID && a.LastInteractionAt != nil && a.LastInteractionAt.Equal(li.OccurredAt) {
			it.LastInteractionAt, it.LastInteractionID = nil, ""
		}
	}
	if c.Status == crm.StatusActive && c.MergedInto == "" && m.ForwardTo == "" {
		owner, team := ownerScopeKey(c.OwnerID, c.InPool()), teamKey(c.Team)
		it.GOwner, it.GTeam = string(crm.WatchNoContact)+"#"+owner, string(crm.WatchNoContact)+"#"+team
		it.GSort = c.LastContactAt().UTC().Format(dueLayout) + "#" + c.ID
		if at := a.NextFollowUpAt; at != nil {
			pos := at.UTC().Format(dueLayout) + "#" + c.ID
			it.GDue, it.GDueAt = string(crm.WatchFollowUp)+"#"+owner, pos
			it.GName, it.GNameSort = string(crm.WatchFollowUp)+"#"+team, pos
		}
	}
	return it
}

// fromActivityItem reads an activity item into c's activity, and returns
// its marks.
func fromActivityItem(it *activityItem, c *crm.Customer) stream.Marks {
	a := it.derivedFields.activity()
	if len(it.Evaluations) > 0 {
		a.RecentEvaluations = nil
		for i := range it.Evaluations {
			a.RecentEvaluations = append(a.RecentEvaluations, it.Evaluations[i].evaluation(c.ID))
		}
	}
	if li := it.LastInteraction; li != nil && a.LastInteractionID == "" {
		at := li.OccurredAt
		a.LastInteractionAt, a.LastInteractionID = &at, li.ID
	}
	a.InteractionCount, a.FollowUpSetAt, a.LoggedThrough, a.Revision = it.InteractionCount, it.FollowUpSetAt, it.LoggedThrough, it.Rev
	a.FollowUpAsked, a.ContactedAt, a.FollowUpEvery = it.FollowUpAsked, it.ContactedAt, time.Duration(it.FollowUpEvery)*time.Second
	if !it.Planned {
		a.FollowUpAsked, a.ContactedAt = a.NextFollowUpAt, a.LastInteractionAt
	}
	if li := it.LastInteraction; li != nil {
		a.LastInteraction = li.interaction(c.ID)
	}
	c.Activity = a
	m := stream.Marks{Revision: it.Rev, Counted: it.Counted, ForwardTo: it.ForwardTo, Applied: map[string]string{},
		ValuesCounted: it.ValuesCounted, ValuesAt: it.ValuesAt}
	for shard, am := range it.Applied {
		m.Applied[shard] = am.Seq
	}
	return m
}

// appliedMarks are the marks an activity write keeps: the shard's new
// one, and the others of the last day.
func appliedMarks(stored map[string]appliedMark, shard, seq string, now time.Time) map[string]appliedMark {
	out := map[string]appliedMark{}
	for s, m := range stored {
		if time.Unix(m.At, 0).After(now.Add(-markKept)) {
			out[s] = m
		}
	}
	if shard != "" && seq != "" {
		out[shard] = appliedMark{Seq: seq, At: now.Unix()}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// dropLayout writes score drops with a fixed width, so they sort as text.
const dropLayout = "%06.2f"

// markKept is how long an activity keeps a shard's mark: a stream keeps
// its records 24 hours, so no record older than that comes again.
const markKept = 25 * time.Hour

func toCaseSummaries(cs []crm.CaseSummary) []caseSummaryItem {
	var out []caseSummaryItem
	for _, o := range cs {
		out = append(out, caseSummaryItem{ID: o.ID, Kind: string(o.Type), Subject: o.Subject,
			Priority: string(o.Priority), Status: string(o.Status), DueAt: o.DueAt, Escalated: o.Escalated})
	}
	return out
}

func fromCaseSummaries(cs []caseSummaryItem) []crm.CaseSummary {
	var out []crm.CaseSummary
	for _, o := range cs {
		out = append(out, crm.CaseSummary{ID: o.ID, Type: crm.InteractionType(o.Kind), Subject: o.Subject,
			Priority: crm.Priority(o.Priority), Status: crm.CaseStatus(o.Status), DueAt: o.DueAt, Escalated: o.Escalated})
	}
	return out
}

// fallingMark is where the customer stands on the falling-scores lists,
// or ok false when it is on none.
func fallingMark(c *crm.Customer) (gOwner, gTeam, gSort string, ok bool) {
	if c.Status != crm.StatusActive || c.MergedInto != "" {
		return "", "", "", false
	}
	d, fell := c.ScoreDrop()
	if !fell {
		return "", "", "", false
	}
	l := string(crm.WatchFalling) + "#"
	return l + ownerScopeKey(c.OwnerID, c.InPool()), l + teamKey(c.Team), fmt.Sprintf(dropLayout, d) + "#" + c.ID, true
}
