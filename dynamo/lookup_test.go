package dynamo_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

// popFixture is a customer of sales-1 with a mobile of its own and a
// contact person with a Beijing landline and an address.
func popFixture(t *testing.T, e *env) (*crm.Customer, *crm.Contact) {
	t.Helper()
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Huaxin Technology", Phones: []string{"+86 138 1234 5678"},
		Emails: []string{"info@huaxin.cn"}, OwnerID: &owner, Team: "north"})
	p, err := e.svc.AddContact(as(admin), c.ID, crm.ContactInput{Name: "Li Wei", Role: crm.ContactDecisionMaker,
		Phones: []string{"010-6552 1234"}, Emails: []string{"Li.Wei@Huaxin.cn"}})
	if err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	return c, p
}

// The screen pop finds the customer by its own number or a contact
// person's, written in any form, in two DynamoDB calls: the lookup's
// Query and the 360 view's.
func TestScreenPopFindsTheHolderOfAnyWrittenFormInTwoCalls(t *testing.T) {
	e := mustEnv(t)
	c, p := popFixture(t, e)
	for _, tc := range []struct{ phone, contact string }{
		{"+86 138 1234 5678", ""},
		{"0086-138-1234-5678", ""},
		{"138 1234 5678", ""},
		{"１３８１２３４５６７８", ""},
		{"+8613812345678", ""},
		{"(010) 6552 1234", p.ID},
		{"010-65521234", p.ID},
		{"+86 10 6552 1234", p.ID},
		{"010-65521234 转 8001", p.ID}, // the extension is not part of a caller ID
	} {
		t.Run(tc.phone, func(t *testing.T) {
			e.calls.Store(0)
			v, err := e.svc.CustomerByPhone(as(sales1), tc.phone, 5)
			if err != nil || v == nil || v.Customer.ID != c.ID {
				t.Fatalf("pop: %+v %v, want customer %s", v, err, c.ID)
			}
			if n := e.calls.Load(); n != 2 {
				t.Errorf("%d DynamoDB calls, want 2", n)
			}
			if len(v.Contacts) != 1 || v.Contacts[0].ID != p.ID {
				t.Errorf("contacts of the pop: %+v", v.Contacts)
			}
		})
	}
	for _, email := range []string{"info@huaxin.cn", "INFO@huaxin.CN", "li.wei@huaxin.cn"} {
		if v, err := e.svc.CustomerByEmail(as(sales1), email, 0); err != nil || v == nil || v.Customer.ID != c.ID {
			t.Errorf("pop by email %s: %+v %v", email, v, err)
		}
	}
}

func TestScreenPopOfAnUnknownNumberIsNullAndABadOneIsRefused(t *testing.T) {
	e := mustEnv(t)
	popFixture(t, e)
	for _, n := range []string{"139 0000 0000", "+44 20 7946 0958"} {
		e.calls.Store(0)
		if v, err := e.svc.CustomerByPhone(as(sales1), n, 5); err != nil || v != nil {
			t.Errorf("unknown %s: %+v %v, want null and no error", n, v, err)
		}
		if c := e.calls.Load(); c != 1 {
			t.Errorf("unknown %s: %d calls, want 1", n, c)
		}
	}
	if v, err := e.svc.CustomerByEmail(as(sales1), "nobody@huaxin.cn", 5); err != nil || v != nil {
		t.Errorf("unknown email: %+v %v", v, err)
	}
	for _, tc := range []struct{ phone, field string }{
		{"6552 1234", "phone"}, // a landline without its area code
		{"call me", "phone"},
		{"", "phone"},
	} {
		_, err := e.svc.CustomerByPhone(as(sales1), tc.phone, 5)
		var ce *crm.Error
		if code(err) != crm.EINVALID || !asError(err, &ce) || ce.Field != tc.field {
			t.Errorf("%q: %v, want BAD_USER_INPUT on %s", tc.phone, err, tc.field)
		}
	}
	if _, err := e.svc.CustomerByEmail(as(sales1), "not an address", 5); code(err) != crm.EINVALID {
		t.Errorf("bad email: %v", err)
	}
	if _, err := e.svc.CustomerByPhone(as(sales1), "138 1234 5678", 101); code(err) != crm.EINVALID {
		t.Errorf("101 recent interactions: %v", err)
	}
}

