package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// A profile write claims the values it adds in its transaction, which is
// what keeps two customers from holding one value, and releases the
// claims of the values it drops after it: a transaction bills 2 write
// units per item and a single delete 1 (docs/access-patterns.md,
// "Released claims"). A request that stops between the two leaves the
// release to the next customer asking for the value (crm's applyClaiming,
// through ReleaseClaim) or to the stream consumer (releaseClaims),
// whichever comes first.

// claimField is a profile field whose values are unique among customers.
type claimField struct {
	name   string // the input field a duplicate is reported on
	pk     func(value string) string
	values func(c *crm.Customer) []string
}

var claimFields = []claimField{
	{"phones", phonePK, func(c *crm.Customer) []string { return c.Phones }},
	{"emails", emailPK, func(c *crm.Customer) []string { return c.Emails }},
	{"creditCode", creditCodePK, func(c *crm.Customer) []string { return nonEmpty(c.CreditCode) }},
}

// droppedClaim is the claim of a value a profile write dropped.
type droppedClaim struct {
	pk, customerID string
	dropper        int // the profile version that dropped the value
}

// droppedClaims are the claims of the values before holds and after, the
// profile version dropper wrote, does not (nil: a profile removed).
func droppedClaims(before, after *crm.Customer, dropper int) []droppedClaim {
	var out []droppedClaim
	for _, f := range claimFields {
		var kept []string
		if after != nil {
			kept = f.values(after)
		}
		for _, v := range removed(f.values(before), kept) {
			out = append(out, droppedClaim{pk: f.pk(v), customerID: before.ID, dropper: dropper})
		}
	}
	return out
}

// releaseAfterBudget bounds what releasing a committed transaction's
// claims may add to its request: the answer is the transaction's.
const releaseAfterBudget = time.Second

// releaseAfter releases a committed transaction's dropped claims, within
// releaseAfterBudget and the request's own deadline. What it does not
// release, the next customer asking for the value or the stream consumer
// does, so a failure is not the request's.
func (s *Store) releaseAfter(ctx context.Context, dropped []droppedClaim) {
	if len(dropped) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, releaseAfterBudget)
	defer cancel()
	for _, d := range dropped {
		if err := s.dropClaim(ctx, d); err != nil {
			return
		}
	}
}

// dropClaim deletes a claim if it still names the customer and was written
// by a version before the one that dropped the value: a value the customer
// claimed again since (a later version's put) or that a merge's survivor
// took over stays claimed.
func (s *Store) dropClaim(ctx context.Context, d droppedClaim) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(d.pk, skUnique),
		ConditionExpression: aws.String("customerId = :id AND version < :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": str(d.customerID), ":v": num(d.dropper),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var kept *types.ConditionalCheckFailedException
	if errors.As(err, &kept) {
		if unversioned(kept.Item, d.customerID) {
			return s.dropUnversioned(ctx, d)
		}
		return nil
	}
	return wrap("release claim", err)
}

// unversioned reports whether a claim names the customer and carries no
// version: written before claims carried one, or by the release before
// during a deploy.
func unversioned(item map[string]types.AttributeValue, customerID string) bool {
	id, ok := item["customerId"].(*types.AttributeValueMemberS)
	_, versioned := item["version"]
	return ok && id.Value == customerID && !versioned
}

// dropUnversioned releases a claim without a version while the profile is
// still at the version that dropped the value: nothing tells such a claim
// from one made again since but the profile not having moved. One that
// moved leaves it to ReleaseClaim, when another customer asks for the
// value.
func (s *Store) dropUnversioned(ctx context.Context, d droppedClaim) error {
	if err := s.releaseWhileUnmoved(ctx, d.pk, d.customerID, d.dropper); err != nil && crm.ErrorCode(err) != crm.ECONFLICT {
		return err
	}
	return nil
}

// releaseClaims releases, from the stream, the claims of the values the
// changes' profiles dropped that are still to release: a request released
// them after its transaction unless it stopped in between. It reads them
// first, consistently, so that a claim already released costs a read
// unit, not the write unit a refused conditional delete is billed; until
// a claim is released, another customer adding the value is refused with
// a CONFLICT to retry (crm.Service). A batch delivered again finds them
// released.
func (s *Store) releaseClaims(ctx context.Context, changes []stream.Change) error {
	var dropped []droppedClaim
	for _, ch := range changes {
		before := ch.CustomerBefore
		if ch.Kind != stream.KindProfile || before == nil {
			continue
		}
		dropper := before.Version + 1
		if ch.Customer != nil {
			dropper = ch.Customer.Version
		}
		dropped = append(dropped, droppedClaims(before, ch.Customer, dropper)...)
	}
	if len(dropped) == 0 {
		return nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(dropped))
	seen := map[string]bool{}
	for _, d := range dropped {
		if !seen[d.pk] {
			seen[d.pk] = true
			keys = append(keys, key(d.pk, skUnique))
		}
	}
	items, err := s.batchGetConsistent(ctx, keys, true)
	if err != nil {
		return err
	}
	type claim struct {
		PK         string `dynamodbav:"pk"`
		CustomerID string `dynamodbav:"customerId"`
		Version    *int   `dynamodbav:"version"`
	}
	held := map[string]claim{}
	for _, raw := range items {
		var c claim
		if err := attributevalue.UnmarshalMap(raw, &c); err != nil {
			return fmt.Errorf("unmarshal unique claim: %w", err)
		}
		held[c.PK] = c
	}
	for _, d := range dropped {
		c, ok := held[d.pk]
		if !ok || c.CustomerID != d.customerID || c.Version != nil && *c.Version >= d.dropper {
			continue // released, taken by another, or claimed again since
		}
		drop := s.dropClaim
		if c.Version == nil {
			drop = s.dropUnversioned
		}
		if err := drop(ctx, d); err != nil {
			return err
		}
		delete(held, d.pk)
	}
	return nil
}

// ReleaseClaim deletes the claim of a value its customer no longer holds,
// in one transaction with a check that the customer's profile is still
// at the version read without it (crm.Store): whatever wrote the claim,
// a profile that has not moved since it was read without the value has
// not claimed it again. Rare (a request stopped before its release, or a
// claim of the release before), so its 4 write units are no concern.
func (s *Store) ReleaseClaim(ctx context.Context, field, value, customerID string, version int) error {
	i := slices.IndexFunc(claimFields, func(f claimField) bool { return strings.HasPrefix(field, f.name) })
	if i < 0 {
		return crm.Errorf(crm.EINVALID, "%s is not a unique field", field)
	}
	return s.releaseWhileUnmoved(ctx, claimFields[i].pk(value), customerID, version)
}

// releaseWhileUnmoved deletes a claim naming the customer in one
// transaction with a check that the customer's profile is at version, one
// that does not hold the value. ECONFLICT when either moved.
func (s *Store) releaseWhileUnmoved(ctx context.Context, pk, customerID string, version int) error {
	cond, vals := versioned(version)
	return s.transact(ctx, []txItem{
		{write: types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table),
			Key: key(pk, skUnique), ConditionExpression: aws.String("customerId = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(customerID)}}}, onFail: conflict("the claim " + pk)},
		{write: types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table),
			Key: key(customerPK(customerID), skProfile), ConditionExpression: aws.String(cond),
			ExpressionAttributeValues: vals}}, onFail: conflict("customer " + customerID)},
	})
}
