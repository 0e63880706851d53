package dynamo

import (
	"cmp"
	"context"
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
// matches, whatever the table holds. A key of the customer's own name
// carries the customer's folded name, which ranks it; a contact's or a
// phone's key carries none (searchKeyItem). What a filter and the
// caller's visibility check is checked on the profiles the page reads.
//
// The stream consumer keeps the items in step (WriteLookups calls
// writeSearchKeys): a profile or contact change that touches any of that
// brings its customer's items to what its profile and contacts imply now,
// with a manifest, SEARCHKEYS#<customer> / KEYS, naming the items written,
// the name they carry and their layout. A merged customer has none.

const (
	skSearchManifest = "KEYS"
	// searchWindow is how many key items one Query of a lookup reads: a
	// window is ranked as a whole.
	searchWindow = 200
	// searchBatch is how many profiles one BatchGetItem of a search reads
	// (BatchGetItem's most keys).
	searchBatch = 100
	// searchCalls bounds the calls of one page: the Query of a window and
	// one BatchGetItem of up to searchBatch profiles. A caller who may read
	// few of the customers that match (a salesperson's own among everyone's)
	// gets a shorter page and a cursor rather than a third call: a
	// type-ahead's first page costs 2 calls at any size.
	searchCalls = 2
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

// searchKeyItem is one search key of a customer. A key of the customer's
// own name (NAME, WORD, CORE, PINYIN, INITIALS) carries the customer's
// folded name (the Name key's value), which ranks it (a key found by a
// query's core ranks by the name too) and orders a rank; such keys are
// written again on a rename anyway, since their values follow the name. A
// contact's or a phone's key carries no name, so that a rename leaves
// them alone: customers found by them are ordered by the value found
// (searchHit).
type searchKeyItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	CustomerID string `dynamodbav:"customerId"`
	Kind       string `dynamodbav:"kind,omitempty"`
	Value      string `dynamodbav:"value,omitempty"`
	Name       string `dynamodbav:"name,omitempty"`
}

// searchKeysVersion is the layout of a customer's key items its manifest
// records: 2 since contact and phone keys carry no name; 3 since the
// manifest also names the customer's entry in the order of names
// (nameOrderEntry), which moves with the name as its keys do. A manifest
// before 2 (none recorded) has every item written again by the next sync:
// the migration searchUnnamed does it for every customer. One of layout 2
// has its keys as they are, and takes over the name's entry from where the
// activity recorded it (legacyNameEntry): the migration searchOrder.
const searchKeysVersion = 3

// carriesName reports whether a key of that kind carries its customer's
// name.
func carriesName(k search.Kind) bool { return k != search.Contact && k != search.Phone }

type searchManifestItem struct {
	PK   string   `dynamodbav:"pk"`
	SK   string   `dynamodbav:"sk"`
	Type string   `dynamodbav:"type"`
	Keys []string `dynamodbav:"keys"` // pk + "\n" + sk of each key item
	// Name is the name the items of the customer's own name carry.
	Name string `dynamodbav:"name"`
	Rev  int    `dynamodbav:"rev"`
	// V is the layout the items were written in (searchKeysVersion); 0
	// before contact and phone keys left out the name.
	V int `dynamodbav:"v,omitempty"`
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
	return fmt.Sprintf("%q|%q|%q|%t|%t", c.Name, c.Kind, c.Phones, c.Status == crm.StatusMerged, ordered(c))
}

func contactShape(c *crm.Contact) string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%q|%q", c.Name, c.Phones)
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
	name := search.NameValue(c.Name)
	for _, k := range search.CustomerKeys(in) {
		phoneKey, v := k.Kind == search.Phone, search.IndexValue(k)
		b := search.Bucket(phoneKey, v)
		if b == "" {
			continue
		}
		it := &searchKeyItem{PK: searchPK(phoneKey, b), SK: v + "#" + c.ID, Type: "searchKey", CustomerID: c.ID,
			Kind: k.Kind.String(), Value: k.Value}
		if carriesName(k.Kind) {
			it.Name = name
		}
		out[itemKey{it.PK, it.SK}] = it
	}
	if k, ok := nameOrderEntry(c); ok {
		out[k] = &searchKeyItem{PK: k.pk, SK: k.sk, Type: "order", CustomerID: c.ID}
	}
	return out, name
}