func asError(err error, out **crm.Error) bool {
	ce, ok := err.(*crm.Error)
	*out = ce
	return ok
}

// Whoever takes the call sees the caller: every staff role pops any
// customer; a pop outside the caller's usual reach is audited (who, which
// number, which customer), one within it is not. Partners never pop.
func TestWhoMayPopWhomAndWhatTheAuditLogRecords(t *testing.T) {
	e := mustEnv(t)
	c, p := popFixture(t, e)
	service := &crm.User{ID: "svc-south", Roles: []crm.Role{crm.RoleService}, Teams: []string{"south"}}
	for _, tc := range []struct {
		who     *crm.User
		number  string
		audited bool
	}{
		{sales1, "138 1234 5678", false},      // the owner
		{manager, "138 1234 5678", false},     // the team's manager
		{admin, "010 6552 1234", false},       // reads everything
		{sales2, "138 1234 5678", true},       // another salesperson
		{managerSouth, "010 6552 1234", true}, // another team's manager, by the contact's number
		{service, "138 1234 5678", true},      // a call-center agent of another team
	} {
		t.Run(tc.who.ID, func(t *testing.T) {
			before := popAudits(t, e, c.ID)
			e.calls.Store(0)
			v, err := e.svc.CustomerByPhone(as(tc.who), tc.number, 5)
			if err != nil || v == nil || v.Customer.ID != c.ID {
				t.Fatalf("pop: %+v %v", v, err)
			}
			calls := e.calls.Load()
			after := popAudits(t, e, c.ID)
			if !tc.audited {
				if len(after) != len(before) || calls != 2 {
					t.Fatalf("a pop within reach: %d audit entries (was %d), %d calls", len(after), len(before), calls)
				}
				return
			}
			if len(after) != len(before)+1 || calls != 3 {
				t.Fatalf("a pop outside reach: %d audit entries (was %d), %d calls (2 reads and the audit entry)", len(after), len(before), calls)
			}
			a := after[0]
			ch := a.Changes[0]
			n := "+8613812345678"
			if tc.number == "010 6552 1234" {
				n = "+861065521234"
			}
			if a.Actor != tc.who.ID || a.Operation != "customerByPhone" || ch.Action != crm.AuditRead || ch.ID != c.ID ||
				ch.Fields[0].Name != "phone" || ch.Fields[0].After != n {
				t.Fatalf("audit entry %+v %+v", a, ch)
			}
			if tc.number == "010 6552 1234" && (len(ch.Fields) != 2 || ch.Fields[1].After != p.ID) {
				t.Fatalf("the contact it was found through: %+v", ch.Fields)
			}
		})
	}
	partner := partnerUser
	if _, err := e.svc.CustomerByPhone(as(partner), "138 1234 5678", 5); code(err) != crm.EFORBIDDEN {
		t.Fatalf("a partner's pop: %v, want FORBIDDEN", err)
	}
	if _, err := e.svc.CustomerByPhone(as(partner), "not a number", 5); code(err) != crm.EFORBIDDEN {
		t.Fatalf("a partner's pop of a bad number: %v, want FORBIDDEN before the rules", err)
	}
	if _, err := e.svc.CustomerByEmail(as(partner), "info@huaxin.cn", 5); code(err) != crm.EFORBIDDEN {
		t.Fatalf("a partner's pop by email: %v, want FORBIDDEN", err)
	}
}

