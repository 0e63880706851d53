package bulk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/sheet"
)

// ExportOptions say which customers to export and where.
type ExportOptions struct {
	// Filter holds key=value pairs of the customers filter, several per
	// entry separated by commas: owner, pool, grade, stage, region, team,
	// tag, includeArchived.
	Filter []string
	Format sheet.Format
	// Out is the file to write; "-" writes CSV to Stdout.
	Out    string
	Stdout io.Writer
	// Lang is the language of the headers: zh (default) or en.
	Lang     string
	Progress Progress
}

// ExportSummary is what an export wrote.
type ExportSummary struct {
	Out  string
	Rows int
	// ContactsLeftOut counts customers with more than MaxContacts contact
	// persons, of whom the first MaxContacts (the primary first) were
	// written.
	ContactsLeftOut int
	Elapsed         time.Duration
}

// exportPage is the page size of an export. Reading each customer's
// contacts is a DynamoDB query per customer, priced 50 complexity units
// each: 50 customers with every column fit the API's limit of 5,000.
const exportPage = 50

const exportQuery = `query Export($filter: CustomerFilter, $first: Int!, $after: String, $count: Boolean!) {
  customers(filter: $filter, first: $first, after: $after) {
    totalCount @include(if: $count)
    pageInfo { hasNextPage endCursor }
    edges { node {
      kind name phones emails addresses { label line1 line2 city region postalCode country }
      industry region source annualRevenue creditRating companyStatus stage ownerId team
      grade { source level { code } } tags attributes { key value }
      contacts { name title role phones emails primary }
    } }
  }
}`

type exportedCustomer struct {
	Kind          string
	Name          string
	Phones        []string
	Emails        []string
	Addresses     []addressInput
	Industry      string
	Region        string
	Source        string
	AnnualRevenue *float64
	CreditRating  string
	CompanyStatus string
	Stage         string
	OwnerID       string
	Team          string
	Grade         struct {
		Source string
		Level  struct{ Code string }
	}
	Tags       []string
	Attributes []attributeInput
	Contacts   []struct {
		contactInput
		Primary bool
	}
}

// Export writes every customer the client may read that matches the
// filter, page by page, in the columns an import reads.
func Export(ctx context.Context, c *Client, o ExportOptions) (*ExportSummary, error) {
	filter, err := readFilter(o.Filter)
	if err != nil {
		return nil, err
	}
	if o.Lang == "" {
		o.Lang = "zh"
	}
	if o.Progress == nil {
		o.Progress = NewProgress(io.Discard, time.Hour)
	}
	var w sheet.Writer
	switch {
	case o.Out == "-" && o.Format == sheet.FormatXLSX:
		return nil, fmt.Errorf("an .xlsx export needs a file: give -o")
	case o.Out == "-":
		w = sheet.NewCSVWriter(o.Stdout, false)
	default:
		if w, err = sheet.Create(o.Out, o.Format, map[string]string{"zh": "客户", "en": "customers"}[o.Lang]); err != nil {
			return nil, err
		}
	}
	sum := &ExportSummary{Out: o.Out}
	began := time.Now()
	err = export(ctx, c, filter, w, o, sum)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	sum.Elapsed = time.Since(began)
	return sum, err
}

func export(ctx context.Context, c *Client, filter map[string]any, w sheet.Writer, o ExportOptions, sum *ExportSummary) error {
	if err := w.Write(Header(o.Lang)); err != nil {
		return err
	}
	var after any
	for first := true; ; first = false {
		var out struct {
			Customers struct {
				TotalCount *int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct{ Node exportedCustomer }
			}
		}
		if err := c.Do(ctx, exportQuery, map[string]any{"filter": filter, "first": exportPage, "after": after, "count": first}, &out); err != nil {
			return err
		}
		page := out.Customers
		if first {
			total := -1
			if page.TotalCount != nil {
				total = *page.TotalCount
			}
			o.Progress.Start(total, "export")
			defer o.Progress.Done()
		}
		for _, e := range page.Edges {
			row, more := exportRow(e.Node)
			if more {
				sum.ContactsLeftOut++
			}
			if err := w.Write(row); err != nil {
				return err
			}
			sum.Rows++
		}
		o.Progress.Add(len(page.Edges))
		if !page.PageInfo.HasNextPage {
			return nil
		}
		after = page.PageInfo.EndCursor
	}
}

