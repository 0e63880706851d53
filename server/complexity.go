package server

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/graph/generated"
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
// operation is priced afresh on every request (the walk that finds its
// variables is not: the cache remembers its answer).
type complexityGate struct {
	limit int
	es    graphql.ExecutableSchema
	// custom holds the names of the fields priced by a function of our
	// own (pricedFields), on whatever type.
	custom map[string]bool
	// priced holds, by query, the price of the one operation of a
	// document, or that it is priced on every request; pricedByName the
	// same for documents of several operations, by query and operation
	// name. The query is the key as it is, without a copy per request:
	// the document cache holds the same string. Two caches, so that no
	// key of one can be taken for a key of the other.
	priced, pricedByName graphql.Cache[price]
}

// price is an operation's complexity, or perRequest when it depends on
// the request's variables.
type price struct {
	n          int
	perRequest bool
}

var (
	_ graphql.HandlerExtension        = (*complexityGate)(nil)
	_ graphql.OperationContextMutator = (*complexityGate)(nil)
)

// The name and stats are gqlgen's, so that extension.GetComplexityStats
// reads them as before.
const complexityExtension = "ComplexityLimit"

func newComplexityGate(limit int, custom map[string]bool) *complexityGate {
	return &complexityGate{limit: limit, custom: custom,
		priced:       smallQueries[price]{lru.New[price](queryCacheSize)},
		pricedByName: smallQueries[price]{lru.New[price](queryCacheSize / 10)},
	}
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
	cache, key := c.priced, oc.RawQuery
	if len(oc.Doc.Operations) > 1 {
		cache, key = c.pricedByName, oc.RawQuery+"\x00"+oc.OperationName
	}
	p, ok := cache.Get(ctx, key)
	if !ok || p.perRequest {
		op := oc.Doc.Operations.ForName(oc.OperationName)
		n := complexity.Calculate(ctx, c.es, op, oc.Variables)
		if !ok {
			// An operation where a field takes a variable is priced
			// afresh each time: a variable can change a price, and a
			// priced field whose variable does not decode (a malformed
			// DateTime) is priced at the default, which must not be
			// remembered for the good variables of a later request.
			// That it is so is remembered, to spare the walk.
			cache.Add(ctx, key, price{n: n, perRequest: c.takesVariables(op)})
		}
		p.n = n
	}
	n := p.n
	oc.Stats.SetExtension(complexityExtension, &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.limit})
	if n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

// takesVariables reports whether a field of op priced by a function of
// our own takes an argument from a variable. A field priced by gqlgen's
// default (one plus its children) costs the same whatever its arguments,
// so the customer 360, whose id is a variable, is priced once.
func (c *complexityGate) takesVariables(op *ast.OperationDefinition) bool {
	for name := range fieldsTakingVariables(op.SelectionSet, nil, map[string]bool{}) {
		if c.custom[goName(name)] {
			return true
		}
	}
	return false
}

// pricedFields lists the fields root prices
// by a function, by name (goName) whatever their type: a field of an
// interface is priced as its implementers' are, and a name taken for more
// than it is only prices more operations on every request.
func pricedFields(root *generated.ComplexityRoot) map[string]bool {
	names := map[string]bool{}
	for _, field := range priceFunctions(root) {
		names[goName(field)] = true
	}
	return names
}

// priceFunctions yields the type and field, by gqlgen's Go names, of each
// price function root sets. By pointer: the root is 12 KB of function
// pointers, which a copy into an interface would allocate and copy on
// every cold start.
func priceFunctions(root *generated.ComplexityRoot) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		types := reflect.ValueOf(root).Elem()
		for i := range types.NumField() {
			fields := types.Field(i)
			if fields.Kind() != reflect.Struct {
				continue
			}
			for j := range fields.NumField() {
				if f := fields.Field(j); f.Kind() == reflect.Func && !f.IsNil() &&
					!yield(types.Type().Field(i).Name, fields.Type().Field(j).Name) {
					return
				}
			}
		}
	}
}

// goName folds a GraphQL field name and gqlgen's Go name for it
// (customerId, CustomerID) to one key.
func goName(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, "_", ""))
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
