// Command prebuildschema takes the schema parse out of the API's cold
// start. gqlgen's generated package parses and validates graph/*.graphqls
// in its package initialisation (`var parsedSchema =
// gqlparser.MustLoadSchema(sources...)`), which every Lambda cold start
// pays. `go generate ./...` runs this command right after gqlgen: it reads
// the schema sources out of the generated file, parses them with the same
// gqlparser call, writes the resulting *ast.Schema as Go data
// (graph/generated/prebuilt_schema.go, laid out by the linker, not built
// at start) and points parsedSchema at it. graph/generated's tests check
// that the data equals gqlparser's parse of the sources.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"strings"

	gqlparser "github.com/vektah/gqlparser/v2"
)

// What gqlgen writes, and what it becomes.
const (
	parseLine    = "var parsedSchema = gqlparser.MustLoadSchema(sources...)\n"
	prebuiltLine = "var parsedSchema = prebuiltSchema\n"
	importLine   = "\tgqlparser \"github.com/vektah/gqlparser/v2\"\n"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "prebuildschema:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("prebuildschema", flag.ContinueOnError)
	gen := fs.String("generated", "graph/generated/generated.go", "gqlgen's generated exec file")
	out := fs.String("o", "", "the Go file to write (default: prebuilt_schema.go beside -generated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(filepath.Dir(*gen), "prebuilt_schema.go")
	}
	src, err := os.ReadFile(*gen)
	if err != nil {
		return err
	}
	sources, err := Sources(src)
	if err != nil {
		return fmt.Errorf("%s: %w", *gen, err)
	}
	schema, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		return fmt.Errorf("parse the schema: %w", err)
	}
	data, err := Emit(schema, sources, "generated", "prebuiltSchema")
	if err != nil {
		return err
	}
	rewritten, err := Rewrite(src)
	if err != nil {
		return fmt.Errorf("%s: %w", *gen, err)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	if !bytes.Equal(rewritten, src) {
		return os.WriteFile(*gen, rewritten, 0o644)
	}
	return nil
}

// Rewrite points gqlgen's parsedSchema at the prebuilt schema and drops
// the gqlparser import when nothing else uses it. A file already
// rewritten is returned as it is; a file with neither line means gqlgen's
// template changed, and this step must be looked at again.
func Rewrite(src []byte) ([]byte, error) {
	s := string(src)
	switch strings.Count(s, parseLine) {
	case 0:
		if strings.Count(s, prebuiltLine) == 1 {
			return src, nil
		}
		return nil, fmt.Errorf("no %q: has gqlgen's template changed?", strings.TrimSpace(parseLine))
	case 1:
		s = strings.Replace(s, parseLine, prebuiltLine, 1)
	default:
		return nil, fmt.Errorf("%q more than once", strings.TrimSpace(parseLine))
	}
	if !strings.Contains(s, "gqlparser.") {
		s = strings.Replace(s, importLine, "", 1)
	}
	out, err := format.Source([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("rewritten file does not format: %w", err)
	}
	return out, nil
}
