package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/rapportcrm/rapport/crm"
)

// The audit log is an item per write, put in the same transaction
// as the write (a logged interaction's right after it: appends.go): `AUDIT#<UTC day>` / `<ULID>`, listed by day, and indexed by
// customer on byList (`gList` = `AUDIT#CUST#<id>`, `gSort` = the ULID).

func auditDayPK(t time.Time) string       { return "AUDIT#" + t.UTC().Format(time.DateOnly) }
func auditListKey(customer string) string { return "AUDIT#CUST#" + customer }

// maxAuditValue bounds one field's recorded value: a field larger than this
// (a long free-form archive) is recorded by size, so an audit item stays
// far below DynamoDB's 400 KB.
const maxAuditValue = 16 << 10

// auditRecord is what a transaction does to one entity, as items.
type auditRecord struct {
	kind, id, customerID string
	before, after        map[string]types.AttributeValue
}

func (t *tx) record(kind, id, customerID string, before, after map[string]types.AttributeValue) {
	t.audited = append(t.audited, auditRecord{kind: kind, id: id, customerID: customerID, before: before, after: after})
}

type auditFieldItem struct {
	Name   string `dynamodbav:"n"`
	Before string `dynamodbav:"b,omitempty"`
	After  string `dynamodbav:"a,omitempty"`
}

type auditChangeItem struct {
	Entity string `dynamodbav:"entity"`
	// ID and CustomerID are left out of a stored change that repeats
	// them (stored).
	ID         string           `dynamodbav:"id,omitempty"`
	CustomerID string           `dynamodbav:"customerId,omitempty"`
	Action     string           `dynamodbav:"action"`
	Fields     []auditFieldItem `dynamodbav:"fields"`
}

type auditItem struct {
	PK    string `dynamodbav:"pk"`
	SK    string `dynamodbav:"sk"`
	Type  string `dynamodbav:"type"`
	GList string `dynamodbav:"gList,omitempty"`
	GSort string `dynamodbav:"gSort,omitempty"`
	// ID is the sort key's: stored only by entries written before
	// entries were stored compact, which is how expand tells them apart.
	ID        string            `dynamodbav:"id,omitempty"`
	At        time.Time         `dynamodbav:"at"`
	Actor     string            `dynamodbav:"actor"`
	Roles     []string          `dynamodbav:"roles,omitempty"`
	Operation string            `dynamodbav:"operation,omitempty"`
	RequestID string            `dynamodbav:"requestId,omitempty"`
	ImportID  string            `dynamodbav:"importId,omitempty"`
	Changes   []auditChangeItem `dynamodbav:"changes"`
}

// noCustomer stands for a change without a customer in a compact entry
// listed under one.
const noCustomer = "-"

// stored is the entry as it is written, compact: it leaves out what it
// repeats (its id, the sort key; a change's id when the change before has
// it, as a case opened by its interaction does; a change's customer when
// it is the entry's, gList's), and writes "-" for a change without a
// customer in an entry listed under one. A complaint's entry then stays
// under 1 KB with its byList2 entry's 100 bytes of overhead: 1 write unit
// there instead of 2.
func (it *auditItem) stored() *auditItem {
	out := *it
	out.ID = ""
	cust, listed := strings.CutPrefix(it.GList, "AUDIT#CUST#")
	out.Changes = make([]auditChangeItem, len(it.Changes))
	for i, c := range it.Changes {
		switch {
		case !listed:
		case c.CustomerID == cust:
			c.CustomerID = ""
		case c.CustomerID == "":
			c.CustomerID = noCustomer
		}
		if i > 0 && c.ID == it.Changes[i-1].ID {
			c.ID = ""
		}
		out.Changes[i] = c
	}
	return &out
}

// expand fills in what a stored entry left out. An entry without its id
// is compact: entries written before always stored it. Telling them apart
// by the id works on both reads, the table's and byList2's (a customer's
// audit log), whose projection holds the id.
func (it *auditItem) expand() {
	if it.ID != "" {
		return
	}
	it.ID = it.SK
	cust, _ := strings.CutPrefix(it.GList, "AUDIT#CUST#")
	for i := range it.Changes {
		c := &it.Changes[i]
		if c.ID == "" && i > 0 {
			c.ID = it.Changes[i-1].ID
		}
		switch c.CustomerID {
		case "":
			c.CustomerID = cust
		case noCustomer:
			c.CustomerID = ""
		}
	}
}

