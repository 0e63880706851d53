// Command rapport brings customers into a Rapport API from a spreadsheet
// and takes them out again, as any client does: over GraphQL, with a staff
// token (or, for an export, a partner's API key), so it works against
// `make run` and a deployed stack alike.
//
//	rapport import customers.xlsx               # or .csv: UTF-8, UTF-8 with BOM, GBK
//	rapport import --dry-run customers.csv      # check every row, write nothing
//	rapport import --template -o template.xlsx  # an empty file with the columns
//	rapport export --filter grade=A -o a.xlsx   # the customers you may read
//
// The API and the credentials come from flags or the environment:
// RAPPORT_URL (default http://localhost:8080), RAPPORT_TOKEN (a bearer
// token; the output of `make token` works as it is) or RAPPORT_API_KEY (a
// partner's key, for export). docs/import.md describes the files.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rapportcrm/rapport/bulk"
	"github.com/rapportcrm/rapport/sheet"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rapport:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  rapport import [flags] FILE.xlsx|FILE.csv
  rapport import --template [-o FILE] [--lang zh|en]
  rapport export [flags] [-o FILE] [--format xlsx|csv]
run "rapport import -h" or "rapport export -h" for the flags`

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// conn holds the flags every command has.
type conn struct {
	url, token, apiKey string
}

func (c *conn) flags(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&c.url, "url", or(getenv("RAPPORT_URL"), "http://localhost:8080"), "the API's address ($RAPPORT_URL)")
	fs.StringVar(&c.token, "token", getenv("RAPPORT_TOKEN"), "a bearer token; the output of `make token` works ($RAPPORT_TOKEN)")
	fs.StringVar(&c.apiKey, "api-key", getenv("RAPPORT_API_KEY"), "a partner's API key, for export ($RAPPORT_API_KEY)")
}

func (c *conn) client(stderr io.Writer) (*bulk.Client, error) {
	if c.token == "" && c.apiKey == "" {
		return nil, errors.New("no credentials: give --token (or RAPPORT_TOKEN), e.g. --token \"$(make -s token)\", or a partner's --api-key")
	}
	return &bulk.Client{BaseURL: c.url, Token: bulk.Token(c.token), APIKey: strings.TrimSpace(c.apiKey),
		HTTP:   &http.Client{Timeout: 2 * time.Minute},
		Notify: func(s string) { fmt.Fprintln(stderr, "rapport:", s) }}, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "import":
		return runImport(ctx, args[1:], getenv, stdout, stderr)
	case "export":
		return runExport(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rapport import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c conn
	c.flags(fs, getenv)
	var o bulk.ImportOptions
	var maps listFlag
	template := fs.Bool("template", false, "write an empty import file (its columns, and their meaning in an .xlsx) instead of importing")
	out := fs.String("o", "customers-template.xlsx", "with --template: the file to write (.xlsx or .csv)")
	fs.StringVar(&o.Duplicates, "duplicates", "skip", "rows naming a customer we have: skip, update-empty (fill its empty fields) or flag (create a merge candidate)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "check every row through the API and write the report, without writing any customer")
	fs.Var(&maps, "map", "what a column holds, overriding its header: 'HEADER=FIELD[,HEADER=FIELD…]'; FIELD is a template column, attribute:KEY, or - to leave it out (repeatable)")
	fs.StringVar(&o.Kind, "kind", "", "the kind of rows without one: PERSON or ORGANIZATION (the API's default)")
	fs.StringVar(&o.Sheet, "sheet", "", "the worksheet of an .xlsx file (default: the first)")
	fs.StringVar(&o.Report, "report", "", "the report file, .csv or .xlsx (default: FILE.report.csv or .xlsx beside FILE)")
	fs.StringVar(&o.State, "state", "", "the state file that lets an interrupted import carry on (default: FILE.rapport-import)")
	fs.BoolVar(&o.New, "new", false, "start a new import of FILE, forgetting an earlier one's state")
	fs.IntVar(&o.Batch, "batch", bulk.MaxBatch, "rows per call, at most 200")
	fs.StringVar(&o.Lang, "lang", "zh", "the language of the template's and the report's headers: zh or en")
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	if *template {
		if fs.NArg() > 0 {
			return errors.New("--template writes a file (-o); it imports nothing")
		}
		if err := bulk.WriteTemplate(*out, o.Lang); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Wrote %s: fill in a row per customer, then rapport import %s\n", *out, *out)
		return nil
	}
	if fs.NArg() != 1 {
		return errors.New("rapport import needs one file: rapport import customers.xlsx")
	}
	o.File, o.Map = fs.Arg(0), maps
	cl, err := c.client(stderr)
	if err != nil {
		return err
	}
	if c.apiKey != "" {
		return errors.New("partners cannot import: use a staff token (--token)")
	}
	o.Progress = bulk.NewProgress(stderr, 5*time.Second)
	o.Log = stderr
	sum, err := bulk.Import(ctx, cl, o)
	if sum != nil {
		sum.Print(stdout)
	}
	return err
}

func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rapport export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c conn
	c.flags(fs, getenv)
	var o bulk.ExportOptions
	var filters listFlag
	fs.Var(&filters, "filter", "which customers: 'KEY=VALUE[,KEY=VALUE…]' with owner, pool, grade, stage, region, team, tag, includeArchived (repeatable)")
	format := fs.String("format", "", "xlsx or csv (default: from -o, else xlsx)")
	fs.StringVar(&o.Out, "o", "", "the file to write, or - for CSV on stdout (default: customers-DATE.xlsx)")
	fs.StringVar(&o.Lang, "lang", "zh", "the language of the headers: zh or en")
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: the file goes in -o", fs.Args())
	}
	o.Filter, o.Stdout = filters, stdout
	switch {
	case *format != "":
		o.Format = sheet.Format(strings.ToLower(*format))
		if o.Format != sheet.FormatCSV && o.Format != sheet.FormatXLSX {
			return fmt.Errorf("--format %q: use xlsx or csv", *format)
		}
	case o.Out != "" && o.Out != "-":
		f, err := sheet.FormatOf(o.Out)
		if err != nil {
			return err
		}
		o.Format = f
	case o.Out == "-":
		o.Format = sheet.FormatCSV
	default:
		o.Format = sheet.FormatXLSX
	}
	if o.Out == "" {
		o.Out = fmt.Sprintf("customers-%s.%s", time.Now().Format("2006-01-02"), o.Format)
	}
	if o.Out != "-" && filepath.Ext(o.Out) != "."+string(o.Format) {
		return fmt.Errorf("-o %s does not end in .%s", o.Out, o.Format)
	}
	cl, err := c.client(stderr)
	if err != nil {
		return err
	}
	o.Progress = bulk.NewProgress(stderr, 5*time.Second)
	sum, err := bulk.Export(ctx, cl, o)
	if err != nil {
		return err
	}
	if o.Out != "-" {
		fmt.Fprintf(stdout, "Exported %d customers to %s in %s.\n", sum.Rows, sum.Out, sum.Elapsed.Round(100*time.Millisecond))
	}
	if sum.ContactsLeftOut > 0 {
		fmt.Fprintf(stderr, "rapport: %d customers have more than %d contacts: the first %d of each (the primary first) were written\n",
			sum.ContactsLeftOut, bulk.MaxContacts, bulk.MaxContacts)
	}
	return nil
}

func flagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
