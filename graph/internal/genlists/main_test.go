package main

import (
	"maps"
	"os"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"github.com/99designs/gqlgen/codegen/templates"
	"github.com/vektah/gqlparser/v2/ast"
)

// The table genlists reads from the generated code is gqlgen's own idea of
// which fields resolve concurrently (its codegen data, from gqlgen.yml and
// the schema): a field missing from it would let a list whose elements
// wait on a batch loader be marshalled one element at a time, and a field
// wrongly in it would keep a list concurrent for nothing.
func TestTableIsTheFieldsGqlgenResolvesConcurrently(t *testing.T) {
	t.Chdir("../../..")
	src, err := os.ReadFile(generatedFile)
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := Rewrite(src)
	if err != nil {
		t.Fatal(err)
	}
	want := gqlgenConcurrentFields(t)
	for typ := range joinKeys(got, want) {
		if !maps.Equal(got[typ], want[typ]) {
			t.Errorf("%s: table %v, gqlgen %v", typ, got[typ], want[typ])
		}
	}
	for _, f := range []string{"Interaction.customer", "Customer.latestInteraction", "Customer.contacts", "User.department", "CustomerConnection.totalCount"} {
		typ, field, _ := strings.Cut(f, ".")
		if !got[typ][field] {
			t.Errorf("%s is not in the table", f)
		}
	}
}

// Every list of the generated code goes through listmarshal.Slice, and
// the generated files are what genlists makes of them.
func TestGeneratedListsGoThroughSlice(t *testing.T) {
	t.Chdir("../../..")
	src, err := os.ReadFile(generatedFile)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), "graphql.MarshalSliceConcurrently("); n > 0 {
		t.Fatalf("%d lists are marshalled by gqlgen directly: run go generate ./...", n)
	}
	if n := strings.Count(string(src), "listmarshal.Slice(ctx, sel, concurrentFields, len(v), "); n < 50 {
		t.Fatalf("%d lists go through listmarshal.Slice", n)
	}
	again, table, err := Rewrite(src)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(src) {
		t.Error("rewriting the generated code again changes it")
	}
	committed, err := os.ReadFile(tableFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != string(Table(table)) {
		t.Errorf("%s is stale: run go generate ./...", tableFile)
	}
}

func TestRewriteRefusesAFormItDoesNotKnow(t *testing.T) {
	src := `package generated

import "github.com/99designs/gqlgen/graphql"

func (ec *executionContext) _T(ctx context.Context, sel ast.SelectionSet) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, tImplementors)
	out := graphql.NewFieldSet(fields)
	return out
}

var tImplementors = []string{"T"}

func (ec *executionContext) marshalNT(ctx context.Context, sel ast.SelectionSet, v []*T) graphql.Marshaler {
	return graphql.MarshalSliceConcurrently(ctx, len(v), 4, false, func(ctx context.Context, i int) graphql.Marshaler { return nil })
}
`
	if _, _, err := Rewrite([]byte(src)); err == nil || !strings.Contains(err.Error(), "worker limit") {
		t.Fatalf("got %v, want an error about the form", err)
	}
}

// gqlgenConcurrentFields builds gqlgen's codegen data as gqlgen generate
// does (the models it generates bound by name) and lists, by type, the
// fields it resolves concurrently or through a resolver; interfaces and
// unions hold their implementers'.
func gqlgenConcurrentFields(t *testing.T) map[string]map[string]bool {
	t.Helper()
	cfg, err := config.LoadConfig("gqlgen.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.LoadSchema(); err != nil {
		t.Fatal(err)
	}
	for name, def := range cfg.Schema.Types {
		if len(cfg.Models[name].Model) > 0 || def.BuiltIn || def.Kind == ast.Scalar || cfg.Schema.Query == def || cfg.Schema.Mutation == def {
			continue
		}
		cfg.Models.Add(name, cfg.Model.ImportPath()+"."+templates.ToGo(name))
	}
	if err := cfg.Init(); err != nil {
		t.Fatal(err)
	}
	data, err := codegen.BuildData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]bool{}
	for _, o := range data.Objects {
		for _, f := range o.Fields {
			if !f.IsConcurrent() && !f.IsResolver {
				continue
			}
			for _, typ := range append([]string{o.Name}, implemented(cfg.Schema, o.Definition)...) {
				if want[typ] == nil {
					want[typ] = map[string]bool{}
				}
				want[typ][f.Name] = true
			}
		}
	}
	return want
}

// implemented names the interfaces and unions def belongs to.
func implemented(s *ast.Schema, def *ast.Definition) []string {
	var names []string
	for _, d := range s.GetImplements(def) {
		names = append(names, d.Name)
	}
	return names
}

func joinKeys(a, b map[string]map[string]bool) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}
