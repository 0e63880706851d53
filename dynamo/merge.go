package dynamo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// Merging customers (crm/merge.go): both profiles written in one
// transaction, and the merged customer's history moved in batches.

// handover lets the survivor of a merge take over the unique claims that
// the merged customer gives up, in one write per value: its put replaces
// the merged customer's claim, which is not released (tx.customer).
type handover struct{ from, to string }

// ApplyMerge writes both profiles of a merge step, with their tag entries,
// counters and unique claims, and the merge records, in one transaction.
func (s *Store) ApplyMerge(ctx context.Context, m *crm.MergeChange) error {
	given := append(removed(m.MergedPrev.Phones, m.Merged.Phones), removed(m.MergedPrev.Emails, m.Merged.Emails)...)
	given = append(given, removed(nonEmpty(m.MergedPrev.CreditCode), nonEmpty(m.Merged.CreditCode))...)
	for _, v := range given {
		if !slices.Contains(m.Survivor.Phones, v) && !slices.Contains(m.Survivor.Emails, v) && m.Survivor.CreditCode != v {
			return fmt.Errorf("merge %s into %s: %s would be given up but not taken over", m.Merged.ID, m.Survivor.ID, v)
		}
	}
	t := &tx{s: s, handover: &handover{from: m.Merged.ID, to: m.Survivor.ID}}
	// The survivor first: the audit entry is listed under its first customer.
	t.customer(m.SurvivorPrev, m.Survivor)
	t.customer(m.MergedPrev, m.Merged)
	if q := m.ClaimQuota; q != nil {
		t.claimQuota(q)
	}
	if g := m.GradeChange; g != nil {
		t.created("gradeChange", g.ID, g.CustomerID, toGradeChangeItem(g))
	}
	for _, r := range m.Records {
		t.created("merge", r.ID, r.CustomerID, toMergeItem(r))
	}
	if m.Merged.Status == crm.StatusMerged {
		if err := s.mergeActivities(ctx, t, m); err != nil {
			return err
		}
	}
	return t.commit(ctx)
}

// mergeActivities adds to the transaction that finishes a merge the
// survivor's activity with the merged customer's added, as both stand
// (each conditioned on its revision), and the merged customer's activity
// forwarding to the survivor: what the stream applies to the merged
// customer afterwards (an append that raced the merge) goes to the
// survivor, exactly once, by the merged activity's marks.
func (s *Store) mergeActivities(ctx context.Context, t *tx, m *crm.MergeChange) error {
	read := func(id string) (*customerItem, *activityItem, error) {
		for attempt := 0; ; attempt++ {
			p, a, err := s.readCustomer(ctx, id)
			if err != nil || a != nil || attempt > 0 {
				return p, a, err
			}
			if err := s.createActivity(ctx, p); err != nil && crm.ErrorCode(err) != crm.ECONFLICT {
				return nil, nil, err
			}
		}
	}
	_, sa, err := read(m.Survivor.ID)
	if err != nil {
		return err
	}
	_, ma, err := read(m.Merged.ID)
	if err != nil {
		return err
	}
	if sa == nil || ma == nil {
		return crm.Errorf(crm.ECONFLICT, "the activities of customers %s and %s are being created; retry", m.Survivor.ID, m.Merged.ID)
	}
	sv := m.Survivor.Clone()
	sMarks := fromActivityItem(sa, sv)
	merged := &crm.Customer{ID: m.Merged.ID}
	mMarks := fromActivityItem(ma, merged)
	sv.AbsorbActivity(merged.Activity)
	now := time.Now()
	write := func(c *crm.Customer, marks stream.Marks, stored *activityItem) {
		cond, vals := "rev = :v", map[string]types.AttributeValue{":v": num(marks.Revision)}
		marks.Revision++
		it := toActivityItem(c, marks, appliedMarks(stored.Applied, "", "", now))
		it.Ord = stored.Ord // the stream moves the order entries, as it reads
		if g, tm, pos, ok := fallingMark(c); ok {
			it.Falling = pos + "|" + g + "|" + tm
			if it.Falling != stored.Falling {
				t.put(map[string]types.AttributeValue{"pk": str(customerPK(c.ID)), "sk": str(skFalling), "type": str("watch"),
					"gOwner": str(g), "gTeam": str(tm), "gSort": str(pos), "customerId": str(c.ID)}, "", nil, nil)
			}
		} else if stored.Falling != "" {
			t.del(customerPK(c.ID), skFalling, "", nil, nil)
		}
		t.put(t.marshal(it), cond, vals, conflict("the activity of customer "+c.ID))
	}
	write(sv, sMarks, sa)
	mMarks.ForwardTo = m.Survivor.ID
	write(&crm.Customer{ID: m.Merged.ID, Status: crm.StatusMerged}, mMarks, ma)
	return nil
}

