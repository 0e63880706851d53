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
	root := level{depth: 1, lists: outsideIntrospection}
	for _, op := range doc.Operations {
		if err := w.walk(op.SelectionSet, root); err != nil {
			return err
		}
	}
	for _, f := range doc.Fragments {
		if !w.reached[f.Name] {
			w.reached[f.Name] = true
			w.expanding[f.Name] = true
			err := w.walk(f.SelectionSet, root)
			w.expanding[f.Name] = false
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// The schema's own introspection (__schema and __type) is not held to
// maxDepth: the query every GraphQL tool sends to read the schema (GraphiQL's,
// graphql-js's getIntrospectionQuery) unwraps a type like [Customer!]! with
// nine nested ofType fields, 15 levels deep. What makes introspection
// costly is not its depth but its cycles (a type's fields have types, which
// have fields…), so within it we bound, as graphql-js's
// MaxIntrospectionDepthRule does, how many of the list fields that lead
// from a type to more types enclose one another; ofType leads to a single
// type and only ever as deep as the schema's wrappers. Its fields and
// fragments still count towards maxFields and maxFragments, and
// noIntrospection still refuses it when introspection is off.
const maxIntrospectionLists = 3

// typeLists are the introspection fields that list further types.
var typeLists = map[string]bool{"fields": true, "inputFields": true, "interfaces": true, "possibleTypes": true}

const outsideIntrospection = -1

// level is where a selection set sits: its depth (1 for an operation's root
// fields) and, inside __schema or __type, how many typeLists fields enclose
// it (outsideIntrospection elsewhere).
type level struct {
	depth, lists int
}

// below is the level of field f's selection set, or an error if f nests
// introspection's type lists too deep.
func (at level) below(f *ast.Field) (level, *gqlerror.Error) {
	next := level{depth: at.depth + 1, lists: at.lists}
	if at.depth == 1 && (f.Name == "__schema" || f.Name == "__type") {
		next.lists = 0
	}
	if next.lists != outsideIntrospection && typeLists[f.Name] {
		next.lists++
		if next.lists >= maxIntrospectionLists {
			return next, gqlerror.ErrorPosf(f.Position, "introspection nests fields, inputFields, interfaces or possibleTypes more than %d deep", maxIntrospectionLists-1)
		}
	}
	return next, nil
}

type shapeWalker struct {
	doc                        *ast.QueryDocument
	fields, aliases, fragments int
	expanding, reached         map[string]bool
}

func (w *shapeWalker) walk(set ast.SelectionSet, at level) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			switch {
			case at.depth > maxDepth && at.lists == outsideIntrospection:
				return gqlerror.ErrorPosf(s.Position, "query is nested deeper than the limit of %d levels", maxDepth)
			case w.aliases > maxAliases:
				return gqlerror.ErrorPosf(s.Position, "query uses more than the limit of %d aliases", maxAliases)
			case w.fields > maxFields:
				return gqlerror.ErrorPosf(s.Position, "query selects more than the limit of %d fields (fragments expanded)", maxFields)
			}
			next, err := at.below(s)
			if err != nil {
				return err
			}
			if err := w.walk(s.SelectionSet, next); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := w.fragment(s.Position); err != nil {
				return err
			}
			if err := w.walk(s.SelectionSet, at); err != nil {
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
			err := w.walk(f.SelectionSet, at)
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
