package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	jitter "github.com/rapportcrm/rapport/internal/backoff"
	"github.com/rapportcrm/rapport/stream"
)

// The caller lookup (docs/access-patterns.md, "Caller lookup"): one item
// per value and holder, LOOKUP#<PHONE|EMAIL>#<value> / <customer>#P (the
// customer's own) or <customer>#C#<contact> (a contact person's), written
// by the stream consumer from the profiles' and contacts' images, and by
// the lookup backfill for what was stored before.

func lookupPK(kind crm.LookupKind, value string) string {
	return "LOOKUP#" + string(kind) + "#" + value
}

func lookupSK(h crm.Holder) string {
	if h.ContactID == "" {
		return h.CustomerID + "#P"
	}
	return h.CustomerID + "#C#" + h.ContactID
}

type lookupItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	CustomerID string `dynamodbav:"customerId"`
	ContactID  string `dynamodbav:"contactId,omitempty"`
}

// Holders reads who holds a value: one Query of its partition.
func (s *Store) Holders(ctx context.Context, kind crm.LookupKind, value string) ([]crm.Holder, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(lookupPK(kind, value))},
		Limit:                     aws.Int32(crm.MaxHolders),
	})
	if err != nil {
		return nil, wrap("query caller lookup", err)
	}
	out := make([]crm.Holder, 0, len(res.Items))
	for _, raw := range res.Items {
		var it lookupItem
		if err := unmarshalItem(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal caller lookup: %w", err)
		}
		out = append(out, crm.Holder{CustomerID: it.CustomerID, ContactID: it.ContactID})
	}
	return out, nil
}

// RecordLookup writes the audit entry of a screen pop outside the
// caller's reach: a READ of the customer, whose fields name what was
// looked up and the contact it was found through.
func (s *Store) RecordLookup(ctx context.Context, l crm.Lookup) error {
	it := auditEntry(ctx, nil, s.now())
	it.GList, it.GSort = auditListKey(l.CustomerID), it.ID
	fields := []auditFieldItem{{Name: strings.ToLower(string(l.Kind)), After: l.Value}}
	if l.ContactID != "" {
		fields = append(fields, auditFieldItem{Name: "contactId", After: l.ContactID})
	}
	it.Changes = []auditChangeItem{{Entity: "customer", ID: l.CustomerID, CustomerID: l.CustomerID,
		Action: string(crm.AuditRead), Fields: fields}}
	item, err := attributevalue.MarshalMap(it.stored())
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression: aws.String(notExists)})
	return wrap("put audit entry", err)
}

// lookupEntries are the lookup items a profile or contact implies; none
// for a merged customer's tombstone (its survivor holds its values).
func lookupEntries(h crm.Holder, phones, emails []string) map[itemKey]*lookupItem {
	out := map[itemKey]*lookupItem{}
	for _, kind := range []crm.LookupKind{crm.LookupPhone, crm.LookupEmail} {
		for _, v := range crm.LookupValues(kind, phones, emails) {
			it := &lookupItem{PK: lookupPK(kind, v), SK: lookupSK(h), Type: "lookup", CustomerID: h.CustomerID, ContactID: h.ContactID}
			out[itemKey{it.PK, it.SK}] = it
		}
	}
	return out
}

func customerLookups(c *crm.Customer) map[itemKey]*lookupItem {
	if c == nil || c.Status == crm.StatusMerged {
		return nil
	}
	return lookupEntries(crm.Holder{CustomerID: c.ID}, c.Phones, c.Emails)
}

func contactLookups(c *crm.Contact) map[itemKey]*lookupItem {
	if c == nil {
		return nil
	}
	return lookupEntries(crm.Holder{CustomerID: c.CustomerID, ContactID: c.ID}, c.Phones, c.Emails)
}

// WriteLookups keeps the caller lookup, and the search index
// (writeSearchKeys), in step with the profiles and contacts a batch of the
// stream wrote, and releases the unique claims of the values the profiles
// dropped that their requests did not (releaseClaims); stream.LookupWriter.
// Of the caller lookup, the entries of a value an item no longer holds are
// deleted, those of a value it holds now and did not before put; an item
// whose phones and emails did not change writes nothing. The batch's last
// change of an entry decides; a batch delivered again writes the same
// items.
func (s *Store) WriteLookups(ctx context.Context, changes []stream.Change) error {
	want := map[itemKey]*lookupItem{} // nil: delete
	var order []itemKey
	set := func(k itemKey, it *lookupItem) {
		if _, ok := want[k]; !ok {
			order = append(order, k)
		}
		want[k] = it
	}
	for _, ch := range changes {
		var before, after map[itemKey]*lookupItem
		switch ch.Kind {
		case stream.KindProfile:
			before, after = customerLookups(ch.CustomerBefore), customerLookups(ch.Customer)
		case stream.KindContact:
			before, after = contactLookups(ch.ContactBefore), contactLookups(ch.Contact)
		default:
			continue
		}
		for k := range before {
			if after[k] == nil {
				set(k, nil)
			}
		}
		for k, it := range after {
			if before[k] == nil { // what it held already has its entry
				set(k, it)
			}
		}
	}
	reqs := make([]types.WriteRequest, 0, len(order))
	for _, k := range order {
		if it := want[k]; it != nil {
			item, err := attributevalue.MarshalMap(it)
			if err != nil {
				return err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		} else {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(k.pk, k.sk)}})
		}
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return err
	}
	if err := s.releaseClaims(ctx, changes); err != nil {
		return err
	}
	return s.writeSearchKeys(ctx, changes)
}

// batchWrite writes requests 25 at a time (BatchWriteItem's most), retrying
// what DynamoDB leaves unprocessed with backoff. The requests must be
// idempotent: a failure leaves some written.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		n := min(len(reqs), 25)
		pending := map[string][]types.WriteRequest{s.table: reqs[:n]}
		reqs = reqs[n:]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if err := jitter.Sleep(ctx, backoff(attempt)); err != nil {
					return unavailable(err, crm.AppliedUnknown)
				}
			}
			res, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return wrap("batch write", err)
			}
			pending = res.UnprocessedItems
		}
	}
	return nil
}

// lookupBackfill writes the caller lookup of what was stored before the
// stream consumer kept it (issue #11).
const lookupBackfill = "2026-12-caller-lookup"

// lookupPage puts the lookup entries of one page's profiles and contacts.
// Putting an entry again changes nothing; an entry a concurrent change
// made stale is skipped by the screen pop, which checks what it reads.
func lookupPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	var reqs []types.WriteRequest
	changed := 0
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		if !strings.HasPrefix(pk, "CUST#") {
			continue
		}
		var entries map[itemKey]*lookupItem
		switch {
		case sk == skProfile:
			var p customerItem
			if err := unmarshalItem(raw, &p); err != nil {
				return 0, fmt.Errorf("%s %s: %w", pk, sk, err)
			}
			entries = customerLookups(fromCustomerItem(&p))
		case strings.HasPrefix(sk, skContactPrefix):
			var c contactItem
			if err := unmarshalItem(raw, &c); err != nil {
				return 0, fmt.Errorf("%s %s: %w", pk, sk, err)
			}
			entries = contactLookups(fromContactItem(&c))
		}
		if len(entries) > 0 {
			changed++
		}
		for _, it := range entries {
			item, err := attributevalue.MarshalMap(it)
			if err != nil {
				return 0, err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
	}
	return changed, s.batchWrite(ctx, reqs)
}
