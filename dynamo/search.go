package dynamo

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/search"
	"github.com/rapportcrm/rapport/stream"
)

// The search index (docs/access-patterns.md, "Search"): one item per
// search key of a customer (search.CustomerKeys, from its name, phones and
// contact persons), SEARCH#<T|P>#<bucket> / <value>#<customer>, where the
// bucket is search.Bucket of the value (the first Chinese character, the
// first two letters or digits of other text, the last 4 digits of a
// phone) and the value is search.IndexValue (text without spaces, a
// phone's digits reversed). A search's lookup is one Query of one
// bucket's partition, begins_with the prefix: its read is bounded by what
// matches, whatever the table holds. Each item carries what ranks it and
// what a filter and the caller's visibility check (the customer's folded
// name, owner, team, region, grade, stage, tags, status and partners), so
// that a page reads the profiles of only the customers it returns.
//
// The stream consumer keeps the items in step (WriteLookups calls
// writeSearchKeys): a profile or contact change that touches any of that
// brings its customer's items to what its profile and contacts imply now,
// with a manifest, SEARCHKEYS#<customer> / KEYS, naming the items written
// and a digest of what they carry. A merged customer has none.

const (
	skSearchManifest = "KEYS"
	// searchWindow is how many key items one Query of a lookup reads: a
	// window is ranked as a whole.
	searchWindow = 200
	// searchQueries bounds the Queries of one page, when windows yield
	// too few customers the caller may read.
	searchQueries = 3
	// searchSyncRetries bounds how often a sync of a customer's keys is
	// redone when another writer moved its manifest meanwhile.
	searchSyncRetries = 5
)

func searchPK(phoneKey bool, bucket string) string {
	if phoneKey {
		return "SEARCH#P#" + bucket
	}
	return "SEARCH#T#" + bucket
}

func searchManifestPK(id string) string { return "SEARCHKEYS#" + id }

// searchKeyItem is one search key of a customer.
type searchKeyItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	CustomerID string `dynamodbav:"customerId"`
	Kind       string `dynamodbav:"kind"`
	Value      string `dynamodbav:"value"`
	searchCarried
}

// searchCarried is what every key item of a customer carries: its folded
// name (the Name key's value, which ranks and orders) and what filters
// and visibility check.
type searchCarried struct {
	Name     string   `dynamodbav:"name"`
	Status   string   `dynamodbav:"status"`
	OwnerID  string   `dynamodbav:"ownerId,omitempty"`
	Team     string   `dynamodbav:"team,omitempty"`
	Region   string   `dynamodbav:"region,omitempty"`
	Grade    string   `dynamodbav:"grade,omitempty"`
	Stage    string   `dynamodbav:"stage,omitempty"`
	Tags     []string `dynamodbav:"tags,omitempty"`
	Partners []string `dynamodbav:"partners,omitempty"`
}

func (c searchCarried) digest() string {
	h := sha256.Sum256(fmt.Appendf(nil, "%q|%q|%q|%q|%q|%q|%q|%q|%q", c.Name, c.Status, c.OwnerID, c.Team, c.Region,
		c.Grade, c.Stage, c.Tags, c.Partners))
	return hex.EncodeToString(h[:12])
}

// customer is the part of a customer the item carries, for matches.
func (c searchCarried) customer(id string) *crm.Customer {
	out := &crm.Customer{ID: id, Name: c.Name, Status: crm.Status(c.Status), OwnerID: c.OwnerID, Team: c.Team,
		Region: c.Region, Stage: crm.Stage(c.Stage), Tags: c.Tags}
	out.Grade.Level = c.Grade
	for _, p := range c.Partners {
		out.Partners = append(out.Partners, crm.PartnerShare{OrgID: p})
	}
	return out
}

type searchManifestItem struct {
	PK   string   `dynamodbav:"pk"`
	SK   string   `dynamodbav:"sk"`
	Type string   `dynamodbav:"type"`
	Keys []string `dynamodbav:"keys"` // pk + "\n" + sk of each key item
	// Carried is the digest of what the items carry (searchCarried).
	Carried string `dynamodbav:"carried"`
	Rev     int    `dynamodbav:"rev"`
}

func manifestKey(k itemKey) string { return k.pk + "\n" + k.sk }

