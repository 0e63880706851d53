package crm

import (
	"context"
	"slices"
	"testing"
)

func TestCellsReadAsPeopleWriteThem(t *testing.T) {
	amounts := []struct {
		cell string
		want float64
		ok   bool
	}{
		{"1200000", 1.2e6, true}, {"1,200,000", 1.2e6, true}, {"¥1,200,000.00", 1.2e6, true}, {"120万", 1.2e6, true},
		{"1.5亿", 1.5e8, true}, {"1.2e6", 1.2e6, true}, {" 300 元 ", 300, true}, {"１２０万", 1.2e6, true}, {"lots", 0, false}, {"NaN", 0, false},
	}
	for _, a := range amounts {
		got, ok := readAmount(a.cell)
		if ok != a.ok || ok && *got != a.want {
			t.Errorf("readAmount(%q) = %v %v, want %v %v", a.cell, got, ok, a.want, a.ok)
		}
	}
	if v, ok := readAmount(""); !ok || v != nil {
		t.Errorf("an empty amount reads %v %v", v, ok)
	}
	words := []struct {
		got, want string
	}{
		{string(kindWords.read(" 企业 ", []CustomerKind{KindPerson, KindOrganization})), "ORGANIZATION"},
		{string(kindWords.read("person", []CustomerKind{KindPerson, KindOrganization})), "PERSON"},
		{string(kindWords.read("Robot", []CustomerKind{KindPerson, KindOrganization})), "Robot"},
		{string(stageWords.read("won back", Stages)), "WON_BACK"},
		{string(stageWords.read("稳定期", Stages)), "STABILITY"},
		{string(sourceWords.read("walk-in", Sources)), "WALK_IN"},
		{string(sourceWords.read("转介绍", Sources)), "REFERRAL"},
		{string(companyStatusWords.read("注销", CompanyStatuses)), "DEREGISTERED"},
		{string(contactRoleWords.read("Decision Maker", ContactRoles)), "DECISION_MAKER"},
		{readGrade(" a级"), "A"},
		{readGrade("O"), "O"},
	}
	for _, w := range words {
		if w.got != w.want {
			t.Errorf("read %q, want %q", w.got, w.want)
		}
	}
}

// An instance serves at most Calls imports at once; the next is
// UNAVAILABLE until one ends.
func TestImportGateBoundsCalls(t *testing.T) {
	s := &Service{Import: ImportLimits{Calls: 2}}
	g := s.importGate()
	r1, err1 := g.enter()
	_, err2 := g.enter()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, err := g.enter(); ErrorCode(err) != EUNAVAILABLE {
		t.Fatalf("third call: %v, want UNAVAILABLE", err)
	}
	r1()
	if _, err := g.enter(); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
	// Unpaced, pace never waits; paced, a cancelled request stops waiting.
	if err := g.pace(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	paced := (&Service{Import: ImportLimits{RowsPerSecond: 0.001}}).importGate()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = paced.pace(ctx, 1) // the first row goes at once
	if err := paced.pace(ctx, 1); ErrorCode(err) != EUNAVAILABLE {
		t.Fatalf("a cancelled wait: %v", err)
	}
}

// The checker reports every rule an input breaks, first one first, so an
// import can list all of a row's problems.
func TestValidationKeepsEveryProblem(t *testing.T) {
	c := validCustomer()
	c.Name, c.Phones, c.Emails, c.Tags = "", []string{"12"}, []string{"x@"}, []string{"bad tag!"}
	err := validateCustomer(c)
	var fields []string
	for _, p := range problems("input.rows[3]", err) {
		fields = append(fields, p.Field)
	}
	want := []string{"input.rows[3].name", "input.rows[3].phones[0]", "input.rows[3].emails[0]", "input.rows[3].tags[0]"}
	if ErrorCode(err) != EINVALID || err.(*Error).Field != "input.name" || !slices.Equal(fields, want) {
		t.Fatalf("%v: fields %q, want %q", err, fields, want)
	}
}

func TestImportCallIsChecked(t *testing.T) {
	rows := func(n ...int) []ImportRow {
		var out []ImportRow
		for _, r := range n {
			out = append(out, ImportRow{Row: r})
		}
		return out
	}
	tests := []struct {
		name  string
		in    ImportInput
		field string
	}{
		{"OK", ImportInput{ImportID: "01HZX3A4B5C6D7E8F9G0H1J2K3", Rows: rows(2, 3)}, ""},
		{"ShortID", ImportInput{ImportID: "abc", Rows: rows(2)}, "input.importId"},
		{"LongID", ImportInput{ImportID: "a23456789012345678901234567890123456789012", Rows: rows(2)}, "input.importId"},
		{"BadPolicy", ImportInput{ImportID: "imp-12345", Duplicates: "MERGE", Rows: rows(2)}, "input.duplicates"},
		{"RepeatedRow", ImportInput{ImportID: "imp-12345", Rows: rows(2, 2)}, "input.rows[1].row"},
		{"RowTooLarge", ImportInput{ImportID: "imp-12345", Rows: rows(10_000_000)}, "input.rows[0].row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkImport(&tt.in)
			if got := ""; err != nil {
				got = err.(*Error).Field
				if got != tt.field {
					t.Fatalf("%v, want a problem with %q", err, tt.field)
				}
			} else if tt.field != "" {
				t.Fatalf("accepted, want a problem with %q", tt.field)
			}
			if tt.field == "" && tt.in.Duplicates != DuplicateSkip {
				t.Errorf("default policy %q", tt.in.Duplicates)
			}
		})
	}
	if k := importKey("01HZX3A4B5C6D7E8F9G0H1J2K3"+"0123456789ABCD", maxImportRowNumber) + ":c3"; !isIdempotencyKey(k) {
		t.Errorf("the longest contact key %q is not a valid idempotency key", k)
	}
}
