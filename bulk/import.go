package bulk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	jitter "github.com/rapportcrm/rapport/internal/backoff"
	"github.com/rapportcrm/rapport/sheet"
)

// ImportOptions say what to import and how.
type ImportOptions struct {
	File  string
	Sheet string // of an .xlsx file; "" for the first
	// Map overrides the columns' meaning: "HEADER=FIELD", several per
	// entry separated by commas; FIELD may be attribute:KEY, or - to leave
	// the column out.
	Map []string
	// Kind fills the kind of rows that give none (PERSON, 个人…); the API's
	// default is ORGANIZATION.
	Kind string
	// Duplicates is the policy for rows naming a customer we have: SKIP
	// (default), UPDATE_EMPTY or FLAG.
	Duplicates string
	// DryRun checks every row through the API without writing.
	DryRun bool
	// Report is where the report goes (default: beside the file,
	// customers.report.csv, or .xlsx for an .xlsx file).
	Report string
	// State is the state file (default: the file's name followed by
	// .rapport-import). New starts over with a new import id.
	State string
	New   bool
	// Batch is the rows per call (default and most: 200).
	Batch int
	// Lang is the language of the report's headers: zh (default) or en.
	Lang     string
	Progress Progress
	// Log is told what the import does besides progress (resuming,
	// retries).
	Log io.Writer
}

// MaxBatch is the most rows a call takes (the API's MaxImportRows).
const MaxBatch = 200

// maxCallBytes bounds the rows of one call, under the API's 1 MiB body.
const maxCallBytes = 900 << 10

// ImportSummary is what an import did.
type ImportSummary struct {
	ImportID string
	DryRun   bool
	File     string
	Encoding string // of a CSV file
	// Rows is the file's rows with data; Counts counts them by status.
	Rows   int
	Counts map[string]int
	// Resumed is how many rows an earlier, interrupted run had done.
	Resumed int
	// Report is the report's path and Lines its rows.
	Report   string
	Lines    int
	Unmapped []Unmapped
	// Sent is the rows sent in this run, in Elapsed.
	Sent    int
	Elapsed time.Duration
	// AlreadyFinished says the state file recorded the import finished.
	AlreadyFinished bool
}

// Import imports a file through c. Rows are sent in calls of up to Batch;
// a row answered RETRY is sent again (after a pause when the API was
// throttling); an interrupted import (the context ended) keeps its state
// and carries on from it when run again.
func Import(ctx context.Context, c *Client, o ImportOptions) (*ImportSummary, error) {
	o = importDefaults(o)
	policy, err := readPolicy(o.Duplicates)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(o.File)
	if err != nil {
		return nil, err
	}
	t, err := sheet.Read(o.File, o.Sheet)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.File, err)
	}
	m, err := mapColumns(t.Rows, o.Map)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.File, err)
	}
	rows := readRows(t.Rows, m, o.Kind)
	sum := &ImportSummary{DryRun: o.DryRun, File: o.File, Encoding: t.Encoding, Rows: len(rows), Counts: map[string]int{},
		Unmapped: m.unmapped, Report: o.Report}
	sha := sha256.Sum256(b)
	h := stateHeader{File: filepath.Base(o.File), SHA256: hex.EncodeToString(sha[:]), Sheet: o.Sheet, Duplicates: policy,
		Map: o.Map, Kind: o.Kind, Started: time.Now().UTC(), ImportID: newImportID()}
	results := map[int]rowResult{}
	var st *state
	if !o.DryRun {
		var resumed bool
		st, resumed, err = openState(o.State, h, o.New)
		if errors.Is(err, errChanged) {
			return nil, fmt.Errorf("%s %w: to import it as a new import use --new (rows it already imported are then found as duplicates)", o.File, err)
		}
		if err != nil {
			return nil, err
		}
		defer st.close()
		h = st.header
		maps.Copy(results, st.done)
		sum.Resumed = len(st.done)
		if resumed {
			fmt.Fprintf(o.Log, "Carrying on import %s of %s: %d of %d rows done before (%s).\n", h.ImportID, h.File, len(st.done), len(rows), o.State)
		}
		sum.AlreadyFinished = st.finished != nil
	}
	sum.ImportID = h.ImportID
	var pending []fileRow
	for _, r := range rows {
		if _, ok := results[r.in.Row]; !ok {
			pending = append(pending, r)
		}
	}
	what := "import"
	if o.DryRun {
		what = "dry run"
	}
	began := time.Now()
	o.Progress.Start(len(rows), what)
	o.Progress.Add(len(rows) - len(pending))
	run := &importer{c: c, o: o, h: h, policy: policy, st: st, results: results}
	err = run.send(ctx, pending)
	o.Progress.Done()
	sum.Sent, sum.Elapsed = run.sent, time.Since(began)
	if err == nil && st != nil && st.finished == nil {
		err = st.finish(time.Now().UTC())
	}
	for _, r := range results {
		sum.Counts[r.Status]++
	}
	lines, rerr := writeReport(o.Report, o.Lang, rows, results, m)
	sum.Lines = lines
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted after %d of %d rows: run the same command again to carry on", len(results), len(rows))
			if o.DryRun {
				err = fmt.Errorf("interrupted after %d of %d rows", len(results), len(rows))
			}
		}
		return sum, errors.Join(err, rerr)
	}
	return sum, rerr
}

