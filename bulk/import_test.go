package bulk_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rapportcrm/rapport/bulk"
	"github.com/rapportcrm/rapport/crm"
)

// A Chinese office's file: a row number column, headers with notes in
// brackets, aliases, several phones in a cell, two contacts, and a column
// Rapport has no field for.
var officeFile = [][]string{
	{"客户名单（2026年）"},
	{},
	{"序号", "客户名称（必填）", "类型", "手机", "电子邮箱", "行业", "地区", "负责人", "等级", "标签", "联系人", "联系人电话", "联系人2", "联系人2职务", "备注"},
	{"1", "好运来贸易有限公司", "企业", "010-6552 1234/13812345678", "Sales@HaoYunLai.cn", "贸易", "north", "sales1", "B", "vip、华北", "王芳", "13900000001", "李雷", "采购经理", "老客户"},
	{"2", "Acme Trading Co., Ltd.", "", "+1 (555) 010-0000", "info@acme.example", "retail", "south", "", "", "key-account", "John Smith", "", "", "", ""},
	{"3", "张伟", "个人", "13700000003", "", "", "north", "", "", "", "", "", "", "", "新客户"},
	{"", "", "", "", "", "", "", "", "", "", "", "", "", "", ""},
}

// The same rows import the same way from an .xlsx file, a UTF-8 CSV with
// a byte order mark and a GBK CSV.
func TestImportReadsXLSXAndCSVInUTF8AndGBK(t *testing.T) {
	for _, name := range []string{"customers.xlsx", "customers.bom.csv", "customers.gbk.csv"} {
		t.Run(name, func(t *testing.T) {
			e := mustEnv(t)
			path := writeFile(t, name, officeFile)
			sum := e.mustImport(t, "admin", bulk.ImportOptions{File: path, Lang: "en"})
			if sum.Rows != 3 || sum.Counts["CREATED"] != 3 {
				t.Fatalf("summary %+v", sum)
			}
			if want := map[string]string{"xlsx": "", "bom.csv": "UTF-8 with BOM", "gbk.csv": "GB18030"}[strings.SplitN(name, ".", 2)[1]]; sum.Encoding != want {
				t.Errorf("read as %q, want %q", sum.Encoding, want)
			}
			unmapped := map[string]string{}
			for _, u := range sum.Unmapped {
				unmapped[u.Column] = u.Why
			}
			if len(unmapped) != 2 || !strings.Contains(unmapped["序号"], "row number") || !strings.Contains(unmapped["备注"], "attribute:KEY") {
				t.Errorf("unmapped columns %v", unmapped)
			}
			got := e.customers(t)
			c := got["好运来贸易有限公司"]
			if c == nil || c.Kind != crm.KindOrganization || !slices.Equal(c.Phones, []string{"+861065521234", "+8613812345678"}) ||
				!slices.Equal(c.Emails, []string{"sales@haoyunlai.cn"}) || c.Industry != "贸易" || c.OwnerID != "sales1" ||
				!slices.Equal(c.Tags, []string{"vip", "华北"}) || c.Grade.Level != "B" || c.Grade.Source != crm.GradeManual ||
				!strings.Contains(c.Grade.Reason, filepath.Base(path)+", row 4") || c.ContactCount != 2 || c.Source != crm.SourceImport {
				t.Fatalf("first row read back as %+v", c)
			}
			contacts, err := e.svc.Contacts(e.as("admin"), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(contacts, func(a, b *crm.Contact) int { return strings.Compare(a.ID, b.ID) })
			if contacts[0].Name != "王芳" || !contacts[0].Primary || !slices.Equal(contacts[0].Phones, []string{"+8613900000001"}) ||
				contacts[1].Name != "李雷" || contacts[1].Title != "采购经理" || contacts[1].Primary {
				t.Errorf("contacts %+v %+v", contacts[0], contacts[1])
			}
			if p := got["张伟"]; p == nil || p.Kind != crm.KindPerson || p.Grade.Source != crm.GradeImport {
				t.Errorf("person row read back as %+v", p)
			}
			if a := got["Acme Trading Co., Ltd."]; a == nil || a.Region != "south" || a.OwnerID != "" || a.ContactCount != 1 {
				t.Errorf("English row read back as %+v", a)
			}
			if lines := readReport(t, sum.Report); len(lines) != 2 || lines[0]["status"] != "IGNORED" || lines[0]["row"] != "3" {
				t.Errorf("report %v, want the two ignored columns on the header's row 3", lines)
			}
		})
	}
}

// Every rule the API enforces comes back in the report: a line per
// problem, with the column and the value at fault and the API's own code,
// field and message.
func TestImportReportNamesEveryRejection(t *testing.T) {
	e := mustEnv(t)
	path := writeFile(t, "rejects.bom.csv", [][]string{
		{"name", "phone", "email", "kind", "annual revenue", "stage", "grade", "tags", "contact", "contact email"},
		{"", "12345", "not-an-email", "", "", "", "", "", "", ""},
		{"Bad Values", "", "", "robot", "lots", "dormant", "Z", "bad tag!", "", ""},
		{"Bad Contact", "", "", "", "", "", "", "", "Li", "li@"},
		{"Good One", "13600000001", "good@one.example", "", "1,200,000", "稳定期", "A级", "ok", "Li", "li@one.example"},
	})
	sum := e.mustImport(t, "admin", bulk.ImportOptions{File: path, Lang: "en"})
	if sum.Counts["REJECTED"] != 3 || sum.Counts["CREATED"] != 1 {
		t.Fatalf("summary %+v", sum.Counts)
	}
	lines := readReport(t, sum.Report)
	tests := []struct {
		row, column, value, field, message string
	}{
		{"2", "name", "", "name", "is required"},
		{"2", "phone", "12345", "phones[0]", "is not a Chinese number"},
		{"2", "email", "not-an-email", "emails[0]", "email address"},
		{"3", "kind", "robot", "kind", "must be one of"},
		{"3", "annual revenue", "lots", "annualRevenue", "amount"},
		{"3", "stage", "dormant", "stage", "must be one of"},
		{"3", "grade", "Z", "grade", "grade levels"},
		{"3", "tags", "bad tag!", "tags[0]", "letters, digits"},
		{"4", "contact email", "li@", "contacts[0].emails[0]", "email address"},
	}
	for _, tt := range tests {
		t.Run(tt.row+"/"+tt.field, func(t *testing.T) {
			i := slices.IndexFunc(lines, func(l reportLine) bool { return l["row"] == tt.row && l["field"] == tt.field })
			if i < 0 {
				t.Fatalf("no line for row %s field %s in %v", tt.row, tt.field, linesOf(lines, tt.row))
			}
			l := lines[i]
			if l["status"] != "REJECTED" || l["column"] != tt.column || l["value"] != tt.value || l["code"] != crm.EINVALID ||
				!strings.Contains(l["message"], tt.message) {
				t.Fatalf("line %v, want column %q value %q and a message with %q", l, tt.column, tt.value, tt.message)
			}
		})
	}
	if n := len(linesOf(lines, "5")); n != 0 {
		t.Errorf("the good row has %d report lines", n)
	}
	// A salesperson's file may not grade: the rule for manual grades.
	path = writeFile(t, "sales.csv", [][]string{{"名称", "等级"}, {"Sales Graded", "B"}})
	sum = e.mustImport(t, "sales1", bulk.ImportOptions{File: path, Lang: "en"})
	if l := readReport(t, sum.Report); len(l) != 1 || l[0]["code"] != crm.EFORBIDDEN || l[0]["column"] != "等级" || l[0]["value"] != "B" {
		t.Fatalf("SALES grading by file: %v", l)
	}
}

// Each duplicate policy, from a file: the report names the existing
// customer, and only UPDATE_EMPTY changes it.
func TestImportDuplicatePoliciesFromAFile(t *testing.T) {
	e := mustEnv(t)
	existing, err := e.svc.CreateCustomer(e.as("admin"), crm.CustomerInput{Kind: crm.KindOrganization, Name: "华远科技有限公司",
		Phones: []string{"13800000001"}, Team: "north"})
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "dups.xlsx", [][]string{
		{"名称", "电话", "行业", "联系人"},
		{"华远科技", "138 0000 0001", "软件", "赵敏"},
	})
	tests := []struct {
		policy, status string
		filled         string
	}{
		{"skip", "SKIPPED", ""},
		{"update-empty", "UPDATED", "industry, contacts"},
		{"flag", "FLAGGED", ""},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			sum := e.mustImport(t, "admin", bulk.ImportOptions{File: path, Duplicates: tt.policy, New: true, Lang: "en"})
			lines := readReport(t, sum.Report)
			if sum.Counts[tt.status] != 1 || len(lines) != 1 {
				t.Fatalf("%s: %v, report %v", tt.policy, sum.Counts, lines)
			}
			l := lines[0]
			if l["status"] != tt.status || l["code"] != crm.EDUPLICATE || l["existingId"] != existing.ID || l["column"] != "电话" ||
				l["value"] != "138 0000 0001" || l["filled"] != tt.filled {
				t.Fatalf("report line %v", l)
			}
		})
	}
	got := e.customers(t)
	if c := got["华远科技有限公司"]; c.Industry != "软件" || c.ContactCount != 1 {
		t.Errorf("after UPDATE_EMPTY the existing customer reads %+v", c)
	}
	if c := got["华远科技"]; c == nil || !slices.Contains(c.Tags, crm.MergeCandidateTag) || len(c.Phones) != 0 {
		t.Errorf("the FLAG row made %+v", c)
	}
}

