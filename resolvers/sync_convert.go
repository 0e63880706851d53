package resolvers

import (
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

func toCustomerChange(c *crm.CustomerChange) *model.CustomerChange {
	out := &model.CustomerChange{Kind: model.ChangeKind(c.Kind), CustomerID: c.CustomerID, Version: c.Version, At: c.At}
	if c.Customer != nil {
		out.Customer = toCustomer(c.Customer)
	}
	return out
}

func changeConnection(p *crm.Page[*crm.CustomerChange]) *model.ChangeConnection {
	return &model.ChangeConnection{PageInfo: pageInfo(p),
		Edges: edges(p, func(cursor string, it *crm.CustomerChange) *model.ChangeEdge {
			return &model.ChangeEdge{Cursor: cursor, Node: toCustomerChange(it)}
		})}
}
