package bulk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/bulk"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/sheet"
)

// A file that uses every column.
var richFile = [][]string{
	bulk.Header("zh"),
	{"企业", "好运来贸易有限公司", "010-6552 1234; 13812345678", "sales@haoyunlai.cn; boss@haoyunlai.cn", "北京市朝阳区建国路88号\n天津市和平区南京路1号",
		"贸易", "north", "转介绍", "120万", "AA", "存续", "稳定期", "", "sales1", "north", "B", "vip; 华北", "设备=华为 S5700\n网络=双线",
		"王芳", "采购经理", "采购", "13900000001", "wang@haoyunlai.cn", "李雷", "技术总监", "技术负责人", "13900000002", "", "韩梅", "", "财务", "", "han@haoyunlai.cn"},
	{"个人", "张伟", "13700000003", "", "", "", "south", "", "", "", "", "流失", "", "", "south", "", "", `{"生日":"1980-01-01","note":"a=b"}`,
		"", "", "", "", "", "", "", "", "", "", "", "", "", "", ""},
	{"ORGANIZATION", "Acme Trading Co., Ltd.", "+1 (555) 010-0000", "info@acme.example", "", "retail", "east", "WEB", "1,200,000.50", "", "REVOKED", "",
		"", "", "", "", "", "", "John Smith", "CEO", "DECISION_MAKER", "", "john@acme.example", "", "", "", "", "", "", "", "", "", ""},
	// Won back in the old CRM: imported as such, with the file as its reason.
	{"企业", "赢回商贸有限公司", "13600000009", "", "", "", "north", "", "", "", "", "挽回", "", "", "north", "", "", "",
		"", "", "", "", "", "", "", "", "", "", "", "", "", "", ""},
}

func sortedRows(tb testing.TB, path string) [][]string {
	tb.Helper()
	t, err := sheet.Read(path, "")
	if err != nil {
		tb.Fatal(err)
	}
	var rows [][]string
	for _, r := range t.Rows[1:] {
		// A workbook leaves out a row's empty cells at its end.
		rows = append(rows, append(r, make([]string, len(t.Rows[0])-len(r))...))
	}
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(a[1], b[1]) })
	return rows
}

// What an export writes imports again, into another Rapport, as the same
// customers: exporting those gives the very same file.
func TestExportReimportsCleanly(t *testing.T) {
	for _, format := range []sheet.Format{sheet.FormatXLSX, sheet.FormatCSV} {
		t.Run(string(format), func(t *testing.T) {
			a, b := mustEnv(t), mustEnv(t)
			sum := a.mustImport(t, "admin", bulk.ImportOptions{File: writeFile(t, "rich.xlsx", richFile)})
			if sum.Counts["CREATED"] != 4 {
				t.Fatalf("first import %+v (report %s)", sum.Counts, sum.Report)
			}
			dir := t.TempDir()
			first := filepath.Join(dir, "a."+string(format))
			if _, err := bulk.Export(context.Background(), a.client("admin"), bulk.ExportOptions{Out: first, Format: format}); err != nil {
				t.Fatal(err)
			}
			again := b.mustImport(t, "admin", bulk.ImportOptions{File: first})
			if again.Counts["CREATED"] != 4 || again.Lines != 0 {
				t.Fatalf("re-import of the export: %+v, report %v", again.Counts, readReport(t, again.Report))
			}
			second := filepath.Join(dir, "b."+string(format))
			exp, err := bulk.Export(context.Background(), b.client("admin"), bulk.ExportOptions{Out: second, Format: format})
			if err != nil || exp.Rows != 4 {
				t.Fatalf("second export: %v %+v", err, exp)
			}
			x, y := sortedRows(t, first), sortedRows(t, second)
			if !slices.EqualFunc(x, y, slices.Equal) {
				t.Fatalf("exports differ:\n%q\n%q", x, y)
			}
			// What the export wrote, column by column, for the first row (rows
			// sorted by name: Acme, 好运来, 张伟, 赢回).
			got := map[string]string{}
			for j, h := range bulk.Header("en") {
				got[h] = x[1][j]
			}
			want := map[string]string{"kind": "ORGANIZATION", "phone": "+861065521234; +8613812345678", "source": "REFERRAL",
				"annualRevenue": "1200000", "companyStatus": "ACTIVE", "stage": "STABILITY", "owner": "sales1", "grade": "B",
				"tags": "vip; 华北", "attributes": "设备=华为 S5700\n网络=双线", "contactRole": "PURCHASER", "contact2": "李雷",
				"contact3Role": "FINANCE", "address": "北京市朝阳区建国路88号\n天津市和平区南京路1号"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s exported as %q, want %q", k, got[k], v)
				}
			}
			// Grades set by the rules are not written: the rules set them again.
			if lost := x[2]; lost[15] != "" || lost[11] != "LOST" {
				t.Errorf("person row exported as %q", lost)
			}
			if won := x[3]; won[11] != "WON_BACK" {
				t.Errorf("won-back row exported as %q", won)
			}
			won := a.customers(t)["赢回商贸有限公司"]
			hist, err := a.svc.StageHistory(a.as("admin"), won.ID, crm.PageRequest{First: 5})
			if err != nil || len(hist.Items) != 1 || hist.Items[0].To != crm.StageWonBack ||
				!strings.HasPrefix(hist.Items[0].Reason, "WON_BACK in rich.xlsx, row 5 (import ") {
				t.Errorf("won-back customer's stage history %+v, %v", hist, err)
			}
		})
	}
}

