package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// The reads an import makes before it writes a row: who holds the row's
// phones and emails (the unique claims of apply.go), and which rows an
// earlier call of the same import created (their idempotency records).
// Both are consistent BatchGetItems, 100 keys a call.

type uniqueItem struct {
	PK         string `dynamodbav:"pk"`
	CustomerID string `dynamodbav:"customerId"`
}

// UniqueHolders reads the claims of phones and emails.
func (s *Store) UniqueHolders(ctx context.Context, phones, emails []string) (map[string]string, map[string]string, error) {
	phoneHolders, emailHolders := map[string]string{}, map[string]string{}
	if len(phones)+len(emails) == 0 {
		return phoneHolders, emailHolders, nil
	}
	byPK := map[string]func(string){}
	var keys []map[string]types.AttributeValue
	for _, p := range phones {
		if pk := phonePK(p); byPK[pk] == nil {
			byPK[pk] = func(id string) { phoneHolders[p] = id }
			keys = append(keys, key(pk, skUnique))
		}
	}
	for _, e := range emails {
		if pk := emailPK(e); byPK[pk] == nil {
			byPK[pk] = func(id string) { emailHolders[e] = id }
			keys = append(keys, key(pk, skUnique))
		}
	}
	items, err := s.batchGetConsistent(ctx, keys, true)
	if err != nil {
		return nil, nil, err
	}
	for _, raw := range items {
		var it uniqueItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, nil, fmt.Errorf("unmarshal unique claim: %w", err)
		}
		if set := byPK[it.PK]; set != nil && it.CustomerID != "" {
			set(it.CustomerID)
		}
	}
	return phoneHolders, emailHolders, nil
}

type idempotencyItem struct {
	PK          string `dynamodbav:"pk"`
	ResultID    string `dynamodbav:"resultId"`
	RequestHash string `dynamodbav:"requestHash"`
	TTL         int64  `dynamodbav:"ttl"`
}

// IdempotencyRecords reads the records of idempotency keys.
func (s *Store) IdempotencyRecords(ctx context.Context, keys []string) (map[string]*crm.Idempotency, error) {
	byPK := map[string]string{}
	var ks []map[string]types.AttributeValue
	for _, k := range keys {
		if pk := idempotencyPK(k); byPK[pk] == "" {
			byPK[pk] = k
			ks = append(ks, key(pk, skIdempotency))
		}
	}
	items, err := s.batchGetConsistent(ctx, ks, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*crm.Idempotency, len(items))
	for _, raw := range items {
		var it idempotencyItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal idempotency record: %w", err)
		}
		if k, ok := byPK[it.PK]; ok {
			out[k] = &crm.Idempotency{Key: k, ResultID: it.ResultID, RequestHash: it.RequestHash, Expires: time.Unix(it.TTL, 0).UTC()}
		}
	}
	return out, nil
}
