package resolvers

import (
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

func toTask(t *crm.Task) *model.Task {
	return &model.Task{
		ID: t.ID, CustomerID: t.CustomerID, Type: model.TaskType(t.Type), Title: opt(t.Title), Notes: opt(t.Notes),
		DueAt: t.DueAt, AssigneeID: t.AssigneeID, Priority: model.Priority(t.Priority), Status: model.TaskStatus(t.Status),
		InteractionID: opt(t.InteractionID), Reason: opt(t.Reason), ClosedAt: t.ClosedAt, ClosedBy: opt(t.ClosedBy),
		Version: t.Version, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy, UpdatedAt: t.UpdatedAt,
	}
}

func taskConnection(p *crm.Page[*crm.Task]) *model.TaskConnection {
	return &model.TaskConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.Task) *model.TaskEdge {
			return &model.TaskEdge{Cursor: cursor, Node: toTask(it)}
		})}
}

func toAgenda(a *crm.Agenda) *model.Agenda {
	return &model.Agenda{UserID: a.UserID, Date: a.Date, Complete: a.Complete,
		Items: mapAll(a.Items, func(it *crm.AgendaItem) *model.AgendaItem {
			m := &model.AgendaItem{Kind: model.AgendaKind(it.Kind), At: it.At, Overdue: it.Overdue,
				Priority: model.Priority(it.Priority), Customer: toCustomer(it.Customer)}
			if it.Task != nil {
				m.Task = toTask(it.Task)
			}
			if it.Case != nil {
				m.Case = toCase(it.Case)
			}
			if it.Lead != nil {
				m.Lead = toLead(it.Lead)
			}
			return m
		})}
}