// A partner exports only the customers shared with it, masked as its
// organization's policy says.
func TestPartnerExportIsSharedAndMasked(t *testing.T) {
	e := mustEnv(t)
	sum := e.mustImport(t, "admin", bulk.ImportOptions{File: writeFile(t, "rich.xlsx", richFile)})
	if sum.Counts["CREATED"] != 4 {
		t.Fatalf("import %+v", sum.Counts)
	}
	ctx := e.as("admin")
	org, err := e.svc.CreatePartnerOrg(ctx, crm.PartnerOrgInput{Name: "Service Desk",
		Masked: []crm.MaskField{crm.MaskPhones, crm.MaskEmails, crm.MaskContactPhones, crm.MaskAttributes}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := e.svc.IssueAPIKey(ctx, org.ID, "export")
	if err != nil {
		t.Fatal(err)
	}
	customers := e.customers(t)
	for _, name := range []string{"好运来贸易有限公司", "Acme Trading Co., Ltd."} {
		if _, err := e.svc.ShareCustomer(ctx, customers[name].ID, org.ID); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "partner.csv")
	c := &bulk.Client{BaseURL: e.url, APIKey: key.Secret}
	exp, err := bulk.Export(context.Background(), c, bulk.ExportOptions{Out: out, Format: sheet.FormatCSV, Lang: "en"})
	if err != nil || exp.Rows != 2 {
		t.Fatalf("partner export: %v %+v", err, exp)
	}
	rows := sortedRows(t, out)
	col := func(row []string, name string) string { return row[slices.Index(bulk.Header("en"), name)] }
	hy := rows[1]
	if col(hy, "name") != "好运来贸易有限公司" || col(hy, "phone") != "+86 ** **** 1234; +86 *** **** 5678" ||
		col(hy, "email") != "s***@haoyunlai.cn; b***@haoyunlai.cn" || col(hy, "contactPhone") != "+86 *** **** 0001" ||
		col(hy, "contactEmail") != "wang@haoyunlai.cn" || col(hy, "attributes") != "设备=***\n网络=***" {
		t.Fatalf("partner's row %q", hy)
	}
	if slices.ContainsFunc(rows, func(r []string) bool { return r[1] == "张伟" }) {
		t.Fatal("a customer not shared with the partner was exported")
	}
}

// The client waits out an unavailable API, longer each time, and carries
// on; it has no retry quota to run out of.
func TestClientRetriesWhileTheAPIIsUnavailable(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("<html>Service Unavailable</html>"))
		case 2:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"errors":[{"message":"the service is busy; retry shortly","extensions":{"code":"UNAVAILABLE"}}]}`))
		case 3:
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"Too Many Requests"}`))
		default:
			_, _ = w.Write([]byte(`{"data":{"me":{"id":"admin"}}}`))
		}
	}))
	defer srv.Close()
	var notes []string
	c := &bulk.Client{BaseURL: srv.URL, Token: "admin", Notify: func(s string) { notes = append(notes, s) }}
	var out struct{ Me struct{ ID string } }
	if err := c.Do(context.Background(), `{ me { id } }`, nil, &out); err != nil || out.Me.ID != "admin" {
		t.Fatalf("Do: %v %+v", err, out)
	}
	if len(notes) != 3 {
		t.Fatalf("retries noted: %q", notes)
	}
	// Other errors are not retried.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"errors":[{"message":"sign-in required","extensions":{"code":"UNAUTHENTICATED"}}]}`))
	}))
	defer bad.Close()
	err := (&bulk.Client{BaseURL: bad.URL}).Do(context.Background(), `{ me { id } }`, nil, nil)
	if api, ok := err.(*bulk.APIError); !ok || api.Code != "UNAUTHENTICATED" {
		t.Fatalf("unauthenticated: %v", err)
	}
}

// Rows the API answers RETRY (its time ran out, or it was throttled) are
// sent again, after a pause when it was throttled, until they are done.
func TestImportSendsRetryRowsAgain(t *testing.T) {
	var calls atomic.Int32
	var sent [][]int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Variables struct {
				In struct{ Rows []struct{ Row int } }
			}
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		var rows []int
		var res []map[string]any
		n := calls.Add(1)
		for i, row := range req.Variables.In.Rows {
			rows = append(rows, row.Row)
			st := "CREATED"
			if n == 1 && i > 0 || n == 2 {
				st = "RETRY" // time ran out after one row; then throttled
			}
			res = append(res, map[string]any{"row": row.Row, "status": st, "customerId": fmt.Sprint("C", row.Row), "filled": []string{}, "problems": []any{}})
		}
		sent = append(sent, rows)
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"importCustomers": map[string]any{"throttled": n == 2, "rows": res}}})
	}))
	defer srv.Close()
	path := writeFile(t, "retry.csv", [][]string{{"name"}, {"A"}, {"B"}, {"C"}})
	began := time.Now()
	sum, err := bulk.Import(context.Background(), &bulk.Client{BaseURL: srv.URL, Token: "admin"}, bulk.ImportOptions{File: path})
	if err != nil || sum.Counts["CREATED"] != 3 {
		t.Fatalf("import: %v %+v", err, sum)
	}
	want := [][]int{{2, 3, 4}, {3, 4}, {3, 4}}
	if !slices.EqualFunc(sent, want, slices.Equal) {
		t.Fatalf("calls sent rows %v, want %v", sent, want)
	}
	if time.Since(began) < 250*time.Millisecond {
		t.Fatal("rows of a throttled call were sent again without a pause")
	}
}
