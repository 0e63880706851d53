package bulk

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rapportcrm/rapport/sheet"
)

// The report lists every row that was not simply created, a line per
// problem: the row's number in the file, what happened to it, the column
// and value at fault, the API's code and message (its own BAD_USER_INPUT
// field and rule), the existing customer a duplicate matched, and the
// customer the row made or filled. Columns the import left out come first,
// on the header's row, as IGNORED.

var reportHeader = map[string][]string{
	"zh": {"行号", "状态", "列", "值", "代码", "规则", "已有客户", "客户", "已补充", "字段"},
	"en": {"row", "status", "column", "value", "code", "message", "existingId", "customerId", "filled", "field"},
}

// rowPath finds the path of a problem's field within its row:
// input.rows[3].phones[1] is phones[1].
var rowPath = regexp.MustCompile(`^input\.rows\[\d+\]\.?`)

// writeReport writes the report and returns how many rows it has.
func writeReport(path, lang string, rows []fileRow, results map[int]rowResult, m *mapping) (int, error) {
	format, err := sheet.FormatOf(path)
	if err != nil {
		return 0, err
	}
	w, err := sheet.Create(path, format, map[string]string{"zh": "报告", "en": "report"}[lang])
	if err != nil {
		return 0, err
	}
	header := reportHeader[lang]
	if header == nil {
		header = reportHeader["en"]
	}
	lines := 0
	write := func(cells ...string) {
		if err == nil {
			err = w.Write(cells)
			lines++
		}
	}
	if werr := w.Write(header); werr != nil {
		return 0, werr
	}
	for _, u := range m.unmapped {
		write(strconv.Itoa(m.header+1), "IGNORED", u.Column, "", "", u.Why, "", "", "", "")
	}
	byRow := map[int]fileRow{}
	for _, r := range rows {
		byRow[r.in.Row] = r
	}
	numbers := make([]int, 0, len(results))
	for n := range results {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		res := results[n]
		if res.Status == "CREATED" && len(res.Problems) == 0 {
			continue
		}
		filled := strings.Join(res.Filled, ", ")
		problems := res.Problems
		if len(problems) == 0 {
			problems = []problem{{}}
		}
		for _, p := range problems {
			field := rowPath.ReplaceAllString(p.Field, "")
			var at cell
			if p.Field != "" {
				at = byRow[n].origin(field)
			}
			existing := p.ExistingID
			if existing == "" {
				existing = res.ExistingID
			}
			write(strconv.Itoa(n), res.Status, at.column, at.value, p.Code, p.Message, existing, res.CustomerID, filled, field)
		}
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return lines, err
}
