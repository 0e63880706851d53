package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// What a profile write implies beyond its own item, the unique claims of
// the values it adds and its partner shares is written by the stream
// consumer (WriteLookups), from the profile's images: its tags' entries,
// and the release of the claims of the values it dropped. Outside the
// request's transaction each costs a write unit instead of two
// (docs/access-patterns.md, "Writes").

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

// tagEntries are the byList entries a profile's tags imply: one item per
// tag in the customer's collection, listed by the tag.
func tagEntries(c *crm.Customer) map[itemKey]*lookupItem {
	if c == nil {
		return nil
	}
	out := make(map[itemKey]*lookupItem, len(c.Tags))
	for _, tag := range c.Tags {
		it := &lookupItem{PK: customerPK(c.ID), SK: tagSK(tag), Type: "tag", CustomerID: c.ID, GList: tagListKey(tag), GSort: c.ID}
		out[itemKey{it.PK, it.SK}] = it
	}
	return out
}

// releaseClaims deletes the claims of the values the changes' profiles
// dropped, each conditioned on still naming the customer and on having
// been written by a version before the one that dropped it: a value the
// customer claimed again since (a later version's put) or that a merge's
// survivor took over stays claimed. A claim written before claims carried
// their version is released as one written before. A release delivered
// again finds the claim gone, or not the customer's, and does nothing;
// until it is applied, another customer adding the value is refused as a
// duplicate of this one.
func (s *Store) releaseClaims(ctx context.Context, changes []stream.Change) error {
	for _, ch := range changes {
		before := ch.CustomerBefore
		if ch.Kind != stream.KindProfile || before == nil {
			continue
		}
		after, dropper := ch.Customer, before.Version+1
		if after != nil {
			dropper = after.Version
		}
		for _, f := range claimFields {
			var kept []string
			if after != nil {
				kept = f.values(after)
			}
			for _, v := range removed(f.values(before), kept) {
				_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
					TableName:           aws.String(s.table),
					Key:                 key(f.pk(v), skUnique),
					ConditionExpression: aws.String("customerId = :id AND (attribute_not_exists(version) OR version < :v)"),
					ExpressionAttributeValues: map[string]types.AttributeValue{
						":id": str(before.ID), ":v": num(dropper),
					},
				})
				var taken *types.ConditionalCheckFailedException
				if err != nil && !errors.As(err, &taken) {
					return wrap("release claim", err)
				}
			}
		}
	}
	return nil
}
