package resolvers

import (
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

func toNotification(n *crm.Notification) *model.Notification {
	return &model.Notification{
		ID: n.ID, Kind: model.NotificationKind(n.Kind), At: n.At, CustomerID: opt(n.CustomerID), CaseID: opt(n.CaseID),
		TaskID: opt(n.TaskID), LeadID: opt(n.LeadID), ContractID: opt(n.ContractID), WebhookEndpointID: opt(n.EndpointID), Actor: opt(n.Actor), DueAt: n.DueAt, From: opt(n.From), To: opt(n.To),
		Message: n.Message, ReadAt: n.ReadAt,
	}
}

func notificationConnection(p *crm.Page[*crm.Notification]) *model.NotificationConnection {
	return &model.NotificationConnection{PageInfo: pageInfo(p),
		Edges: edges(p, func(cursor string, it *crm.Notification) *model.NotificationEdge {
			return &model.NotificationEdge{Cursor: cursor, Node: toNotification(it)}
		})}
}