// A dry run checks every row through the API and writes the report,
// nothing else: no customer, no state file.
func TestImportDryRunWritesOnlyTheReport(t *testing.T) {
	e := mustEnv(t)
	path := writeFile(t, "dry.csv", [][]string{{"name", "phone"}, {"Dry One", "13500000001"}, {"Dry Two", "13500000001"}, {"", "x"}})
	sum := e.mustImport(t, "admin", bulk.ImportOptions{File: path, DryRun: true, Lang: "en"})
	if sum.Counts["CREATED"] != 1 || sum.Counts["SKIPPED"] != 1 || sum.Counts["REJECTED"] != 1 || !strings.HasSuffix(sum.Report, "dry.dry-run.csv") {
		t.Fatalf("dry run %+v", sum)
	}
	if n := len(e.customers(t)); n != 0 {
		t.Fatalf("a dry run created %d customers", n)
	}
	if _, err := os.Stat(path + ".rapport-import"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a dry run left a state file: %v", err)
	}
	if lines := readReport(t, sum.Report); len(lines) != 3 {
		t.Fatalf("dry-run report %v", lines)
	}
}

// dropAfter is a transport that lets calls through until the nth, whose
// answer it loses after the server has done the work: what a dropped
// connection or a Ctrl-C during a call leaves.
type dropAfter struct {
	n      int32
	calls  atomic.Int32
	cancel context.CancelFunc
}

