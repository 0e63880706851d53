package tables

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// samHeader carries the kinds of things other people add to template.yaml;
// none of it may disturb table parsing.
const samHeader = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: { Type: String, Default: dev }
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function: { Runtime: provided.al2023, Timeout: 10 }
Outputs:
  TableArn: { Value: !GetAtt T.Arn }
`

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		check   func(t *testing.T, got map[string]types.TableDescription)
		wantErr string
	}{
		{
			name: "tolerates intrinsics and serverless resources outside the schema",
			yaml: samHeader + `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment: { Variables: { TABLE: !Ref T, ARN: !GetAtt T.Arn } }
  Bucket:
    Type: AWS::S3::Bucket
  T:
    Type: AWS::DynamoDB::Table
    Condition: IsProd
    DeletionPolicy: Retain
    Properties:
      TableName: !Sub "rapport-${Stage}"
      DeletionProtectionEnabled: !If [IsProd, true, false]
      Tags: [{ Key: stage, Value: !Ref Stage }]
      SSESpecification: { SSEEnabled: !If [IsProd, true, !Ref AWS::NoValue] }
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
`,
			check: func(t *testing.T, got map[string]types.TableDescription) {
				if len(got) != 1 {
					t.Fatalf("tables = %d, want only T", len(got))
				}
				if got["T"].TableName != nil {
					t.Errorf("TableName = %q, want it left to the caller", *got["T"].TableName)
				}
			},
		},
		{
			name: "reads indexes, projections, provisioned capacity and streams",
			yaml: `Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - { AttributeName: pk, AttributeType: S }
        - { AttributeName: sk, AttributeType: S }
        - { AttributeName: n, AttributeType: N }
      KeySchema: &keys
        - { AttributeName: pk, KeyType: HASH }
        - { AttributeName: sk, KeyType: RANGE }
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 2 }
      GlobalSecondaryIndexes:
        - IndexName: byN
          KeySchema: [{ AttributeName: n, KeyType: HASH }]
          Projection: { ProjectionType: INCLUDE, NonKeyAttributes: [a, b] }
          ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 }
      LocalSecondaryIndexes:
        - IndexName: byPkN
          KeySchema:
            - { AttributeName: pk, KeyType: HASH }
            - { AttributeName: n, KeyType: RANGE }
          Projection: { ProjectionType: KEYS_ONLY }
      StreamSpecification: { StreamViewType: KEYS_ONLY }
`,
			check: func(t *testing.T, got map[string]types.TableDescription) {
				d := got["T"]
				if d.BillingModeSummary.BillingMode != types.BillingModeProvisioned {
					t.Errorf("billing = %s, want PROVISIONED (the CloudFormation default)", d.BillingModeSummary.BillingMode)
				}
				if r := aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits); r != 5 {
					t.Errorf("RCU = %d, want 5", r)
				}
				if len(d.GlobalSecondaryIndexes) != 1 || len(d.GlobalSecondaryIndexes[0].Projection.NonKeyAttributes) != 2 {
					t.Errorf("GSIs = %+v", d.GlobalSecondaryIndexes)
				}
				if len(d.LocalSecondaryIndexes) != 1 || d.LocalSecondaryIndexes[0].Projection.ProjectionType != types.ProjectionTypeKeysOnly {
					t.Errorf("LSIs = %+v", d.LocalSecondaryIndexes)
				}
				if d.StreamSpecification.StreamViewType != types.StreamViewTypeKeysOnly {
					t.Errorf("stream = %+v", d.StreamSpecification)
				}
			},
		},
		{
			name: "rejects an intrinsic in the key schema",
			yaml: `Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: !Ref KeyName, KeyType: HASH }]
`,
			wantErr: "T.Properties.KeySchema[0].AttributeName: intrinsic function !Ref",
		},
		{
			name: "rejects a long-form intrinsic in the billing mode",
			yaml: `Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: { "Fn::If": [IsProd, PROVISIONED, PAY_PER_REQUEST] }
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
`,
			wantErr: "T.Properties.BillingMode: intrinsic function Fn::If",
		},
		{
			name: "rejects provisioned billing without capacity",
			yaml: `Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
`,
			wantErr: "T.Properties.ProvisionedThroughput: required property is missing",
		},
		{
			name:    "rejects a template without resources",
			yaml:    "Transform: AWS::Serverless-2016-10-31\n",
			wantErr: "no Resources",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSource([]byte(tt.yaml), nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			descs := map[string]types.TableDescription{}
			for id, in := range got {
				descs[id] = describe(in)
			}
			tt.check(t, descs)
		})
	}
}

func TestFromTemplateReadsRepositoryTemplate(t *testing.T) {
	got, err := FromTemplate(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crm, ok := got["CrmTable"]
	if !ok {
		t.Fatalf("no CrmTable in %v", got)
	}
	if n := len(crm.GlobalSecondaryIndexes); n < 6 {
		t.Errorf("CrmTable has %d GSIs, want at least the 6 access-pattern indexes", n)
	}
	if crm.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing = %s, want PAY_PER_REQUEST", crm.BillingMode)
	}
}

func TestFromTemplateReportsMissingFile(t *testing.T) {
	_, err := FromTemplate(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err = %v, want a not-exist error", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// An index list may hold entries on conditions over parameters, as the
// index upgrade's template does: each configuration gets its indexes.
func TestIndexesOnConditions(t *testing.T) {
	src := []byte(`
Parameters:
  Step: { Type: String, Default: done }
Conditions:
  Done: !Equals [!Ref Step, "done"]
  AtLeast1: !Or [!Equals [!Ref Step, "1"], !Condition Done]
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }, { AttributeName: g, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
      GlobalSecondaryIndexes:
        - !If
          - AtLeast1
          - { IndexName: new, KeySchema: [{ AttributeName: g, KeyType: HASH }], Projection: { ProjectionType: KEYS_ONLY } }
          - !Ref AWS::NoValue
        - Fn::If:
            - Done
            - !Ref AWS::NoValue
            - { IndexName: old, KeySchema: [{ AttributeName: g, KeyType: HASH }], Projection: { ProjectionType: ALL } }
`)
	for _, tt := range []struct {
		step string
		want []string
	}{{"0", []string{"old"}}, {"1", []string{"new", "old"}}, {"done", []string{"new"}}} {
		params := map[string]string{"Step": tt.step}
		if tt.step == "done" {
			params = nil // the default
		}
		got, err := parseSource(src, params)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for name := range Indexes(got["T"]) {
			names = append(names, name)
		}
		slices.Sort(names)
		if !slices.Equal(names, tt.want) {
			t.Errorf("step %s: indexes %v, want %v", tt.step, names, tt.want)
		}
	}
}
