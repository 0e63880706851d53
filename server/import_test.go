package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

const importCustomers = `mutation($in: ImportCustomersInput!) { importCustomers(input: $in) {
	importId dryRun throttled
	rows { row status customerId existingId duplicateOn filled problems { code field message existingId } } } }`

type importProblem struct {
	Code, Field, Message string
	ExistingID           string
}

type importRow struct {
	Row                    int
	Status                 string
	CustomerID, ExistingID string
	DuplicateOn            string
	Filled                 []string
	Problems               []importProblem
}

type importResult struct {
	ImportID  string
	DryRun    bool
	Throttled bool
	Rows      []importRow
}

// mustImport sends one call of an import and returns its rows by row number.
func (e *env) mustImport(tb testing.TB, user string, in map[string]any) map[int]importRow {
	tb.Helper()
	var out struct{ ImportCustomers importResult }
	e.mustDo(tb, user, importCustomers, map[string]any{"in": in}, &out)
	rows := map[int]importRow{}
	for _, r := range out.ImportCustomers.Rows {
		rows[r.Row] = r
	}
	return rows
}

func (r importRow) fields() []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Code+" "+p.Field)
	}
	return out
}

// Every rule a row breaks is reported, each with createCustomer's field
// (moved to the row) and message; the rows without problems are created.
func TestImportReportsEveryRuleARowBreaks(t *testing.T) {
	e := mustEnv(t)
	rows := []map[string]any{
		{"row": 2, "name": "好运来贸易有限公司", "phones": []string{"010-6552 1234"}, "emails": []string{"Sales@HaoYunLai.cn"},
			"region": "north", "industry": "贸易", "annualRevenue": "120万", "companyStatus": "存续", "stage": "稳定期",
			"kind": "企业", "tags": []string{"VIP"}, "contacts": []map[string]any{{"name": "王芳", "title": "采购经理", "role": "采购", "phones": []string{"13812345678"}}}},
		{"row": 3, "name": "", "phones": []string{"12"}, "emails": []string{"not-an-email"}},
		{"row": 4, "name": "Kind Robot", "kind": "机器人", "source": "somewhere", "stage": "休眠期"},
		{"row": 5, "name": "Big Spender", "annualRevenue": "lots", "tags": []string{"bad tag!"}, "grade": "Z"},
		{"row": 6, "name": "Contact Trouble", "contacts": []map[string]any{{"name": "", "emails": []string{"x@"}}}},
		{"row": 7, "name": "Lost Before", "stage": "流失", "kind": "PERSON"},
		{"row": 8, "name": "Owner Trouble", "ownerId": "no such#user", "contacts": []map[string]any{{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}}},
		// The owner must be an active SALES or MANAGER user of the
		// directory; rows naming the same one each say so.
		{"row": 9, "name": "Unknown Owner", "ownerId": "sales-nobody"},
		{"row": 10, "name": "Unknown Owner Again", "ownerId": "sales-nobody"},
		{"row": 11, "name": "Service Owner", "ownerId": "service1"},
		{"row": 12, "name": "Known Owner", "ownerId": "sales1"},
	}
	got := e.mustImport(t, "admin", map[string]any{"importId": "imp-rules-1", "fileName": "customers.xlsx", "rows": rows})
	tests := []struct {
		row    int
		status string
		fields []string
	}{
		{2, "CREATED", nil},
		{3, "REJECTED", []string{"BAD_USER_INPUT input.rows[1].name", "BAD_USER_INPUT input.rows[1].phones[0]", "BAD_USER_INPUT input.rows[1].emails[0]"}},
		{4, "REJECTED", []string{"BAD_USER_INPUT input.rows[2].kind", "BAD_USER_INPUT input.rows[2].source", "BAD_USER_INPUT input.rows[2].stage"}},
		{5, "REJECTED", []string{"BAD_USER_INPUT input.rows[3].annualRevenue", "BAD_USER_INPUT input.rows[3].tags[0]", "BAD_USER_INPUT input.rows[3].grade"}},
		{6, "REJECTED", []string{"BAD_USER_INPUT input.rows[4].contacts[0].name", "BAD_USER_INPUT input.rows[4].contacts[0].emails[0]"}},
		{7, "CREATED", nil},
		{8, "REJECTED", []string{"BAD_USER_INPUT input.rows[6].contacts", "BAD_USER_INPUT input.rows[6].ownerId"}},
		{9, "REJECTED", []string{"BAD_USER_INPUT input.rows[7].ownerId"}},
		{10, "REJECTED", []string{"BAD_USER_INPUT input.rows[8].ownerId"}},
		{11, "REJECTED", []string{"BAD_USER_INPUT input.rows[9].ownerId"}},
		{12, "CREATED", nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("Row", tt.row), func(t *testing.T) {
			r := got[tt.row]
			if r.Status != tt.status || !slices.Equal(r.fields(), tt.fields) {
				t.Fatalf("row %d: %s %v, want %s %v (%+v)", tt.row, r.Status, r.fields(), tt.status, tt.fields, r.Problems)
			}
			for _, p := range r.Problems {
				if p.Message == "" {
					t.Errorf("problem %s has no message", p.Field)
				}
			}
		})
	}
	var c struct {
		Customer struct {
			Name, Kind, Stage, Source, CompanyStatus string
			Phones, Emails, Tags                     []string
			AnnualRevenue                            float64
			Grade                                    struct {
				Source string
				Level  struct{ Code string }
			}
			Contacts []struct {
				Name, Role string
				Primary    bool
			}
		}
	}
	e.mustDo(t, "admin", `query($id: ID!) { customer(id: $id) { name kind stage source companyStatus phones emails tags annualRevenue
		grade { source level { code } } contacts { name role primary } } }`, map[string]any{"id": got[2].CustomerID}, &c)
	cu := c.Customer
	if cu.Kind != "ORGANIZATION" || cu.Stage != "STABILITY" || cu.Source != "IMPORT" || cu.CompanyStatus != "ACTIVE" ||
		cu.AnnualRevenue != 1.2e6 || !slices.Equal(cu.Phones, []string{"+861065521234"}) && !slices.Equal(cu.Phones, []string{"01065521234"}) ||
		!slices.Equal(cu.Emails, []string{"sales@haoyunlai.cn"}) || !slices.Equal(cu.Tags, []string{"vip"}) ||
		cu.Grade.Source != "IMPORT" || len(cu.Contacts) != 1 || cu.Contacts[0].Role != "PURCHASER" || !cu.Contacts[0].Primary {
		t.Fatalf("imported customer read back as %+v", cu)
	}
	for row, want := range map[int]string{9: "not an active user", 10: "not an active user", 11: "needs the role"} {
		if m := got[row].Problems[0].Message; !strings.Contains(m, want) {
			t.Errorf("row %d: owner problem %q does not say %q", row, m, want)
		}
	}
	if r := got[4].Problems[2]; !strings.Contains(r.Message, "must be one of") || !strings.Contains(r.Message, "休眠期") {
		t.Errorf("stage problem %q does not say why", r.Message)
	}
}

