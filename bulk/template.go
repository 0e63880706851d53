package bulk

import (
	"fmt"

	"github.com/rapportcrm/rapport/sheet"
)

// WriteTemplate writes an empty import file: the header row (in zh or en)
// and, in an .xlsx file, a second worksheet saying what each column holds.
func WriteTemplate(path, lang string) error {
	format, err := sheet.FormatOf(path)
	if err != nil {
		return err
	}
	header := Header(lang)
	if format == sheet.FormatCSV {
		w, err := sheet.Create(path, format, "")
		if err != nil {
			return err
		}
		if err := w.Write(header); err != nil {
			return err
		}
		return w.Close()
	}
	names := map[string][2]string{"zh": {"客户", "说明"}, "en": {"customers", "help"}}[lang]
	if names[0] == "" {
		return fmt.Errorf("language %q: use zh or en", lang)
	}
	help := [][]string{map[string][]string{
		"zh": {"列", "英文列名", "内容", "示例"},
		"en": {"column", "Chinese header", "what it holds", "example"},
	}[lang]}
	other := func(f *Field, g int) string {
		if lang == "en" {
			return f.Column("zh", g)
		}
		return f.Column("en", g)
	}
	for _, f := range Fields {
		help = append(help, []string{f.Column(lang, 0), other(f, 0), f.Help, f.Example})
	}
	for g := range MaxContacts {
		for _, f := range contactFields {
			example := f.Example
			if g > 0 {
				example = ""
			}
			help = append(help, []string{f.Column(lang, g), other(f, g), f.Help, example})
		}
	}
	return sheet.WriteXLSX(path, []sheet.Sheet{
		{Name: names[0], Rows: [][]string{header}},
		{Name: names[1], Rows: help, Widths: []float64{16, 16, 70, 30}},
	})
}
