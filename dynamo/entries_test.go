package dynamo_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/stream"
)

// A value a customer drops is released by the request that drops it, once
// its transaction is in.
func TestADroppedValueIsFreeWhenTheRequestReturns(t *testing.T) {
	e := mustEnv(t)
	a := mustCreate(t, e, admin, crm.CustomerInput{Name: "Holder", Emails: []string{"old@holder.cn"}})
	if _, err := e.svc.UpdateCustomer(as(admin), a.ID, a.Version, crm.CustomerUpdate{Emails: []string{"new@holder.cn"}}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Takes the old address", Emails: []string{"old@holder.cn"}})
	_, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindOrganization, Name: "Wants the new", Emails: []string{"new@holder.cn"}})
	var de *crm.Error
	if code(err) != crm.EDUPLICATE || !asErr(err, &de) || de.ExistingID != a.ID {
		t.Fatalf("create with the new address: %v, want DUPLICATE of %s", err, a.ID)
	}
	e.mustHoldInvariants(t)
}

// A request that stops between its transaction and the release leaves the
// claim behind: another customer asking for the value releases it (the
// holder's profile no longer holds it) and gets it, an import does not
// take the customer that gave it up for the row's duplicate, and the
// stream releases what nobody asked for; a value claimed again before the
// stream runs stays claimed, however often the release is delivered.
func TestADroppedValueLeftClaimedIsReleasedByTheStream(t *testing.T) {
	e := mustEnv(t)
	// The requests' store cannot delete: each stops after its transaction.
	stopped := dynamo.New(dynamodb.New(e.db.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("stopBeforeDelete",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if _, ok := in.Parameters.(*dynamodb.DeleteItemInput); ok {
						return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("the request stopped")
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}), e.table, []byte(strings.Repeat("k", 32)))
	svc := crm.NewService(stopped)

	a := mustCreate(t, e, admin, crm.CustomerInput{Name: "Holder", Phones: []string{"+8613700000001", "+8613700000002"},
		Emails: []string{"one@holder.cn", "two@holder.cn"}})
	a, err := svc.UpdateCustomer(as(admin), a.ID, a.Version, crm.CustomerUpdate{Phones: []string{"+8613700000002"}, Emails: []string{"two@holder.cn"}})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Asks for the number", Phones: []string{"+8613700000001"}})
	res, err := e.svc.ImportCustomers(as(admin), crm.ImportInput{ImportID: "given-up-address", Duplicates: crm.DuplicateUpdateEmpty,
		Rows: []crm.ImportRow{{Row: 2, Name: "Imported", Emails: []string{"one@holder.cn"}, Industry: "steel"}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Rows[0]; r.Status != crm.ImportCreated || r.CustomerID == a.ID {
		t.Fatalf("import row with the address left claimed: %+v, want created", r)
	}
	if got, err := e.svc.Customer(as(admin), a.ID); err != nil || got.Industry != "" {
		t.Fatalf("the customer that gave the address up: %v, industry %q", err, got.Industry)
	}

	// Left claimed and not asked for: the stream releases it.
	a, err = svc.UpdateCustomer(as(admin), a.ID, a.Version, crm.CustomerUpdate{Emails: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if claimed(t, e, "UNIQ#EMAIL#two@holder.cn") {
		t.Fatal("the stream left the claim of the address dropped")
	}

	// Dropped and claimed again before the stream runs: the release of the
	// first change leaves the claim of the second.
	dropped, err := svc.UpdateCustomer(as(admin), a.ID, a.Version, crm.CustomerUpdate{Phones: []string{"+8613700000003"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err = svc.UpdateCustomer(as(admin), a.ID, dropped.Version, crm.CustomerUpdate{Phones: []string{"+8613700000002", "+8613700000003"}})
	if err != nil {
		t.Fatal(err)
	}
	refused := func(name string) {
		t.Helper()
		_, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: name, Phones: []string{"+86 137 0000 0002"}})
		var de *crm.Error
		if code(err) != crm.EDUPLICATE || !asErr(err, &de) || de.ExistingID != a.ID || de.Field != "input.phones[0]" {
			t.Fatalf("create %q: %v, want DUPLICATE of %s", name, err, a.ID)
		}
	}
	e.drain(t)
	refused("Late")

	// Both changes delivered again, in their order: the claim is the
	// second change's, and stays.
	before := *dropped
	before.Phones, before.Version = []string{"+8613700000002"}, dropped.Version-1
	redelivered := []stream.Change{
		{Event: "MODIFY", Kind: stream.KindProfile, CustomerID: a.ID, CustomerBefore: &before, Customer: dropped},
		{Event: "MODIFY", Kind: stream.KindProfile, CustomerID: a.ID, CustomerBefore: dropped, Customer: a},
	}
	if err := e.store.WriteLookups(t.Context(), redelivered); err != nil {
		t.Fatal(err)
	}
	refused("Redelivered")

	// Several values left behind and asked for by one change: each is
	// released in turn.
	if _, err := svc.UpdateCustomer(as(admin), a.ID, a.Version, crm.CustomerUpdate{Phones: []string{}}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Asks for both", Phones: []string{"+8613700000002", "+8613700000003"}})
	e.mustHoldInvariants(t)
}

// A claim written before claims carried their version is released by the
// request that drops its value while the profile has not moved since.
func TestAClaimWithoutAVersionIsReleasedToo(t *testing.T) {
	e := mustEnv(t)
	a := mustCreate(t, e, admin, crm.CustomerInput{Name: "Old holder", Emails: []string{"old@legacy.cn", "kept@legacy.cn"}})
	for _, pk := range []string{"UNIQ#EMAIL#old@legacy.cn", "UNIQ#EMAIL#kept@legacy.cn"} {
		if _, err := e.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &e.table,
			Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "UNIQ"}},
			UpdateExpression: aws.String("REMOVE version")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.UpdateCustomer(as(admin), a.ID, a.Version, crm.CustomerUpdate{Emails: []string{"kept@legacy.cn"}}); err != nil {
		t.Fatal(err)
	}
	if claimed(t, e, "UNIQ#EMAIL#old@legacy.cn") || !claimed(t, e, "UNIQ#EMAIL#kept@legacy.cn") {
		t.Fatal("the request did not release the claim without a version of the address it dropped, or released the kept one")
	}
	mustCreate(t, e, admin, crm.CustomerInput{Name: "Takes it at once", Emails: []string{"old@legacy.cn"}})
	_, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Wants the kept", Emails: []string{"kept@legacy.cn"}})
	if code(err) != crm.EDUPLICATE {
		t.Fatalf("create with the address the holder kept: %v, want DUPLICATE", err)
	}
	e.mustHoldInvariants(t)
}

// claimed reports whether a claim item exists.
func claimed(t *testing.T, e *env, pk string) bool {
	t.Helper()
	out, err := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "UNIQ"}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item != nil
}
