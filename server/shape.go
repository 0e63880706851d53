package server

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Shape limits of one document. gqlgen has no depth, alias or field-count
// limit of its own; the complexity limit prices lists, these bound the
// document itself (deeply nested, alias-multiplied or repeated fields).
const (
	maxDepth     = 12
	maxAliases   = 50
	maxFields    = 500
	maxFragments = 500 // fragment spreads and inline fragments, expanded
)

// shapeLimit refuses documents deeper, wider or more aliased than the
// limits before gqlgen validates them: validation compares every pair of
// fields that could merge, so a few thousand repeated fields would cost
// seconds there. It parses the query itself (under the same token limit)
// and counts with fragments expanded, sharing one budget across all of
// the document's operations and its unused fragments (validation visits
// those too), stopping at the first limit crossed, so a fragment bomb costs
// at most maxFields+maxFragments steps. A query found in the validated-query
// cache passed this check when it was first seen and is not parsed again.
type shapeLimit struct {
	validated graphql.Cache[*ast.QueryDocument]
}

var (
	_ graphql.HandlerExtension          = shapeLimit{}
	_ graphql.OperationParameterMutator = shapeLimit{}
)

func (shapeLimit) ExtensionName() string { return "ShapeLimit" }

func (l shapeLimit) Validate(graphql.ExecutableSchema) error {
	if l.validated == nil {
		return errors.New("ShapeLimit needs the query cache")
	}
	return nil
}

func (l shapeLimit) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if _, ok := l.validated.Get(ctx, raw.Query); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: raw.Query}, parserTokens)
	if err != nil {
		var gerr *gqlerror.Error
		if !errors.As(err, &gerr) {
			gerr = gqlerror.Errorf("the query could not be parsed")
		}
		errcode.Set(gerr, errcode.ParseFailed)
		return gerr
	}
	if gerr := checkShape(doc); gerr != nil {
		errcode.Set(gerr, errcode.ValidationFailed)
		return gerr
	}
	return nil
}

// checkShape walks every operation of doc, then every fragment no operation
// reached.
func checkShape(doc *ast.QueryDocument) *gqlerror.Error {
	w := shapeWalker{doc: doc, expanding: map[string]bool{}, reached: map[string]bool{}}
	for _, op := range doc.Operations {
		if err := w.walk(op.SelectionSet, 1); err != nil {
			return err
		}
	}
	for _, f := range doc.Fragments {
		if !w.reached[f.Name] {
			w.reached[f.Name] = true
			w.expanding[f.Name] = true
			err := w.walk(f.SelectionSet, 1)
			w.expanding[f.Name] = false
			if err != nil {
				return err
			}
		}
	}
	return nil
}

type shapeWalker struct {
	doc                        *ast.QueryDocument
	fields, aliases, fragments int
	expanding, reached         map[string]bool
}

func (w *shapeWalker) walk(set ast.SelectionSet, depth int) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			switch {
			case depth > maxDepth:
				return gqlerror.ErrorPosf(s.Position, "query is nested deeper than the limit of %d levels", maxDepth)
			case w.aliases > maxAliases:
				return gqlerror.ErrorPosf(s.Position, "query uses more than the limit of %d aliases", maxAliases)
			case w.fields > maxFields:
				return gqlerror.ErrorPosf(s.Position, "query selects more than the limit of %d fields (fragments expanded)", maxFields)
			}
			if err := w.walk(s.SelectionSet, depth+1); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := w.fragment(s.Position); err != nil {
				return err
			}
			if err := w.walk(s.SelectionSet, depth); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if err := w.fragment(s.Position); err != nil {
				return err
			}
			f := w.doc.Fragments.ForName(s.Name)
			// An unknown fragment or a cycle is left to validation,
			// which names it.
			if f == nil || w.expanding[s.Name] {
				continue
			}
			w.reached[s.Name] = true
			w.expanding[s.Name] = true
			err := w.walk(f.SelectionSet, depth)
			w.expanding[s.Name] = false
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *shapeWalker) fragment(pos *ast.Position) *gqlerror.Error {
	w.fragments++
	if w.fragments > maxFragments {
		return gqlerror.ErrorPosf(pos, "query expands more than the limit of %d fragments", maxFragments)
	}
	return nil
}
