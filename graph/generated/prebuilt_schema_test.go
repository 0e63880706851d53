package generated

import (
	"reflect"
	"testing"

	gqlparser "github.com/vektah/gqlparser/v2"
)

// The schema the server runs is prebuilt as data by cmd/prebuildschema
// (go generate ./...) instead of parsed at start: it must be exactly what
// gqlparser makes of the sources gqlgen generated.
func TestPrebuiltSchemaEqualsTheParse(t *testing.T) {
	parsed, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(parsedSchema, parsed) {
		t.Fatal("the prebuilt schema differs from the parse of its sources: run go generate ./...")
	}
	if got := NewExecutableSchema(Config{}).Schema(); got != parsedSchema {
		t.Fatal("the executable schema is not the prebuilt one")
	}
}
