// Command printschema prints the GraphQL schema Rapport serves, as SDL with
// every description, for client code generators (GraphQL Code Generator,
// Apollo Kotlin, Apollo iOS): `go generate ./...` writes it to
// schema.graphql at the repository root, and `make test` fails when that
// file is stale. It prints the executable schema the server runs, not the
// source files, so what it prints is what introspection would answer.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/rapportcrm/rapport/graph/generated"
)

const header = `# Rapport's GraphQL schema, printed from the schema the server runs by
# cmd/printschema (go generate ./...). Do not edit: graph/*.graphqls is the
# source. docs/clients.md shows how to generate typed clients from it.

`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "printschema:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("printschema", flag.ContinueOnError)
	out := fs.String("o", "", "write to this file instead of stdout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var sdl bytes.Buffer
	formatter.NewFormatter(&sdl, formatter.WithIndent("  ")).FormatSchema(generated.NewExecutableSchema(generated.Config{}).Schema())
	b := append([]byte(header), spaced(sdl.Bytes())...)
	if *out == "" {
		_, err := os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

// spaced puts a blank line after each definition, which the formatter
// writes one against the next.
func spaced(sdl []byte) []byte {
	lines := bytes.SplitAfter(bytes.TrimRight(sdl, "\n"), []byte("\n"))
	var out bytes.Buffer
	for _, l := range lines {
		out.Write(l)
		if bytes.Equal(l, []byte("}\n")) || bytes.HasPrefix(l, []byte("scalar ")) || bytes.HasPrefix(l, []byte("directive @")) {
			out.WriteByte('\n')
		}
	}
	out.WriteByte('\n')
	return append(bytes.TrimRight(out.Bytes(), "\n"), '\n')
}