// legacyNameEntry is the name's order entry where an activity written
// before the manifest named it recorded it; ok false when it records none.
func (s *Store) legacyNameEntry(ctx context.Context, id string) (itemKey, bool, error) {
	var a struct {
		Ord *orderState `dynamodbav:"ord"`
	}
	if _, err := s.getItem(ctx, customerPK(id), skActivity, &a); err != nil || a.Ord == nil || a.Ord.Name == "" {
		return itemKey{}, false, err
	}
	return itemKey{orderPK(crm.OrderName, orderAll), a.Ord.Name}, true, nil
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
// A customer created in the batch (created) has no order entry recorded
// by an activity written before: none is read.
func (s *Store) syncSearchKeys(ctx context.Context, id string, created bool) (bool, error) {
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
		want, name := searchItems(c, contacts)
		old := map[itemKey]bool{}
		for _, k := range m.Keys {
			old[fromManifestKey(k)] = true
		}
		if (found && m.V < searchKeysVersion) || (!found && !created) {
			k, ok, err := s.legacyNameEntry(ctx, id)
			if err != nil {
				return false, err
			}
			if ok {
				old[k] = true
			}
		}
		// Layout 2's keys are layout 3's: only the name's entry is new.
		current := found && attempt == 0 && m.V >= 2
		if current && m.V == searchKeysVersion && m.Name == name && maps.EqualFunc(old, want, func(bool, *searchKeyItem) bool { return true }) {
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
			if old[k] && current && (want[k].Name == "" || m.Name == name) {
				continue // there already, carrying what it should
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
		next := searchManifestItem{PK: searchManifestPK(id), SK: skSearchManifest, Type: "searchKeys", Name: name, Rev: m.Rev + 1,
			V: searchKeysVersion, Keys: make([]string, 0, len(keys))}
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
	created := map[string]bool{}
	for _, ch := range changes {
		if ch.Kind == stream.KindProfile && ch.Event == "INSERT" && ch.CustomerBefore == nil {
			created[ch.CustomerID] = true
		}
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
		if _, err := s.syncSearchKeys(ctx, id, created[id]); err != nil {
			return fmt.Errorf("search keys of %s: %w", id, err)
		}
	}
	return nil
}

// searchBackfill builds the search keys of the customers stored before
// the stream consumer kept them (issue #11).
const searchBackfill = "2026-12-search-keys"

// searchUnnamed writes again the key items of customers whose manifest
// records an older layout (searchKeysVersion): their contact and phone
// keys without the name. It runs the same sync per profile, which writes
// nothing for a customer in step: idempotent and resumable.
const searchUnnamed = "2026-12-search-keys-unnamed"

// searchOrder moves the name's order entry of every customer into its
// search manifest (searchKeysVersion 3): the same sync per profile, which
// takes the entry over from the activity's record of it, writes only the
// manifest for a customer whose name's entry is in place, and nothing for
// one in step: idempotent and resumable.
const searchOrder = "2026-12-search-keys-order"

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
		did, err := s.syncSearchKeys(ctx, customerIDOf(pk), false)
		if err != nil {
			return changed, fmt.Errorf("%s: %w", pk, err)
		}
		if did {
			changed++
		}
	}
	return changed, nil
}

// searchHit is a customer a window found: its best rank, and what orders
// it among the customers of that rank: its name as the keys of its name
// carry it, or for one found by a contact's or a phone's key (which carry
// no name: the contact and phone ranks hold only such customers) the
// least value found, a contact's name or the number's last digits.
type searchHit struct {
	id, order string
	rank      search.Rank
}

// SearchCustomers returns a page of the customers matching q and f
// (crm.Store). It reads the lookup's bucket a window of searchWindow key
// items at a time (one Query) and ranks the window's customers (best
// rank, then name, then id); then it reads their profiles in rank order
// with BatchGetItem, as many as the page needs when f narrows nothing
// (an admin's search), else up to searchBatch at once, and keeps those
// f, visibility included, admits. It stops when the page is full, or
// after searchCalls calls. A cursor is the window it stopped in and how
// many of the window's ranked customers were taken or passed over.
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
	batch := searchBatch
	if f.WithActivity {
		batch /= 2 // a profile and its activity item each
	}
	window := int32(searchWindow)
	if s.searchWindow > 0 {
		window = int32(s.searchWindow)
	}
	page := &crm.Page[*crm.Customer]{}
	seen := map[string]bool{}
	for calls := 0; ; {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :v)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(searchPK(l.Phone, l.Bucket)), ":v": str(l.Prefix)},
			ExclusiveStartKey: start,
			Limit:             aws.Int32(window),
		})
		calls++
		if err != nil {
			return nil, wrap("query search keys", err)
		}
		ranked, err := rankWindow(q, res.Items)
		if err != nil {
			return nil, err
		}
		for skip < len(ranked) {
			if calls == searchCalls || len(page.Items) > p.First {
				break
			}
			n := min(len(ranked)-skip, batch)
			if narrowsNothing(f) {
				n = min(n, p.First+1-len(page.Items))
			}
			part := ranked[skip : skip+n]
			ids := make([]string, len(part))
			for i, h := range part {
				ids[i] = h.id
			}
			found, err := s.customers(ctx, ids, f.WithActivity)
			calls++
			if err != nil {
				return nil, err
			}
			for i, h := range part {
				if c, ok := found[h.id]; ok && !seen[h.id] && matches(c, f) {
					seen[h.id] = true
					page.Items = append(page.Items, c)
					page.Cursors = append(page.Cursors, cursor(start, skip+i+1))
				}
			}
			skip += n
		}
		if len(page.Items) > p.First {
			// One more than asked tells that a next page exists.
			page.Items, page.Cursors, page.HasNext = page.Items[:p.First], page.Cursors[:p.First], true
			break
		}
		if skip < len(ranked) {
			page.HasNext = true // out of calls within the window
			page.Cursors = append(page.Cursors, cursor(start, skip))
			break
		}
		if start, skip = res.LastEvaluatedKey, 0; start == nil {
			break
		}
		if len(page.Items) == p.First || calls+2 > searchCalls {
			page.HasNext = true // the next window may hold more
			page.Cursors = append(page.Cursors, cursor(start, 0))
			break
		}
	}
	if len(page.Cursors) > 0 {
		page.EndCursor = page.Cursors[len(page.Cursors)-1]
		page.Cursors = page.Cursors[:len(page.Items)]
	}
	return page, nil
}

// narrowsNothing reports whether a filter, visibility included, admits
// every active customer: then every profile read is on the page.
func narrowsNothing(f crm.CustomerFilter) bool {
	return f.OwnerID == "" && !f.Pool && f.Grade == "" && f.Stage == "" && f.Region == "" && f.Team == "" && f.Tag == "" &&
		len(f.VisibleTeams) == 0 && f.VisibleOwner == "" && f.VisiblePartner == "" && !unindexed(f)
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
			continue
		}
		order := it.Name
		if order == "" {
			order = search.IndexValue(search.Key{Kind: kind, Value: it.Value})
		}
		if h := best[it.CustomerID]; h == nil || rank < h.rank || rank == h.rank && order < h.order {
			best[it.CustomerID] = &searchHit{id: it.CustomerID, order: order, rank: rank}
		}
	}
	out := make([]searchHit, 0, len(best))
	for _, h := range best {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b searchHit) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), strings.Compare(a.order, b.order), strings.Compare(a.id, b.id))
	})
	return out, nil
}

var searchKinds = []string{search.Name.String(), search.Word.String(), search.Core.String(), search.Pinyin.String(),
	search.Initials.String(), search.Contact.String(), search.Phone.String()}
