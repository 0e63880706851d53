package server

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/rapportcrm/rapport/graph/generated"
	"github.com/rapportcrm/rapport/resolvers"
	"github.com/vektah/gqlparser/v2"
)

// BenchmarkComplexityGate times the gate on a document the query cache
// holds: one whose page size is a variable (priced on every request), the
// customer 360, whose id is a variable of a field priced by default, and
// one without variables (both priced once).
func BenchmarkComplexityGate(b *testing.B) {
	es := generated.NewExecutableSchema(generated.Config{Resolvers: &resolvers.Resolver{}, Complexity: resolvers.Complexity()})
	for _, bb := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"PageSize", `query($first: Int) { customers(first: $first) { edges { node { id name stage grade { level { code } } contacts { name } } } } }`,
			map[string]any{"first": 20}},
		{"View", `query($id: ID!) { customer360(id: $id, recentInteractions: 10) {
		customer { id name version stage grade { level { code label } reason } openCases { id status dueAt }
			recentEvaluations { id overall evaluatedAt } lastInteractionAt nextFollowUpAt }
		contacts { id name title phones }
		recentInteractions { id channel type subject occurredAt } } }`, map[string]any{"id": "c1"}},
		{"Fixed", `{ customers(first: 20) { edges { node { id name stage grade { level { code } } contacts { name } } } } }`, nil},
	} {
		b.Run(bb.name, func(b *testing.B) {
			doc, errs := gqlparser.LoadQuery(es.Schema(), bb.query)
			if errs != nil {
				b.Fatal(errs)
			}
			g := newComplexityGate(complexityLimit, pricedFields(new(resolvers.Complexity())))
			if err := g.Validate(es); err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				oc := &graphql.OperationContext{RawQuery: bb.query, Doc: doc, Variables: bb.vars}
				if err := g.MutateOperationContext(ctx, oc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPricedFields times what server.New does once per cold start to
// learn which fields resolvers.Complexity prices by a function of its own.
func BenchmarkPricedFields(b *testing.B) {
	root := resolvers.Complexity()
	b.ReportAllocs()
	for b.Loop() {
		if len(pricedFields(&root)) == 0 {
			b.Fatal("no priced field")
		}
	}
}