// exportRow writes a customer in the columns of Header; more says it has
// contacts beyond MaxContacts.
func exportRow(c exportedCustomer) ([]string, bool) {
	list := func(v []string) string { return strings.Join(v, "; ") }
	var addrs []string
	for _, a := range c.Addresses {
		var parts []string
		for _, p := range []string{a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		addrs = append(addrs, strings.Join(parts, ", "))
	}
	revenue := ""
	if c.AnnualRevenue != nil {
		revenue = strconv.FormatFloat(*c.AnnualRevenue, 'f', -1, 64)
	}
	// A grade set by hand goes out; one the rules set is set again by the
	// rules when the file comes back in.
	grade := ""
	if c.Grade.Source == "MANUAL" {
		grade = c.Grade.Level.Code
	}
	row := []string{c.Kind, c.Name, list(c.Phones), list(c.Emails), strings.Join(addrs, "\n"), c.Industry, c.Region, c.Source,
		revenue, c.CreditRating, c.CompanyStatus, c.Stage, "", c.OwnerID, c.Team, grade, list(c.Tags), writeAttributes(c.Attributes)}
	contacts := slices.Clone(c.Contacts)
	slices.SortStableFunc(contacts, func(a, b struct {
		contactInput
		Primary bool
	}) int {
		switch {
		case a.Primary == b.Primary:
			return 0
		case a.Primary:
			return -1
		}
		return 1
	})
	for g := range MaxContacts {
		if g < len(contacts) {
			ct := contacts[g]
			row = append(row, ct.Name, ct.Title, ct.Role, list(ct.Phones), list(ct.Emails))
		} else {
			row = append(row, "", "", "", "", "")
		}
	}
	return row, len(contacts) > MaxContacts
}

// writeAttributes writes archive entries as key=value lines, or as a JSON
// object when a key or value would not read back from such lines.
func writeAttributes(attrs []attributeInput) string {
	if len(attrs) == 0 {
		return ""
	}
	var lines []string
	plain := true
	for _, a := range attrs {
		plain = plain && !strings.ContainsAny(a.Key, "=:：\n\r") && !strings.ContainsAny(a.Value, "\n\r") &&
			a.Key == strings.TrimSpace(a.Key) && a.Value == strings.TrimSpace(a.Value) && a.Key != "" && a.Value != ""
		lines = append(lines, a.Key+"="+a.Value)
	}
	if plain {
		return strings.Join(lines, "\n")
	}
	obj := map[string]string{}
	for _, a := range attrs {
		obj[a.Key] = a.Value
	}
	b, _ := json.Marshal(obj)
	return string(b)
}

// readFilter reads --filter pairs into the API's CustomerFilter.
func readFilter(entries []string) (map[string]any, error) {
	f := map[string]any{}
	for _, entry := range entries {
		for _, kv := range strings.Split(entry, ",") {
			if strings.TrimSpace(kv) == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok {
				return nil, fmt.Errorf("--filter %q: write KEY=VALUE, e.g. --filter grade=A,region=north", kv)
			}
			switch strings.ToLower(k) {
			case "owner", "ownerid", "负责人":
				f["ownerId"] = v
			case "grade", "等级":
				f["grade"] = strings.ToUpper(v)
			case "stage", "阶段":
				f["stage"] = strings.ToUpper(v)
			case "region", "地区":
				f["region"] = v
			case "team", "团队":
				f["team"] = v
			case "tag", "标签":
				f["tag"] = v
			case "pool", "includearchived":
				b, err := strconv.ParseBool(v)
				if err != nil {
					return nil, fmt.Errorf("--filter %s=%q: write true or false", k, v)
				}
				f[map[string]string{"pool": "pool", "includearchived": "includeArchived"}[strings.ToLower(k)]] = b
			default:
				return nil, fmt.Errorf("--filter %q: filter by owner, pool, grade, stage, region, team, tag or includeArchived", k)
			}
		}
	}
	if len(f) == 0 {
		return nil, nil
	}
	return f, nil
}
