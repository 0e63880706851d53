// Package listmarshal marshals the elements of a GraphQL list in the
// request's goroutine when nothing under them can block, and concurrently
// otherwise.
//
// gqlgen's generated code marshals every list of more than one element with
// graphql.MarshalSliceConcurrently: a goroutine per element, with no
// setting to turn it off (a worker limit only queues them). The goroutines
// matter when an element's fields resolve concurrently (resolvers, methods
// taking a context): our batch loaders (resolvers/batchloader.go) gather
// the keys of sibling elements while their goroutines wait, and marshalling
// the elements one after the other would wait out the loader once per
// element. Where no such field is selected under the list, every field is a
// read of a value already in memory, and the goroutines only cost: in the
// customer 360 they took 43% of the handler's CPU.
//
// graph/internal/genlists rewrites the generated calls to Slice after
// gqlgen runs, and writes, from the generated code, the table of the fields
// that resolve concurrently (Fields). Slice then decides per list, from the
// list's selection set, so that a list of interactions without their
// customer runs sequentially while the same list with it stays concurrent.
package listmarshal

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Fields names, by type, the fields whose generated code resolves them
// concurrently (out.ResolveConcurrently in the type's marshaller). An
// interface or union holds the fields of all its implementers.
type Fields map[string]map[string]bool

// Slice marshals n elements as graphql.MarshalSliceConcurrently(ctx, n, 0,
// false, marshal) does: marshal receives a context with a field context
// whose Index is the element's, and an element that panics is Null with
// the panic reported as an error at its path. The elements are marshalled
// one after the other in the caller's goroutine when no field selected
// under sel (fragments expanded) resolves concurrently; otherwise, and for
// fewer than two elements (which gqlgen marshals in place), by gqlgen.
func Slice(ctx context.Context, sel ast.SelectionSet, concurrent Fields, n int, marshal func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if n < 2 || Concurrent(sel, concurrent) {
		return graphql.MarshalSliceConcurrently(ctx, n, 0, false, marshal)
	}
	ret := make(graphql.Array, n)
	for i := range n {
		ret[i] = element(ctx, i, marshal)
	}
	return ret
}

// element marshals element i, recovering a panic as gqlgen does.
func element(ctx context.Context, i int, marshal func(ctx context.Context, i int) graphql.Marshaler) (m graphql.Marshaler) {
	index := i
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &index})
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			m = graphql.Null
		}
	}()
	return marshal(ctx, i)
}

// Concurrent reports whether a field selected under sel, at any depth and
// through fragments, resolves concurrently. It errs towards true: it
// ignores @skip and @include and a fragment's type condition, and a spread
// whose definition is not linked counts as concurrent.
func Concurrent(sel ast.SelectionSet, concurrent Fields) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.ObjectDefinition == nil || concurrent[s.ObjectDefinition.Name][s.Name] || Concurrent(s.SelectionSet, concurrent) {
				return true
			}
		case *ast.InlineFragment:
			if Concurrent(s.SelectionSet, concurrent) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || Concurrent(s.Definition.SelectionSet, concurrent) {
				return true
			}
		default:
			return true
		}
	}
	return false
}