func fromManifestKey(s string) itemKey {
	pk, sk, _ := strings.Cut(s, "\n")
	return itemKey{pk, sk}
}

// searchShape is what of a customer its key items follow: a change that
// leaves it alone writes none.
func searchShape(c *crm.Customer) string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%q|%q|%q|%s", c.Name, c.Kind, c.Phones, carriedOf(c).digest())
}

func contactShape(c *crm.Contact) string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%q|%q", c.Name, c.Phones)
}

func carriedOf(c *crm.Customer) searchCarried {
	out := searchCarried{Status: string(c.Status), OwnerID: c.OwnerID, Team: c.Team, Region: c.Region,
		Grade: c.Grade.Level, Stage: string(c.Stage), Tags: c.Tags}
	out.Name = search.NameValue(c.Name)
	for _, p := range c.Partners {
		out.Partners = append(out.Partners, p.OrgID)
	}
	return out
}

// searchItems are the key items a customer and its contacts imply: none
// for a merged customer's tombstone, or one no longer there.
func searchItems(c *crm.Customer, contacts []*crm.Contact) (map[itemKey]*searchKeyItem, string) {
	out := map[itemKey]*searchKeyItem{}
	if c == nil || c.Status == crm.StatusMerged {
		return out, ""
	}
	in := search.Customer{Name: c.Name, Organization: c.Kind == crm.KindOrganization, Phones: c.Phones}
	for _, p := range contacts {
		in.Contacts = append(in.Contacts, search.Person{Name: p.Name, Phones: p.Phones})
	}
	carried := carriedOf(c)
	for _, k := range search.CustomerKeys(in) {
		phoneKey, v := k.Kind == search.Phone, search.IndexValue(k)
		b := search.Bucket(phoneKey, v)
		if b == "" {
			continue
		}
		it := &searchKeyItem{PK: searchPK(phoneKey, b), SK: v + "#" + c.ID, Type: "searchKey", CustomerID: c.ID,
			Kind: k.Kind.String(), Value: k.Value, searchCarried: carried}
		out[itemKey{it.PK, it.SK}] = it
	}
	return out, carried.digest()
}

// searchSource reads a customer's contacts and profile in one consistent
// Query (sk BETWEEN ~C# AND ~P); a customer not there reads as nil.
func (s *Store) searchSource(ctx context.Context, id string) (*crm.Customer, []*crm.Contact, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :c AND :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(id)), ":c": str(skContactPrefix), ":p": str(skProfile)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, nil, wrap("query customer "+id, err)
	}
	var c *crm.Customer
	var contacts []*crm.Contact
	for _, raw := range res.Items {
		switch sk := strAttr(raw["sk"]); {
		case sk == skProfile:
			var it customerItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, nil, fmt.Errorf("unmarshal customer %s: %w", id, err)
			}
			c = fromCustomerItem(&it)
		case strings.HasPrefix(sk, skContactPrefix):
			var it contactItem
			if err := unmarshalItem(raw, &it); err != nil {
				return nil, nil, fmt.Errorf("unmarshal contact of %s: %w", id, err)
			}
			contacts = append(contacts, fromContactItem(&it))
		}
	}
	return c, contacts, nil
}

