package server

import (
	"maps"
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func TestFieldsTakingVariablesLooksIntoValuesAndFragments(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: `query($o: ID, $t: [String!]) {
		customers(filter: {ownerId: $o}, first: 10) { edges { node { id } } }
		searchCustomers(query: "x", first: 5) { edges { node { ...f } } }
		... on Query { auditLog(filter: {actors: ["a", $o]}) { edges { node { id } } } }
	}
	fragment f on Customer { interactions(types: $t) { edges { node { id } } } tasks(first: 3) { edges { node { id } } } }`})
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
