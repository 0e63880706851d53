package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/stream"
)

// customerOf builds a customer from its profile and, when there is one,
// its activity item; a profile without one reads its own (legacy) fields
// or none. A follow-up set by a profile edit that the stream has not
// applied yet shows at once.
func customerOf(p *customerItem, a *activityItem) *crm.Customer {
	c := fromCustomerItem(p)
	if a != nil {
		fromActivityItem(a, c)
	}
	if f := c.FollowUpSet; f != nil {
		c.SetFollowUp(f.At, f.SetAt)
	}
	return c
}

// Customer reads a customer's profile and activity in one consistent
// Query (sk BETWEEN ~P AND ~S). A profile written before activity items
// existed has its activity moved out to its own item first (see
// createActivity), so that no later write of the profile loses it.
func (s *Store) Customer(ctx context.Context, id string) (*crm.Customer, error) {
	for attempt := 0; ; attempt++ {
		p, a, err := s.readCustomer(ctx, id)
		if err != nil {
			return nil, err
		}
		if a != nil || !p.isLegacy() || attempt > txRetries {
			return customerOf(p, a), nil
		}
		if err := s.createActivity(ctx, p); err != nil && crm.ErrorCode(err) != crm.ECONFLICT {
			return nil, err
		}
	}
}

func (s *Store) readCustomer(ctx context.Context, id string) (*customerItem, *activityItem, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :p AND :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(id)), ":p": str(skProfile), ":a": str(skActivity)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, nil, wrap("get customer "+id, err)
	}
	var p *customerItem
	var a *activityItem
	for _, raw := range res.Items {
		switch strAttr(raw["sk"]) {
		case skProfile:
			p = &customerItem{}
			if err := unmarshalItem(raw, p); err != nil {
				return nil, nil, fmt.Errorf("unmarshal customer: %w", err)
			}
		case skActivity:
			a = &activityItem{}
			if err := unmarshalItem(raw, a); err != nil {
				return nil, nil, fmt.Errorf("unmarshal activity: %w", err)
			}
		}
	}
	if p == nil {
		return nil, nil, crm.Errorf(crm.ENOTFOUND, "customer %s not found", id)
	}
	return p, a, nil
}

// Customers reads many customers, profile and activity, in batches.
func (s *Store) Customers(ctx context.Context, ids []string) (map[string]*crm.Customer, error) {
	return s.customers(ctx, ids, true)
}

// customers reads many profiles, and their activities when activity is
// set (else a customer's activity reads as a legacy profile's, or none).
func (s *Store) customers(ctx context.Context, ids []string, activity bool) (map[string]*crm.Customer, error) {
	seen := map[string]bool{}
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			keys = append(keys, key(customerPK(id), skProfile))
			if activity {
				keys = append(keys, key(customerPK(id), skActivity))
			}
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	profiles, activities, err := profilesAndActivities(items)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*crm.Customer, len(profiles))
	for id, p := range profiles {
		out[id] = customerOf(p, activities[id])
	}
	return out, nil
}

// profilesAndActivities sorts items read by key into profiles and
// activity items, by customer.
func profilesAndActivities(items []map[string]types.AttributeValue) (map[string]*customerItem, map[string]*activityItem, error) {
	profiles, activities := map[string]*customerItem{}, map[string]*activityItem{}
	for _, raw := range items {
		switch strAttr(raw["sk"]) {
		case skProfile:
			var it customerItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, nil, fmt.Errorf("unmarshal customer: %w", err)
			}
			profiles[it.ID] = &it
		case skActivity:
			var it activityItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, nil, fmt.Errorf("unmarshal activity: %w", err)
			}
			activities[it.CustomerID] = &it
		}
	}
	return profiles, activities, nil
}

// contactsRead is how many contacts the 360's Query reads with the
// profile when this instance does not know the customer's count yet
// (contactHints); a customer with more reads the rest with a second Query
// sized from its contact count.
const contactsRead = 8

