package dynamo

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// creditItems gives every customer with a contract a credit item. Every
// contract write since credit levels exist writes one (creditReview); the
// contracts of the release before them did not. Once done, a customer
// without a credit item has no contract, and its credit (the rule's
// verdict on no history) is known without reading its contracts: what
// lets a list show its customers' credit with one read for them all.
const creditItems = "2026-12-credit-items"

// creditItemsPage marks the customer of each contract of the page for a
// credit review, creating its credit item as a contract write would
// (without counting a write), unless it has one: the daily credit job
// then evaluates it. Conditioned on the item's absence, so running it
// again, or racing a contract write, changes nothing.
func creditItemsPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	changed := 0
	seen := map[string]bool{}
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		if !strings.HasPrefix(pk, "CUST#") || !strings.HasPrefix(sk, skContractPrefix) || seen[pk] {
			continue
		}
		seen[pk] = true
		id := strings.TrimPrefix(pk, "CUST#")
		cond := "attribute_not_exists(pk)"
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: key(pk, skCredit),
			UpdateExpression:         aws.String("SET #t = :t, customerId = :c, reviewing = :r, gDue = :d, gDueAt = :at"),
			ConditionExpression:      &cond,
			ExpressionAttributeNames: map[string]string{"#t": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": str("credit"), ":c": str(id),
				":r": &types.AttributeValueMemberBOOL{Value: true}, ":d": str(dueCredit), ":at": str("0#" + id)}})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &ccf): // it has one
		case err != nil:
			return changed, wrap("mark credit for review", err)
		default:
			changed++
		}
	}
	return changed, nil
}

// latch remembers, per process, a state of the table that never goes
// back once reached (a migration done).
type latch struct{ done atomic.Bool }

// creditItemsDone reports whether every customer with a contract has a
// credit item: one read of the migration's progress until it says so.
func (s *Store) creditItemsDone(ctx context.Context) (bool, error) {
	if s.credit.done.Load() {
		return true, nil
	}
	p, err := s.progress(ctx, creditItems)
	if err != nil {
		return false, err
	}
	if p.Done {
		s.credit.done.Store(true)
	}
	return p.Done, nil
}
