package listmarshal

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Slice's sequential path keeps gqlgen's contract: each element sees a
// field context with its index under the list's, and an element that
// panics is Null with the panic reported at its path, the others
// marshalled. Both run the same cases, gqlgen's as the reference.
func TestSliceKeepsGqlgensContract(t *testing.T) {
	type marshalFunc func(ctx context.Context, n int, marshal func(ctx context.Context, i int) graphql.Marshaler) graphql.Array
	for _, tt := range []struct {
		name  string
		slice marshalFunc
	}{
		{"Sequential", func(ctx context.Context, n int, m func(context.Context, int) graphql.Marshaler) graphql.Array {
			return Slice(ctx, nil, nil, n, m)
		}},
		{"Gqlgen", func(ctx context.Context, n int, m func(context.Context, int) graphql.Marshaler) graphql.Array {
			return graphql.MarshalSliceConcurrently(ctx, n, 0, false, m)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 3} {
				ctx, list, errs := listContext()
				paths := make([]string, n)
				ret := tt.slice(ctx, n, func(ctx context.Context, i int) graphql.Marshaler {
					fc := graphql.GetFieldContext(ctx)
					fc.Result = i
					paths[i] = fc.Path().String()
					if fc.Parent != list || fc.Index == nil || *fc.Index != i {
						t.Errorf("element %d: field context %+v", i, fc)
					}
					if i == 1 {
						panic("element 1")
					}
					return graphql.MarshalInt(i)
				})
				if len(ret) != n {
					t.Fatalf("%d elements: %d values", n, len(ret))
				}
				for i, m := range ret {
					want := fmt.Sprintf("customers[%d]", i)
					if paths[i] != want {
						t.Errorf("element %d: path %s, want %s", i, paths[i], want)
					}
					if (m == graphql.Null) != (i == 1) {
						t.Errorf("element %d: %v", i, m)
					}
				}
				got := errs()
				if n < 2 {
					if len(got) != 0 {
						t.Errorf("%d elements: errors %v", n, got)
					}
					continue
				}
				if len(got) != 1 || got[0].Message != "recovered: element 1" || got[0].Path.String() != "customers[1]" {
					t.Errorf("errors %v, want the panic at customers[1]", got)
				}
			}
		})
	}
}

// listContext is a request's context inside the field "customers", with
// the errors reported so far.
func listContext() (context.Context, *graphql.FieldContext, func() gqlerror.List) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
		func(_ context.Context, err any) error { return errors.New(fmt.Sprint("recovered: ", err)) })
	list := &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "customers", Name: "customers"}}}
	ctx = graphql.WithFieldContext(ctx, list)
	return ctx, list, func() gqlerror.List { return graphql.GetErrors(ctx) }
}

func TestConcurrentLooksThroughFieldsAndFragments(t *testing.T) {
	customer := &ast.Definition{Name: "Customer"}
	interaction := &ast.Definition{Name: "Interaction"}
	field := func(obj *ast.Definition, name string, sub ...ast.Selection) *ast.Field {
		return &ast.Field{Name: name, ObjectDefinition: obj, SelectionSet: sub}
	}
	concurrent := Fields{"Interaction": {"customer": true}}
	for _, tt := range []struct {
		name string
		sel  ast.SelectionSet
		want bool
	}{
		{"PlainFields", ast.SelectionSet{field(interaction, "subject"), field(interaction, "occurredAt")}, false},
		{"ConcurrentField", ast.SelectionSet{field(interaction, "subject"), field(interaction, "customer", field(customer, "name"))}, true},
		{"Nested", ast.SelectionSet{field(customer, "recent", field(interaction, "customer"))}, true},
		{"InlineFragment", ast.SelectionSet{&ast.InlineFragment{SelectionSet: ast.SelectionSet{field(interaction, "customer")}}}, true},
		{"Spread", ast.SelectionSet{&ast.FragmentSpread{Definition: &ast.FragmentDefinition{SelectionSet: ast.SelectionSet{field(interaction, "customer")}}}}, true},
		{"PlainSpread", ast.SelectionSet{&ast.FragmentSpread{Definition: &ast.FragmentDefinition{SelectionSet: ast.SelectionSet{field(interaction, "subject")}}}}, false},
		{"UnlinkedSpread", ast.SelectionSet{&ast.FragmentSpread{Name: "f"}}, true},
		{"FieldWithoutDefinition", ast.SelectionSet{&ast.Field{Name: "subject"}}, true},
		{"Empty", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Concurrent(tt.sel, concurrent); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
