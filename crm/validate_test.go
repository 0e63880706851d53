package crm

import (
	"strings"
	"testing"
)

func validCustomer() *Customer {
	return &Customer{Kind: KindOrganization, Name: "Acme", Source: SourceWeb, Stage: StageExploration,
		Status: StatusActive, Verification: Unverified, Grade: GradeState{Level: "G"}}
}

func TestValidateCustomer(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(c *Customer)
		field  string // "" means valid
		verify func(t *testing.T, c *Customer)
	}{
		{name: "OK", edit: func(*Customer) {}},
		{name: "NormalizesPhonesEmailsTags", edit: func(c *Customer) {
			c.Phones = []string{"+86 (10) 6552-1234 转 8001"}
			c.Emails = []string{" Li.Wei@Example.COM "}
			c.Tags = []string{"Big Account", "big-account"}
		}, verify: func(t *testing.T, c *Customer) {
			if c.Phones[0] != "+861065521234;ext=8001" || c.Emails[0] != "li.wei@example.com" || len(c.Tags) != 1 || c.Tags[0] != "big-account" {
				t.Errorf("not normalized: %v %v %v", c.Phones, c.Emails, c.Tags)
			}
		}},
		{name: "ErrNameRequired", edit: func(c *Customer) { c.Name = "  " }, field: "input.name"},
		{name: "ErrNameTooLong", edit: func(c *Customer) { c.Name = strings.Repeat("x", MaxNameLen+1) }, field: "input.name"},
		{name: "ErrBadEmail", edit: func(c *Customer) { c.Emails = []string{"ok@example.com", "not-an-email"} }, field: "input.emails[1]"},
		{name: "ErrEmailWithDisplayName", edit: func(c *Customer) { c.Emails = []string{"Bob <bob@example.com>"} }, field: "input.emails[0]"},
		{name: "ErrRepeatedEmail", edit: func(c *Customer) { c.Emails = []string{"a@b.co", "A@b.co"} }, field: "input.emails[1]"},
		{name: "ErrBadPhone", edit: func(c *Customer) { c.Phones = []string{"12ab"} }, field: "input.phones[0]"},
		{name: "ErrTooManyPhones", edit: func(c *Customer) { c.Phones = make([]string, MaxPhones+1) }, field: "input.phones"},
		{name: "ErrUnknownKind", edit: func(c *Customer) { c.Kind = "ROBOT" }, field: "input.kind"},
		{name: "ErrUnknownStage", edit: func(c *Customer) { c.Stage = "NOPE" }, field: "input.stage"},
		{name: "ErrUnknownGrade", edit: func(c *Customer) { c.Grade.Level = "Z" }, field: "input.grade"},
		{name: "ErrBadTag", edit: func(c *Customer) { c.Tags = []string{"ok", "no/slash"} }, field: "input.tags[1]"},
		{name: "ErrNegativeRevenue", edit: func(c *Customer) { v := -1.0; c.AnnualRevenue = &v }, field: "input.annualRevenue"},
		{name: "ErrRepeatedAttribute", edit: func(c *Customer) { c.Attributes = []Attribute{{"k", "1"}, {"k", "2"}} }, field: "input.attributes[1].key"},
		{name: "ErrControlCharacter", edit: func(c *Customer) { c.Industry = "bad\x00" }, field: "input.industry"},
		{name: "ErrAddressLineTooLong", edit: func(c *Customer) {
			c.Addresses = []Address{{City: strings.Repeat("x", MaxNameLen+1)}}
		}, field: "input.addresses[0].city"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCustomer()
			tt.edit(c)
			err := validateCustomer(c)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.verify != nil {
					tt.verify(t, c)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != EINVALID || e.Field != tt.field {
				t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, tt.field)
			}
		})
	}
}