// historyPrefixes are the kinds of item that make up a customer's history:
// a merge moves them. Tag entries follow the profile's tags instead.
var historyPrefixes = []string{skContactPrefix, skInteractPrefix, skGradePrefix, skStagePrefix, skCasePrefix,
	skEvalPrefix, skMergePrefix, skTaskPrefix, skAgendaCase, skOppPrefix, skLeadPrefix, skContractPrefix}

// A batch moves at most moveBatch items (a put and a delete each, plus two
// condition checks, the audit entry and, with contracts, the survivor's
// credit review: 98 of the 100 writes a transaction holds) and about
// moveBytes (the limit is 4 MB per transaction).
const (
	moveBatch = 47
	moveBytes = 2 << 20
)

// MoveHistory moves one batch of from's history to to: each item is put
// under to with its id kept and its customerId rewritten, and deleted from
// from, conditioned on being unchanged since it was read; both profiles must
// still carry their merge marks.
func (s *Store) MoveHistory(ctx context.Context, fromID, toID string) (int, bool, error) {
	batch, last, err := s.historyBatch(ctx, fromID)
	if err != nil || len(batch) == 0 {
		return 0, err == nil, err
	}
	lost := func(map[string]types.AttributeValue) error {
		return crm.Errorf(crm.ECONFLICT, "customer %s is no longer being merged into customer %s", fromID, toID)
	}
	t := &tx{s: s}
	t.check(customerPK(fromID), skProfile, "mergedInto = :id", map[string]types.AttributeValue{":id": str(toID)}, lost)
	t.check(customerPK(toID), skProfile, "mergingFrom = :id", map[string]types.AttributeValue{":id": str(fromID)}, lost)
	contracts := false
	for _, it := range batch {
		sk := it["sk"].(*types.AttributeValueMemberS).Value
		contracts = contracts || strings.HasPrefix(sk, skContractPrefix)
		moved := maps.Clone(it)
		moved["pk"] = str(customerPK(toID))
		if _, ok := moved["customerId"]; ok {
			moved["customerId"] = str(toID)
		}
		// Marked as moved: the stream counts nothing new for it, and
		// grade and stage history tell the merged customer's apart.
		moved["mergedFrom"] = str(fromID)
		t.put(moved, notExists, nil, func(map[string]types.AttributeValue) error {
			return crm.Errorf(crm.ECONFLICT, "the merged customer's history changed meanwhile; call mergeCustomers again")
		})
		cond, vals := "attribute_exists(pk)", map[string]types.AttributeValue(nil)
		if v, ok := it["version"]; ok {
			cond, vals = "version = :v", map[string]types.AttributeValue{":v": v}
		}
		t.del(customerPK(fromID), sk, cond, vals, func(map[string]types.AttributeValue) error {
			return crm.Errorf(crm.ECONFLICT, "the merged customer's history changed meanwhile; call mergeCustomers again")
		})
		// Audited as a change of owner, not item by item in full: a batch
		// of whole items would outgrow an audit entry.
		kind, _ := it["type"].(*types.AttributeValueMemberS)
		id, _ := it["id"].(*types.AttributeValueMemberS)
		if kind != nil && id != nil {
			t.record(kind.Value, id.Value, toID, map[string]types.AttributeValue{"customerId": str(fromID)},
				map[string]types.AttributeValue{"customerId": str(toID)})
		}
	}
	// Contracts that join the survivor are contract writes to it: its
	// credit item exists (a customer with a contract has one), is marked
	// for review, and counts the write, so that a credit check of the
	// survivor running meanwhile checks again.
	if contracts {
		t.creditReview(toID, nil)
	}
	if err := t.commit(ctx); err != nil {
		return 0, false, err
	}
	return len(batch), last, nil
}

