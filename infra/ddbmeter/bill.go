package ddbmeter

import (
	"context"
	"fmt"
	"math"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/dynamo"
)

// How AWS bills request units (on demand; provisioned tables consume the
// same units), which is what Usage.Billed holds:
//
//   - reads: 1 unit per 4 KB read strongly consistently, half that
//     eventually consistent, twice that in a transaction. DynamoDB Local
//     reports reads the same way, so Billed takes its figures.
//   - writes: 1 unit per KB of the larger of the item's old and new
//     image, 2 in a transaction (AWS, "Amazon DynamoDB Transactions: How
//     it works", capacity management); a ConditionCheck in a transaction
//     2 per KB of the item it reads, and each index write 1 per KB of the
//     index entry (its key attributes, the table's key, the projected
//     attributes and 100 bytes), in a transaction as outside one (both
//     measured against DynamoDB in eu-west-2 by the dynoxide emulator's
//     authors, github.com/nubo-db/dynoxide pull request 188, 2026-08-14).
//     A write moving an entry's key is a delete and a put of the entry (2
//     writes); one leaving every projected attribute as it was writes
//     nothing to the index.
//
// DynamoDB Local reports single-item writes that way, but not
// transactions: measured on 2.9 (TestBillFollowsAWSRules), it sums the
// distinct per-item sizes of a transaction's items, in KB, and counts each
// at 4 units, index writes too; a ConditionCheck at 0. Four 100-byte puts
// are reported as 4 units where AWS bills 8, and one 100-byte put as 4
// where AWS bills 2. So a meter with a Probe computes every write from the
// items' images, read before and after the call, and the index
// definitions, and uses what DynamoDB reported only for reads.

// writeTarget is one item a write call writes, and how.
type writeTarget struct {
	table  string
	key    map[string]types.AttributeValue
	check  bool // a ConditionCheck: read, not written
	factor float64
}

// writeTargets lists the items a write call touches; nil for reads.
func writeTargets(input any, keyOf func(table string, item map[string]types.AttributeValue) map[string]types.AttributeValue) []writeTarget {
	var out []writeTarget
	add := func(table *string, key map[string]types.AttributeValue, check bool, factor float64) {
		out = append(out, writeTarget{table: aws.ToString(table), key: key, check: check, factor: factor})
	}
	switch in := input.(type) {
	case *dynamodb.PutItemInput:
		add(in.TableName, keyOf(aws.ToString(in.TableName), in.Item), false, 1)
	case *dynamodb.UpdateItemInput:
		add(in.TableName, in.Key, false, 1)
	case *dynamodb.DeleteItemInput:
		add(in.TableName, in.Key, false, 1)
	case *dynamodb.BatchWriteItemInput:
		for table, reqs := range in.RequestItems {
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					add(&table, keyOf(table, r.PutRequest.Item), false, 1)
				case r.DeleteRequest != nil:
					add(&table, r.DeleteRequest.Key, false, 1)
				}
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				add(it.Put.TableName, keyOf(aws.ToString(it.Put.TableName), it.Put.Item), false, 2)
			case it.Update != nil:
				add(it.Update.TableName, it.Update.Key, false, 2)
			case it.Delete != nil:
				add(it.Delete.TableName, it.Delete.Key, false, 2)
			case it.ConditionCheck != nil:
				add(it.ConditionCheck.TableName, it.ConditionCheck.Key, true, 2)
			}
		}
	}
	return out
}

// tableDef is what billing needs of a table: its key and its indexes.
type tableDef struct {
	key     []string
	indexes []indexDef
}

type indexDef struct {
	name      string
	key       []string
	all       bool
	projected map[string]bool // besides the keys, for INCLUDE
}

func describe(ctx context.Context, db *dynamodb.Client, table string) (*tableDef, error) {
	res, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		return nil, fmt.Errorf("ddbmeter: describe %s: %w", table, err)
	}
	keys := func(ks []types.KeySchemaElement) []string {
		var out []string
		for _, k := range ks {
			out = append(out, aws.ToString(k.AttributeName))
		}
		return out
	}
	def := &tableDef{key: keys(res.Table.KeySchema)}
	for _, g := range res.Table.GlobalSecondaryIndexes {
		idx := indexDef{name: aws.ToString(g.IndexName), key: keys(g.KeySchema), projected: map[string]bool{}}
		if p := g.Projection; p != nil {
			idx.all = p.ProjectionType == types.ProjectionTypeAll
			for _, a := range p.NonKeyAttributes {
				idx.projected[a] = true
			}
		}
		def.indexes = append(def.indexes, idx)
	}
	return def, nil
}

func (d *tableDef) keyOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	k := map[string]types.AttributeValue{}
	for _, a := range d.key {
		k[a] = item[a]
	}
	return k
}

// entry is an item's entry in an index, nil when the item is not in it.
func (d *tableDef) entry(idx indexDef, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	if item == nil {
		return nil
	}
	e := map[string]types.AttributeValue{}
	for _, a := range idx.key {
		v, ok := item[a]
		if !ok {
			return nil // sparse: no key, no entry
		}
		e[a] = v
	}
	for a, v := range item {
		if idx.all || idx.projected[a] || contains(d.key, a) {
			e[a] = v
		}
	}
	return e
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// kb rounds a size up to whole KB, at least one.
func kb(size int) float64 { return max(1, math.Ceil(float64(size)/1024)) }

// indexEntryOverhead is what AWS adds to an index entry's size.
const indexEntryOverhead = 100

// billWrite is what AWS bills for writing one item from before to after
// (nil: absent).
func (d *tableDef) billWrite(t writeTarget, before, after map[string]types.AttributeValue) Capacity {
	var out Capacity
	if t.check {
		out.add(false, TableUnits, t.factor*kb(dynamo.ItemSize(before)))
		return out
	}
	out.add(false, TableUnits, t.factor*kb(max(dynamo.ItemSize(before), dynamo.ItemSize(after))))
	for _, idx := range d.indexes {
		b, a := d.entry(idx, before), d.entry(idx, after)
		units := 0.0
		switch {
		case b == nil && a == nil:
		case b == nil:
			units = kb(dynamo.ItemSize(a) + indexEntryOverhead)
		case a == nil:
			units = kb(dynamo.ItemSize(b) + indexEntryOverhead)
		case !sameKey(idx.key, b, a):
			units = kb(dynamo.ItemSize(b)+indexEntryOverhead) + kb(dynamo.ItemSize(a)+indexEntryOverhead)
		case !reflect.DeepEqual(b, a):
			units = kb(dynamo.ItemSize(a) + indexEntryOverhead)
		}
		out.add(false, idx.name, units)
	}
	return out
}

func sameKey(key []string, a, b map[string]types.AttributeValue) bool {
	for _, k := range key {
		if !reflect.DeepEqual(a[k], b[k]) {
			return false
		}
	}
	return true
}

// billReads takes DynamoDB's own figures for reads (see above).
func billReads(op string, reported []types.ConsumedCapacity) Capacity {
	var out Capacity
	if !isRead(op) {
		return out
	}
	for _, cc := range reported {
		if cc.Table != nil {
			out.add(true, TableUnits, unitsOf(cc.Table))
		}
		for name, idx := range cc.GlobalSecondaryIndexes {
			out.add(true, name, unitsOf(&idx))
		}
		for name, idx := range cc.LocalSecondaryIndexes {
			out.add(true, name, unitsOf(&idx))
		}
	}
	return out
}
