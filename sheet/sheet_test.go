package sheet_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/rapportcrm/rapport/sheet"
)

var sample = [][]string{
	{"名称", "电话", "地区"},
	{"好运来贸易有限公司", "010-6552 1234", "北京"},
	{"Acme, Inc.", "+1 (555) 010-0000", "north"},
	{"张伟", "13812345678; 13912345678", "上海\n浦东"},
}

func csvText(sep string) string {
	var b strings.Builder
	for _, row := range sample {
		for i, c := range row {
			if i > 0 {
				b.WriteString(sep)
			}
			if strings.ContainsAny(c, ",;\t\n\"") {
				c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
			}
			b.WriteString(c)
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

func mustGBK(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustUTF16(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Files as Excel and other tools write them read back as the same cells,
// and Read says which encoding it found.
func TestReadCSVInEveryEncodingExcelWrites(t *testing.T) {
	tests := []struct {
		name     string
		file     []byte
		encoding string
	}{
		{"UTF8", []byte(csvText(",")), "UTF-8"},
		{"UTF8WithBOM", append([]byte{0xEF, 0xBB, 0xBF}, csvText(",")...), "UTF-8 with BOM"},
		{"GBK", mustGBK(t, csvText(",")), "GB18030"},
		{"UTF16TabSeparated", mustUTF16(t, csvText("\t")), "UTF-16"},
		{"UTF8Semicolons", []byte(csvText(";")), "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "customers.csv")
			if err := os.WriteFile(path, tt.file, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := sheet.Read(path, "")
			if err != nil {
				t.Fatal(err)
			}
			if got.Encoding != tt.encoding || !slices.EqualFunc(got.Rows, sample, slices.Equal) {
				t.Fatalf("read %s %q, want %s %q", got.Encoding, got.Rows, tt.encoding, sample)
			}
		})
	}
}

func TestReadRefusesWhatNoEncodingReadsCleanly(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want string
	}{
		// 0xFF never starts a GB18030 character; 0x81 0x20 is half of one.
		{"StrayByte", []byte("name\nabc\xff\n"), "offset 8"},
		{"HalfACharacter", append(mustGBK(t, "名称\n"), 0x81, 0x20), "offset 5"},
		{"BOMButNotUTF8", []byte("\xEF\xBB\xBFname\n\xC4\xE3\n"), "says it is UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := sheet.Decode(tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// A workbook's cells are read raw: numbers keep their digits whatever
// their display format, and the worksheet can be chosen.
func TestReadXLSXReadsCellsAsStored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "customers.xlsx")
	f := excelize.NewFile()
	if err := f.SetSheetRow("Sheet1", "A1", &[]any{"名称", "电话", "年营业额"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow("Sheet1", "A2", &[]any{"好运来", 13812345678, 1200000}); err != nil {
		t.Fatal(err)
	}
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 11}) // 0.00E+00
	_ = f.SetCellStyle("Sheet1", "B2", "B2", style)
	thousands, _ := f.NewStyle(&excelize.Style{NumFmt: 3}) // #,##0
	_ = f.SetCellStyle("Sheet1", "C2", "C2", thousands)
	if _, err := f.NewSheet("其他"); err != nil {
		t.Fatal(err)
	}
	_ = f.SetCellStr("其他", "A1", "other sheet")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	got, err := sheet.Read(path, "")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"名称", "电话", "年营业额"}, {"好运来", "13812345678", "1200000"}}
	if got.Sheet != "Sheet1" || !slices.EqualFunc(got.Rows, want, slices.Equal) {
		t.Fatalf("read %s %q, want %q", got.Sheet, got.Rows, want)
	}
	if other, err := sheet.Read(path, "其他"); err != nil || other.Rows[0][0] != "other sheet" {
		t.Fatalf("other sheet: %v %v", other, err)
	}
	if _, err := sheet.Read(path, "missing"); err == nil || !strings.Contains(err.Error(), "Sheet1, 其他") {
		t.Fatalf("missing sheet: %v", err)
	}
}

func TestWrittenFilesReadBack(t *testing.T) {
	for _, format := range []sheet.Format{sheet.FormatCSV, sheet.FormatXLSX} {
		t.Run(string(format), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out."+string(format))
			w, err := sheet.Create(path, format, "客户")
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range sample {
				if err := w.Write(row); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := sheet.Read(path, "")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got.Rows, sample, slices.Equal) {
				t.Fatalf("read back %q", got.Rows)
			}
			if format == sheet.FormatCSV {
				b, _ := os.ReadFile(path)
				if !bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) || got.Encoding != "UTF-8 with BOM" {
					t.Fatalf("CSV written without a byte order mark (%s)", got.Encoding)
				}
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	for path, want := range map[string]sheet.Format{"a.CSV": sheet.FormatCSV, "b.xlsx": sheet.FormatXLSX, "c.tsv": sheet.FormatCSV} {
		if got, err := sheet.FormatOf(path); err != nil || got != want {
			t.Errorf("%s: %q %v", path, got, err)
		}
	}
	for _, path := range []string{"old.xls", "notes.docx", "noext"} {
		if _, err := sheet.FormatOf(path); err == nil {
			t.Errorf("%s: accepted", path)
		}
	}
}

// Whatever the bytes, Decode returns valid UTF-8 or an error, never a
// replacement character, and valid UTF-8 comes back as it was.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(csvText(",")))
	f.Add(mustGBK(f, csvText(",")))
	f.Add(mustUTF16(f, csvText("\t")))
	f.Add([]byte("\xEF\xBB\xBFa,b\n"))
	f.Add([]byte{0x81, 0x30, 0x81, 0x30, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		text, enc, err := sheet.Decode(b)
		if err != nil {
			return
		}
		if !utf8.ValidString(text) {
			t.Fatalf("%s decode of %x is not UTF-8", enc, b)
		}
		if enc != "UTF-16" && strings.ContainsRune(text, utf8.RuneError) && !utf8.Valid(b) {
			t.Fatalf("%s decode of %x kept a replacement character", enc, b)
		}
		if enc == "UTF-8" && text != string(b) {
			t.Fatalf("UTF-8 changed: %q", text)
		}
	})
}

// Any CSV text is read without a panic, into rows of cells.
func FuzzReadCSV(f *testing.F) {
	f.Add(csvText(","))
	f.Add("a;b;c\n\"x;y\";z\n")
	f.Add("\"unterminated\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = sheet.ReadCSV(strings.NewReader(s))
	})
}

// Row numbers are those Excel shows: a blank line is a row, a cell over
// several lines is one.
func TestReadCSVKeepsExcelsRowNumbers(t *testing.T) {
	got, err := sheet.ReadCSV(strings.NewReader("title\n\nname,address\n\"A\",\"line 1\nline 2\"\n\nB,x\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"title"}, nil, {"name", "address"}, {"A", "line 1\nline 2"}, nil, {"B", "x"}}
	if !slices.EqualFunc(got.Rows, want, slices.Equal) {
		t.Fatalf("rows %q, want %q", got.Rows, want)
	}
}
