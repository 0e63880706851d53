package dynamo_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

// searchItems returns the table's search key items and manifests.
func searchItems(t *testing.T, e *env) (keys, manifests []map[string]types.AttributeValue) {
	t.Helper()
	for _, prefix := range []string{"SEARCH#", "SEARCHKEYS#"} {
		res, err := e.db.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table,
			FilterExpression:          aws.String("begins_with(pk, :p)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: prefix}}})
		if err != nil {
			t.Fatal(err)
		}
		if prefix == "SEARCH#" {
			keys = res.Items
		} else {
			manifests = res.Items
		}
	}
	return keys, manifests
}

func attr(it map[string]types.AttributeValue, name string) string {
	if s, ok := it[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// A rename writes the keys of the name again and leaves the contact's
// and the phones' keys, which carry no name, alone: the customer is found
// by its new name, not its old one, and by its contact and phone, ranked
// as before; the layout before (every key carrying the name, manifests
// without a layout) is brought to it by the migration, once.
func TestARenameLeavesContactAndPhoneKeysAloneAndTheMigrationUnnamesThem(t *testing.T) {
	e := mustEnv(t)
	ids := searchFixture(t, e)
	find := func(query string) []string {
		t.Helper()
		return searchIDs(t, e, admin, query, crm.CustomerFilter{}, ids)
	}
	keys, manifests := searchItems(t, e)
	// Marks each contact and phone key of acme (which a write would
	// remove), and fails on a name carried by one.
	acme := ids["acme"]
	marked := 0
	for _, it := range keys {
		if kind := attr(it, "kind"); kind == "CONTACT" || kind == "PHONE" {
			if attr(it, "name") != "" {
				t.Errorf("%s key %s carries the name %q", kind, attr(it, "sk"), attr(it, "name"))
			}
			if attr(it, "customerId") == acme {
				if _, err := e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table,
					Key: dynamo.KeyOf(attr(it, "pk"), attr(it, "sk")), UpdateExpression: aws.String("SET untouched = :t"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}}); err != nil {
					t.Fatal(err)
				}
				marked++
			}
		}
	}
	if marked != 4 { // 王芳: her name, its pinyin and initials, her phone
		t.Fatalf("acme has %d contact and phone keys, want 4", marked)
	}
	c := mustCustomer(t, e, acme)
	name := "Initech Trading"
	if _, err := e.svc.UpdateCustomer(as(admin), acme, c.Version, crm.CustomerUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	for query, want := range map[string][]string{"acme": {}, "initech": {"acme"}, "trading": {"acme"}, "王芳": {"acme"}, "wangf": {"acme"},
		"5678": {"acme", "zhang"}} {
		if got := find(query); !slices.Equal(got, want) {
			t.Errorf("after the rename, %q finds %v, want %v", query, got, want)
		}
	}
	keys, _ = searchItems(t, e)
	for _, it := range keys {
		if kind := attr(it, "kind"); attr(it, "customerId") == acme && (kind == "CONTACT" || kind == "PHONE") && it["untouched"] == nil {
			t.Errorf("the rename wrote %s key %s again", kind, attr(it, "sk"))
		}
	}

	// The layout before, on a table whose other migrations are done:
	// every key carrying its customer's name, the manifests no layout.
	if _, err := e.store.Migrate(as(admin), func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table,
		Key: dynamo.KeyOf("MIGRATION#2026-12-search-keys-unnamed", "PROGRESS")}); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, m := range manifests {
		names[attr(m, "pk")[len("SEARCHKEYS#"):]] = attr(m, "name")
	}
	names[acme] = "initech trading"
	keys, manifests = searchItems(t, e)
	for _, it := range keys {
		put := maps.Clone(it)
		put["name"] = &types.AttributeValueMemberS{Value: names[attr(it, "customerId")]}
		delete(put, "untouched")
		mustPut(t, e, put)
	}
	for _, m := range manifests {
		put := maps.Clone(m)
		delete(put, "v")
		mustPut(t, e, put)
	}
	status, err := e.store.Migrate(as(admin), func() bool { return true })
	if m := migrationNamed(status, "2026-12-search-keys-unnamed"); err != nil || !m.Done || m.Changed != len(ids) {
		t.Fatalf("migration: %+v %v", m, err)
	}
	keys, _ = searchItems(t, e)
	for _, it := range keys {
		if kind := attr(it, "kind"); (kind == "CONTACT" || kind == "PHONE") && attr(it, "name") != "" {
			t.Errorf("after the migration, %s key %s carries a name", kind, attr(it, "sk"))
		}
	}
	if got := find("5678"); !slices.Equal(got, []string{"acme", "zhang"}) {
		t.Errorf("after the migration, 5678 finds %v", got)
	}
	// A page applied again writes nothing; the table is as its
	// customers imply.
	mustChangeNothingAgain(t, e, e.store.SearchPage)
	mustHoldInvariants(t, e)
}

func mustPut(t *testing.T, e *env, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := e.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &e.table, Item: item}); err != nil {
		t.Fatal(err)
	}
}
