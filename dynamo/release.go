package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The release marker names the API version a deploy finished shifting
// traffic to. A canary deploy keeps the version before serving part of
// the traffic for minutes, and a migration must not run while code that
// does not know it still writes: the stack writes the marker once the
// shift is over (template.yaml, ReleaseMarker), and the job migrates only
// when the marker names the version its own deploy published
// (docs/deploy.md, "Data migrations").
const (
	releasePK = "RELEASE"
	releaseSK = "LIVE"
)

// MarkRelease records that apiVersion serves all the traffic.
func (s *Store) MarkRelease(ctx context.Context, apiVersion string, at time.Time) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: map[string]types.AttributeValue{
		"pk": str(releasePK), "sk": str(releaseSK), "apiVersion": str(apiVersion), "at": str(at.UTC().Format(time.RFC3339)),
	}})
	return wrap("put release marker", err)
}

// LiveRelease returns the API version the release marker names, "" when
// none was recorded.
func (s *Store) LiveRelease(ctx context.Context) (string, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(releasePK, releaseSK),
		ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("apiVersion")})
	if err != nil {
		return "", wrap("get release marker", err)
	}
	return strAttr(res.Item["apiVersion"]), nil
}
