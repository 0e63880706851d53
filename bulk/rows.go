package bulk

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// rowInput is a row as importCustomers takes it (ImportCustomerRowInput).
type rowInput struct {
	Row           int              `json:"row"`
	Kind          string           `json:"kind,omitempty"`
	Name          string           `json:"name,omitempty"`
	Phones        []string         `json:"phones,omitempty"`
	Emails        []string         `json:"emails,omitempty"`
	Addresses     []addressInput   `json:"addresses,omitempty"`
	Industry      string           `json:"industry,omitempty"`
	Region        string           `json:"region,omitempty"`
	Source        string           `json:"source,omitempty"`
	AnnualRevenue string           `json:"annualRevenue,omitempty"`
	CreditRating  string           `json:"creditRating,omitempty"`
	CompanyStatus string           `json:"companyStatus,omitempty"`
	Stage         string           `json:"stage,omitempty"`
	StageReason   string           `json:"stageReason,omitempty"`
	OwnerID       string           `json:"ownerId,omitempty"`
	Team          string           `json:"team,omitempty"`
	Grade         string           `json:"grade,omitempty"`
	Tags          []string         `json:"tags,omitempty"`
	Attributes    []attributeInput `json:"attributes,omitempty"`
	Contacts      []contactInput   `json:"contacts,omitempty"`
}

type addressInput struct {
	Label      string `json:"label,omitempty"`
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"`
}

type attributeInput struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type contactInput struct {
	Name   string   `json:"name,omitempty"`
	Title  string   `json:"title,omitempty"`
	Role   string   `json:"role,omitempty"`
	Phones []string `json:"phones,omitempty"`
	Emails []string `json:"emails,omitempty"`
}

// cell is where a value of a row came from: its column and the value.
type cell struct {
	column string
	value  string
}

// fileRow is a row of the file as the API takes it, with where each of
// its values came from, by the path the API names it with (name,
// phones[1], contacts[0].emails[0]…).
type fileRow struct {
	in      rowInput
	origins map[string]cell
}

// fieldPaths are the API's names of the customer's fields.
var fieldPaths = map[*Field]string{
	fieldKind: "kind", fieldName: "name", fieldPhone: "phones", fieldEmail: "emails", fieldAddress: "addresses",
	fieldIndustry: "industry", fieldRegion: "region", fieldSource: "source", fieldRevenue: "annualRevenue",
	fieldCredit: "creditRating", fieldStatus: "companyStatus", fieldStage: "stage", fieldStageReason: "stageReason",
	fieldOwner: "ownerId", fieldTeam: "team", fieldGrade: "grade", fieldTags: "tags", fieldAttributes: "attributes",
}

// splitters separate the values of a list cell.
var splitters = strings.NewReplacer(";", "\n", "；", "\n", ",", "\n", "，", "\n", "、", "\n", "/", "\n", "|", "\n", "\r", "\n")

// splitList reads a cell of several values.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(splitters.Replace(s), "\n") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// lines reads a cell of one value per line.
func lines(s string) []string {
	var out []string
	for _, v := range strings.Split(strings.ReplaceAll(s, "\r", "\n"), "\n") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// readAttributes reads an archive cell: a JSON object, or key=value (or
// key: value) lines; a line without either is kept under the column's
// name.
func readAttributes(column, s string) []attributeInput {
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") {
		var obj map[string]any
		if json.Unmarshal([]byte(t), &obj) == nil {
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			out := make([]attributeInput, 0, len(keys))
			for _, k := range keys {
				v, ok := obj[k].(string)
				if !ok {
					b, _ := json.Marshal(obj[k])
					v = string(b)
				}
				out = append(out, attributeInput{Key: k, Value: v})
			}
			return out
		}
	}
	var out []attributeInput
	for _, l := range lines(s) {
		i := strings.IndexAny(l, "=:：")
		if i <= 0 {
			out = append(out, attributeInput{Key: column, Value: l})
			continue
		}
		_, size := utf8.DecodeRuneInString(l[i:])
		out = append(out, attributeInput{Key: strings.TrimSpace(l[:i]), Value: strings.TrimSpace(l[i+size:])})
	}
	return out
}

// readRows makes the rows of a table under its header, leaving out rows
// with nothing in them; kind fills empty kind cells.
func readRows(rows [][]string, m *mapping, kind string) []fileRow {
	var out []fileRow
	for i := m.header + 1; i < len(rows); i++ {
		if r, ok := readRow(rows[i], i+1, m, kind); ok {
			out = append(out, r)
		}
	}
	return out
}