// syncSearchKeys brings a customer's key items to what its profile and
// contacts imply now, and reports whether it wrote any. Its manifest is
// written last, conditioned on the revision read: when another writer
// (the migration beside the stream) moved it meanwhile, the sync is done
// again from a fresh read, deleting also what this one put that is no
// longer wanted, and putting every wanted item again (what the other
// writer deleted). Each write is idempotent.
func (s *Store) syncSearchKeys(ctx context.Context, id string) (bool, error) {
	put := map[itemKey]bool{}
	for attempt := 0; ; attempt++ {
		c, contacts, err := s.searchSource(ctx, id)
		if err != nil {
			return false, err
		}
		var m searchManifestItem
		found, err := s.getItem(ctx, searchManifestPK(id), skSearchManifest, &m)
		if err != nil {
			return false, err
		}
		want, carried := searchItems(c, contacts)
		old := map[itemKey]bool{}
		for _, k := range m.Keys {
			old[fromManifestKey(k)] = true
		}
		if found && attempt == 0 && m.Carried == carried && maps.EqualFunc(old, want, func(bool, *searchKeyItem) bool { return true }) {
			return false, nil
		}
		var reqs []types.WriteRequest
		for k := range old {
			if want[k] == nil {
				reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(k.pk, k.sk)}})
			}
		}
		for k := range put {
			if want[k] == nil && !old[k] {
				reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(k.pk, k.sk)}})
			}
		}
		keys := slices.SortedFunc(maps.Keys(want), func(a, b itemKey) int { return cmp.Or(strings.Compare(a.pk, b.pk), strings.Compare(a.sk, b.sk)) })
		for _, k := range keys {
			if old[k] && m.Carried == carried && attempt == 0 {
				continue // there already, carrying the same
			}
			item, err := attributevalue.MarshalMap(want[k])
			if err != nil {
				return false, err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
			put[k] = true
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return false, err
		}
		next := searchManifestItem{PK: searchManifestPK(id), SK: skSearchManifest, Type: "searchKeys", Carried: carried, Rev: m.Rev + 1,
			Keys: make([]string, 0, len(keys))}
		for _, k := range keys {
			next.Keys = append(next.Keys, manifestKey(k))
		}
		item, err := attributevalue.MarshalMap(next)
		if err != nil {
			return false, err
		}
		cond, vals := "attribute_not_exists(pk)", map[string]types.AttributeValue(nil)
		if found {
			cond, vals = "rev = :r", map[string]types.AttributeValue{":r": num(m.Rev)}
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: &cond, ExpressionAttributeValues: vals})
		err = wrap("put search manifest", err)
		if crm.ErrorCode(err) == crm.ECONFLICT && attempt < searchSyncRetries {
			continue
		}
		return err == nil, err
	}
}

// getItem reads one item consistently into out and reports whether it
// was there.
func (s *Store) getItem(ctx context.Context, pk, sk string, out any) (bool, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, wrap("get "+pk, err)
	}
	if res.Item == nil {
		return false, nil
	}
	return true, unmarshalItem(res.Item, out)
}

// writeSearchKeys syncs the key items of the customers whose profile or
// contacts the changes touched in what the items follow.
func (s *Store) writeSearchKeys(ctx context.Context, changes []stream.Change) error {
	var ids []string
	for _, ch := range changes {
		touched := false
		switch ch.Kind {
		case stream.KindProfile:
			touched = searchShape(ch.CustomerBefore) != searchShape(ch.Customer)
		case stream.KindContact:
			touched = contactShape(ch.ContactBefore) != contactShape(ch.Contact)
		}
		if touched && ch.CustomerID != "" && !slices.Contains(ids, ch.CustomerID) {
			ids = append(ids, ch.CustomerID)
		}
	}
	for _, id := range ids {
		if _, err := s.syncSearchKeys(ctx, id); err != nil {
			return fmt.Errorf("search keys of %s: %w", id, err)
		}
	}
	return nil
}

// searchBackfill builds the search keys of the customers stored before
// the stream consumer kept them (issue #11).
const searchBackfill = "2026-12-search-keys"

// searchPage syncs the key items of each profile of a page. A customer
// whose items are in step already writes nothing, so a second run changes
// nothing.
func searchPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	changed := 0
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		if !strings.HasPrefix(pk, "CUST#") || sk != skProfile {
			continue
		}
		did, err := s.syncSearchKeys(ctx, customerIDOf(pk))
		if err != nil {
			return changed, fmt.Errorf("%s: %w", pk, err)
		}
		if did {
			changed++
		}
	}
	return changed, nil
}

// searchHit is a customer a window found: its best rank, and what its key
// items carry.
type searchHit struct {
	id   string
	rank search.Rank
	c    searchCarried
}