func TestImportEchoesCallErrors(t *testing.T) {
	e := mustEnv(t)
	row := map[string]any{"row": 2, "name": "X"}
	tests := []struct {
		name, user string
		in         map[string]any
		code       string
		field      string
	}{
		{"ShortImportID", "admin", map[string]any{"importId": "x", "rows": []any{row}}, crm.EINVALID, "input.importId"},
		{"NoRows", "admin", map[string]any{"importId": "imp-call-1", "rows": []any{}}, crm.EINVALID, "input.rows"},
		{"RepeatedRow", "admin", map[string]any{"importId": "imp-call-1", "rows": []any{row, row}}, crm.EINVALID, "input.rows[1].row"},
		{"RowZero", "admin", map[string]any{"importId": "imp-call-1", "rows": []any{map[string]any{"row": 0, "name": "X"}}}, crm.EINVALID, "input.rows[0].row"},
		{"Auditor", "auditor", map[string]any{"importId": "imp-call-1", "rows": []any{row}}, crm.EFORBIDDEN, ""},
		{"Service", "service1", map[string]any{"importId": "imp-call-1", "rows": []any{row}}, crm.EFORBIDDEN, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.user, importCustomers, map[string]any{"in": tt.in})
			if r.code() != tt.code || r.field() != tt.field {
				t.Fatalf("got %+v, want %s on %q", r.Errors, tt.code, tt.field)
			}
		})
	}
	tooMany := make([]any, crm.MaxImportRows+1)
	for i := range tooMany {
		tooMany[i] = map[string]any{"row": i + 2, "name": "X"}
	}
	if r := e.do(t, "admin", importCustomers, map[string]any{"in": map[string]any{"importId": "imp-call-2", "rows": tooMany}}); r.field() != "input.rows" {
		t.Fatalf("%d rows: %+v", len(tooMany), r.Errors)
	}
}

