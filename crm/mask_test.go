package crm

import (
	"slices"
	"testing"
	"time"
)

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+8613812345678", "+86 *** **** 5678"},
		{"13812345678", "+86 *** **** 5678"},
		{"+861065521234;ext=8001", "+86 ** **** 1234"}, // the extension is not shown
		{"+14155550100", "+1 *** *** 0100"},
		// Stored before numbers were canonical, and not one.
		{"1234567", "******67"},
		{"+123456", "+******56"},
		{"+861111111111", "+86******1111"},
	}
	for _, tt := range tests {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"li.wei@example.com", "l***@example.com"},
		{"a@example.cn", "a***@example.cn"},
		{"张伟@example.cn", "张***@example.cn"},
		{"not-an-email", "***"},
	}
	for _, tt := range tests {
		if got := MaskEmail(tt.in); got != tt.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPartnerPermissions(t *testing.T) {
	partner := &User{ID: "apikey:k1", Roles: []Role{RolePartner}, PartnerOrgID: "acme"}
	shared := &Customer{ID: "shared", OwnerID: "s1", Team: "north", Partners: []PartnerShare{{OrgID: "acme"}}}
	other := &Customer{ID: "other", OwnerID: "s1", Team: "north", Partners: []PartnerShare{{OrgID: "globex"}}}
	pool := &Customer{ID: "pool", Team: "north"}
	tests := []struct {
		name string
		u    *User
		c    *Customer
		read bool
	}{
		{"ReadsShared", partner, shared, true},
		{"NotOtherPartners", partner, other, false},
		{"NotThePool", partner, pool, false},
		{"RoleWithoutOrganizationReadsNothing", &User{ID: "x", Roles: []Role{RolePartner}}, shared, false},
		// A partner principal is never also staff, whatever roles it carries.
		{"StaffRolesDoNotWidenAPartner", &User{ID: "x", Roles: []Role{RoleAdmin, RolePartner}, PartnerOrgID: "globex"}, shared, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := canRead(tt.u, tt.c); got != tt.read {
				t.Errorf("canRead = %v, want %v", got, tt.read)
			}
			if canWork(tt.u, tt.c) || canAssign(tt.u, tt.c) || canEdit(tt.u, tt.c) || canCreate(tt.u, tt.c) || canReadPartners(tt.u) {
				t.Errorf("a partner may write %s or read the partner directory", tt.c.ID)
			}
		})
	}
	t.Run("ListIsBoundToTheOrganization", func(t *testing.T) {
		f := CustomerFilter{Grade: "A"}
		if err := visibility(partner, &f); err != nil || f.VisiblePartner != "acme" {
			t.Fatalf("visibility = %v, filter %+v", err, f)
		}
	})
	t.Run("TokensCannotClaimPartner", func(t *testing.T) {
		if _, ok := ParseRole("PARTNER"); ok {
			t.Fatal("ParseRole accepts PARTNER: a token could make its bearer a partner")
		}
	})
}