// commit adds the audit entry of the transaction's entity writes and runs
// it. The entry's time is the store's clock: the wall clock, when the
// write happened (the demo's replay aside: UseClock).
func (t *tx) commit(ctx context.Context) error {
	if err := t.seal(ctx); err != nil {
		return err
	}
	if err := t.s.transact(ctx, t.items); err != nil {
		return err
	}
	t.s.releaseAfter(ctx, t.released)
	return nil
}

// seal adds what a transaction writes last: its counters and its audit
// entry.
func (t *tx) seal(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	t.addCounters()
	if len(t.audited) > 0 {
		t.put(t.marshal(auditEntry(ctx, t.audited, t.s.now()).stored()), notExists, nil, nil)
	}
	return t.err
}

func auditEntry(ctx context.Context, recs []auditRecord, now time.Time) *auditItem {
	id := ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String()
	scope := crm.AuditScopeFrom(ctx)
	var roles []string
	actor := crm.SystemUserID
	if u := crm.UserFromContext(ctx); u != nil && u.ID != "" {
		actor = u.ID
		for _, r := range u.Roles {
			roles = append(roles, string(r))
		}
	}
	it := auditHead(id, now, actor, roles, scope.Operation, scope.RequestID, scope.Import)
	it.addChanges(recs)
	return it
}

// auditHead is an entry with what it says of the write as a whole: its id,
// when, by whom, and how.
func auditHead(id string, at time.Time, actor string, roles []string, operation, requestID, importID string) *auditItem {
	return &auditItem{PK: auditDayPK(at), SK: id, Type: "audit", ID: id, At: at, Actor: actor, Roles: roles,
		Operation: operation, RequestID: requestID, ImportID: importID}
}

// addChanges records what the write did to each entity.
func (it *auditItem) addChanges(recs []auditRecord) {
	for _, r := range recs {
		c := auditChangeItem{Entity: r.kind, ID: r.id, CustomerID: r.customerID, Action: string(crm.AuditUpdate),
			Fields: diffFields(r.before, r.after)}
		if r.before == nil {
			implied := impliedByCreate(recs, r)
			c.Fields = slices.DeleteFunc(c.Fields, func(f auditFieldItem) bool { return impliedOnCreate[f.Name] || implied[f.Name] })
		}
		switch {
		case r.before == nil:
			c.Action = string(crm.AuditCreate)
		case r.after == nil:
			c.Action = string(crm.AuditDelete)
		}
		if c.CustomerID != "" && it.GList == "" {
			it.GList, it.GSort = auditListKey(c.CustomerID), it.ID
		}
		it.Changes = append(it.Changes, c)
	}
}

// unrecorded tells the storage bookkeeping of an item (keys, index
// attributes, an append's scope, and what an interaction written without
// a transaction keeps of its entry and case: appends.go) and what every
// entry already says (when and by whom the item was last written: the
// entry's at and actor) from its data.
func unrecorded(name string) bool {
	return name == "pk" || name == "sk" || name == "type" || name == "scope" || name == "updatedAt" || name == "updatedBy" ||
		name == "aud" || name == "opens" ||
		(len(name) > 1 && name[0] == 'g' && name[1] >= 'A' && name[1] <= 'Z')
}

// impliedOnCreate are the fields a create's change does not repeat: its
// id and customer (the change's own), when and by whom (the entry's),
// its first version, and the name's search key (the name, normalised).
// An entry stays under 1 KB for the common creates, half the units.
var impliedOnCreate = map[string]bool{"id": true, "customerId": true, "createdAt": true, "createdBy": true,
	"version": true, "nameKey": true}

// diffFields lists the data attributes that differ between two images of
// an item, by name, with their values as JSON.
func diffFields(before, after map[string]types.AttributeValue) []auditFieldItem {
	names := map[string]bool{}
	for n := range before {
		names[n] = true
	}
	for n := range after {
		names[n] = true
	}
	out := []auditFieldItem{}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		b, a := before[n], after[n]
		if unrecorded(n) || reflect.DeepEqual(b, a) {
			continue
		}
		out = append(out, auditFieldItem{Name: n, Before: auditValue(b), After: auditValue(a)})
	}
	return out
}

