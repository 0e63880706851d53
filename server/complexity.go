package server

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// complexityGate refuses operations whose complexity exceeds limit, as
// gqlgen's extension.FixedComplexityLimit does (the same walk, message,
// code and stats), but remembers an operation's complexity when it cannot
// depend on the request's variables: the walk allocates an argument map
// per field and prices every field through the generated switch, about a
// sixth of the handler's own work for the customer 360, on every request
// of a document the query cache already holds. The complexity of an
// operation depends on its variables only through the fields priced by a
// function of our own (resolvers.Complexity), and only when one of them
// takes an argument from a variable (customers(first: $first)); such an
// operation is priced afresh on every request.
type complexityGate struct {
	limit int
	es    graphql.ExecutableSchema
	// priced holds the complexity of operations that do not depend on
	// their variables, by query and operation name.
	priced graphql.Cache[int]
}

var (
	_ graphql.HandlerExtension        = (*complexityGate)(nil)
	_ graphql.OperationContextMutator = (*complexityGate)(nil)
)

// The name and stats are gqlgen's, so that extension.GetComplexityStats
// reads them as before.
const complexityExtension = "ComplexityLimit"

func newComplexityGate(limit int) *complexityGate {
	return &complexityGate{limit: limit, priced: smallQueries[int]{lru.New[int](queryCacheSize)}}
}

func (*complexityGate) ExtensionName() string { return complexityExtension }

func (c *complexityGate) Validate(es graphql.ExecutableSchema) error {
	if es == nil {
		return errors.New("ComplexityLimit needs the schema")
	}
	c.es = es
	return nil
}

func (c *complexityGate) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	key := oc.RawQuery + "\x00" + oc.OperationName
	n, ok := c.priced.Get(ctx, key)
	if !ok {
		op := oc.Doc.Operations.ForName(oc.OperationName)
		n = complexity.Calculate(ctx, c.es, op, oc.Variables)
		// An operation where a field takes a variable is priced afresh
		// each time: a variable can change a price, and a priced field
		// whose variable does not decode (a malformed DateTime) is priced
		// at the default, which must not be remembered for the good
		// variables of a later request.
		if len(fieldsTakingVariables(op.SelectionSet, nil, map[string]bool{})) == 0 {
			c.priced.Add(ctx, key, n)
		}
	}
	oc.Stats.SetExtension(complexityExtension, &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.limit})
	if n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

// fieldsTakingVariables adds to names the fields under set (fragments
// expanded) with an argument that takes a variable, anywhere in its value.
// seen holds the fragments already walked.
func fieldsTakingVariables(set ast.SelectionSet, names map[string]bool, seen map[string]bool) map[string]bool {
	if names == nil {
		names = map[string]bool{}
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				if takesVariable(a.Value) {
					names[s.Name] = true
				}
			}
			fieldsTakingVariables(s.SelectionSet, names, seen)
		case *ast.InlineFragment:
			fieldsTakingVariables(s.SelectionSet, names, seen)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				fieldsTakingVariables(s.Definition.SelectionSet, names, seen)
			}
		}
	}
	return names
}

func takesVariable(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return true
	}
	for _, c := range v.Children {
		if takesVariable(c.Value) {
			return true
		}
	}
	return false
}
