package events

import (
	"fmt"
	"reflect"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// Record is one change of the table as the events are derived from it:
// a write of a customer's profile, interaction, case or evaluation, with
// the item before and after it (package stream decodes the table's
// stream records into it).
type Record struct {
	// ID identifies the stream record, the same on every delivery of it
	// (DynamoDB Streams' eventID): event ids are derived from it.
	ID string
	// Seq is the record's sequence number in its shard.
	Seq string
	// At is when the write happened.
	At time.Time
	// Op is INSERT, MODIFY or REMOVE.
	Op         string
	CustomerID string

	CustomerBefore, Customer       *crm.Customer
	InteractionBefore, Interaction *crm.Interaction
	CaseBefore, Case               *crm.Case
	Evaluation                     *crm.Evaluation
	OpportunityBefore, Opportunity *crm.Opportunity
	TaskBefore, Task               *crm.Task
	LeadBefore, Lead               *crm.Lead
	ContractBefore, Contract       *crm.Contract
	// Moved: the item was copied or removed by a merge moving a customer's
	// history to its survivor; nothing new happened to it.
	Moved bool
}

// Derive returns the events a record means, in a fixed order; none for
// writes that change nothing a subscriber sees (bookkeeping, the moves of
// a merge, a rewrite that keeps the version). source is the CloudEvents
// source.
func Derive(source string, r Record) []Event {
	if r.Moved || r.Op == "REMOVE" {
		return nil
	}
	var ds []derived
	switch {
	case r.Customer != nil:
		ds = customerEvents(r.CustomerBefore, r.Customer)
	case r.Interaction != nil:
		if r.InteractionBefore == nil && r.Op == "INSERT" {
			ds = []derived{interactionLogged(r.Interaction)}
		}
	case r.Case != nil:
		ds = caseEvents(r.CaseBefore, r.Case)
	case r.Evaluation != nil:
		if r.Op == "INSERT" {
			ds = []derived{evaluationSubmitted(r.Evaluation)}
		}
	case r.Opportunity != nil:
		ds = opportunityEvents(r.OpportunityBefore, r.Opportunity)
	case r.Task != nil:
		ds = taskEvents(r.TaskBefore, r.Task)
	case r.Lead != nil:
		ds = leadEvents(r.LeadBefore, r.Lead)
	case r.Contract != nil:
		ds = contractEvents(r.ContractBefore, r.Contract)
	}
	out := make([]Event, 0, len(ds))
	for i, d := range ds {
		d.data.CustomerID = r.CustomerID
		out = append(out, Event{
			SpecVersion:     SpecVersion,
			ID:              fmt.Sprintf("%s-%d", r.ID, i),
			Source:          source,
			Type:            d.typ,
			Subject:         r.CustomerID,
			Time:            r.At.UTC(),
			DataContentType: "application/json",
			Sequence:        r.Seq,
			Data:            d.data,
		})
	}
	return out
}

type derived struct {
	typ  Type
	data Data
}

// customerEvents are a profile write's events: its creation, or each
// lifecycle move it makes (merge, archive or restore, a change of hands,
// stage, grade) and an update for the fields none of them explains.
func customerEvents(prev, next *crm.Customer) []derived {
	base := Data{Version: next.Version, Actor: next.UpdatedBy}
	if prev == nil {
		base.Actor = next.CreatedBy
		base.Status = &FromTo{To: string(next.Status)}
		base.Stage = &FromTo{To: string(next.Stage)}
		base.Grade = &FromTo{To: next.Grade.Level}
		base.Owner = &FromTo{To: next.OwnerID}
		base.Team = &FromTo{To: next.Team}
		return []derived{{CustomerCreated, base}}
	}
	if next.Version == prev.Version {
		return nil // a rewrite (a migration), not a change
	}
	var out []derived
	if cl := next.Claim; cl.Active() && cl.WarnedAt != nil && (prev.Claim == nil || prev.Claim.WarnedAt == nil || !prev.Claim.WarnedAt.Equal(*cl.WarnedAt)) {
		// The pool job's warning: bookkeeping of the profile, news to
		// the holder (their notification's event).
		d := base
		d.Owner, d.ClaimExpiresAt = &FromTo{From: next.OwnerID, To: next.OwnerID}, &cl.ExpiresAt
		out = append(out, derived{CustomerClaimExpiring, d})
	}
	if w := crm.NewPoolWarning(prev, next); w != nil {
		// The take-back warning: bookkeeping too, news to the owner.
		d := base
		d.Owner, d.DueAt, d.Kind = &FromTo{From: next.OwnerID, To: next.OwnerID}, &w.DueAt, w.Rule
		out = append(out, derived{CustomerPoolReturnDue, d})
	}
	changed := ChangedFields(prev, next)
	if len(changed) == 0 {
		return out // bookkeeping only (a claim's warning, its conversion)
	}
	base.ChangedFields = changed
	explained := map[string]bool{}
	add := func(t Type, fields []string, set func(*Data)) {
		d := base
		set(&d)
		out = append(out, derived{t, d})
		for _, f := range fields {
			explained[f] = true
		}
	}
	status := &FromTo{From: string(prev.Status), To: string(next.Status)}
	switch {
	case next.Status == crm.StatusMerged && prev.Status != crm.StatusMerged:
		add(CustomerMerged, []string{"status", "mergedInto", "mergedAt"}, func(d *Data) {
			d.Status, d.MergedInto = status, next.MergedInto
		})
	case next.Status == crm.StatusArchived && prev.Status == crm.StatusActive:
		add(CustomerArchived, []string{"status", "archivedAt"}, func(d *Data) { d.Status = status })
	case next.Status == crm.StatusActive && prev.Status == crm.StatusArchived:
		add(CustomerRestored, []string{"status", "archivedAt"}, func(d *Data) { d.Status = status })
	}
	owner := &FromTo{From: prev.OwnerID, To: next.OwnerID}
	team := func(d *Data) {
		if prev.Team != next.Team {
			d.Team = &FromTo{From: prev.Team, To: next.Team}
		}
	}
	hands := []string{"ownerId", "team"}
	switch {
	case prev.OwnerID == next.OwnerID:
	case prev.OwnerID == "" && next.Claim != nil && next.Claim.By == next.OwnerID:
		add(CustomerClaimed, hands, func(d *Data) {
			d.Owner, d.ClaimExpiresAt = owner, &next.Claim.ExpiresAt
			team(d)
		})
	case next.OwnerID == "" && next.UpdatedBy == crm.SystemUserID:
		add(CustomerExpiredToPool, hands, func(d *Data) { d.Owner = owner; team(d) })
	case next.OwnerID == "":
		add(CustomerReleased, hands, func(d *Data) { d.Owner = owner; team(d) })
	default:
		add(CustomerHandedOver, hands, func(d *Data) { d.Owner = owner; team(d) })
	}
	if prev.Stage != next.Stage {
		add(CustomerStageChanged, []string{"stage"}, func(d *Data) {
			d.Stage = &FromTo{From: string(prev.Stage), To: string(next.Stage)}
		})
	}
	if prev.Grade.Level != next.Grade.Level {
		add(CustomerRegraded, []string{"grade"}, func(d *Data) {
			d.Grade = &FromTo{From: prev.Grade.Level, To: next.Grade.Level}
		})
	}
	for _, f := range changed {
		if !explained[f] {
			out = append(out, derived{CustomerUpdated, base})
			break
		}
	}
	return out
}

// customerFields are the profile fields an event names when they change,
// by their schema names (graph/customer.graphqls). Bookkeeping (version,
// update stamps, a claim's warning, the stream's own activity) is not a
// change a subscriber acts on; a grade counts by its level only, the
// reasons and metrics of the same level being recomputed daily.
var customerFields = []struct {
	name  string
	value func(*crm.Customer) any
}{
	{"kind", func(c *crm.Customer) any { return c.Kind }},
	{"name", func(c *crm.Customer) any { return c.Name }},
	{"phones", func(c *crm.Customer) any { return c.Phones }},
	{"emails", func(c *crm.Customer) any { return c.Emails }},
	{"addresses", func(c *crm.Customer) any { return c.Addresses }},
	{"industry", func(c *crm.Customer) any { return c.Industry }},
	{"region", func(c *crm.Customer) any { return c.Region }},
	{"source", func(c *crm.Customer) any { return c.Source }},
	{"annualRevenue", func(c *crm.Customer) any { return c.AnnualRevenue }},
	{"creditRating", func(c *crm.Customer) any { return c.CreditRating }},
	{"creditCode", func(c *crm.Customer) any { return c.CreditCode }},
	{"companyStatus", func(c *crm.Customer) any { return c.CompanyStatus }},
	{"tags", func(c *crm.Customer) any { return c.Tags }},
	{"attributes", func(c *crm.Customer) any { return c.Attributes }},
	{"stage", func(c *crm.Customer) any { return c.Stage }},
	{"status", func(c *crm.Customer) any { return c.Status }},
	{"ownerId", func(c *crm.Customer) any { return c.OwnerID }},
	{"team", func(c *crm.Customer) any { return c.Team }},
	{"partners", func(c *crm.Customer) any { return partnerIDs(c) }},
	{"grade", func(c *crm.Customer) any { return c.Grade.Level }},
	{"valueScore", func(c *crm.Customer) any { return c.ValueScore }},
	{"valueTier", func(c *crm.Customer) any { return c.ValueTier }},
	{"nextFollowUpAt", func(c *crm.Customer) any { return followUp(c) }},
	{"fieldVerifications", func(c *crm.Customer) any { return c.FieldVerifications }},
	{"mergedInto", func(c *crm.Customer) any { return c.MergedInto }},
	{"mergedAt", func(c *crm.Customer) any { return c.MergedAt }},
	{"archivedAt", func(c *crm.Customer) any { return c.ArchivedAt }},
}

// ChangedFields names the fields of customerFields that differ between
// prev and next, in that list's order.
func ChangedFields(prev, next *crm.Customer) []string {
	var out []string
	for _, f := range customerFields {
		if !equal(f.value(prev), f.value(next)) {
			out = append(out, f.name)
		}
	}
	return out
}

// equal compares two field values, an empty list equal to none and a nil
// pointer to nil.
func equal(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Kind() == reflect.Slice && vb.Kind() == reflect.Slice && va.Len() == 0 && vb.Len() == 0 {
		return true
	}
	if va.Kind() == reflect.Pointer && vb.Kind() == reflect.Pointer {
		if va.IsNil() || vb.IsNil() {
			return va.IsNil() == vb.IsNil()
		}
		return reflect.DeepEqual(va.Elem().Interface(), vb.Elem().Interface())
	}
	return reflect.DeepEqual(a, b)
}

func partnerIDs(c *crm.Customer) []string {
	ids := make([]string, 0, len(c.Partners))
	for _, p := range c.Partners {
		ids = append(ids, p.OrgID)
	}
	return ids
}

// followUp is a follow-up set by a profile edit (the activity's own next
// follow-up is the stream's, not the profile's).
func followUp(c *crm.Customer) *time.Time {
	if c.FollowUpSet == nil {
		return nil
	}
	return &c.FollowUpSet.At
}

func interactionLogged(it *crm.Interaction) derived {
	return derived{InteractionLogged, Data{
		Version: it.Version, Actor: it.CreatedBy, InteractionID: it.ID,
		Channel: string(it.Channel), Direction: string(it.Direction), Kind: string(it.Type),
		OccurredAt: &it.OccurredAt, HandledBy: it.HandledBy,
	}}
}

// caseEvents are a case write's events: its opening, or its escalation
// and its move (to CLOSED: its closing).
func caseEvents(prev, next *crm.Case) []derived {
	d := Data{
		Version: next.Version, CaseID: next.ID, Priority: string(next.Priority),
		AssignedTo: next.AssignedTo, DueAt: &next.DueAt, Kind: string(next.Type),
	}
	if n := len(next.Transitions); n > 0 {
		d.Actor = next.Transitions[n-1].By
	}
	if prev == nil {
		d.Status = &FromTo{To: string(next.Status)}
		return []derived{{CaseOpened, d}}
	}
	if prev.Version == next.Version {
		return nil
	}
	var out []derived
	if crm.NewlyEscalated(prev, next) {
		out = append(out, derived{CaseEscalated, d})
	}
	if next.AssignedTo != "" && next.AssignedTo != prev.AssignedTo {
		a := d
		a.Owner = &FromTo{From: prev.AssignedTo, To: next.AssignedTo}
		out = append(out, derived{CaseAssigned, a})
	}
	if prev.Status != next.Status {
		d.Status = &FromTo{From: string(prev.Status), To: string(next.Status)}
		t := CaseMoved
		if next.Status == crm.CaseClosed {
			t = CaseClosed
		}
		out = append(out, derived{t, d})
	}
	return out
}

func evaluationSubmitted(e *crm.Evaluation) derived {
	overall := e.Overall
	return derived{EvaluationSubmitted, Data{
		Version: 1, Actor: e.EvaluatorID, EvaluationID: e.ID, TemplateID: e.TemplateID,
		Kind: string(e.Kind), Overall: &overall, CaseID: e.CaseID,
	}}
}

// opportunityEvents are a deal write's events: its opening, or its move
// to another stage (to WON: won; to LOST: lost, with the reason). Edits
// that keep the stage make none.
func opportunityEvents(prev, next *crm.Opportunity) []derived {
	d := Data{Version: next.Version, OpportunityID: next.ID, Actor: next.UpdatedBy, Owner: &FromTo{To: next.OwnerID}}
	if prev == nil {
		d.Actor, d.Stage = next.CreatedBy, &FromTo{To: next.Stage}
		return []derived{{OpportunityCreated, d}}
	}
	if prev.Version == next.Version || prev.Stage == next.Stage {
		return nil
	}
	d.Stage, d.Owner = &FromTo{From: prev.Stage, To: next.Stage}, &FromTo{From: prev.OwnerID, To: next.OwnerID}
	switch next.Stage {
	case crm.StageWon:
		return []derived{{OpportunityWon, d}}
	case crm.StageLostDeal:
		d.LossReason = string(next.LossReason)
		return []derived{{OpportunityLost, d}}
	}
	return []derived{{OpportunityMoved, d}}
}

// taskEvents are a task write's events: the job's notice that it is due
// (once per due time; its assignee's notification).
func taskEvents(prev, next *crm.Task) []derived {
	d := next.DueNoticeFor
	if next.Status != crm.TaskOpen || d == nil || (prev != nil && prev.DueNoticeFor != nil && prev.DueNoticeFor.Equal(*d)) {
		return nil
	}
	return []derived{{TaskDue, Data{Version: next.Version, Actor: next.UpdatedBy, TaskID: next.ID,
		Kind: string(next.Type), Priority: string(next.Priority), AssignedTo: next.AssigneeID, DueAt: &next.DueAt}}}
}

// leadEvents are a lead write's events: its making (created, then handed,
// as the two happen in one write), a hand to another salesperson, its
// acceptance, its return (with the reason's absence: notes and needs are
// not carried) and its withdrawal.
func leadEvents(prev, next *crm.Lead) []derived {
	if prev != nil && (prev.Version == next.Version || prev.Status == next.Status) {
		return nil
	}
	d := Data{Version: next.Version, Actor: next.UpdatedBy, LeadID: next.ID, AssignedTo: next.HandedTo,
		Status: &FromTo{To: string(next.Status)}, Owner: &FromTo{From: next.QualifiedBy, To: next.HandedTo}}
	if prev == nil {
		c := d
		c.Actor, c.Owner = next.CreatedBy, nil
		return []derived{{LeadCreated, c}, {LeadHanded, d}}
	}
	d.Status.From = string(prev.Status)
	switch next.Status {
	case crm.LeadHanded:
		return []derived{{LeadHanded, d}}
	case crm.LeadAccepted:
		return []derived{{LeadAccepted, d}}
	case crm.LeadReturned:
		return []derived{{LeadReturned, d}}
	case crm.LeadWithdrawn:
		return []derived{{LeadWithdrawn, d}}
	}
	return nil
}

// contractEvents are a contract write's events: its signing (or, beyond
// the customer's credit, its request for approval, then the approval and
// signing, or the rejection), each payment
// recorded (with paidInFull when the payment settles the contract), or an
// edit of its title, owner, term or plan. Amounts are not carried.
func contractEvents(prev, next *crm.Contract) []derived {
	d := Data{Version: next.Version, ContractID: next.ID, OpportunityID: next.OpportunityID, Actor: next.UpdatedBy,
		Owner: &FromTo{To: next.OwnerID}}
	if prev == nil {
		d.Actor, d.Owner = next.CreatedBy, &FromTo{To: next.OwnerID}
		if !next.Booked() {
			return []derived{{ContractApprovalRequested, d}}
		}
		return []derived{{ContractSigned, d}}
	}
	if prev.Version == next.Version {
		return nil
	}
	d.Owner = &FromTo{From: prev.OwnerID, To: next.OwnerID}
	if !prev.Booked() && next.Approval != nil && next.Approval.Status != prev.Approval.Status {
		if next.Booked() {
			return []derived{{ContractApproved, d}, {ContractSigned, d}}
		}
		return []derived{{ContractRejected, d}}
	}
	var out []derived
	for _, p := range next.Payments[min(len(prev.Payments), len(next.Payments)):] {
		pd := d
		pd.PaymentID = p.ID
		out = append(out, derived{ContractPaymentRecorded, pd})
	}
	if len(out) > 0 {
		if prev.Outstanding() > 0 && next.Outstanding() == 0 {
			out = append(out, derived{ContractPaid, d})
		}
		return out
	}
	return []derived{{ContractUpdated, d}}
}