func TestViewsMaskByPolicy(t *testing.T) {
	now := time.Now()
	c := &Customer{
		ID: "c1", Phones: []string{"+8613812345678"}, Emails: []string{"li.wei@example.com"},
		Addresses:  []Address{{Label: "site", Line1: "1 Road", Line2: "Bldg 2", City: "Hangzhou", PostalCode: "310000", Country: "CN"}},
		Attributes: []Attribute{{Key: "technical lead", Value: "Zhang San"}},
		Partners:   []PartnerShare{{OrgID: "acme", By: "admin", At: now}, {OrgID: "globex", By: "admin", At: now}}, Activity: Activity{RecentEvaluations: []Evaluation{{ID: "e1", Comment: "Hard to reach"}}},
	}
	orig := c.Clone()
	all := &User{ID: "p", Roles: []Role{RolePartner}, PartnerOrgID: "acme", Masked: MaskFields}
	none := &User{ID: "p", Roles: []Role{RolePartner}, PartnerOrgID: "acme", Masked: []MaskField{}}
	staff := &User{ID: "a", Roles: []Role{RoleAdmin}}

	v := viewCustomer(all, c)
	if v.Phones[0] != "+86 *** **** 5678" || v.Emails[0] != "l***@example.com" {
		t.Errorf("phones %v emails %v", v.Phones, v.Emails)
	}
	if a := v.Addresses[0]; a.Line1 != "***" || a.Line2 != "***" || a.PostalCode != "***" || a.City != "Hangzhou" || a.Label != "site" || a.Country != "CN" {
		t.Errorf("address %+v", a)
	}
	if v.Attributes[0].Key != "technical lead" || v.Attributes[0].Value != "***" {
		t.Errorf("attributes %+v", v.Attributes)
	}
	if v.RecentEvaluations[0].Comment != "***" {
		t.Errorf("evaluation comment %q", v.RecentEvaluations[0].Comment)
	}
	if len(v.Partners) != 1 || v.Partners[0].OrgID != "acme" {
		t.Errorf("a partner sees shares %+v", v.Partners)
	}
	if u := viewCustomer(none, c); u.Phones[0] != "+8613812345678" || u.Emails[0] != "li.wei@example.com" || len(u.Partners) != 1 {
		t.Errorf("empty policy: %+v", u)
	}
	if viewCustomer(staff, c) != c {
		t.Error("staff get a copy (masked?) instead of the customer")
	}
	if c.Phones[0] != orig.Phones[0] || c.Attributes[0].Value != orig.Attributes[0].Value || len(c.Partners) != 2 ||
		c.RecentEvaluations[0].Comment != orig.RecentEvaluations[0].Comment || c.Addresses[0].Line1 != "1 Road" {
		t.Errorf("viewing changed the original: %+v", c)
	}

	ct := &Contact{ID: "ct", Phones: []string{"13812345678"}, Emails: []string{"p@example.com"}}
	onlyPhones := &User{ID: "p", Roles: []Role{RolePartner}, PartnerOrgID: "acme", Masked: []MaskField{MaskContactPhones}}
	if got := viewContact(onlyPhones, ct); got.Phones[0] != "+86 *** **** 5678" || got.Emails[0] != "p@example.com" {
		t.Errorf("contact %+v", got)
	}
	it := &Interaction{ID: "i", Subject: "Billing", Content: "Card ending 4242", Outcome: "refund", Attachments: []string{"https://x/rec.mp3"}}
	if got := viewInteraction(all, it); got.Subject != "Billing" || got.Content != "***" || got.Outcome != "***" || !slices.Equal(got.Attachments, []string{"***"}) {
		t.Errorf("interaction %+v", got)
	}
	cs := &Case{ID: "d", Plan: "call back", Transitions: []CaseTransition{{To: CaseOpen, Note: "angry"}}}
	if got := viewCase(all, cs); got.Plan != "***" || got.Transitions[0].Note != "***" || cs.Transitions[0].Note != "angry" {
		t.Errorf("case %+v (original %+v)", got, cs)
	}
}

func TestHashAPIKey(t *testing.T) {
	k := newAPIKeySecret()
	id, hash, ok := hashAPIKey(k)
	if !ok || len(id) != apiKeyIDLen || len(hash) != 64 || hash[:apiKeyIDLen] != id || len(k) != apiKeyLen {
		t.Fatalf("hashAPIKey(%q) = %q %q %v", k, id, hash, ok)
	}
	for _, bad := range []string{"", "rpk_", k[:len(k)-1], "xpk_" + k[4:], k[:10] + "!" + k[11:], k + "A"} {
		if _, _, ok := hashAPIKey(bad); ok {
			t.Errorf("hashAPIKey accepts %q", bad)
		}
	}
	if k2 := newAPIKeySecret(); k2 == k {
		t.Error("two keys are equal")
	}
}
