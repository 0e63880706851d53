package dynamo_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

// activityRev reads the revision of a customer's activity item: what
// every write of it moves.
func activityRev(t *testing.T, e *env, id string) string {
	t.Helper()
	res, err := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &e.table, Key: dynamo.KeyOf("CUST#"+id, "~S"), ConsistentRead: aws.Bool(true)})
	if err != nil || res.Item == nil {
		t.Fatalf("activity of %s: %v", id, err)
	}
	return res.Item["rev"].(*types.AttributeValueMemberN).Value
}

const nameOrderPK = "ORDER#NAME#ALL"

// A rename moves the name's order entry with the name's search keys, and
// writes no activity; the entry goes with an archive and comes back with
// a restore. The layout before (the entry recorded by the activity, the
// manifest of layout 2 without it) is brought to it by the migration,
// once, which takes the entry over where it stands and moves one the
// activity recorded at a name since changed.
func TestARenameMovesTheNameOrderEntryWithoutTheActivityAndTheMigrationTakesItOver(t *testing.T) {
	e := mustEnv(t)
	ids := searchFixture(t, e)
	acme := ids["acme"]
	e.drain(t)
	rev := activityRev(t, e, acme)
	c := mustCustomer(t, e, acme)
	name := "Initech Trading"
	if _, err := e.svc.UpdateCustomer(as(admin), acme, c.Version, crm.CustomerUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if got := activityRev(t, e, acme); got != rev {
		t.Errorf("the rename wrote the activity: revision %s, was %s", got, rev)
	}
	mustHoldInvariants(t, e) // the name's entry at the new name, the old one gone
	c = mustCustomer(t, e, acme)
	c, err := e.svc.ArchiveCustomer(as(admin), acme, c.Version)
	if err != nil {
		t.Fatal(err)
	}
	mustHoldInvariants(t, e) // no entry while archived
	if _, err := e.svc.RestoreCustomer(as(admin), acme, c.Version); err != nil {
		t.Fatal(err)
	}
	mustHoldInvariants(t, e)

	// The layout before, on a table whose other migrations are done.
	if _, err := e.store.Migrate(as(admin), func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table,
		Key: dynamo.KeyOf("MIGRATION#2026-12-search-keys-order", "PROGRESS")}); err != nil {
		t.Fatal(err)
	}
	for id, entry := range toSearchLayout2(t, e) {
		if id == acme {
			// Recorded at the name before the rename, its entry left
			// there, the one at the new name missing.
			if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table, Key: dynamo.KeyOf(nameOrderPK, entry)}); err != nil {
				t.Fatal(err)
			}
			entry = "1acme trading co ltd\x01" + acme
			mustPut(t, e, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: nameOrderPK},
				"sk": &types.AttributeValueMemberS{Value: entry}, "type": &types.AttributeValueMemberS{Value: "order"},
				"customerId": &types.AttributeValueMemberS{Value: acme}})
		}
		if _, err := e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table, Key: dynamo.KeyOf("CUST#"+id, "~S"),
			UpdateExpression:          aws.String("SET ord.#n = :n"),
			ExpressionAttributeNames:  map[string]string{"#n": "name"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberS{Value: entry}}}); err != nil {
			t.Fatal(err)
		}
	}
	status, err := e.store.Migrate(as(admin), func() bool { return true })
	if m := migrationNamed(status, "2026-12-search-keys-order"); err != nil || !m.Done || m.Changed != len(ids) {
		t.Fatalf("migration: %+v %v", m, err)
	}
	mustChangeNothingAgain(t, e, e.store.SearchPage)
	mustHoldInvariants(t, e)
}

// toSearchLayout2 writes the search manifests as layout 2 wrote them (no
// order entry named) and returns the name's order entry each named, by
// customer.
func toSearchLayout2(t *testing.T, e *env) map[string]string {
	t.Helper()
	entries := map[string]string{}
	_, manifests := searchItems(t, e)
	for _, m := range manifests {
		put := maps.Clone(m)
		put["v"] = &types.AttributeValueMemberN{Value: "2"}
		var keys []types.AttributeValue
		entry := ""
		for _, k := range m["keys"].(*types.AttributeValueMemberL).Value {
			if pk, sk, _ := strings.Cut(k.(*types.AttributeValueMemberS).Value, "\n"); pk == nameOrderPK {
				entry = sk
				continue
			}
			keys = append(keys, k)
		}
		put["keys"] = &types.AttributeValueMemberL{Value: keys}
		mustPut(t, e, put)
		entries[strings.TrimPrefix(attr(m, "pk"), "SEARCHKEYS#")] = entry
	}
	return entries
}