// popAudits are the screen pops of a customer in its audit log, newest
// first.
func popAudits(t *testing.T, e *env, id string) []*crm.AuditEntry {
	t.Helper()
	ctx := crm.WithAuditScope(as(admin), crm.AuditScope{Operation: "auditLog"})
	page, err := e.svc.AuditLog(ctx, crm.AuditFilter{CustomerID: id}, crm.PageRequest{First: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []*crm.AuditEntry
	for _, a := range page.Items {
		if len(a.Changes) > 0 && a.Changes[0].Action == crm.AuditRead {
			out = append(out, a)
		}
	}
	return out
}

// The lookup follows the profiles and contacts: a number removed no longer
// pops, a new one does, a contact removed takes its numbers along, a
// merged customer's numbers pop its survivor, and a number held by a
// customer as its own wins over a contact's.
func TestTheLookupFollowsChangesAndMerges(t *testing.T) {
	e := mustEnv(t)
	c, p := popFixture(t, e)
	pop := func(n string) string {
		t.Helper()
		v, err := e.svc.CustomerByPhone(as(admin), n, 0)
		if err != nil {
			t.Fatal(err)
		}
		if v == nil {
			return ""
		}
		return v.Customer.ID
	}
	c, err := e.svc.UpdateCustomer(as(admin), c.ID, mustCustomer(t, e, c.ID).Version, crm.CustomerUpdate{Phones: []string{"139 8888 7777"}})
	if err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if got := pop("138 1234 5678"); got != "" {
		t.Errorf("a removed number pops %s", got)
	}
	if got := pop("13988887777"); got != c.ID {
		t.Errorf("a new number pops %q", got)
	}
	// Another customer takes the contact's landline as its own number.
	other := mustCreate(t, e, admin, crm.CustomerInput{Name: "Switchboard Ltd", Phones: []string{"+86 10 6552 1234"}})
	e.drain(t)
	if got := pop("010-65521234"); got != other.ID {
		t.Errorf("a number held as its own and by a contact pops %q, want the one holding it as its own", got)
	}
	if _, err := e.svc.RemoveContact(as(admin), c.ID, p.ID, p.Version); err != nil {
		t.Fatal(err)
	}
	// A merge moves the merged customer's numbers to its survivor.
	dup := mustCreate(t, e, admin, crm.CustomerInput{Name: "Huaxin Tech (dup)", Phones: []string{"+86 137 0000 1111"}})
	e.drain(t)
	mustMerge(t, e, admin, mustCustomer(t, e, c.ID), mustCustomer(t, e, dup.ID))
	e.drain(t)
	if got := pop("137 0000 1111"); got != c.ID {
		t.Errorf("a merged customer's number pops %q, want the survivor %s", got, c.ID)
	}
	mustHoldInvariants(t, e)
}

// The backfill writes the lookup of what was stored before the stream kept
// it; run twice, or a page applied again, it leaves the same entries.
func TestLookupBackfillRunsTwiceToTheSameLookup(t *testing.T) {
	e := mustEnv(t)
	c, _ := popFixture(t, e)
	// The layout before: no lookup entries.
	deleteLookups := func() int {
		res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table,
			FilterExpression:          aws.String("begins_with(pk, :p)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "LOOKUP#"}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table,
				Key: dynamo.KeyOf(it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberS).Value)}); err != nil {
				t.Fatal(err)
			}
		}
		return len(res.Items)
	}
	if n := deleteLookups(); n != 4 {
		t.Fatalf("%d lookup entries, want 4 (2 phones, 2 emails)", n)
	}
	if v, err := e.svc.CustomerByPhone(as(admin), "138 1234 5678", 0); err != nil || v != nil {
		t.Fatalf("before the backfill: %+v %v", v, err)
	}
	e.store.SetMigrationPage(3)
	status, err := e.store.Migrate(as(admin), func() bool { return true })
	if m := migrationNamed(status, "2026-12-caller-lookup"); err != nil || !m.Done || m.Changed != 2 {
		t.Fatalf("backfill: %+v %v", status, err)
	}
	for _, n := range []string{"138 1234 5678", "010 6552 1234"} {
		if v, err := e.svc.CustomerByPhone(as(admin), n, 0); err != nil || v == nil || v.Customer.ID != c.ID {
			t.Fatalf("after the backfill, %s: %+v %v", n, v, err)
		}
	}
	if status, err = e.store.Migrate(as(admin), func() bool { return true }); err != nil || migrationNamed(status, "2026-12-caller-lookup").Changed != 2 {
		t.Fatalf("a second run: %+v %v", status, err)
	}
	// A page applied again (a run that stopped before recording it).
	res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.store.LookupPage(as(admin), res.Items); err != nil || n != 2 {
		t.Fatalf("the page again: %d, %v", n, err)
	}
	mustHoldInvariants(t, e)
}