// historyBatch reads the next batch of history items of a customer,
// consistently: the batch is about to be moved. last reports that the batch
// holds all that is left.
func (s *Store) historyBatch(ctx context.Context, customerID string) (batch []map[string]types.AttributeValue, last bool, err error) {
	q := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(customerPK(customerID))},
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(moveBatch + 20),
	}
	size := 0
	for {
		res, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, false, wrap("query history", err)
		}
		for _, it := range res.Items {
			sk, _ := it["sk"].(*types.AttributeValueMemberS)
			if sk == nil || !slices.ContainsFunc(historyPrefixes, func(p string) bool { return strings.HasPrefix(sk.Value, p) }) {
				continue
			}
			n := ItemSize(it)
			if len(batch) == moveBatch || (len(batch) > 0 && size+n > moveBytes) {
				return batch, false, nil
			}
			batch, size = append(batch, it), size+n
		}
		if q.ExclusiveStartKey = res.LastEvaluatedKey; q.ExclusiveStartKey == nil {
			return batch, true, nil
		}
	}
}

// check adds a condition on an item the transaction does not write.
func (t *tx) check(pk, sk, cond string, values map[string]types.AttributeValue, onFail func(map[string]types.AttributeValue) error) {
	t.items = append(t.items, txItem{write: types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &t.s.table, Key: key(pk, sk), ConditionExpression: &cond, ExpressionAttributeValues: values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}, onFail: onFail})
}

// ListMerges lists the merge records of a customer, newest first.
func (s *Store) ListMerges(ctx context.Context, customerID string, p crm.PageRequest) (*crm.Page[*crm.MergeRecord], error) {
	return collect(ctx, s, collectionPlan(s, "merges", customerID, skMergePrefix, skMergePrefix+"~", fromMergeItem), p)
}

type mergeItem struct {
	PK           string    `dynamodbav:"pk"`
	SK           string    `dynamodbav:"sk"`
	Type         string    `dynamodbav:"type"`
	ID           string    `dynamodbav:"id"`
	CustomerID   string    `dynamodbav:"customerId"`
	SurvivorID   string    `dynamodbav:"survivorId"`
	MergedID     string    `dynamodbav:"mergedId"`
	MergedName   string    `dynamodbav:"mergedName"`
	Reason       string    `dynamodbav:"reason"`
	By           string    `dynamodbav:"by"`
	At           time.Time `dynamodbav:"at"`
	Interactions int       `dynamodbav:"interactions"`
	Contacts     int       `dynamodbav:"contacts"`
	Phones       []string  `dynamodbav:"phones,omitempty"`
	Emails       []string  `dynamodbav:"emails,omitempty"`
	Tags         []string  `dynamodbav:"tags,omitempty"`
}

func toMergeItem(r *crm.MergeRecord) *mergeItem {
	return &mergeItem{PK: customerPK(r.CustomerID), SK: mergeSK(r.ID), Type: "merge", ID: r.ID, CustomerID: r.CustomerID,
		SurvivorID: r.SurvivorID, MergedID: r.MergedID, MergedName: r.MergedName, Reason: r.Reason, By: r.By, At: r.At,
		Interactions: r.Interactions, Contacts: r.Contacts, Phones: r.Phones, Emails: r.Emails, Tags: r.Tags}
}

func fromMergeItem(it *mergeItem) *crm.MergeRecord {
	return &crm.MergeRecord{ID: it.ID, CustomerID: it.CustomerID, SurvivorID: it.SurvivorID, MergedID: it.MergedID,
		MergedName: it.MergedName, Reason: it.Reason, By: it.By, At: it.At, Interactions: it.Interactions,
		Contacts: it.Contacts, Phones: it.Phones, Emails: it.Emails, Tags: it.Tags}
}