func (d *dropAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if d.calls.Add(1) == d.n {
		if err == nil {
			_ = res.Body.Close()
		}
		d.cancel()
		return nil, errors.New("connection lost")
	}
	return res, err
}

// An import interrupted mid-call carries on when run again: the rows of
// the calls it saw answered are not sent again, those of the call in
// flight are, under the same keys, and nothing is imported twice.
func TestInterruptedImportCarriesOnWithoutDuplicates(t *testing.T) {
	e := mustEnv(t)
	rows := [][]string{{"名称", "电话", "联系人"}}
	for i := range 25 {
		rows = append(rows, []string{fmt.Sprintf("客户%02d", i), fmt.Sprintf("1390000%04d", i), "联系人" + fmt.Sprint(i)})
	}
	path := writeFile(t, "big.csv", rows)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := e.client("admin")
	c.HTTP = &http.Client{Transport: &dropAfter{n: 2, cancel: cancel}}
	sum, err := bulk.Import(ctx, c, bulk.ImportOptions{File: path, Batch: 10})
	if err == nil || !strings.Contains(err.Error(), "run the same command again") || sum.Counts["CREATED"] != 10 {
		t.Fatalf("interrupted import: %v, %+v", err, sum)
	}
	if n := len(e.customers(t)); n != 20 {
		t.Fatalf("%d customers after two calls of 10", n)
	}
	// A crash while the state was written leaves a line cut short.
	f, err := os.OpenFile(path+".rapport-import", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"rows":[{"row":12,"sta`)
	_ = f.Close()

	sum = e.mustImport(t, "admin", bulk.ImportOptions{File: path, Batch: 10})
	if sum.Resumed != 10 || sum.Sent != 15 || sum.Counts["CREATED"] != 25 || sum.Lines != 0 {
		t.Fatalf("resumed import %+v", sum)
	}
	got := e.customers(t) // fails on two customers of one name
	if len(got) != 25 {
		t.Fatalf("%d customers, want 25", len(got))
	}
	for name, c := range got {
		if c.ContactCount != 1 {
			t.Errorf("%s has %d contacts", name, c.ContactCount)
		}
	}
	// Run again, it does nothing; the file changed, it refuses.
	if again := e.mustImport(t, "admin", bulk.ImportOptions{File: path, Batch: 10}); !again.AlreadyFinished || again.Sent != 0 {
		t.Errorf("third run %+v", again)
	}
	if err := os.WriteFile(path, append([]byte("名称\n"), "another\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := bulk.Import(context.Background(), e.client("admin"), bulk.ImportOptions{File: path}); err == nil || !strings.Contains(err.Error(), "--new") {
		t.Fatalf("changed file: %v", err)
	}
}

// Options an import was started with hold when it carries on.
func TestResumedImportKeepsItsOptions(t *testing.T) {
	e := mustEnv(t)
	path := writeFile(t, "opts.csv", [][]string{{"name"}, {"One"}})
	state := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(state, []byte(`{"import":{"importId":"01ABCDEFGHJKMNPQRSTVWXYZ12","file":"opts.csv","sha256":"`+
		sha(t, path)+`","duplicates":"FLAG","started":"2026-01-01T00:00:00Z"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := bulk.Import(context.Background(), e.client("admin"), bulk.ImportOptions{File: path, State: state})
	if err == nil || !strings.Contains(err.Error(), "--duplicates flag") {
		t.Fatalf("resumed with other options: %v", err)
	}
	sum := e.mustImport(t, "admin", bulk.ImportOptions{File: path, State: state, Duplicates: "flag"})
	if sum.ImportID != "01ABCDEFGHJKMNPQRSTVWXYZ12" || sum.Counts["CREATED"] != 1 {
		t.Fatalf("resumed %+v", sum)
	}
}

func sha(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}
