package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/rapportcrm/rapport/graph/generated"
)

// The capacity benchmark measures every mutation of the schema: a new
// mutation without a measured operation fails here.
func TestEveryMutationIsMeasured(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	var ops []byte
	for _, f := range []string{"operations.go", "capacity.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, b...)
	}
	for _, f := range schema.Mutation.Fields {
		if f.Name == "_noop" {
			continue
		}
		if !regexp.MustCompile(`\b` + f.Name + `\s*[({]`).Match(ops) { // a call, with arguments or without
			t.Errorf("mutation %s is not measured by an operation of the capacity benchmark", f.Name)
		}
	}
}