// oldPhones stores phones as the release before canonical numbers kept
// them (only separators removed), with their unique claims, on a profile
// (contact "") or a contact.
func oldPhones(t *testing.T, e *env, customer, contact string, phones ...string) {
	t.Helper()
	sk := "~P"
	if contact != "" {
		sk = "~C#" + contact
	}
	var list []types.AttributeValue
	for _, p := range phones {
		list = append(list, &types.AttributeValueMemberS{Value: p})
	}
	res, err := e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table, Key: dynamo.KeyOf("CUST#"+customer, sk),
		UpdateExpression:          aws.String("SET phones = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberL{Value: list}},
		ReturnValues:              types.ReturnValueUpdatedOld})
	if err != nil || contact != "" {
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, v := range res.Attributes["phones"].(*types.AttributeValueMemberL).Value {
		if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table,
			Key: dynamo.KeyOf("UNIQ#PHONE#"+v.(*types.AttributeValueMemberS).Value, "UNIQ")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range phones {
		if _, err := e.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &e.table, Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "UNIQ#PHONE#" + p}, "sk": &types.AttributeValueMemberS{Value: "UNIQ"},
			"type": &types.AttributeValueMemberS{Value: "unique"}, "customerId": &types.AttributeValueMemberS{Value: customer}}}); err != nil {
			t.Fatal(err)
		}
	}
}

// The canonical phones migration rewrites numbers stored in the old forms,
// moves their unique claims, leaves a number another customer claims in
// canonical form as it was (a duplicate for a person to merge), and changes
// nothing the second time; uniqueness then holds across written forms.
func TestCanonicalPhonesMigrationRunsTwiceToTheSameNumbers(t *testing.T) {
	e := mustEnv(t)
	a, p := popFixture(t, e)
	oldPhones(t, e, a.ID, "", "13812345678", "01065521234", "+8601065521234")
	oldPhones(t, e, a.ID, p.ID, "01065521234")
	b := mustCreate(t, e, admin, crm.CustomerInput{Name: "Same Mobile", Phones: []string{"+86 138 1234 5678"}})
	odd := mustCreate(t, e, admin, crm.CustomerInput{Name: "Old Short Number", Phones: []string{"+86 139 0000 0000"}})
	oldPhones(t, e, odd.ID, "", "655212")
	e.drain(t)
	var before []map[string]types.AttributeValue
	res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}
	before = res.Items

	e.store.SetMigrationPage(5)
	status, err := e.store.Migrate(as(admin), func() bool { return true })
	if m := migrationNamed(status, "2026-12-canonical-phones"); err != nil || !m.Done || m.Changed != 2 {
		t.Fatalf("migration: %+v %v, want the profile and the contact changed", status, err)
	}
	if got := mustCustomer(t, e, a.ID).Phones; !slices.Equal(got, []string{"13812345678", "+861065521234"}) {
		t.Errorf("phones %v, want the mobile another customer claims kept as it was, the landline's two forms one", got)
	}
	if got := mustCustomer(t, e, odd.ID).Phones; !slices.Equal(got, []string{"655212"}) {
		t.Errorf("a number without a canonical form: %v", got)
	}
	if cs, err := e.svc.Contacts(as(admin), a.ID); err != nil || !slices.Equal(cs[0].Phones, []string{"+861065521234"}) {
		t.Errorf("contact: %+v %v", cs, err)
	}
	if status, err = e.store.Migrate(as(admin), func() bool { return true }); err != nil || migrationNamed(status, "2026-12-canonical-phones").Changed != 2 {
		t.Fatalf("a second run: %+v %v", status, err)
	}
	if n, err := e.store.PhonesPage(as(admin), before); err != nil || n != 0 {
		t.Fatalf("the old items applied again: %d changed, %v", n, err)
	}
	// Uniqueness holds across written forms now.
	_, err = e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindOrganization, Name: "Another", Phones: []string{"(010) 6552 1234"}})
	if ce, ok := err.(*crm.Error); !ok || ce.Code != crm.EDUPLICATE || ce.ExistingID != a.ID {
		t.Fatalf("a landline in another form: %v, want DUPLICATE of %s", err, a.ID)
	}
	if v, err := e.svc.CustomerByPhone(as(admin), "138 1234 5678", 0); err != nil || v == nil || v.Customer.ID != b.ID {
		t.Fatalf("the mobile pops %+v %v, want the customer holding it in canonical form", v, err)
	}
	mustHoldInvariants(t, e)
}
