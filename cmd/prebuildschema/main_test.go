package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	gqlparser "github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// richSchema uses what Rapport's schema does not yet (custom and
// repeatable directives with arguments, default values of every kind,
// interfaces, unions, extensions, a schema definition), so that the data
// Emit writes is checked on more than today's schema: directive
// definitions are shared by every use, so they become variables.
const richSchema = `
"The schema."
schema @tag(name: "s") { query: Query mutation: Mutation }
directive @tag(name: String!, weight: Int = 1, level: Level = LOW, opts: Opts = {a: [1, 2], b: "x\"y"}) repeatable on SCHEMA | OBJECT | FIELD_DEFINITION | ENUM_VALUE | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | INTERFACE | UNION | INPUT_OBJECT | SCALAR | ENUM
directive @other(x: Int @tag(name: "y")) on ARGUMENT_DEFINITION
"""
Levels, with a ` + "`backquote`" + ` in the description.
"""
enum Level @tag(name: "e") { LOW @tag(name: "l") HIGH @deprecated(reason: "no") }
input Opts @tag(name: "i") { a: [Int!] = [3] @tag(name: "f"), b: String, c: Level = HIGH, d: Opts, e: Float = 1.5, f: Boolean = true, g: String = null }
interface Node @tag(name: "n") { id: ID! }
type Query @tag(name: "q") @tag(name: "q2", weight: 2) { node(id: ID! @tag(name: "a") @other(x: 1), o: Opts = {a: [1], c: LOW}): Node @deprecated other: U }
type Mutation { m(x: [[Int!]]!): Boolean }
type A implements Node { id: ID! }
type B implements Node { id: ID! a: A }
union U @tag(name: "u") = A | B
scalar Time @specifiedBy(url: "https://example.com")
# a comment
extend type A { more: Int }
`

// TestEmittedSchemaCompilesToTheParse writes a rich schema as Go data,
// builds it with a program that compares it with gqlparser's parse of
// the same source (values, and the nodes the parse shares), and runs it.
func TestEmittedSchemaCompilesToTheParse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	sources := []*ast.Source{{Name: "rich.graphqls", Input: richSchema}}
	schema, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Emit(schema, sources, "main", "prebuilt")
	if err != nil {
		t.Fatal(err)
	}
	// Inside the module, so it builds with the module's gqlparser; a
	// directory starting with _ is no package of ./...
	dir, err := os.MkdirTemp(".", "_roundtrip")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	check := `package main

import (
	"fmt"
	"os"
	"reflect"

	gqlparser "github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	parsed, err := gqlparser.LoadSchema(&ast.Source{Name: "rich.graphqls", Input: ` + quote(richSchema) + `})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if !reflect.DeepEqual(prebuilt, parsed) {
		fmt.Println("the data differs from the parse")
		os.Exit(1)
	}
	if prebuilt.Types["Query"] != prebuilt.Query || prebuilt.Types["Mutation"] != prebuilt.Mutation {
		fmt.Println("the roots are not the types")
		os.Exit(1)
	}
	tag := prebuilt.Directives["tag"]
	for _, d := range prebuilt.Query.Directives {
		if d.Definition != tag {
			fmt.Println("a directive does not share its definition")
			os.Exit(1)
		}
	}
	fmt.Println("ok")
}
`
	for name, b := range map[string][]byte{"prebuilt.go": data, "main.go": []byte(check)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("go", "run", "./"+filepath.Base(dir)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("go run: %v\n%s", err, out)
	}
}

func TestSourcesReadsGqlgensLiteral(t *testing.T) {
	gen := "package generated\n\nvar sources = []*ast.Source{\n" +
		"\t{Name: \"../a.graphqls\", Input: `type Query { a: Int }\n`, BuiltIn: false},\n" +
		"\t{Name: \"../b.graphqls\", Input: `\"with a ` + \"`\" + `backquote\" scalar B\n`, BuiltIn: false},\n}\n"
	got, err := Sources([]byte(gen))
	if err != nil {
		t.Fatal(err)
	}
	want := []ast.Source{
		{Name: "../a.graphqls", Input: "type Query { a: Int }\n"},
		{Name: "../b.graphqls", Input: "\"with a `backquote\" scalar B\n"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d sources, want %d", len(got), len(want))
	}
	for i := range want {
		if *got[i] != want[i] {
			t.Errorf("source %d: got %+v, want %+v", i, *got[i], want[i])
		}
	}
	if _, err := Sources([]byte("package generated\n")); err == nil {
		t.Error("a file without sources was accepted")
	}
}

func TestRewrite(t *testing.T) {
	const head = "package generated\n\nimport (\n\t\"fmt\"\n\n" + importLine + "\t\"github.com/vektah/gqlparser/v2/ast\"\n)\n\n" +
		"var _ = fmt.Sprint\nvar sources = []*ast.Source{}\n"
	tests := []struct {
		name, in string
		want     []string // substrings of the output
		absent   []string
		err      bool
	}{
		{name: "ParseReplacedAndImportDropped", in: head + parseLine,
			want: []string{prebuiltLine}, absent: []string{parseLine, "gqlparser \""}},
		{name: "ImportKeptWhenStillUsed", in: head + parseLine + "var _ = gqlparser.LoadQuery\n",
			want: []string{prebuiltLine, "gqlparser \"github.com/vektah/gqlparser/v2\""}},
		{name: "AlreadyRewrittenUnchanged", in: head + prebuiltLine, want: []string{prebuiltLine}},
		{name: "ErrTemplateChanged", in: head + "var parsedSchema = somethingElse()\n", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Rewrite([]byte(tt.in))
			if tt.err {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.want {
				if !strings.Contains(string(out), s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(string(out), s) {
					t.Errorf("output still has %q:\n%s", s, out)
				}
			}
		})
	}
}
