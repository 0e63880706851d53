package demo

import (
	"context"

	"github.com/rapportcrm/rapport/crm"
)

// operation is ctx for a write the demo makes as a client would through
// the GraphQL mutation op: its audit entry names the mutation, as a
// client's does.
func operation(ctx context.Context, op string) context.Context {
	return crm.WithAuditScope(ctx, crm.AuditScope{Operation: op})
}
