package bulk_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/rapportcrm/rapport/bulk"
	"github.com/rapportcrm/rapport/bulk/bulktest"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/sheet"
)

// The tests run the real API (server, service, DynamoDB Local) on a
// loopback port and the client as cmd/rapport does, against files the
// tests write in every format an import reads.
func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }

type env struct {
	svc *crm.Service
	url string
}

func mustEnv(tb testing.TB) *env {
	tb.Helper()
	svc, url := bulktest.Serve(tb)
	return &env{svc: svc, url: url}
}

func (e *env) client(user string) *bulk.Client {
	return &bulk.Client{BaseURL: e.url, Token: user, MaxWait: time.Minute}
}

func (e *env) as(user string) context.Context {
	return crm.NewContextWithUser(context.Background(), bulktest.Users[user])
}

// customers lists every customer admin reads, by name.
func (e *env) customers(tb testing.TB) map[string]*crm.Customer {
	tb.Helper()
	out := map[string]*crm.Customer{}
	p := crm.PageRequest{First: crm.MaxPageSize}
	for {
		page, err := e.svc.Customers(e.as("admin"), crm.CustomerFilter{}, p)
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range page.Items {
			if _, dup := out[c.Name]; dup {
				tb.Fatalf("two customers named %q", c.Name)
			}
			out[c.Name] = c
		}
		if !page.HasNext {
			return out
		}
		p.After = page.EndCursor
	}
}

func (e *env) mustImport(tb testing.TB, user string, o bulk.ImportOptions) *bulk.ImportSummary {
	tb.Helper()
	sum, err := bulk.Import(context.Background(), e.client(user), o)
	if err != nil {
		tb.Fatalf("import %s: %v", o.File, err)
	}
	return sum
}

// writeFile writes rows as a file of the format its name says: .xlsx, a
// CSV in UTF-8 with a byte order mark (name ending .bom.csv), in GBK
// (.gbk.csv), or in UTF-8.
func writeFile(tb testing.TB, name string, rows [][]string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if strings.HasSuffix(name, ".xlsx") {
		f := excelize.NewFile()
		for i, row := range rows {
			cells := make([]any, len(row))
			for j, c := range row {
				cells[j] = c
			}
			if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &cells); err != nil {
				tb.Fatal(err)
			}
		}
		if err := f.SaveAs(path); err != nil {
			tb.Fatal(err)
		}
		return path
	}
	var b strings.Builder
	w := sheet.NewCSVWriter(&b, false)
	for _, row := range rows {
		if err := w.Write(row); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	data := []byte(b.String())
	switch {
	case strings.HasSuffix(name, ".bom.csv"):
		data = append([]byte{0xEF, 0xBB, 0xBF}, data...)
	case strings.HasSuffix(name, ".gbk.csv"):
		var err error
		if data, err = simplifiedchinese.GBK.NewEncoder().Bytes(data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// reportLine is a line of a report, by its English header.
type reportLine map[string]string

func readReport(tb testing.TB, path string) []reportLine {
	tb.Helper()
	t, err := sheet.Read(path, "")
	if err != nil {
		tb.Fatal(err)
	}
	var out []reportLine
	for _, row := range t.Rows[1:] {
		l := reportLine{}
		for j, h := range t.Rows[0] {
			if j < len(row) {
				l[h] = row[j]
			}
		}
		out = append(out, l)
	}
	return out
}

func linesOf(lines []reportLine, row string) []reportLine {
	return slices.DeleteFunc(slices.Clone(lines), func(l reportLine) bool { return l["row"] != row })
}
