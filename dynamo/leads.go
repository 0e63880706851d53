package dynamo

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// Leads (docs/access-patterns.md, "Leads"):
//
//	CUST#<customer> / #L#<id>  the lead with its history, in its customer's
//	                           collection below the 360 view's range; on
//	                           the agenda of whoever must act on it:
//	                           gDue AGENDA#<recipient> while it waits for
//	                           them, AGENDA#<maker> once returned, gDueAt
//	                           <since when> # LEAD # <id> (byDue)
const skLeadPrefix = "#L#" // below "I", outside the 360 view's range; a merge moves it

func leadSK(id string) string { return skLeadPrefix + id }

type leadMoveItem struct {
	Status string    `dynamodbav:"status"`
	To     string    `dynamodbav:"to,omitempty"`
	By     string    `dynamodbav:"by"`
	At     time.Time `dynamodbav:"at"`
	Note   string    `dynamodbav:"note,omitempty"`
}

type leadItem struct {
	PK           string         `dynamodbav:"pk"`
	SK           string         `dynamodbav:"sk"`
	Type         string         `dynamodbav:"type"`
	GDue         string         `dynamodbav:"gDue,omitempty"`
	GDueAt       string         `dynamodbav:"gDueAt,omitempty"`
	ID           string         `dynamodbav:"id"`
	CustomerID   string         `dynamodbav:"customerId"`
	Team         string         `dynamodbav:"team,omitempty"`
	Source       string         `dynamodbav:"source"`
	Need         string         `dynamodbav:"need"`
	Notes        string         `dynamodbav:"notes,omitempty"`
	QualifiedBy  string         `dynamodbav:"qualifiedBy"`
	HandedTo     string         `dynamodbav:"handedTo"`
	HandedAt     time.Time      `dynamodbav:"handedAt"`
	ToTeams      []string       `dynamodbav:"toTeams,omitempty"`
	Status       string         `dynamodbav:"status"`
	ReturnReason string         `dynamodbav:"returnReason,omitempty"`
	DecidedAt    *time.Time     `dynamodbav:"decidedAt,omitempty"`
	History      []leadMoveItem `dynamodbav:"history"`
	Version      int            `dynamodbav:"version"`
	CreatedAt    time.Time      `dynamodbav:"createdAt"`
	CreatedBy    string         `dynamodbav:"createdBy"`
	UpdatedAt    time.Time      `dynamodbav:"updatedAt"`
	UpdatedBy    string         `dynamodbav:"updatedBy"`
}

func toLeadItem(l *crm.Lead) *leadItem {
	it := &leadItem{
		PK: customerPK(l.CustomerID), SK: leadSK(l.ID), Type: "lead", ID: l.ID, CustomerID: l.CustomerID, Team: l.Team,
		Source: string(l.Source), Need: l.Need, Notes: l.Notes, QualifiedBy: l.QualifiedBy, HandedTo: l.HandedTo,
		HandedAt: l.HandedAt, ToTeams: l.ToTeams, Status: string(l.Status), ReturnReason: l.ReturnReason, DecidedAt: l.DecidedAt,
		Version: l.Version, CreatedAt: l.CreatedAt, CreatedBy: l.CreatedBy, UpdatedAt: l.UpdatedAt, UpdatedBy: l.UpdatedBy,
	}
	if who, since := l.OnAgendaOf(); who != "" {
		it.GDue, it.GDueAt = agendaKey(who), agendaSort(since, "LEAD", l.ID)
	}
	for _, m := range l.History {
		it.History = append(it.History, leadMoveItem{Status: string(m.Status), To: m.To, By: m.By, At: m.At, Note: m.Note})
	}
	return it
}

func fromLeadItem(it *leadItem) *crm.Lead {
	l := &crm.Lead{
		ID: it.ID, CustomerID: it.CustomerID, Team: it.Team, Source: crm.Source(it.Source), Need: it.Need, Notes: it.Notes,
		QualifiedBy: it.QualifiedBy, HandedTo: it.HandedTo, HandedAt: it.HandedAt, ToTeams: it.ToTeams,
		Status: crm.LeadStatus(it.Status), ReturnReason: it.ReturnReason, DecidedAt: it.DecidedAt, Version: it.Version,
		CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy,
	}
	for _, m := range it.History {
		l.History = append(l.History, crm.LeadMove{Status: crm.LeadStatus(m.Status), To: m.To, By: m.By, At: m.At, Note: m.Note})
	}
	return l
}

// Lead reads one lead, consistently.
func (s *Store) Lead(ctx context.Context, k crm.LeadKey) (*crm.Lead, error) {
	var it leadItem
	if err := s.get(ctx, customerPK(k.CustomerID), leadSK(k.ID), &it, "lead "+k.ID+" not found"); err != nil {
		return nil, err
	}
	return fromLeadItem(&it), nil
}

// ListLeads lists a customer's leads, newest first: one Query of its
// collection's L# range.
func (s *Store) ListLeads(ctx context.Context, customerID string, p crm.PageRequest) (*crm.Page[*crm.Lead], error) {
	return collect(ctx, s, collectionPlan(s, "leads", customerID, skLeadPrefix, skLeadPrefix+"~", fromLeadItem), p)
}
