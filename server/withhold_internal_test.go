package server

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/rapportcrm/rapport/graph/generated"
)

// The rules themselves, without the presenter's last line: gqlparser's
// default rules suggest on each of these documents, the production rules
// on none. Every suggesting rule is hit at least once.
func TestProductionRulesNeverSuggest(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	docs := []string{
		`{ custmers { totalCount } }`,                      // FieldsOnCorrectType
		`{ customers }`,                                    // ScalarLeafs
		`{ customers(frist: 3) { totalCount } }`,           // KnownArgumentNames
		`{ me @include(iff: true) { id } }`,                // KnownArgumentNames, on a directive
		`fragment F on Quer { me { id } } { ...F }`,        // KnownTypeNames
		`{ customers(filter: {tga: "x"}) { totalCount } }`, // ValuesOfCorrectType, input field
		`mutation { logInteraction(input: {customerId: "c", channel: PHON, type: CALL}) { id } }`, // enum value
	}
	hit := map[string]bool{}
	for _, q := range docs {
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			t.Fatal(err)
		}
		suggested := false
		for _, e := range validator.ValidateWithRules(schema, doc, rules.NewDefaultRules()) {
			if strings.Contains(e.Message, "Did you mean") {
				suggested, hit[e.Rule] = true, true
			}
		}
		if !suggested {
			t.Errorf("the default rules do not suggest on %s: the probe tests nothing", q)
		}
		errs := validator.ValidateWithRules(schema, doc, productionRules())
		if len(errs) == 0 {
			t.Errorf("production rules accept %s", q)
		}
		for _, e := range errs {
			if strings.Contains(e.Message, "Did you mean") {
				t.Errorf("%s suggests on %s: %s", e.Rule, q, e.Message)
			}
		}
	}
	for _, swap := range suggestingRules {
		if !hit[swap.suggesting.Name] {
			t.Errorf("no probe for %s", swap.suggesting.Name)
		}
	}
}

// The rules production swaps or wraps exist under these names (a rename
// upstream would otherwise leave the original in place), and none of the
// originals is left.
func TestProductionRulesReplaceTheirOriginals(t *testing.T) {
	def, prod := rules.NewDefaultRules().GetInner(), productionRules().GetInner()
	var replaced []string
	for _, swap := range suggestingRules {
		replaced = append(replaced, swap.suggesting.Name)
	}
	for _, w := range withheldRules {
		for _, inner := range w.inner {
			if !strings.HasSuffix(inner.Name, "WithoutSuggestions") {
				replaced = append(replaced, inner.Name)
			}
		}
	}
	for _, name := range replaced {
		if _, ok := def[name]; !ok {
			t.Errorf("gqlparser has no default rule %s", name)
		}
		if _, ok := prod[name]; ok {
			t.Errorf("production still runs %s", name)
		}
	}
	want := len(def)
	for _, w := range withheldRules {
		want += 1 - len(w.inner)
	}
	if len(prod) != want {
		t.Errorf("production runs %d rules, want %d: gqlparser's %d, %d of them wrapped in %d", len(prod), want, len(def),
			len(def)-want+len(withheldRules), len(withheldRules))
	}
}
