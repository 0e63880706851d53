// Package gofile is what names' table generators share: the command line
// (-o, the file to write) and writing the generated source gofmt-ed.
package gofile

import (
	"flag"
	"go/format"
	"log"
	"os"
)

// Main writes generate's Go source, formatted, to the file -o names
// (defaultOut when it is not given), and ends the process on an error.
func Main(defaultOut string, generate func() []byte) {
	out := flag.String("o", defaultOut, "the file to write")
	flag.Parse()
	src, err := format.Source(generate())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
