package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/bulk/bulktest"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/sheet"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }

func runCmd(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// The sample file the README imports, into an empty Rapport: its Chinese
// and English rows are created, the two broken ones rejected, and the
// report says why, column by column.
func TestImportTheSampleFile(t *testing.T) {
	_, url := bulktest.Serve(t)
	dir := t.TempDir()
	sample := filepath.Join(dir, "customers.csv")
	b, err := os.ReadFile("../../examples/import/customers.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sample, b, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RAPPORT_URL": url, "RAPPORT_TOKEN": "output of make token\nadmin\n"}
	out, stderr, err := runCmd(t, env, "import", sample)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"UTF-8 with BOM: 8 rows", "created 6, updated 0, skipped 0, flagged 0, rejected 2",
		`column "序号" not imported: a row number`, `column "备注" not imported`, "customers.report.csv (5 rows)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	report, err := sheet.Read(filepath.Join(dir, "customers.report.csv"), "")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range report.Rows[1:] {
		lines = append(lines, strings.Join([]string{r[0], r[1], r[2], r[3], r[4]}, "|"))
	}
	want := []string{"1|IGNORED|序号||", "1|IGNORED|备注||", "6|REJECTED|电话|0755-1|BAD_USER_INPUT", "6|REJECTED|邮箱|sales@hengtai|BAD_USER_INPUT",
		"9|REJECTED|客户名称||BAD_USER_INPUT"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("report:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// Run again, the import has finished; exported, the customers come out.
	if out, _, err := runCmd(t, env, "import", sample); err != nil || !strings.Contains(out, "had finished before") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	csv, _, err := runCmd(t, env, "export", "-o", "-", "--lang", "en", "--filter", "region=south")
	if err != nil || !strings.HasPrefix(csv, "kind,name,phone") || strings.Count(csv, "\n") != 4 || !strings.Contains(csv, "杭州瑞丰物流有限公司") {
		t.Fatalf("export: %v\n%s", err, csv)
	}
}

func TestCommandLineMistakesAreExplained(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"NoCommand", nil, nil, "usage"},
		{"UnknownCommand", nil, []string{"load"}, "unknown command"},
		{"NoCredentials", nil, []string{"import", "x.csv"}, "no credentials"},
		{"NoFile", map[string]string{"RAPPORT_TOKEN": "t"}, []string{"import"}, "needs one file"},
		{"PartnerImport", map[string]string{"RAPPORT_API_KEY": "k"}, []string{"import", "x.csv"}, "partners cannot import"},
		{"BadFormat", map[string]string{"RAPPORT_TOKEN": "t"}, []string{"export", "--format", "pdf"}, "use xlsx or csv"},
		{"WrongExtension", map[string]string{"RAPPORT_TOKEN": "t"}, []string{"export", "--format", "csv", "-o", "a.xlsx"}, "does not end in .csv"},
		{"BadFilter", map[string]string{"RAPPORT_TOKEN": "t", "RAPPORT_URL": "http://127.0.0.1:1"}, []string{"export", "-o", "-", "--filter", "colour=red"}, "filter by owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := runCmd(t, tt.env, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestTemplateHasEveryColumn(t *testing.T) {
	for _, name := range []string{"template.xlsx", "template.csv"} {
		path := filepath.Join(t.TempDir(), name)
		if _, _, err := runCmd(t, nil, "import", "--template", "-o", path); err != nil {
			t.Fatal(err)
		}
		tbl, err := sheet.Read(path, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(tbl.Rows) != 1 || tbl.Rows[0][1] != "名称" || len(tbl.Rows[0]) != 33 {
			t.Fatalf("%s: %q", name, tbl.Rows)
		}
	}
}
