package tables

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// describe builds the TableDescription that DynamoDB would return for in,
// so Diff can be tested without a database.
func describe(in *dynamodb.CreateTableInput) types.TableDescription {
	d := types.TableDescription{
		TableName:            in.TableName,
		KeySchema:            in.KeySchema,
		AttributeDefinitions: in.AttributeDefinitions,
		BillingModeSummary:   &types.BillingModeSummary{BillingMode: in.BillingMode},
		StreamSpecification:  in.StreamSpecification,
	}
	if p := in.ProvisionedThroughput; p != nil {
		d.ProvisionedThroughput = &types.ProvisionedThroughputDescription{ReadCapacityUnits: p.ReadCapacityUnits, WriteCapacityUnits: p.WriteCapacityUnits}
	}
	for _, g := range in.GlobalSecondaryIndexes {
		gd := types.GlobalSecondaryIndexDescription{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection}
		if p := g.ProvisionedThroughput; p != nil {
			gd.ProvisionedThroughput = &types.ProvisionedThroughputDescription{ReadCapacityUnits: p.ReadCapacityUnits, WriteCapacityUnits: p.WriteCapacityUnits}
		}
		d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, gd)
	}
	for _, l := range in.LocalSecondaryIndexes {
		d.LocalSecondaryIndexes = append(d.LocalSecondaryIndexes, types.LocalSecondaryIndexDescription{IndexName: l.IndexName, KeySchema: l.KeySchema, Projection: l.Projection})
	}
	return d
}

func sampleInput() *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("byG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"a", "b"}},
		}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(d *types.TableDescription)
		want   []string // substrings, one per expected difference
	}{
		{name: "identical tables have no differences", mutate: func(*types.TableDescription) {}},
		{
			name: "order of attributes, indexes and non-key attributes is irrelevant",
			mutate: func(d *types.TableDescription) {
				a := d.AttributeDefinitions
				d.AttributeDefinitions = []types.AttributeDefinition{a[2], a[0], a[1]}
				d.GlobalSecondaryIndexes[0].Projection = &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"b", "a"}}
			},
		},
		{
			name: "swapped key roles are reported",
			mutate: func(d *types.TableDescription) {
				k := d.KeySchema
				d.KeySchema = []types.KeySchemaElement{k[1], k[0]}
			},
			want: []string{"key schema"},
		},
		{
			name:   "missing and unexpected indexes are reported",
			mutate: func(d *types.TableDescription) { d.GlobalSecondaryIndexes[0].IndexName = aws.String("other") },
			want:   []string{"global index byG is missing", "unexpected global index other"},
		},
		{
			name: "a different projection is reported",
			mutate: func(d *types.TableDescription) {
				d.GlobalSecondaryIndexes[0].Projection = &types.Projection{ProjectionType: types.ProjectionTypeAll}
			},
			want: []string{"global index byG: projection = ALL"},
		},
		{
			name:   "a missing billing summary means provisioned",
			mutate: func(d *types.TableDescription) { d.BillingModeSummary = nil },
			want:   []string{"billing mode = PROVISIONED, want PAY_PER_REQUEST"},
		},
		{
			name:   "a disabled stream is reported",
			mutate: func(d *types.TableDescription) { d.StreamSpecification = nil },
			want:   []string{"stream = disabled, want NEW_AND_OLD_IMAGES"},
		},
		{
			name: "an unexpected local index is reported",
			mutate: func(d *types.TableDescription) {
				d.LocalSecondaryIndexes = []types.LocalSecondaryIndexDescription{{IndexName: aws.String("lsi")}}
			},
			want: []string{"unexpected local index lsi"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := sampleInput()
			got := describe(sampleInput())
			tt.mutate(&got)
			diffs := Diff(want, &got)
			if len(diffs) != len(tt.want) {
				t.Fatalf("Diff = %q, want %d differences like %q", diffs, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(diffs[i], w) {
					t.Errorf("diff[%d] = %q, want it to contain %q", i, diffs[i], w)
				}
			}
		})
	}
}

func TestDiffOfMissingTable(t *testing.T) {
	if d := Diff(sampleInput(), nil); len(d) != 1 {
		t.Errorf("Diff(nil) = %q, want one difference", d)
	}
}
