package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"

	gqlast "github.com/vektah/gqlparser/v2/ast"
)

// Sources reads the schema sources gqlgen wrote into its generated file
// (`var sources = []*ast.Source{{Name: …, Input: …, BuiltIn: …}, …}`),
// so that the prebuilt schema is parsed from exactly what the generated
// code would have parsed.
func Sources(generated []byte) ([]*gqlast.Source, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "generated.go", generated, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Names) != 1 || vs.Names[0].Name != "sources" || len(vs.Values) != 1 {
				continue
			}
			lit, ok := vs.Values[0].(*ast.CompositeLit)
			if !ok {
				return nil, fmt.Errorf("var sources is not a composite literal")
			}
			return sourceList(lit)
		}
	}
	return nil, fmt.Errorf("no var sources: has gqlgen's template changed?")
}

func sourceList(lit *ast.CompositeLit) ([]*gqlast.Source, error) {
	var out []*gqlast.Source
	for _, e := range lit.Elts {
		el, ok := e.(*ast.CompositeLit)
		if !ok {
			return nil, fmt.Errorf("a source is not a composite literal")
		}
		var s gqlast.Source
		for _, fe := range el.Elts {
			kv, ok := fe.(*ast.KeyValueExpr)
			if !ok {
				return nil, fmt.Errorf("a source field has no key")
			}
			key, _ := kv.Key.(*ast.Ident)
			if key == nil {
				return nil, fmt.Errorf("a source field key is not a name")
			}
			var err error
			switch key.Name {
			case "Name":
				s.Name, err = stringValue(kv.Value)
			case "Input":
				s.Input, err = stringValue(kv.Value)
			case "BuiltIn":
				s.BuiltIn, err = boolValue(kv.Value)
			default:
				err = fmt.Errorf("unknown field")
			}
			if err != nil {
				return nil, fmt.Errorf("source field %s: %w", key.Name, err)
			}
		}
		out = append(out, &s)
	}
	return out, nil
}

// stringValue evaluates a string literal or a concatenation of them
// (gqlgen splits inputs holding a backquote that way).
func stringValue(e ast.Expr) (string, error) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", fmt.Errorf("not a string")
		}
		return strconv.Unquote(e.Value)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", fmt.Errorf("not a concatenation")
		}
		x, err := stringValue(e.X)
		if err != nil {
			return "", err
		}
		y, err := stringValue(e.Y)
		return x + y, err
	case *ast.ParenExpr:
		return stringValue(e.X)
	}
	return "", fmt.Errorf("not a constant string")
}

func boolValue(e ast.Expr) (bool, error) {
	if id, ok := e.(*ast.Ident); ok && (id.Name == "true" || id.Name == "false") {
		return id.Name == "true", nil
	}
	return false, fmt.Errorf("not true or false")
}
