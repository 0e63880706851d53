package sheet

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xuri/excelize/v2"
)

// Writer writes a sheet row by row.
type Writer interface {
	// Write adds a row of cells.
	Write(cells []string) error
	// Close finishes the file; nothing is complete before it.
	Close() error
}

// Create starts a file of the given format at path. A CSV file is UTF-8
// with a byte order mark, which Excel needs to read it as UTF-8 rather than
// in the machine's code page; an .xlsx file has one worksheet, name, and
// every cell is text, so a phone number is never turned into a number.
func Create(path string, format Format, name string) (Writer, error) {
	if format == FormatXLSX {
		return newXLSXWriter(path, name)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return NewCSVWriter(f, true), nil
}

// NewCSVWriter writes CSV to w (closed by Close when it is an io.Closer),
// after a UTF-8 byte order mark when bom is set.
func NewCSVWriter(w io.Writer, bom bool) Writer {
	bw := bufio.NewWriter(w)
	c := &csvWriter{w: w, buf: bw, csv: csv.NewWriter(bw)}
	if bom {
		_, c.err = bw.Write(bomUTF8)
	}
	return c
}

type csvWriter struct {
	w   io.Writer
	buf *bufio.Writer
	csv *csv.Writer
	err error
}

func (c *csvWriter) Write(cells []string) error {
	if c.err != nil {
		return c.err
	}
	c.err = c.csv.Write(cells)
	return c.err
}

func (c *csvWriter) Close() error {
	c.csv.Flush()
	err := errors.Join(c.err, c.csv.Error(), c.buf.Flush())
	if cl, ok := c.w.(io.Closer); ok {
		err = errors.Join(err, cl.Close())
	}
	return err
}

// xlsxWriter streams rows into a worksheet (excelize keeps them in a
// temporary file, not in memory) and saves the workbook on Close.
type xlsxWriter struct {
	path string
	f    *excelize.File
	sw   *excelize.StreamWriter
	row  int
	text int // the style of text cells
}

func newXLSXWriter(path, name string) (*xlsxWriter, error) {
	f := excelize.NewFile()
	first := f.GetSheetName(0)
	if name != "" && name != first {
		if err := f.SetSheetName(first, name); err != nil {
			return nil, err
		}
		first = name
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(first)
	if err != nil {
		return nil, err
	}
	return &xlsxWriter{path: path, f: f, sw: sw, text: text}, nil
}

func (x *xlsxWriter) Write(cells []string) error {
	if x.row == 0 {
		if err := x.sw.SetColWidth(1, max(len(cells), 1), 18); err != nil {
			return err
		}
	}
	x.row++
	vals := make([]any, len(cells))
	for i, c := range cells {
		vals[i] = excelize.Cell{Value: c, StyleID: x.text}
	}
	cell, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return err
	}
	return x.sw.SetRow(cell, vals)
}

func (x *xlsxWriter) Close() error {
	err := x.sw.Flush()
	if err == nil {
		err = x.f.SaveAs(x.path)
	}
	return errors.Join(err, x.f.Close())
}

// Sheet is a small worksheet written whole, by WriteXLSX.
type Sheet struct {
	Name string
	Rows [][]string
	// Widths are the columns' widths in characters (default 18).
	Widths []float64
}

// WriteXLSX writes a workbook of a few small worksheets (a template and
// its help), every cell as text, the first row of each in bold.
func WriteXLSX(path string, sheets []Sheet) error {
	if len(sheets) == 0 {
		return errors.New("a workbook needs a worksheet")
	}
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, NumFmt: 49})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return err
	}
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName(f.GetSheetName(0), s.Name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(s.Name); err != nil {
			return err
		}
		width := 0
		for r, row := range s.Rows {
			width = max(width, len(row))
			for c, v := range row {
				cell, err := excelize.CoordinatesToCellName(c+1, r+1)
				if err != nil {
					return err
				}
				if err := f.SetCellStr(s.Name, cell, v); err != nil {
					return err
				}
			}
		}
		for c := range width {
			col, err := excelize.ColumnNumberToName(c + 1)
			if err != nil {
				return err
			}
			w := 18.0
			if c < len(s.Widths) {
				w = s.Widths[c]
			}
			if err := f.SetColWidth(s.Name, col, col, w); err != nil {
				return err
			}
			if err := f.SetColStyle(s.Name, col, text); err != nil {
				return err
			}
		}
		if width > 0 {
			last, _ := excelize.ColumnNumberToName(width)
			if err := f.SetCellStyle(s.Name, "A1", last+"1", bold); err != nil {
				return err
			}
		}
	}
	if err := f.SaveAs(path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
