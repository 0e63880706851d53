package server

import (
	"maps"
	"slices"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/rapportcrm/rapport/graph/generated"
	"github.com/rapportcrm/rapport/resolvers"
)

func TestFieldsTakingVariablesLooksIntoValuesAndFragments(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: `query($o: ID, $t: [String!]) {
		customers(filter: {ownerId: $o}, first: 10) { edges { node { id } } }
		searchCustomers(query: "x", first: 5) { edges { node { ...f } } }
		... on Query { auditLog(filter: {actors: ["a", $o]}) { edges { node { id } } } }
	}
	fragment f on Customer { interactions(from: $t) { edges { node { id } } } tasks(first: 3) { edges { node { id } } } }`})
	if err != nil {
		t.Fatal(err)
	}
	// Definitions are set by validation, which this test skips: fragment
	// spreads are linked by hand.
	for _, op := range doc.Operations {
		linkFragments(op.SelectionSet, doc)
	}
	got := slices.Sorted(maps.Keys(fieldsTakingVariables(doc.Operations[0].SelectionSet, nil, map[string]bool{})))
	if want := []string{"auditLog", "customers", "interactions"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func linkFragments(set ast.SelectionSet, doc *ast.QueryDocument) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			linkFragments(s.SelectionSet, doc)
		case *ast.InlineFragment:
			linkFragments(s.SelectionSet, doc)
		case *ast.FragmentSpread:
			s.Definition = doc.Fragments.ForName(s.Name)
			linkFragments(s.Definition.SelectionSet, doc)
		}
	}
}

// An operation is priced on every request only when a variable reaches a
// field that resolvers.Complexity prices: a variable of a field priced by
// gqlgen's default (the 360's id) cannot change its price.
func TestOnlyVariablesOfPricedFieldsMakeAnOperationPricedPerRequest(t *testing.T) {
	root := resolvers.Complexity()
	priced := pricedFields(&root)
	for name, want := range map[string]bool{"customers": true, "interactions": true, "contacts": true, "importCustomers": true,
		"customer360": false, "customer": false, "searchCustomers": false} {
		if priced[goName(name)] != want {
			t.Errorf("%s priced by a function of ours: %v, want %v", name, !want, want)
		}
	}
	es := generated.NewExecutableSchema(generated.Config{Resolvers: &resolvers.Resolver{}, Complexity: root})
	for _, tt := range []struct {
		name, query string
		vars        map[string]any
		perRequest  bool
	}{
		{"ViewById", `query($id: ID!) { customer360(id: $id, recentInteractions: 10) { contacts { name } recentInteractions { id } } }`,
			map[string]any{"id": "c1"}, false},
		{"CustomerWithContacts", `query($id: ID!) { customer(id: $id) { name contacts { name } } }`, map[string]any{"id": "c1"}, false},
		{"PageSize", `query($n: Int) { customers(first: $n) { edges { node { id } } } }`, map[string]any{"n": 5}, true},
		{"FilterOfAPricedField", `query($o: ID) { customers(filter: {ownerId: $o}, first: 10) { edges { node { id } } } }`, map[string]any{"o": "u"}, true},
		{"PricedFieldInAFragment", `query($id: ID!, $t: DateTime) { customer(id: $id) { ...f } }
			fragment f on Customer { interactions(from: $t) { edges { node { id } } } }`, map[string]any{"id": "c1"}, true},
		{"NoVariables", `{ customers(first: 3) { edges { node { id } } } }`, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(es.Schema(), tt.query)
			if errs != nil {
				t.Fatal(errs)
			}
			g := newComplexityGate(complexityLimit, priced)
			if err := g.Validate(es); err != nil {
				t.Fatal(err)
			}
			oc := &graphql.OperationContext{RawQuery: tt.query, Doc: doc, Variables: tt.vars}
			if err := g.MutateOperationContext(t.Context(), oc); err != nil {
				t.Fatal(err)
			}
			p, ok := g.priced.Get(t.Context(), tt.query)
			if !ok || p.perRequest != tt.perRequest {
				t.Fatalf("cached %v, priced on every request: %v, want %v", ok, p.perRequest, tt.perRequest)
			}
		})
	}
}

// pricedFields names a price function's field by gqlgen's Go name for it:
// every function resolvers.Complexity sets must name a field of the
// schema's type of the same name under goName, or a rename (@goField, a
// model's field mapping) would let a price that follows a variable be
// remembered.
func TestEveryPriceFunctionNamesAFieldOfItsType(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	for typ, name := range priceFunctions(new(resolvers.Complexity())) {
		def := schema.Types[typ]
		if def == nil || !slices.ContainsFunc(def.Fields, func(f *ast.FieldDefinition) bool { return goName(f.Name) == goName(name) }) {
			t.Errorf("price function %s.%s names no field of the schema", typ, name)
		}
	}
}
