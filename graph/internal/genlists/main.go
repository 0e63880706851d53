// Command genlists runs after gqlgen (go generate ./resolvers) and makes
// the generated code marshal a list's elements in the request's goroutine
// when nothing under them can block: it rewrites each
// graphql.MarshalSliceConcurrently call of graph/generated/generated.go to
// listmarshal.Slice, and writes graph/generated/concurrent_fields.go, the
// fields that the generated code resolves concurrently, which Slice checks
// a list's selection against (see graph/internal/listmarshal for why).
//
// The table is read from the generated code itself, not from a list kept
// by hand: a field resolves concurrently when its case in its type's
// marshaller calls out.ResolveConcurrently (gqlgen does so for resolvers
// and for methods that take a context), or when its field function calls a
// resolver. A schema change is thus followed by the next go generate.
// gqlgen has no setting for this (gqlgen.yml says so where it is run).
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

const (
	generatedFile = "graph/generated/generated.go"
	tableFile     = "graph/generated/concurrent_fields.go"
	importPath    = "github.com/rapportcrm/rapport/graph/internal/listmarshal"
	tableVar      = "concurrentFields"
)

func main() {
	if err := run(generatedFile, tableFile); err != nil {
		fmt.Fprintln(os.Stderr, "genlists:", err)
		os.Exit(1)
	}
}

func run(generatedPath, tablePath string) error {
	src, err := os.ReadFile(generatedPath)
	if err != nil {
		return err
	}
	code, table, err := Rewrite(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(generatedPath, code, 0o644); err != nil {
		return err
	}
	return os.WriteFile(tablePath, Table(table), 0o644)
}

// Rewrite returns the generated code with its list marshalling rewritten
// and the fields it resolves concurrently, by type (interfaces and unions
// holding their implementers'). Rewriting code already rewritten changes
// nothing.
func Rewrite(src []byte) ([]byte, map[string]map[string]bool, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "generated.go", src, parser.ParseComments)
	if err != nil {
		return nil, nil, err
	}
	table, err := concurrentFields(file)
	if err != nil {
		return nil, nil, err
	}
	type edit struct {
		from, to int
		text     string
	}
	var edits []edit
	var bad error
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isSelector(call.Fun, "graphql", "MarshalSliceConcurrently") {
				return true
			}
			// Only the form gqlgen writes with our configuration (no
			// worker limit, panics recovered) has Slice's contract.
			if len(call.Args) != 5 || !isIdent(call.Args[0], "ctx") || !isLen(call.Args[1]) ||
				!isLit(call.Args[2], "0") || !isIdent(call.Args[3], "false") || !hasParam(fn, "sel") {
				bad = fmt.Errorf("%s: a call of MarshalSliceConcurrently not in the form gqlgen writes without a worker limit: update genlists", fset.Position(call.Pos()))
				return false
			}
			edits = append(edits, edit{
				from: fset.Position(call.Fun.Pos()).Offset,
				to:   fset.Position(call.Args[4].Pos()).Offset,
				text: "listmarshal.Slice(ctx, sel, " + tableVar + ", " + string(src[fset.Position(call.Args[1].Pos()).Offset:fset.Position(call.Args[1].End()).Offset]) + ", ",
			})
			return true
		})
	}
	if bad != nil {
		return nil, nil, bad
	}
	if len(edits) > 0 && !imports(file, importPath) {
		if len(file.Imports) == 0 || file.Imports[0].Pos() == token.NoPos {
			return nil, nil, fmt.Errorf("generated code without an import block")
		}
		at := fset.Position(file.Imports[len(file.Imports)-1].End()).Offset
		edits = append(edits, edit{from: at, to: at, text: "\n\t" + strconv.Quote(importPath)})
	}
	slices.SortFunc(edits, func(a, b edit) int { return b.from - a.from })
	out := src
	for _, e := range edits {
		out = slices.Concat(out[:e.from:e.from], []byte(e.text), out[e.to:])
	}
	out, err = format.Source(out)
	if err != nil {
		return nil, nil, err
	}
	return out, table, nil
}