func importDefaults(o ImportOptions) ImportOptions {
	if o.Batch <= 0 || o.Batch > MaxBatch {
		o.Batch = MaxBatch
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Progress == nil {
		o.Progress = NewProgress(io.Discard, time.Hour)
	}
	ext := filepath.Ext(o.File)
	base := strings.TrimSuffix(o.File, ext)
	if o.Report == "" {
		format := ".csv"
		if f, _ := sheet.FormatOf(o.File); f == sheet.FormatXLSX {
			format = ".xlsx"
		}
		o.Report = base + ".report" + format
		if o.DryRun {
			o.Report = base + ".dry-run" + format
		}
	}
	if o.State == "" {
		o.State = o.File + ".rapport-import"
	}
	if o.Lang == "" {
		o.Lang = "zh"
	}
	return o
}

// readPolicy reads a duplicate policy as people type it: skip,
// update-empty, UPDATE_EMPTY, flag.
func readPolicy(s string) (string, error) {
	p := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	switch p {
	case "":
		return "SKIP", nil
	case "SKIP", "UPDATE_EMPTY", "FLAG":
		return p, nil
	}
	return "", fmt.Errorf("--duplicates %q: use skip, update-empty or flag", s)
}

func newImportID() string { return ulid.MustNew(ulid.Now(), rand.Reader).String() }

// importer sends an import's rows.
type importer struct {
	c       *Client
	o       ImportOptions
	h       stateHeader
	policy  string
	st      *state
	results map[int]rowResult
	sent    int
}

const importMutation = `mutation Import($in: ImportCustomersInput!) { importCustomers(input: $in) {
  throttled rows { row status customerId existingId duplicateOn filled problems { code field message existingId } } } }`

// send sends rows in calls, resending the rows answered RETRY.
func (r *importer) send(ctx context.Context, queue []fileRow) error {
	var b backoff
	stalled := time.Time{}
	for len(queue) > 0 {
		n, size := 0, 0
		for n < len(queue) && n < r.o.Batch {
			j, err := json.Marshal(queue[n].in)
			if err != nil {
				return err
			}
			if n > 0 && size+len(j) > maxCallBytes {
				break
			}
			size += len(j) + 1
			n++
		}
		batch := queue[:n]
		in := make([]rowInput, n)
		for i, fr := range batch {
			in[i] = fr.in
		}
		var out struct {
			ImportCustomers struct {
				Throttled bool
				Rows      []rowResult
			}
		}
		err := r.c.Do(ctx, importMutation, map[string]any{"in": map[string]any{
			"importId": r.h.ImportID, "fileName": r.h.File, "duplicates": r.policy, "dryRun": r.o.DryRun, "rows": in,
		}}, &out)
		if err != nil {
			return err
		}
		var finished []rowResult
		var retry []fileRow
		byRow := map[int]fileRow{}
		for _, fr := range batch {
			byRow[fr.in.Row] = fr
		}
		for _, res := range out.ImportCustomers.Rows {
			if res.Status == "RETRY" {
				retry = append(retry, byRow[res.Row])
				continue
			}
			finished = append(finished, res)
			r.results[res.Row] = res
		}
		if len(out.ImportCustomers.Rows) != len(batch) {
			return fmt.Errorf("the API answered %d rows for %d sent", len(out.ImportCustomers.Rows), len(batch))
		}
		if r.st != nil && len(finished) > 0 {
			if err := r.st.record(finished); err != nil {
				return err
			}
		}
		r.sent += len(finished)
		r.o.Progress.Add(len(finished))
		queue = append(retry, queue[n:]...)
		switch {
		case len(finished) > 0 && !out.ImportCustomers.Throttled:
			b.reset()
			stalled = time.Time{}
			continue
		case stalled.IsZero():
			stalled = time.Now()
		case time.Since(stalled) > r.c.maxWait():
			return fmt.Errorf("the API finished no row for %s: try again later (the import carries on where it stopped)", r.c.maxWait())
		}
		wait := b.next()
		fmt.Fprintf(r.o.Log, "The API is busy (%d rows to send again); pausing %s.\n", len(retry), wait.Round(100*time.Millisecond))
		if err := jitter.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) maxWait() time.Duration {
	if c.MaxWait == 0 {
		return 10 * time.Minute
	}
	return c.MaxWait
}

// statusOrder is the order of statuses in a summary.
var statusOrder = []string{"CREATED", "UPDATED", "SKIPPED", "FLAGGED", "REJECTED"}

// Print writes the summary.
func (s *ImportSummary) Print(w io.Writer) {
	what := "Imported"
	if s.DryRun {
		what = "Checked (dry run, nothing written)"
	}
	enc := ""
	if s.Encoding != "" {
		enc = ", " + s.Encoding
	}
	fmt.Fprintf(w, "%s %s%s: %d rows, import %s\n", what, s.File, enc, s.Rows, s.ImportID)
	if s.AlreadyFinished && s.Sent == 0 {
		fmt.Fprintln(w, "  this import had finished before; nothing was sent (--new imports the file again)")
	}
	var parts []string
	for _, st := range statusOrder {
		verb := strings.ToLower(st)
		if s.DryRun {
			verb = "would be " + verb
		}
		parts = append(parts, fmt.Sprintf("%s %d", verb, s.Counts[st]))
	}
	fmt.Fprintf(w, "  %s\n", strings.Join(parts, ", "))
	if left := s.Rows - countAll(s.Counts); left > 0 {
		fmt.Fprintf(w, "  not done: %d (run the same command again to carry on)\n", left)
	}
	if s.Resumed > 0 {
		fmt.Fprintf(w, "  %d rows were done by an earlier run\n", s.Resumed)
	}
	if s.Sent > 0 && s.Elapsed > 0 {
		took := s.Elapsed.Round(100 * time.Millisecond)
		if took == 0 {
			took = s.Elapsed.Round(time.Millisecond)
		}
		fmt.Fprintf(w, "  %d rows in %s: %.1f rows/s\n", s.Sent, took, float64(s.Sent)/s.Elapsed.Seconds())
	}
	for _, u := range s.Unmapped {
		fmt.Fprintf(w, "  column %q not imported: %s\n", u.Column, u.Why)
	}
	fmt.Fprintf(w, "  report: %s (%d rows)\n", s.Report, s.Lines)
}

func countAll(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
