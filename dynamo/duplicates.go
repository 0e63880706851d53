package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/search"
)

// A duplicate lookup (docs/access-patterns.md, pattern 19) reads the
// search index (search.go): the NAME and CORE key items of the lookup's
// bucket whose value starts with its prefix, the first word of the name's
// core. Its read is bounded by the customers sharing that start, whatever
// the table holds, and cut off at duplicateRead of them, which the caller
// is told.
const (
	// duplicateRead is how many customers one lookup compares at most.
	duplicateRead = 1000
	// duplicateCalls bounds its Queries: a range can hold keys of other
	// kinds (a contact's name, a reading), which are read and left out.
	duplicateCalls = 3
)

// DuplicateMatches lists the customers whose name or core key starts with
// l's prefix, each once, with their folded name and core (crm.Store). It
// reads the range in key order, duplicateRead key items a Query, and
// stops when it has duplicateRead customers or after duplicateCalls
// Queries; complete says whether it read the whole range.
func (s *Store) DuplicateMatches(ctx context.Context, l search.Lookup) ([]crm.NameEntry, bool, error) {
	limit := duplicateRead
	if s.duplicateRead > 0 {
		limit = s.duplicateRead
	}
	q := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :v)"),
		FilterExpression:       aws.String("#kind IN (:name, :core)"),
		ProjectionExpression:   aws.String("customerId, #kind, #value, #name"),
		ExpressionAttributeNames: map[string]string{
			"#kind": "kind", "#value": "value", "#name": "name"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(searchPK(false, l.Bucket)), ":v": str(l.Prefix),
			":name": str(search.Name.String()), ":core": str(search.Core.String())},
		Limit: aws.Int32(int32(limit)),
	}
	var out []crm.NameEntry
	at := map[string]int{}
	for calls := 1; ; calls++ {
		res, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, false, wrap("query duplicate candidates", err)
		}
		for _, raw := range res.Items {
			id := strAttr(raw["customerId"])
			i, ok := at[id]
			if !ok {
				i, at[id] = len(out), len(out)
				out = append(out, crm.NameEntry{ID: id})
			}
			out[i].Name = strAttr(raw["name"])
			if strAttr(raw["kind"]) == search.Core.String() {
				out[i].Core = search.Compact(strAttr(raw["value"]))
			}
		}
		if res.LastEvaluatedKey == nil {
			return out, true, nil
		}
		if len(out) >= limit || calls == duplicateCalls {
			return out, false, nil
		}
		q.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
