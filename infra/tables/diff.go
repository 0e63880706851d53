package tables

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Diff lists the ways an existing table differs from the wanted definition,
// one human-readable line per difference; nil means they match. It compares
// what queries depend on: keys, attribute types, indexes and their
// projections, billing mode, provisioned capacity and the stream. Order is
// ignored where DynamoDB does not preserve it (attribute definitions,
// indexes, non-key attributes).
func Diff(want *dynamodb.CreateTableInput, got *types.TableDescription) []string {
	if got == nil {
		return []string{"table does not exist"}
	}
	var d []string
	add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }

	if w, g := keysString(want.KeySchema), keysString(got.KeySchema); w != g {
		add("key schema = %s, want %s", g, w)
	}
	if w, g := attrsString(want.AttributeDefinitions), attrsString(got.AttributeDefinitions); w != g {
		add("attribute definitions = %s, want %s", g, w)
	}

	wantBilling := want.BillingMode
	if wantBilling == "" {
		wantBilling = types.BillingModeProvisioned
	}
	// DescribeTable omits BillingModeSummary for tables that were always
	// provisioned.
	gotBilling := types.BillingModeProvisioned
	if got.BillingModeSummary != nil && got.BillingModeSummary.BillingMode != "" {
		gotBilling = got.BillingModeSummary.BillingMode
	}
	if wantBilling != gotBilling {
		add("billing mode = %s, want %s", gotBilling, wantBilling)
	}
	if wantBilling == types.BillingModeProvisioned {
		if w, g := throughputString(want.ProvisionedThroughput), throughputDescString(got.ProvisionedThroughput); w != g {
			add("provisioned throughput = %s, want %s", g, w)
		}
	}

	gotGSI := map[string]types.GlobalSecondaryIndexDescription{}
	for _, g := range got.GlobalSecondaryIndexes {
		gotGSI[aws.ToString(g.IndexName)] = g
	}
	for _, w := range want.GlobalSecondaryIndexes {
		name := aws.ToString(w.IndexName)
		g, ok := gotGSI[name]
		if !ok {
			add("global index %s is missing", name)
			continue
		}
		delete(gotGSI, name)
		d = append(d, indexDiff("global index "+name, w.KeySchema, g.KeySchema, w.Projection, g.Projection)...)
		if wantBilling == types.BillingModeProvisioned {
			if ws, gs := throughputString(w.ProvisionedThroughput), throughputDescString(g.ProvisionedThroughput); ws != gs {
				add("global index %s: provisioned throughput = %s, want %s", name, gs, ws)
			}
		}
	}
	for _, name := range sortedKeys(gotGSI) {
		add("unexpected global index %s", name)
	}

	gotLSI := map[string]types.LocalSecondaryIndexDescription{}
	for _, g := range got.LocalSecondaryIndexes {
		gotLSI[aws.ToString(g.IndexName)] = g
	}
	for _, w := range want.LocalSecondaryIndexes {
		name := aws.ToString(w.IndexName)
		g, ok := gotLSI[name]
		if !ok {
			add("local index %s is missing", name)
			continue
		}
		delete(gotLSI, name)
		d = append(d, indexDiff("local index "+name, w.KeySchema, g.KeySchema, w.Projection, g.Projection)...)
	}
	for _, name := range sortedKeys(gotLSI) {
		add("unexpected local index %s", name)
	}

	if w, g := streamString(want.StreamSpecification), streamString(got.StreamSpecification); w != g {
		add("stream = %s, want %s", g, w)
	}
	return d
}

func indexDiff(what string, wantKeys, gotKeys []types.KeySchemaElement, wantProj, gotProj *types.Projection) []string {
	var d []string
	if w, g := keysString(wantKeys), keysString(gotKeys); w != g {
		d = append(d, fmt.Sprintf("%s: key schema = %s, want %s", what, g, w))
	}
	if w, g := projectionString(wantProj), projectionString(gotProj); w != g {
		d = append(d, fmt.Sprintf("%s: projection = %s, want %s", what, g, w))
	}
	return d
}

// Key order is significant (HASH before RANGE), so it is preserved.
func keysString(ks []types.KeySchemaElement) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = aws.ToString(k.AttributeName) + " " + string(k.KeyType)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func attrsString(as []types.AttributeDefinition) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = aws.ToString(a.AttributeName) + ":" + string(a.AttributeType)
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, ", ") + "]"
}

func projectionString(p *types.Projection) string {
	if p == nil {
		return "<none>"
	}
	s := string(p.ProjectionType)
	if len(p.NonKeyAttributes) > 0 {
		attrs := slices.Clone(p.NonKeyAttributes)
		sort.Strings(attrs)
		s += " " + strings.Join(attrs, ",")
	}
	return s
}

func throughputString(p *types.ProvisionedThroughput) string {
	if p == nil {
		return "<none>"
	}
	return fmt.Sprintf("%d/%d RCU/WCU", aws.ToInt64(p.ReadCapacityUnits), aws.ToInt64(p.WriteCapacityUnits))
}

func throughputDescString(p *types.ProvisionedThroughputDescription) string {
	if p == nil {
		return "<none>"
	}
	return fmt.Sprintf("%d/%d RCU/WCU", aws.ToInt64(p.ReadCapacityUnits), aws.ToInt64(p.WriteCapacityUnits))
}

func streamString(s *types.StreamSpecification) string {
	if s == nil || !aws.ToBool(s.StreamEnabled) {
		return "disabled"
	}
	return string(s.StreamViewType)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
