package resolvers

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/rapportcrm/rapport/crm"
)

// A customer's counts, latest interaction, follow-up, open cases and
// indexes live on its activity item, apart from the profile. A list reads
// the activities with the profiles, in the same BatchGetItem, only when
// the query shows one of these fields.
var activityFields = []string{"interactionCount", "latestInteraction", "lastInteractionAt", "nextFollowUpAt",
	"openCases", "openCaseCount", "recentEvaluations", "satisfactionIndex", "loyaltyIndex", "trustIndex", "acceptanceIndex", "creditIndex", "nps",
	"transactionCount", "transactionTotal", "firstTransactionAt", "lastTransactionAt"}

// listsActivity reports whether a customer list's query shows a field of
// the activity.
func listsActivity(ctx context.Context) bool {
	return slices.ContainsFunc(activityFields, func(f string) bool { return selects(ctx, "edges", "node", f) })
}

// withActivity asks a list for its customers' activities when the query
// shows them.
func withActivity(ctx context.Context, f crm.CustomerFilter) crm.CustomerFilter {
	f.WithActivity = listsActivity(ctx)
	return f
}

// summaryFields are the fields of an interaction the activity's summary
// of the latest one holds (crm.InteractionSummary); a query asking for
// another reads the interaction.
var summaryFields = []string{"id", "customerId", "customer", "channel", "direction", "type", "subject", "occurredAt",
	"durationSeconds", "handledBy", "contactId", "outcome", "amount", "currency", "__typename"}

// summaryAnswers reports whether the latest interaction's summary answers
// every field the query asks of it.
func summaryAnswers(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || !graphql.HasOperationContext(ctx) {
		return false
	}
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, []string{"Interaction"}) {
		if !slices.Contains(summaryFields, f.Name) {
			return false
		}
	}
	return true
}
