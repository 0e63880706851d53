package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	jitter "github.com/rapportcrm/rapport/internal/backoff"
)

// get reads one item strongly consistently, since it usually precedes a
// conditional write, into out; missing items are ENOTFOUND with msg.
func (s *Store) get(ctx context.Context, pk, sk string, out any, msg string) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return wrap("get "+pk, err)
	}
	if res.Item == nil {
		return crm.Errorf(crm.ENOTFOUND, "%s", msg)
	}
	if err := unmarshalItem(res.Item, out); err != nil {
		return fmt.Errorf("unmarshal %s/%s: %w", pk, sk, err)
	}
	return nil
}

// Contact reads one contact.
func (s *Store) Contact(ctx context.Context, customerID, id string) (*crm.Contact, error) {
	var it contactItem
	if err := s.get(ctx, customerPK(customerID), contactSK(id), &it, "contact "+id+" not found"); err != nil {
		return nil, err
	}
	return fromContactItem(&it), nil
}

// Interaction reads one interaction.
func (s *Store) Interaction(ctx context.Context, k crm.InteractionKey) (*crm.Interaction, error) {
	var it interactionItem
	if err := s.get(ctx, customerPK(k.CustomerID), interactionSK(k.ID), &it, "interaction "+k.ID+" not found"); err != nil {
		return nil, err
	}
	return fromInteractionItem(&it), nil
}

// batchSize is BatchGetItem's limit of keys per call.
const batchSize = 100

// batchGet reads items by key, 100 per call, retrying unprocessed keys
// with backoff until done or the context ends.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	return s.batchGetConsistent(ctx, keys, false)
}

// batchGetConsistent is batchGet, with strongly consistent reads when
// consistent is set.
func (s *Store) batchGetConsistent(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool) ([]map[string]types.AttributeValue, error) {
	var how types.KeysAndAttributes
	if consistent {
		how.ConsistentRead = aws.Bool(true)
	}
	return s.batchGetAs(ctx, keys, how)
}

// batchGetProjected is batchGet of only the attributes projection names.
func (s *Store) batchGetProjected(ctx context.Context, keys []map[string]types.AttributeValue, projection string) ([]map[string]types.AttributeValue, error) {
	return s.batchGetAs(ctx, keys, types.KeysAndAttributes{ProjectionExpression: aws.String(projection)})
}

// batchGetAs is batchGet, each call read as how says (its Keys set here).
func (s *Store) batchGetAs(ctx context.Context, keys []map[string]types.AttributeValue, how types.KeysAndAttributes) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += batchSize {
		ka := how
		ka.Keys = keys[start:min(start+batchSize, len(keys))]
		pending := map[string]types.KeysAndAttributes{s.table: ka}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if err := jitter.Sleep(ctx, backoff(min(attempt, 6))); err != nil {
					return nil, wrap("batch get", err)
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, wrap("batch get", err)
			}
			out = append(out, res.Responses[s.table]...)
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// Interactions reads many interactions.
func (s *Store) Interactions(ctx context.Context, ks []crm.InteractionKey) (map[crm.InteractionKey]*crm.Interaction, error) {
	seen := map[crm.InteractionKey]bool{}
	var keys []map[string]types.AttributeValue
	for _, k := range ks {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, key(customerPK(k.CustomerID), interactionSK(k.ID)))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[crm.InteractionKey]*crm.Interaction, len(items))
	for _, raw := range items {
		var it interactionItem
		if err := unmarshalItem(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal interaction: %w", err)
		}
		out[crm.InteractionKey{CustomerID: it.CustomerID, ID: it.ID}] = fromInteractionItem(&it)
	}
	return out, nil
}

// Contacts lists a customer's contacts.
func (s *Store) Contacts(ctx context.Context, customerID string) ([]*crm.Contact, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(customerID)), ":p": str(skContactPrefix)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, wrap("query contacts", err)
	}
	out := make([]*crm.Contact, 0, len(res.Items))
	for _, raw := range res.Items {
		var it contactItem
		if err := unmarshalItem(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal contact: %w", err)
		}
		out = append(out, fromContactItem(&it))
	}
	return out, nil
}

// Evaluation reads one evaluation.
func (s *Store) Evaluation(ctx context.Context, customerID, id string) (*crm.Evaluation, error) {
	var it evaluationItem
	if err := s.get(ctx, customerPK(customerID), evaluationSK(id), &it, "evaluation "+id+" not found"); err != nil {
		return nil, err
	}
	return fromEvaluationItem(&it), nil
}

// Case reads one case.
func (s *Store) Case(ctx context.Context, customerID, id string) (*crm.Case, error) {
	var it caseItem
	if err := s.get(ctx, customerPK(customerID), caseSK(id), &it, "case "+id+" not found"); err != nil {
		return nil, err
	}
	return fromCaseItem(&it), nil
}

// CasesDue lists open, unescalated cases due before t, soonest first.
func (s *Store) CasesDue(ctx context.Context, before time.Time) ([]crm.InteractionKey, error) {
	var out []crm.InteractionKey
	err := s.queryDue(ctx, dueCases, before, func(pk, sk string) {
		out = append(out, crm.InteractionKey{CustomerID: customerIDOf(pk), ID: strings.TrimPrefix(sk, skCasePrefix)})
	})
	return out, err
}

// ClaimsDue lists customers whose active claim expires before t, soonest
// first, from the sparse byDue index.
func (s *Store) ClaimsDue(ctx context.Context, before time.Time) ([]string, error) {
	var out []string
	err := s.queryDue(ctx, dueClaims, before, func(pk, _ string) { out = append(out, customerIDOf(pk)) })
	return out, err
}

// queryDue walks the sparse byDue index for one kind of deadline.
func (s *Store) queryDue(ctx context.Context, kind string, before time.Time, each func(pk, sk string)) error {
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(s.idx.Due),
			KeyConditionExpression:    aws.String("gDue = :d AND gDueAt < :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(kind), ":t": str(dueKey(before, "~"))},
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return wrap("query due "+kind, err)
		}
		for _, raw := range res.Items {
			pk, _ := raw["pk"].(*types.AttributeValueMemberS)
			sk, _ := raw["sk"].(*types.AttributeValueMemberS)
			if pk != nil && sk != nil {
				each(pk.Value, sk.Value)
			}
		}
		if start = res.LastEvaluatedKey; start == nil {
			return nil
		}
	}
}
