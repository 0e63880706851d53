package server

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits that keep a single request cheap. The complexity limit is in the
// units of resolvers.Complexity: a page of 100 customers with their
// profile, grade and latest interaction fits; the same page with each
// customer's contacts or interactions (a DynamoDB call per customer) does not.
const (
	complexityLimit = 5000
	parserTokens    = 15000
	queryCacheSize  = 1000
	// maxErrors bounds the errors of one response: an invalid document can
	// break a rule thousands of times, and each would be an entry.
	maxErrors = 20
)

// useLimits installs the per-request bounds on the GraphQL executor, in the
// order they run: persisted-query lookup, the token limit and shape limits
// (before validation), introspection, complexity, and last the registration
// of a persisted query that passed them all. The body size, batch and
// parameter checks run before gqlgen, in checkRequest.
func useLimits(gql *executor.Executor, introspection bool, priced map[string]bool) {
	docs := smallQueries[*ast.QueryDocument]{lru.New[*ast.QueryDocument](queryCacheSize)}
	gql.SetQueryCache(docs)
	gql.SetParserTokenLimit(parserTokens)
	lookup, register := newPersistedQueries()
	gql.Use(lookup)
	gql.Use(shapeLimit{validated: docs})
	if introspection {
		gql.Use(extension.Introspection{})
	} else {
		gql.Use(noIntrospection{})
		// Both: gqlgen swaps two rules back to suggesting ones unless
		// suggestions are disabled.
		gql.SetDisableSuggestion(true)
		gql.SetDefaultRulesFn(productionRules)
	}
	gql.Use(newComplexityGate(complexityLimit, priced))
	gql.Use(queriesOnlyOverGET{})
	gql.Use(register)
	gql.AroundResponses(capErrors)
}

// capErrors keeps the first maxErrors errors of a response and says how
// many it left out.
func capErrors(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || len(resp.Errors) <= maxErrors {
		return resp
	}
	more := len(resp.Errors) - maxErrors
	note := &gqlerror.Error{
		Message:    fmt.Sprintf("%d more errors not shown (a response lists at most %d)", more, maxErrors),
		Extensions: resp.Errors[0].Extensions,
	}
	resp.Errors = append(resp.Errors[:maxErrors:maxErrors], note)
	return resp
}

// noIntrospection refuses operations that ask for __schema or __type when
// introspection is off. Without it the generated executor fails those
// fields with an uncoded error, which the presenter would have to treat as
// INTERNAL; refusing the operation up front makes it a validation failure.
type noIntrospection struct{}

var (
	_ graphql.HandlerExtension        = noIntrospection{}
	_ graphql.OperationContextMutator = noIntrospection{}
)

func (noIntrospection) ExtensionName() string { return "NoIntrospection" }

func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

func (noIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Query"}) {
		if f.Name == "__schema" || f.Name == "__type" {
			err := gqlerror.ErrorPosf(f.Position, "introspection is disabled: field %s", f.Name)
			errcode.Set(err, errcode.ValidationFailed)
			return err
		}
	}
	return nil
}
