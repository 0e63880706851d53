package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Shape limits of one operation. gqlgen has no depth, alias or field-count
// limit of its own; the complexity limit prices lists, these bound the
// document itself (deeply nested or alias-multiplied queries).
const (
	maxDepth   = 12
	maxAliases = 50
	maxFields  = 500
)

// shapeLimit refuses operations deeper, wider or more aliased than the
// limits. It counts with fragments expanded and stops at the first limit
// crossed, so even a fragment bomb costs at most maxFields steps.
type shapeLimit struct{}

var (
	_ graphql.HandlerExtension        = shapeLimit{}
	_ graphql.OperationContextMutator = shapeLimit{}
)

func (shapeLimit) ExtensionName() string { return "ShapeLimit" }

func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (shapeLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	w := shapeWalker{doc: oc.Doc}
	if err := w.walk(oc.Operation.SelectionSet, 1); err != nil {
		errcode.Set(err, errcode.ValidationFailed)
		return err
	}
	return nil
}

type shapeWalker struct {
	doc            *ast.QueryDocument
	fields, asides int
}

func (w *shapeWalker) walk(set ast.SelectionSet, depth int) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			if s.Alias != "" && s.Alias != s.Name {
				w.asides++
			}
			switch {
			case depth > maxDepth:
				return gqlerror.ErrorPosf(s.Position, "query is nested deeper than %d levels", maxDepth)
			case w.asides > maxAliases:
				return gqlerror.ErrorPosf(s.Position, "query uses more than %d aliases", maxAliases)
			case w.fields > maxFields:
				return gqlerror.ErrorPosf(s.Position, "query selects more than %d fields", maxFields)
			}
			if err := w.walk(s.SelectionSet, depth+1); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := w.walk(s.SelectionSet, depth); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if f := w.doc.Fragments.ForName(s.Name); f != nil {
				if err := w.walk(f.SelectionSet, depth); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