// SearchCustomers returns a page of the customers matching q and f
// (crm.Store). It reads the lookup's bucket a window of searchWindow key
// items at a time (one Query), ranks each window's customers (best rank,
// then name, then id) and keeps those f admits by what the items carry,
// until the page is full or searchQueries windows are read; then it reads
// the page's profiles in one BatchGetItem and keeps those f admits as
// stored (an item lagging its profile by the stream's seconds drops out).
// A cursor is the window it stopped in and how many of the window's
// customers it returned.
func (s *Store) SearchCustomers(ctx context.Context, q search.Query, f crm.CustomerFilter, p crm.PageRequest) (*crm.Page[*crm.Customer], error) {
	if len(q.Lookups) != 1 {
		return nil, fmt.Errorf("search: %d lookups, want 1", len(q.Lookups))
	}
	l := q.Lookups[0]
	name := "search/" + filterHash(f) + "/" + strconv.FormatBool(l.Phone) + "/" + l.Prefix + "/" + q.Text
	start, err := s.decodeCursor(name, p.After)
	if err != nil {
		return nil, err
	}
	skip := 0
	if start != nil {
		skip, err = strconv.Atoi(strAttr(start["skip"]))
		delete(start, "skip")
		if err != nil || skip < 0 {
			return nil, crm.Invalid("after", "invalid cursor: use the cursor of a page of this same list")
		}
		if len(start) == 0 {
			start = nil
		}
	}
	cursor := func(window map[string]types.AttributeValue, n int) string {
		k := maps.Clone(window)
		if k == nil {
			k = map[string]types.AttributeValue{}
		}
		k["skip"] = str(strconv.Itoa(n))
		return s.encodeCursor(name, k)
	}
	var hits []searchHit
	var cursors []string
	seen := map[string]bool{}
	more := false
	for queries := 0; ; queries++ {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :v)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(searchPK(l.Phone, l.Bucket)), ":v": str(l.Prefix)},
			ExclusiveStartKey: start,
			Limit:             aws.Int32(searchWindow),
		})
		if err != nil {
			return nil, wrap("query search keys", err)
		}
		window, err := rankWindow(q, res.Items)
		if err != nil {
			return nil, err
		}
		for i := skip; i < len(window) && !more; i++ {
			h := window[i]
			if seen[h.id] || !matches(h.c.customer(h.id), f) {
				continue
			}
			if len(hits) == p.First {
				more = true
				break
			}
			seen[h.id] = true
			hits = append(hits, h)
			cursors = append(cursors, cursor(start, i+1))
		}
		if more {
			break
		}
		start, skip = res.LastEvaluatedKey, 0
		if start == nil {
			break
		}
		if len(hits) == p.First || queries+1 == searchQueries {
			// The next window may hold more: resume at its start.
			more = true
			cursors = append(cursors, cursor(start, 0))
			break
		}
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	found, err := s.customers(ctx, ids, f.WithActivity)
	if err != nil {
		return nil, err
	}
	page := &crm.Page[*crm.Customer]{HasNext: more}
	for i, id := range ids {
		if c, ok := found[id]; ok && matches(c, f) {
			page.Items = append(page.Items, c)
			page.Cursors = append(page.Cursors, cursors[i])
		}
	}
	if len(cursors) > 0 {
		page.EndCursor = cursors[len(cursors)-1]
	}
	return page, nil
}

// rankWindow ranks the customers of a window of key items, best first:
// by the best rank of their keys (search.Query.MatchFound), then name,
// then id.
func rankWindow(q search.Query, raw []map[string]types.AttributeValue) ([]searchHit, error) {
	best := map[string]*searchHit{}
	for _, r := range raw {
		var it searchKeyItem
		if err := unmarshalItem(r, &it); err != nil {
			return nil, fmt.Errorf("unmarshal search key: %w", err)
		}
		kind := search.Kind(slices.Index(searchKinds, it.Kind))
		rank, ok := q.MatchFound(search.Key{Kind: kind, Value: it.Value}, it.Name)
		if !ok {
			continue // a longer value its prefix found that does not match (a phone's first digits)
		}
		if h := best[it.CustomerID]; h == nil || rank < h.rank {
			best[it.CustomerID] = &searchHit{id: it.CustomerID, rank: rank, c: it.searchCarried}
		}
	}
	out := make([]searchHit, 0, len(best))
	for _, h := range best {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b searchHit) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), strings.Compare(a.c.Name, b.c.Name), strings.Compare(a.id, b.id))
	})
	return out, nil
}

var searchKinds = []string{search.Name.String(), search.Word.String(), search.Core.String(), search.Pinyin.String(),
	search.Initials.String(), search.Contact.String(), search.Phone.String()}