func TestValidateTemplate(t *testing.T) {
	ind := func(key string, w float64) Indicator {
		return Indicator{Key: key, Name: key, Dimension: DimTrust, Weight: w, ScaleMin: 1, ScaleMax: 5}
	}
	tests := []struct {
		name  string
		in    TemplateInput
		field string
	}{
		{"OK", TemplateInput{Name: "T", Indicators: []Indicator{ind("a", 0.1), ind("b", 0.2), ind("c", 0.7)}}, ""},
		{"ErrWeightsNotSummingToOne", TemplateInput{Name: "T", Indicators: []Indicator{ind("a", 0.5), ind("b", 0.4)}}, "input.indicators"},
		{"ErrNoIndicators", TemplateInput{Name: "T"}, "input.indicators"},
		{"ErrZeroWeight", TemplateInput{Name: "T", Indicators: []Indicator{ind("a", 1), ind("b", 0)}}, "input.indicators[1].weight"},
		{"ErrBadKey", TemplateInput{Name: "T", Indicators: []Indicator{ind("A b", 1)}}, "input.indicators[0].key"},
		{"ErrRepeatedKey", TemplateInput{Name: "T", Indicators: []Indicator{ind("a", .5), ind("a", .5)}}, "input.indicators[1].key"},
		{"ErrEmptyScale", TemplateInput{Name: "T", Indicators: []Indicator{{Key: "a", Name: "a", Dimension: DimTrust, Weight: 1, ScaleMin: 3, ScaleMax: 3}}}, "input.indicators[0].scaleMax"},
		{"ErrUnknownDimension", TemplateInput{Name: "T", Indicators: []Indicator{{Key: "a", Name: "a", Dimension: "MOOD", Weight: 1, ScaleMin: 1, ScaleMax: 3}}}, "input.indicators[0].dimension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateTemplate(&tt.in)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if e, ok := err.(*Error); !ok || e.Field != tt.field {
				t.Fatalf("err = %v, want field %s", err, tt.field)
			}
		})
	}
}

func TestValidateInteraction(t *testing.T) {
	amount := 10.0
	base := func() *Interaction {
		return &Interaction{Channel: ChannelPhone, Direction: Inbound, Type: TypeCall}
	}
	tests := []struct {
		name  string
		edit  func(*Interaction)
		field string
	}{
		{"OK", func(*Interaction) {}, ""},
		{"OKTransaction", func(i *Interaction) { i.Type, i.Amount, i.Currency = TypeTransaction, &amount, "CNY" }, ""},
		{"ErrAmountOnCall", func(i *Interaction) { i.Amount, i.Currency = &amount, "CNY" }, "input.amount"},
		{"ErrTransactionWithoutAmount", func(i *Interaction) { i.Type = TypeTransaction }, "input.amount"},
		{"ErrBadCurrency", func(i *Interaction) { i.Type, i.Amount, i.Currency = TypeTransaction, &amount, "yuan" }, "input.currency"},
		{"ErrUnknownChannel", func(i *Interaction) { i.Channel = "PIGEON" }, "input.channel"},
		{"ErrAttachmentNotURL", func(i *Interaction) { i.Attachments = []string{"file:///etc/passwd"} }, "input.attachments[0]"},
		{"ErrContentTooLong", func(i *Interaction) { i.Content = strings.Repeat("x", MaxContentLen+1) }, "input.content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := base()
			tt.edit(it)
			err := validateInteraction(it)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if e, ok := err.(*Error); !ok || e.Field != tt.field {
				t.Fatalf("err = %v, want field %s", err, tt.field)
			}
		})
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+86 10 1234 5678", "(555) 123-4567", "+", "", "12345", "+1-800-FLOWERS"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizePhone(s)
		if err != nil {
			return
		}
		again, err := NormalizePhone(n)
		if err != nil || again != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, again)
		}
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"a@b.co", "A@B.CO", "<a@b.co>", "a@b", "\"x y\"@b.co", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := NormalizeEmail(s)
		if !ok {
			return
		}
		if again, ok2 := NormalizeEmail(n); !ok2 || again != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, again)
		}
	})
}
