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

// Customer reads a customer's profile.
func (s *Store) Customer(ctx context.Context, id string) (*crm.Customer, error) {
	var it customerItem
	if err := s.get(ctx, customerPK(id), skProfile, &it, "customer "+id+" not found"); err != nil {
		return nil, err
	}
	return fromCustomerItem(&it), nil
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
	var out []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += batchSize {
		pending := map[string]types.KeysAndAttributes{s.table: {Keys: keys[start:min(start+batchSize, len(keys))]}}
		if consistent {
			pending[s.table] = types.KeysAndAttributes{Keys: pending[s.table].Keys, ConsistentRead: aws.Bool(true)}
		}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, backoff(min(attempt, 6))); err != nil {
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

// Customers reads many profiles.
func (s *Store) Customers(ctx context.Context, ids []string) (map[string]*crm.Customer, error) {
	seen := map[string]bool{}
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, key(customerPK(id), skProfile))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*crm.Customer, len(items))
	for _, raw := range items {
		var it customerItem
		if err := unmarshalItem(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal customer: %w", err)
		}
		out[it.ID] = fromCustomerItem(&it)
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

// Customer360 reads the customer's item collection from the top, in one
// Query: the profile, then its (bounded) contacts, then interactions newest
// first.
func (s *Store) Customer360(ctx context.Context, id string, recent int) (*crm.Customer360, error) {
	limit := 1 + crm.MaxContacts + recent
	q := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND sk >= :lo"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(customerPK(id)), ":lo": str(sk360Lower)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	}
	var items []map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, wrap("query customer 360", err)
		}
		items = append(items, res.Items...)
		// One call, unless very large interactions hit DynamoDB's 1 MB page
		// before the limit: then read on rather than return fewer.
		if res.LastEvaluatedKey == nil || len(items) >= limit {
			break
		}
		q.ExclusiveStartKey = res.LastEvaluatedKey
		q.Limit = aws.Int32(int32(limit - len(items)))
	}
	v := &crm.Customer360{}
	for _, raw := range items {
		sk := raw["sk"].(*types.AttributeValueMemberS).Value
		switch {
		case sk == skProfile:
			var it customerItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal customer: %w", err)
			}
			v.Customer = fromCustomerItem(&it)
		case strings.HasPrefix(sk, skContactPrefix):
			var it contactItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal contact: %w", err)
			}
			v.Contacts = append(v.Contacts, fromContactItem(&it))
		case strings.HasPrefix(sk, skInteractPrefix) && len(v.RecentInteractions) < recent:
			var it interactionItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal interaction: %w", err)
			}
			v.RecentInteractions = append(v.RecentInteractions, fromInteractionItem(&it))
		}
	}
	if v.Customer == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "customer %s not found", id)
	}
	return v, nil
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
			IndexName:                 aws.String(idxDue),
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

// nameBucketRead bounds a duplicate search: a bucket is the customers whose
// names start with the same two letters.
const nameBucketRead = 500

// CustomersByNameBucket reads the customers of one name bucket from the
// byName index, at most nameBucketRead of them.
func (s *Store) CustomersByNameBucket(ctx context.Context, bucket string) ([]*crm.Customer, error) {
	var out []*crm.Customer
	q := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(idxName),
		KeyConditionExpression:    aws.String("gName = :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": str("NAME#" + bucket)},
		Limit:                     aws.Int32(nameBucketRead),
	}
	for {
		res, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, wrap("query name bucket", err)
		}
		for _, raw := range res.Items {
			var it customerItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal customer: %w", err)
			}
			out = append(out, fromCustomerItem(&it))
		}
		if res.LastEvaluatedKey == nil || len(out) >= nameBucketRead {
			return out, nil
		}
		q.ExclusiveStartKey = res.LastEvaluatedKey
		q.Limit = aws.Int32(int32(nameBucketRead - len(out)))
	}
}