// Customer360 reads the customer's item collection from the top, in one
// Query: the activity (~S), the profile (~P), its contacts, then the
// recent interactions newest first, Limit 2 + contacts + recent, where
// contacts is the profile's count when this instance last read the
// customer (contactHints), else contactsRead. A customer with more
// contacts than that continues with a second Query of exactly what is
// left; one with fewer reads as many interactions past the recent ones,
// which the view drops. Interactions logged since the activity's last
// applied one are folded into what it shows (crm.Activity.FoldPending).
func (s *Store) Customer360(ctx context.Context, id string, recent int) (*crm.Customer360, error) {
	contacts, ok := s.contacts.get(id)
	if !ok {
		contacts = contactsRead
	}
	limit := 2 + contacts + recent
	q := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND sk >= :lo"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(customerPK(id)), ":lo": str(sk360Lower)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	}
	var items []map[string]types.AttributeValue
	var p *customerItem
	for {
		res, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, wrap("query customer 360", err)
		}
		items = append(items, res.Items...)
		for _, raw := range res.Items {
			if strAttr(raw["sk"]) == skProfile && p == nil {
				p = &customerItem{}
				if err := unmarshalItem(raw, p); err != nil {
					return nil, fmt.Errorf("unmarshal customer: %w", err)
				}
				// The whole view is the activity, the profile, every
				// contact and the recent interactions.
				limit = 2 + p.ContactCount + recent
				s.contacts.put(id, p.ContactCount)
			}
		}
		if res.LastEvaluatedKey == nil || len(items) >= limit {
			break
		}
		q.ExclusiveStartKey = res.LastEvaluatedKey
		q.Limit = aws.Int32(int32(limit - len(items)))
	}
	if p == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "customer %s not found", id)
	}
	v := &crm.Customer360{}
	var a *activityItem
	for _, raw := range items {
		sk := strAttr(raw["sk"])
		switch {
		case sk == skActivity:
			a = &activityItem{}
			if err := unmarshalItem(raw, a); err != nil {
				return nil, fmt.Errorf("unmarshal activity: %w", err)
			}
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
	v.Customer = customerOf(p, a)
	if a != nil || !p.isLegacy() {
		// (A profile not migrated yet counted its interactions itself.)
		v.Customer.FoldPending(v.RecentInteractions)
	}
	return v, nil
}

// createActivity moves a customer's activity to an item of its own, in one
// transaction conditioned on the profile's version and the activity's
// absence: the activity from the profile's own fields (a profile written
// before activity items existed, whose derived fields it then removes, with
// its old watch-list marks) or empty (a new customer), counted in the list
// counters at the profile's version. The stream consumer creates the
// activity of a new customer; the migration (and a consistent read) that
// of an old one.
func (s *Store) createActivity(ctx context.Context, p *customerItem) error {
	c := fromCustomerItem(p)
	if li := p.LastInteractionID; li != "" {
		if it, err := s.Interaction(ctx, crm.InteractionKey{CustomerID: c.ID, ID: li}); err == nil {
			c.LastInteraction = crm.InteractionSummary(it)
		} else if crm.ErrorCode(err) != crm.ENOTFOUND {
			return err
		}
	}
	t := &tx{s: s}
	m := stream.Marks{Revision: 1, Counted: p.Version, ValuesCounted: true, ValuesAt: p.Version}
	if c.Status == crm.StatusMerged {
		m.ForwardTo = c.MergedInto
	}
	it := toActivityItem(c, m, nil)
	if g, tm, pos, ok := fallingMark(c); ok {
		it.Falling = pos + "|" + g + "|" + tm
		t.put(map[string]types.AttributeValue{"pk": str(customerPK(c.ID)), "sk": str(skFalling), "type": str("watch"),
			"gOwner": str(g), "gTeam": str(tm), "gSort": str(pos), "customerId": str(c.ID)}, "", nil, nil)
	}
	t.put(t.marshal(it), notExists, nil, conflict("the activity of customer "+c.ID))
	cond, vals := versioned(p.Version)
	if p.isLegacy() {
		t.update(customerPK(c.ID), skProfile, "REMOVE "+strings.Join(legacyAttrs, ", "), cond, vals, conflict("customer "+c.ID))
		for _, slot := range oldWatchSlots {
			t.del(customerPK(c.ID), slot, "", nil, nil)
		}
	} else {
		t.check(customerPK(c.ID), skProfile, cond, vals, conflict("customer "+c.ID))
	}
	cs := counts(c, true)
	for _, k := range sortedKeys(cs) {
		t.addTo(k, cs[k], "counter")
	}
	if c.Status == crm.StatusActive {
		t.update(teamsPK, teamsPK, "SET #type = :type ADD teams :t", "", map[string]types.AttributeValue{
			":type": str("teams"), ":t": &types.AttributeValueMemberSS{Value: []string{teamKey(c.Team)}}}, nil)
		t.items[len(t.items)-1].write.Update.ExpressionAttributeNames = map[string]string{"#type": "type"}
	}
	if t.err != nil {
		return t.err
	}
	return s.transact(ctx, t.items)
}

// oldWatchSlots are the watch marks of the layout before activity items:
// one per list and scope kind.
var oldWatchSlots = []string{
	"#W#QUIET#A", "#W#QUIET#T", "#W#QUIET#O", "#W#FOLLOWUP#A", "#W#FOLLOWUP#T", "#W#FOLLOWUP#O",
	"#W#FALLING#A", "#W#FALLING#T", "#W#FALLING#O",
}

func sortedKeys(a adds) []itemKey {
	out := make([]itemKey, 0, len(a))
	for k := range a {
		out = append(out, k)
	}
	slicesSortKeys(out)
	return out
}

// FirstGradeChange reads the customer's oldest grade change of its own.
func (s *Store) FirstGradeChange(ctx context.Context, customerID string) (*crm.GradeChange, error) {
	q := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :g)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(customerID)), ":g": str(skGradePrefix)},
		Limit: aws.Int32(10),
	}
	for {
		res, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, wrap("query grade history", err)
		}
		for _, raw := range res.Items {
			var it gradeChangeItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal grade change: %w", err)
			}
			if it.MergedFrom == "" {
				return fromGradeChangeItem(&it), nil
			}
		}
		if res.LastEvaluatedKey == nil {
			return nil, crm.Errorf(crm.ENOTFOUND, "customer %s has no grade change", customerID)
		}
		q.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