// concurrentFields reads, from each type's generated marshaller (the
// function that collects its fields into a graphql.FieldSet), the fields
// whose case resolves them concurrently or whose field function calls a
// resolver.
func concurrentFields(file *ast.File) (map[string]map[string]bool, error) {
	implementors := map[string][]string{}
	funcs := map[string]*ast.FuncDecl{}
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 || !strings.HasSuffix(vs.Names[0].Name, "Implementors") {
					continue
				}
				lit, ok := vs.Values[0].(*ast.CompositeLit)
				if !ok {
					continue
				}
				for _, e := range lit.Elts {
					if s, ok := e.(*ast.BasicLit); ok && s.Kind == token.STRING {
						name, _ := strconv.Unquote(s.Value)
						implementors[vs.Names[0].Name] = append(implementors[vs.Names[0].Name], name)
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv != nil && d.Body != nil {
				funcs[d.Name.Name] = d
			}
		}
	}
	table := map[string]map[string]bool{}
	marshallers := 0
	for _, fn := range funcs {
		names := collectedImplementors(fn)
		if names == nil || !newsFieldSet(fn) {
			continue
		}
		impl, ok := implementors[*names]
		if !ok || len(impl) == 0 {
			return nil, fmt.Errorf("%s collects the fields of %s, which is not declared", fn.Name.Name, *names)
		}
		marshallers++
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			sw, ok := n.(*ast.SwitchStmt)
			if !ok || !isSelector(sw.Tag, "field", "Name") {
				return true
			}
			for _, stmt := range sw.Body.List {
				clause := stmt.(*ast.CaseClause)
				if !concurrentCase(clause, funcs) {
					continue
				}
				for _, v := range clause.List {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					field, _ := strconv.Unquote(lit.Value)
					for _, t := range impl {
						if table[t] == nil {
							table[t] = map[string]bool{}
						}
						table[t][field] = true
					}
				}
			}
			return false
		})
	}
	if marshallers == 0 {
		return nil, fmt.Errorf("no type marshaller found in the generated code: update genlists")
	}
	return table, nil
}

// collectedImplementors returns the implementors variable fn passes to
// graphql.CollectFields, or nil.
func collectedImplementors(fn *ast.FuncDecl) *string {
	var name *string
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if ok && isSelector(call.Fun, "graphql", "CollectFields") && len(call.Args) == 3 {
			if id, ok := call.Args[2].(*ast.Ident); ok && strings.HasSuffix(id.Name, "Implementors") {
				name = &id.Name
			}
		}
		return name == nil
	})
	return name
}

func newsFieldSet(fn *ast.FuncDecl) bool {
	found := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && isSelector(call.Fun, "graphql", "NewFieldSet") {
			found = true
		}
		return !found
	})
	return found
}

// concurrentCase reports whether a field's case resolves it concurrently,
// or calls a field function that calls a resolver.
func concurrentCase(clause *ast.CaseClause, funcs map[string]*ast.FuncDecl) bool {
	found := false
	for _, stmt := range clause.Body {
		ast.Inspect(stmt, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return !found
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				switch {
				case sel.Sel.Name == "ResolveConcurrently" || sel.Sel.Name == "ResolveRootConcurrently":
					found = true
				case isIdent(sel.X, "ec") && funcs[sel.Sel.Name] != nil && callsResolver(funcs[sel.Sel.Name]):
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// callsResolver reports whether fn uses the resolvers (ec.Resolvers).
func callsResolver(fn *ast.FuncDecl) bool {
	found := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if isSelector(n, "ec", "Resolvers") || isSelector(n, "ec", "resolvers") {
			found = true
		}
		return !found
	})
	return found
}

// Table is the Go source of graph/generated/concurrent_fields.go.
func Table(table map[string]map[string]bool) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by go run ./graph/internal/genlists; DO NOT EDIT.\n\n")
	b.WriteString("package generated\n\n")
	fmt.Fprintf(&b, "import %q\n\n", importPath)
	b.WriteString("// " + tableVar + " are the fields this package's code resolves\n")
	b.WriteString("// concurrently, by type: a list whose selection has none of them is\n")
	b.WriteString("// marshalled in the request's goroutine (listmarshal.Slice).\n")
	fmt.Fprintf(&b, "var %s = listmarshal.Fields{\n", tableVar)
	for _, t := range slices.Sorted(maps.Keys(table)) {
		fmt.Fprintf(&b, "%q: {", t)
		for i, f := range slices.Sorted(maps.Keys(table[t])) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q: true", f)
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		panic(err)
	}
	return out
}

func isSelector(e ast.Node, x, sel string) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && isIdent(s.X, x) && s.Sel.Name == sel
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isLit(e ast.Expr, value string) bool {
	lit, ok := e.(*ast.BasicLit)
	return ok && lit.Value == value
}

func isLen(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	return ok && isIdent(call.Fun, "len") && len(call.Args) == 1
}

func hasParam(fn *ast.FuncDecl, name string) bool {
	for _, f := range fn.Type.Params.List {
		for _, n := range f.Names {
			if n.Name == name {
				return true
			}
		}
	}
	return false
}

func imports(file *ast.File, path string) bool {
	for _, imp := range file.Imports {
		if imp.Path.Value == strconv.Quote(path) {
			return true
		}
	}
	return false
}
