package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A partner API key's requests are counted per minute, for the
// authorizer's per-key limit (cmd/authorizer):
//
//	APIUSE#<key id> / <minute, Unix seconds>   uses, ttl
//
// The counters live in partitions of their own, apart from the key items,
// so the authorizer's role can write them without being able to touch a
// key (template.yaml). They expire through the table's TTL an hour after
// their minute.
const apiUseTTL = time.Hour

func apiUsePK(keyID string) string { return "APIUSE#" + keyID }

// CountAPIKeyUse counts one request of key keyID in the minute starting at
// minute and reports whether the key's requests in that minute are still
// within limit. A request over the limit is not counted. One UpdateItem
// (one write unit), conditional on the count being below the limit.
func (s *Store) CountAPIKeyUse(ctx context.Context, keyID string, minute time.Time, limit int) (bool, error) {
	minute = minute.Truncate(time.Minute)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      key(apiUsePK(keyID), fmt.Sprint(minute.Unix())),
		UpdateExpression:         aws.String("ADD uses :one SET #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(uses) OR uses < :limit"),
		ExpressionAttributeNames: map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":   &types.AttributeValueMemberN{Value: "1"},
			":limit": &types.AttributeValueMemberN{Value: fmt.Sprint(limit)},
			":ttl":   &types.AttributeValueMemberN{Value: fmt.Sprint(minute.Add(apiUseTTL).Unix())},
		},
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return false, nil
	case err != nil:
		return false, wrap("count API key use", err)
	}
	return true, nil
}
