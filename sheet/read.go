// Package sheet reads and writes the spreadsheets customers come in and
// go out in: .xlsx files (with excelize) and .csv files in the encodings
// Chinese offices save them in. Excel on a Chinese Windows machine writes
// "CSV (逗号分隔)" in GBK (code page 936), "CSV UTF-8" with a byte order
// mark, and "Unicode 文本" as tab-separated UTF-16; other tools write UTF-8
// without a mark. Read finds out which: a byte order mark, else valid
// UTF-8, else GB18030 (which GBK is a part of), checked to decode cleanly.
package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// Format is a file format: FormatCSV or FormatXLSX.
type Format string

const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// FormatOf tells a file's format by its extension.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".txt", ".tsv":
		return FormatCSV, nil
	case ".xlsx", ".xlsm":
		return FormatXLSX, nil
	case ".xls":
		return "", fmt.Errorf("%s is an Excel 97–2003 workbook (.xls): open it in Excel and save it as .xlsx or CSV UTF-8", filepath.Base(path))
	}
	return "", fmt.Errorf("%s: a spreadsheet must be .xlsx or .csv", filepath.Base(path))
}

// Table is a sheet's cells, row by row: Rows[0] is the file's row 1. Rows
// may differ in length.
type Table struct {
	Rows [][]string
	// Encoding is what a CSV file was read as: "UTF-8", "UTF-8 with BOM",
	// "UTF-16" or "GB18030"; "" for .xlsx.
	Encoding string
	// Sheet is the worksheet read from an .xlsx file.
	Sheet string
}

// Read reads a spreadsheet; sheet names the worksheet of an .xlsx file
// ("" for the first).
func Read(path, sheet string) (*Table, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if format == FormatXLSX {
		return ReadXLSX(f, sheet)
	}
	if sheet != "" {
		return nil, errors.New("a CSV file has no worksheets: leave out the sheet")
	}
	return ReadCSV(f)
}

// ReadXLSX reads a worksheet of an .xlsx workbook ("" for the first). Cells
// are read raw, without their number format: a phone number stored as a
// number reads 13812345678, not 1.38E+10, and 1200000 formatted as
// "1,200,000" reads 1200000.
func ReadXLSX(r io.Reader, sheet string) (*Table, error) {
	f, err := excelize.OpenReader(r, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("not a readable .xlsx workbook: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	switch {
	case len(sheets) == 0:
		return nil, errors.New("the workbook has no worksheet")
	case sheet == "":
		sheet = sheets[0]
	default:
		if idx, err := f.GetSheetIndex(sheet); err != nil || idx < 0 {
			return nil, fmt.Errorf("the workbook has no worksheet %q (it has %s)", sheet, strings.Join(sheets, ", "))
		}
	}
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("read worksheet %q: %w", sheet, err)
	}
	for _, row := range rows {
		for j, cell := range row {
			row[j] = plainNumber(cell)
		}
	}
	return &Table{Rows: rows, Sheet: sheet}, nil
}

// plainNumber writes a number Excel stored in exponent form (1.3812345678E10)
// with all its digits, as it shows in the cell; other text is kept.
func plainNumber(cell string) string {
	if !strings.ContainsAny(cell, "eE") || strings.ContainsFunc(cell, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '.' || r == 'e' || r == 'E' || r == '+' || r == '-')
	}) {
		return cell
	}
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil {
		return cell
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// MaxCSVBytes bounds a CSV file read into memory.
const MaxCSVBytes = 256 << 20

// ReadCSV reads a CSV file in whichever encoding Decode finds, separated by
// commas, semicolons or tabs (the one the first line has most of).
func ReadCSV(r io.Reader) (*Table, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxCSVBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxCSVBytes {
		return nil, fmt.Errorf("the file is over %d MiB: split it", MaxCSVBytes>>20)
	}
	text, enc, err := Decode(b)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = separator(text)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	// The reader skips blank lines; Excel shows each as a row. They are
	// kept, so that row numbers are those people see in Excel.
	var rows [][]string
	next := 1 // the line the next record would start on
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not a readable CSV file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		for ; next < line; next++ {
			rows = append(rows, nil)
		}
		last, _ := cr.FieldPos(len(rec) - 1)
		next = last + strings.Count(rec[len(rec)-1], "\n") + 1
		rows = append(rows, rec)
	}
	return &Table{Rows: rows, Encoding: enc}, nil
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// Decode returns a file's text and the encoding it was read in: UTF-8 or
// UTF-16 after a byte order mark, UTF-8 when the bytes are valid UTF-8, and
// GB18030 otherwise, when every byte decodes to a character (GBK, what
// Excel writes on a Chinese Windows, is a part of GB18030). Anything else
// is refused, naming the first byte that cannot be read.
func Decode(b []byte) (text, encoding string, err error) {
	switch {
	case bytes.HasPrefix(b, bomUTF8):
		b = b[len(bomUTF8):]
		if i := invalidUTF8(b); i >= 0 {
			return "", "", fmt.Errorf("the file says it is UTF-8 but is not: the byte at offset %d cannot be read", i+len(bomUTF8))
		}
		return string(b), "UTF-8 with BOM", nil
	case bytes.HasPrefix(b, bomUTF16LE), bytes.HasPrefix(b, bomUTF16BE):
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(b)
		if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
			return "", "", errors.New("the file says it is UTF-16 but does not decode cleanly")
		}
		return string(out), "UTF-16", nil
	case utf8.Valid(b):
		return string(b), "UTF-8", nil
	}
	// The decoder reads what it cannot decode as U+FFFD: a clean decode
	// has none.
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		at := invalidGB18030(b)
		if at < 0 {
			at = invalidUTF8(b)
		}
		return "", "", fmt.Errorf("the file is neither UTF-8 nor GBK/GB18030: the byte at offset %d cannot be read in either "+
			"(save it from Excel as \"CSV UTF-8\")", at)
	}
	return string(out), "GB18030", nil
}

// invalidUTF8 returns the offset of the first byte that is not UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// invalidGB18030 returns the offset of the first byte that does not start
// a sequence GB18030 decodes to a character, or -1. GB18030 is one byte
// for ASCII, two for 0x81–0xFE followed by 0x40–0x7E or 0x80–0xFE, and
// four for 0x81–0xFE, 0x30–0x39, 0x81–0xFE, 0x30–0x39.
func invalidGB18030(b []byte) int {
	dec := simplifiedchinese.GB18030.NewDecoder()
	for i := 0; i < len(b); {
		c := b[i]
		n := 0
		switch {
		case c < 0x80:
			i++
			continue
		case c == 0x80 || c == 0xFF:
			return i
		case i+1 < len(b) && (b[i+1] >= 0x40 && b[i+1] <= 0x7E || b[i+1] >= 0x80 && b[i+1] <= 0xFE):
			n = 2
		case i+3 < len(b) && b[i+1] >= 0x30 && b[i+1] <= 0x39 && b[i+2] >= 0x81 && b[i+2] <= 0xFE && b[i+3] >= 0x30 && b[i+3] <= 0x39:
			n = 4
		default:
			return i
		}
		if out, err := dec.Bytes(b[i : i+n]); err != nil || bytes.ContainsRune(out, utf8.RuneError) {
			return i
		}
		i += n
	}
	return -1
}

// separator picks the field separator from the first line: the most
// frequent of comma, semicolon and tab outside quotes, comma on a tie.
func separator(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	counts := map[rune]int{}
	quoted := false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ',' || r == ';' || r == '\t'):
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{'\t', ';'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}