func readRow(cells []string, number int, m *mapping, kind string) (fileRow, bool) {
	r := fileRow{in: rowInput{Row: number}, origins: map[string]cell{}}
	var groups [MaxContacts]contactInput
	var groupOrigins [MaxContacts]map[string]cell
	empty := true
	for j, raw := range cells {
		if j >= len(m.columns) {
			break
		}
		v := strings.TrimSpace(raw)
		t := m.columns[j]
		col := m.names[j]
		note := func(path, value string) {
			if o, ok := r.origins[path]; !ok || o.value == "" && value != "" {
				r.origins[path] = cell{col, value}
			}
		}
		if path, ok := fieldPaths[t.field]; ok {
			// An empty cell is still where a required value was missing.
			note(path, "")
		}
		if v == "" {
			continue
		}
		empty = false
		if t.attr != "" {
			note(fmt.Sprintf("attributes[%d]", len(r.in.Attributes)), v)
			r.in.Attributes = append(r.in.Attributes, attributeInput{Key: t.attr, Value: v})
			continue
		}
		if t.field == nil {
			continue
		}
		if t.field.contact {
			if groupOrigins[t.group] == nil {
				groupOrigins[t.group] = map[string]cell{}
			}
			readContactCell(&groups[t.group], groupOrigins[t.group], t.field, col, v)
			continue
		}
		text := func(dst *string, path string) { *dst = v; note(path, v) }
		list := func(dst *[]string, path string, vals []string) {
			note(path, v)
			for _, x := range vals {
				note(fmt.Sprintf("%s[%d]", path, len(*dst)), x)
				*dst = append(*dst, x)
			}
		}
		switch t.field {
		case fieldKind:
			text(&r.in.Kind, "kind")
		case fieldName:
			text(&r.in.Name, "name")
		case fieldPhone:
			list(&r.in.Phones, "phones", splitList(v))
		case fieldEmail:
			list(&r.in.Emails, "emails", splitList(v))
		case fieldAddress:
			note("addresses", v)
			for _, l := range lines(v) {
				note(fmt.Sprintf("addresses[%d]", len(r.in.Addresses)), l)
				r.in.Addresses = append(r.in.Addresses, addressInput{Line1: l})
			}
		case fieldIndustry:
			text(&r.in.Industry, "industry")
		case fieldRegion:
			text(&r.in.Region, "region")
		case fieldSource:
			text(&r.in.Source, "source")
		case fieldRevenue:
			text(&r.in.AnnualRevenue, "annualRevenue")
		case fieldCredit:
			text(&r.in.CreditRating, "creditRating")
		case fieldStatus:
			text(&r.in.CompanyStatus, "companyStatus")
		case fieldStage:
			text(&r.in.Stage, "stage")
		case fieldStageReason:
			text(&r.in.StageReason, "stageReason")
		case fieldOwner:
			text(&r.in.OwnerID, "ownerId")
		case fieldTeam:
			text(&r.in.Team, "team")
		case fieldGrade:
			text(&r.in.Grade, "grade")
		case fieldTags:
			list(&r.in.Tags, "tags", splitList(v))
		case fieldAttributes:
			note("attributes", v)
			for _, a := range readAttributes(col, v) {
				note(fmt.Sprintf("attributes[%d]", len(r.in.Attributes)), a.Key+"="+a.Value)
				r.in.Attributes = append(r.in.Attributes, a)
			}
		}
	}
	if empty {
		return r, false
	}
	if r.in.Kind == "" {
		r.in.Kind = kind
	}
	for g := range groups {
		c := groups[g]
		if c.Name == "" && c.Title == "" && c.Role == "" && len(c.Phones) == 0 && len(c.Emails) == 0 {
			continue
		}
		prefix := fmt.Sprintf("contacts[%d]", len(r.in.Contacts))
		for path, o := range groupOrigins[g] {
			r.origins[prefix+"."+path] = o
			if _, ok := r.origins["contacts"]; !ok {
				r.origins["contacts"] = o
			}
		}
		r.in.Contacts = append(r.in.Contacts, c)
	}
	return r, true
}

func readContactCell(c *contactInput, origins map[string]cell, f *Field, col, v string) {
	note := func(path, value string) {
		if _, ok := origins[path]; !ok {
			origins[path] = cell{col, value}
		}
	}
	list := func(dst *[]string, path string) {
		note(path, v)
		for _, x := range splitList(v) {
			note(fmt.Sprintf("%s[%d]", path, len(*dst)), x)
			*dst = append(*dst, x)
		}
	}
	switch f {
	case fieldContact:
		c.Name = v
		note("name", v)
	case fieldContactTitle:
		c.Title = v
		note("title", v)
	case fieldContactRole:
		c.Role = v
		note("role", v)
	case fieldContactPhone:
		list(&c.Phones, "phones")
	case fieldContactEmail:
		list(&c.Emails, "emails")
	}
}

// origin finds where the value at a path of the row came from: the path
// itself, or the nearest enclosing one (phones[7] → phones).
func (r fileRow) origin(path string) cell {
	for p := path; p != ""; {
		if o, ok := r.origins[p]; ok {
			return o
		}
		switch i := strings.LastIndexAny(p, ".["); {
		case i < 0:
			p = ""
		default:
			p = p[:i]
		}
	}
	return cell{}
}