// existing creates, as admin, the customer the duplicate tests import
// against: an organization of team north with a phone and an email, and
// no industry, tags or contacts.
func (e *env) existing(tb testing.TB) string {
	tb.Helper()
	return e.mustCreate(tb, "admin", map[string]any{"kind": "ORGANIZATION", "name": "华远科技有限公司", "team": "north",
		"phones": []string{"+86 10 8888 0001"}, "emails": []string{"info@huayuan.cn"}, "region": "north"})
}

func TestImportDuplicatePolicies(t *testing.T) {
	e := mustEnv(t)
	id := e.existing(t)
	e.drain(t) // a name is looked up in the search index, which the stream keeps
	rows := func() []map[string]any {
		return []map[string]any{
			// Same phone, written another way; new values for empty fields.
			{"row": 2, "name": "Huayuan", "phones": []string{"+861088880001", "13900001111"}, "industry": "软件",
				"tags": []string{"from-excel"}, "contacts": []map[string]any{{"name": "赵敏", "phones": []string{"13900002222"}}}},
			// Same email.
			{"row": 3, "name": "Huayuan Tech", "emails": []string{"INFO@huayuan.cn"}},
			// Same name as an organization (legal form left out).
			{"row": 4, "name": "华远科技"},
			// A person with a common name is not a duplicate by name.
			{"row": 5, "name": "张伟", "kind": "个人"},
			// Two rows of this call with the same new phone.
			{"row": 6, "name": "新客户甲", "phones": []string{"13700000001"}},
			{"row": 7, "name": "新客户乙", "phones": []string{"137-0000-0001"}},
		}
	}
	e.mustCreate(t, "admin", map[string]any{"kind": "PERSON", "name": "张伟", "team": "north"})
	tests := []struct {
		policy  string
		status  map[int]string
		inspect func(t *testing.T, got map[int]importRow)
	}{
		{"SKIP", map[int]string{2: "SKIPPED", 3: "SKIPPED", 4: "SKIPPED", 5: "CREATED", 6: "CREATED", 7: "SKIPPED"}, func(t *testing.T, got map[int]importRow) {
			for row, on := range map[int]string{2: "phones[0]", 3: "emails[0]", 4: "name"} {
				r := got[row]
				if r.ExistingID != id || r.DuplicateOn != on || len(r.Problems) != 1 || r.Problems[0].Code != crm.EDUPLICATE || r.Problems[0].ExistingID != id {
					t.Errorf("row %d: %+v, want a duplicate of %s on %s", row, r, id, on)
				}
			}
			if got[7].ExistingID != got[6].CustomerID || got[7].DuplicateOn != "phones[0]" {
				t.Errorf("row 7 %+v is not a duplicate of row 6's customer %s", got[7], got[6].CustomerID)
			}
		}},
		{"UPDATE_EMPTY", map[int]string{2: "UPDATED", 3: "SKIPPED", 4: "SKIPPED", 5: "CREATED", 6: "CREATED", 7: "SKIPPED"}, func(t *testing.T, got map[int]importRow) {
			if r := got[2]; r.CustomerID != id || !slices.Equal(r.Filled, []string{"industry", "tags", "contacts"}) {
				t.Errorf("row 2: %+v, want industry, tags and contacts filled on %s", r, id)
			}
			var c struct {
				Customer struct {
					Name, Industry string
					Phones, Tags   []string
					Contacts       []struct{ Name string }
				}
			}
			e.mustDo(t, "admin", `query($id: ID!) { customer(id: $id) { name industry phones tags contacts { name } } }`, map[string]any{"id": id}, &c)
			if c.Customer.Name != "华远科技有限公司" || c.Customer.Industry != "软件" || len(c.Customer.Phones) != 1 ||
				!slices.Equal(c.Customer.Tags, []string{"from-excel"}) || len(c.Customer.Contacts) != 1 {
				t.Errorf("filled customer reads %+v: only its empty fields may change", c.Customer)
			}
		}},
		{"FLAG", map[int]string{2: "FLAGGED", 3: "FLAGGED", 4: "FLAGGED", 5: "CREATED", 6: "CREATED", 7: "FLAGGED"}, func(t *testing.T, got map[int]importRow) {
			var c struct {
				Customer struct {
					Phones, Tags []string
					Attributes   []struct{ Key, Value string }
					ContactCount int
				}
			}
			e.mustDo(t, "admin", `query($id: ID!) { customer(id: $id) { phones tags attributes { key value } contactCount } }`,
				map[string]any{"id": got[2].CustomerID}, &c)
			if got[2].ExistingID != id || !slices.Equal(c.Customer.Phones, []string{"+8613900001111"}) || !slices.Contains(c.Customer.Tags, crm.MergeCandidateTag) ||
				!slices.Contains(c.Customer.Attributes, struct{ Key, Value string }{crm.DuplicateOfAttribute, id}) || c.Customer.ContactCount != 1 {
				t.Errorf("flagged row 2 made %+v (%+v)", c.Customer, got[2])
			}
			e.drain(t) // list totals follow from the stream
			var list struct{ Customers struct{ TotalCount int } }
			e.mustDo(t, "admin", `{ customers(filter: {tag: "merge-candidate"}) { totalCount } }`, nil, &list)
			if list.Customers.TotalCount != 4 {
				t.Errorf("%d merge candidates listed, want 4", list.Customers.TotalCount)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			in := rows()
			for _, r := range in {
				if phones, ok := r["phones"].([]string); ok && r["row"].(int) >= 6 {
					r["phones"] = []string{strings.Replace(phones[0], "0000", fmt.Sprintf("%04d", i+2), 1)}
				}
				if row := r["row"].(int); row >= 6 {
					r["name"] = fmt.Sprint(r["name"], i)
				}
			}
			got := e.mustImport(t, "admin", map[string]any{"importId": "imp-policy-" + tt.policy, "duplicates": tt.policy, "rows": in})
			for row, want := range tt.status {
				if got[row].Status != want {
					t.Errorf("row %d: %s, want %s (%+v)", row, got[row].Status, want, got[row].Problems)
				}
			}
			tt.inspect(t, got)
		})
	}
}

// A dry run reports what the import would do, duplicates found as in a
// real run (an earlier row of the same call included), and writes nothing.
func TestImportDryRunWritesNothing(t *testing.T) {
	e := mustEnv(t)
	id := e.existing(t)
	e.drain(t) // list totals follow from the stream
	var before struct{ Customers struct{ TotalCount int } }
	e.mustDo(t, "admin", `{ customers { totalCount } }`, nil, &before)
	got := e.mustImport(t, "admin", map[string]any{"importId": "imp-dry-1", "dryRun": true, "duplicates": "UPDATE_EMPTY", "rows": []map[string]any{
		{"row": 2, "name": "Dry One", "phones": []string{"13600000001"}, "grade": "B"},
		{"row": 3, "name": "Dry Two", "phones": []string{"13600000001"}},
		{"row": 4, "name": "Dry Three", "emails": []string{"info@huayuan.cn"}, "industry": "软件"},
		{"row": 5, "name": "", "emails": []string{"bad"}},
	}})
	want := map[int]string{2: "CREATED", 3: "UPDATED", 4: "UPDATED", 5: "REJECTED"}
	for row, st := range want {
		if got[row].Status != st || got[row].CustomerID != "" {
			t.Errorf("row %d: %+v, want %s and no customer id", row, got[row], st)
		}
	}
	if p := got[3].Problems; len(p) != 1 || !strings.Contains(p[0].Message, "row 2") {
		t.Errorf("row 3's duplicate of row 2 reads %+v", p)
	}
	if r := got[4]; r.ExistingID != id || !slices.Equal(r.Filled, []string{"industry"}) {
		t.Errorf("row 4: %+v, want industry filled on %s", r, id)
	}
	e.drain(t)
	var after struct{ Customers struct{ TotalCount int } }
	e.mustDo(t, "admin", `{ customers { totalCount } }`, nil, &after)
	var c struct{ Customer struct{ Industry *string } }
	e.mustDo(t, "admin", `query($id: ID!) { customer(id: $id) { industry } }`, map[string]any{"id": id}, &c)
	if after.Customers.TotalCount != before.Customers.TotalCount || c.Customer.Industry != nil {
		t.Fatalf("dry run wrote: %d customers before, %d after; industry %v", before.Customers.TotalCount, after.Customers.TotalCount, c.Customer.Industry)
	}
}

// A call sent again (the client was interrupted before it saw the answer)
// finds the rows it created by their keys: same customers, same statuses,
// no second customer or contact.
func TestImportCallSentAgainCreatesNothingTwice(t *testing.T) {
	e := mustEnv(t)
	in := map[string]any{"importId": "imp-again-1", "duplicates": "FLAG", "rows": []map[string]any{
		{"row": 2, "name": "Again Ltd", "phones": []string{"13500000001"}, "contacts": []map[string]any{{"name": "A"}, {"name": "B"}}},
		{"row": 3, "name": "Again Ltd", "phones": []string{"13500000002"}},
		{"row": 4, "name": "Again Person", "kind": "PERSON"},
	}}
	first := e.mustImport(t, "admin", in)
	second := e.mustImport(t, "admin", in)
	for _, row := range []int{2, 3, 4} {
		if first[row].CustomerID == "" || first[row].CustomerID != second[row].CustomerID || first[row].Status != second[row].Status {
			t.Errorf("row %d: first %+v, again %+v", row, first[row], second[row])
		}
	}
	if first[3].Status != "FLAGGED" || second[3].ExistingID != first[2].CustomerID {
		t.Errorf("row 3 again: %+v, want FLAGGED naming %s", second[3], first[2].CustomerID)
	}
	e.drain(t) // list totals follow from the stream
	var out struct {
		Customers struct{ TotalCount int }
		Customer  struct{ ContactCount int }
	}
	e.mustDo(t, "admin", `query($id: ID!) { customers { totalCount } customer(id: $id) { contactCount } }`, map[string]any{"id": first[2].CustomerID}, &out)
	if out.Customers.TotalCount != 3 || out.Customer.ContactCount != 2 {
		t.Fatalf("after sending the call twice: %+v, want 3 customers and 2 contacts", out)
	}
}

// Grades follow createCustomer's rule: a grade in the file is a manual
// grade whose reason names the file and row, ADMIN or the team's MANAGER
// only; without one the policy grades, with source IMPORT. SALES import
// customers they own, and never see others' customers through a duplicate.
func TestImportGradesAndRights(t *testing.T) {
	e := mustEnv(t)
	other := e.mustCreate(t, "sales2", map[string]any{"kind": "PERSON", "name": "Sales Two's", "phones": []string{"13400000009"}})
	got := e.mustImport(t, "manager", map[string]any{"importId": "imp-grades-1", "fileName": "北区客户.xlsx", "rows": []map[string]any{
		{"row": 2, "name": "Graded Co", "grade": "a级"},
		{"row": 3, "name": "Ungraded Co"},
	}})
	var c struct {
		A, B struct {
			Grade struct {
				Source, Reason string
				Level          struct{ Code string }
			}
		}
	}
	e.mustDo(t, "admin", `query($a: ID!, $b: ID!) { a: customer(id: $a) { grade { source reason level { code } } } b: customer(id: $b) { grade { source reason level { code } } } }`,
		map[string]any{"a": got[2].CustomerID, "b": got[3].CustomerID}, &c)
	if g := c.A.Grade; g.Source != "MANUAL" || g.Level.Code != "A" || !strings.Contains(g.Reason, "北区客户.xlsx, row 2") {
		t.Errorf("grade from the file: %+v", g)
	}
	if g := c.B.Grade; g.Source != "IMPORT" || g.Level.Code != "G" {
		t.Errorf("grade by the policy: %+v", g)
	}
	got = e.mustImport(t, "sales1", map[string]any{"importId": "imp-grades-2", "rows": []map[string]any{
		{"row": 2, "name": "Mine", "grade": "B"},
		{"row": 3, "name": "Mine Too"},
		{"row": 4, "name": "For Someone Else", "ownerId": "sales2"},
		{"row": 5, "name": "Hidden Holder", "phones": []string{"13400000009"}},
	}})
	if r := got[2]; r.Status != "REJECTED" || !slices.Equal(r.fields(), []string{"FORBIDDEN input.rows[0].grade"}) {
		t.Errorf("SALES grading by file: %+v", r)
	}
	if r := got[3]; r.Status != "CREATED" {
		t.Errorf("SALES importing their own: %+v", r)
	}
	if r := got[4]; r.Status != "REJECTED" || r.Problems[0].Code != crm.EFORBIDDEN {
		t.Errorf("SALES importing for another owner: %+v", r)
	}
	if r := got[5]; r.Status != "REJECTED" || r.ExistingID != "" || r.Problems[0].Code != crm.EDUPLICATE ||
		r.Problems[0].ExistingID != "" || strings.Contains(r.Problems[0].Message, other) {
		t.Errorf("a duplicate of a customer SALES may not read: %+v", r)
	}
	var mine struct {
		Customer struct{ OwnerID string }
	}
	e.mustDo(t, "admin", `query($id: ID!) { customer(id: $id) { ownerId } }`, map[string]any{"id": got[3].CustomerID}, &mine)
	if mine.Customer.OwnerID != "sales1" {
		t.Errorf("SALES import owned by %q", mine.Customer.OwnerID)
	}
}

// Every write of an import is in the audit log under its id.
func TestImportIsAuditedUnderItsID(t *testing.T) {
	e := mustEnv(t)
	got := e.mustImport(t, "admin", map[string]any{"importId": "imp-audit-1", "rows": []map[string]any{
		{"row": 2, "name": "Audited One", "contacts": []map[string]any{{"name": "C"}}},
		{"row": 3, "name": "Audited Two"},
	}})
	e.mustCreate(t, "admin", map[string]any{"kind": "PERSON", "name": "Not imported"})
	var out struct {
		AuditLog struct {
			Edges []struct {
				Node struct {
					Operation, ImportID string
					Changes             []struct{ Entity, ID string }
				}
			}
		}
	}
	e.mustDo(t, "admin", `{ auditLog(filter: {importId: "imp-audit-1"}, first: 50) { edges { node { operation importId changes { entity id } } } } }`, nil, &out)
	created := map[string]bool{}
	for _, edge := range out.AuditLog.Edges {
		n := edge.Node
		if n.Operation != "importCustomers" || n.ImportID != "imp-audit-1" {
			t.Errorf("entry %+v", n)
		}
		for _, ch := range n.Changes {
			if ch.Entity == "customer" {
				created[ch.ID] = true
			}
		}
	}
	if len(created) != 2 || !created[got[2].CustomerID] || !created[got[3].CustomerID] {
		t.Fatalf("audit entries of the import name customers %v, want %s and %s", created, got[2].CustomerID, got[3].CustomerID)
	}

	// A customer's audit log is read through an index that does not hold
	// the import's id: it names the import all the same, and finds the
	// import's entries by it.
	const ofCustomer = `query($c: ID!, $i: ID) { auditLog(filter: {customerId: $c, importId: $i}, first: 50) { edges { node { operation importId changes { entity id } } } } }`
	for _, tt := range []struct {
		name, importID string
		want           int
	}{
		{"TheImport", "imp-audit-1", 2}, // the customer and its contact person
		{"AnyWrite", "", 2},
		{"AnotherImport", "imp-audit-2", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]any{"c": got[2].CustomerID}
			if tt.importID != "" {
				vars["i"] = tt.importID
			}
			out.AuditLog.Edges = nil
			e.mustDo(t, "admin", ofCustomer, vars, &out)
			if len(out.AuditLog.Edges) != tt.want {
				t.Fatalf("%d entries, want %d: %+v", len(out.AuditLog.Edges), tt.want, out.AuditLog.Edges)
			}
			for _, edge := range out.AuditLog.Edges {
				if n := edge.Node; n.Operation != "importCustomers" || n.ImportID != "imp-audit-1" {
					t.Errorf("entry %+v", n)
				}
			}
		})
	}
}
