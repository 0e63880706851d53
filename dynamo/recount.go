package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// valueRecount counts the customers stored before the per-value counters
// (counters.go) in them, exactly, while writes go on (issue #11), and then
// marks the table as counting every customer there (TEAMS valueCounts),
// which is when totals by kind, source and industry start reading them.
//
// Each customer is counted once, by whichever comes first: its activity
// records the profile version it was counted at (vc, vcAt). A customer
// created since starts counted (startActivity: its INSERT counts it); one
// the recount reaches is counted in one transaction that adds its
// profile's values, conditioned on that profile's version (so the image
// counted is the one in force) and on the activity's revision and its
// having no mark (moved on, so that a stream batch that read the activity
// before fails its own write and reads it again). The stream moves a
// customer in the per-value counters only for a profile version after the
// one marked (stream.Marks): a record of an earlier version was counted
// by the recount's image, and a record of a later one was written after
// the recount's transaction (its profile condition held), so the batch
// that brings it reads the mark. A second run, or a page applied again,
// finds every customer marked and writes nothing.
const valueRecount = "2026-12-recount-values"

// recountPage counts the customers of a page (their profiles) that their
// activity does not mark as counted.
func recountPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	changed := 0
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		if !strings.HasPrefix(pk, "CUST#") || sk != skProfile {
			continue
		}
		did, err := s.recountCustomer(ctx, customerIDOf(pk))
		if err != nil {
			return changed, fmt.Errorf("%s: %w", pk, err)
		}
		if did {
			changed++
		}
	}
	return changed, nil
}

// recountCustomer counts one customer in the per-value counters unless
// its activity says it is; a customer without an activity yet is left to
// whoever creates it (counted then).
func (s *Store) recountCustomer(ctx context.Context, id string) (bool, error) {
	for attempt := 0; ; attempt++ {
		p, a, err := s.readCustomer(ctx, id)
		if err != nil || p == nil || a == nil || a.ValuesCounted {
			return false, err
		}
		c := fromCustomerItem(p)
		t := &tx{s: s}
		t.update(customerPK(id), skActivity, "SET vc = :t, vcAt = :ver, rev = rev + :one",
			"rev = :rev AND attribute_not_exists(vc)", map[string]types.AttributeValue{
				":t": &types.AttributeValueMemberBOOL{Value: true}, ":ver": num(p.Version), ":one": num(1), ":rev": num(a.Rev)},
			conflict("the activity of customer "+id))
		cond, vals := versioned(p.Version)
		t.check(customerPK(id), skProfile, cond, vals, conflict("customer "+id))
		if c.Status == crm.StatusActive {
			add := adds{}
			valueCounts(add, c)
			for _, k := range sortedKeys(add) {
				t.addTo(k, add[k], "counter")
			}
		}
		err = s.transact(ctx, t.items)
		switch {
		case err == nil:
			return true, nil
		case crm.ErrorCode(err) == crm.ECONFLICT && attempt < txRetries:
			// The profile or the activity moved meanwhile: read again.
		default:
			return false, err
		}
	}
}

// recountDone marks the table once every customer is counted: the
// recount's walk is over, and every customer it did not count was
// counted from its creation.
func recountDone(ctx context.Context, s *Store) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(teamsPK, teamsPK),
		UpdateExpression:          aws.String("SET #type = :type, valueCounts = :t"),
		ExpressionAttributeNames:  map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":type": str("teams"), ":t": &types.AttributeValueMemberBOOL{Value: true}}})
	return wrap("mark the values counted", err)
}