func auditValue(v types.AttributeValue) string {
	if v == nil {
		return ""
	}
	var x any
	if err := attributevalue.Unmarshal(v, &x); err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	if len(b) > maxAuditValue {
		return fmt.Sprintf("(%d bytes, too large to record)", len(b))
	}
	return string(b)
}

func fromAuditItem(it *auditItem) *crm.AuditEntry {
	e := &crm.AuditEntry{ID: it.ID, At: it.At, Actor: it.Actor, Operation: it.Operation, RequestID: it.RequestID, ImportID: it.ImportID}
	for _, r := range it.Roles {
		e.Roles = append(e.Roles, crm.Role(r))
	}
	for _, c := range it.Changes {
		ch := crm.AuditChange{Entity: c.Entity, ID: c.ID, CustomerID: c.CustomerID, Action: crm.AuditAction(c.Action)}
		for _, f := range c.Fields {
			ch.Fields = append(ch.Fields, crm.FieldChange(f))
		}
		e.Changes = append(e.Changes, ch)
	}
	return e
}

// ListAudit lists audit entries newest first: one customer's through
// byList, or one day's from its partition.
func (s *Store) ListAudit(ctx context.Context, f crm.AuditFilter, p crm.PageRequest) (*crm.Page[*crm.AuditEntry], error) {
	decode := func(_ context.Context, raw []map[string]types.AttributeValue) ([]*crm.AuditEntry, []bool, error) {
		out, match := make([]*crm.AuditEntry, len(raw)), make([]bool, len(raw))
		for i, r := range raw {
			var it auditItem
			if err := attributevalue.UnmarshalMap(r, &it); err != nil {
				return nil, nil, fmt.Errorf("unmarshal audit entry: %w", err)
			}
			it.expand()
			out[i] = fromAuditItem(&it)
			match[i] = (f.Actor == "" || it.Actor == f.Actor) && (f.Operation == "" || it.Operation == f.Operation) &&
				(f.ImportID == "" || it.ImportID == f.ImportID)
		}
		return out, match, nil
	}
	filter := fmt.Sprintf("%q/%q/%q", f.Actor, f.Operation, f.ImportID)
	var plan listPlan[*crm.AuditEntry]
	if f.CustomerID != "" {
		listed := func(ctx context.Context, raw []map[string]types.AttributeValue) ([]*crm.AuditEntry, []bool, error) {
			if err := s.addImportIDs(ctx, raw); err != nil {
				return nil, nil, err
			}
			return decode(ctx, raw)
		}
		plan = byListPlan(s, "audit/customer/"+f.CustomerID+"/"+filter, auditListKey(f.CustomerID), listed)
	} else {
		pk := auditDayPK(f.Day)
		plan = listPlan[*crm.AuditEntry]{
			name: "audit/" + strings.ToLower(pk) + "/" + filter,
			query: dynamodb.QueryInput{
				TableName:                 &s.table,
				KeyConditionExpression:    aws.String("pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
				ScanIndexForward:          aws.Bool(false),
			},
			keyAttr: []string{"pk", "sk"},
			decode:  decode,
		}
	}
	plan.filtered = f.Actor != "" || f.Operation != "" || f.ImportID != ""
	return collect(ctx, s, plan, p)
}

// addImportIDs adds their import's id to the entries of an import among
// raw, entries read through byList2, which does not project importId:
// it reads them from the table, one BatchGetItem for the page, and
// none for a page without an import's entry (most pages).
func (s *Store) addImportIDs(ctx context.Context, raw []map[string]types.AttributeValue) error {
	var keys []map[string]types.AttributeValue
	at := map[string]map[string]types.AttributeValue{}
	for _, r := range raw {
		op, _ := r["operation"].(*types.AttributeValueMemberS)
		sk, _ := r["sk"].(*types.AttributeValueMemberS)
		if op == nil || op.Value != crm.ImportOperation || sk == nil || r["importId"] != nil {
			continue
		}
		keys = append(keys, map[string]types.AttributeValue{"pk": r["pk"], "sk": sk})
		at[sk.Value] = r
	}
	if len(keys) == 0 {
		return nil
	}
	items, err := s.batchGetProjected(ctx, keys, "sk, importId")
	if err != nil {
		return err
	}
	for _, it := range items {
		sk, _ := it["sk"].(*types.AttributeValueMemberS)
		if sk != nil && at[sk.Value] != nil && it["importId"] != nil {
			at[sk.Value]["importId"] = it["importId"]
		}
	}
	return nil
}
