package deploy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/infra/ddblocal"
	"github.com/rapportcrm/rapport/infra/tables"
)

// DynamoDB Local is started on first use only, so the template and build
// tests never wait for a JVM. RAPPORT_DDB_ENDPOINT points the tests at a
// DynamoDB Local that is already running instead.
//
// TODO(integrator): switch to infra/ddbtest (ddbtest.Run, Client, NewTable,
// Endpoint) once it lands; it did not exist when these tests were written.
var (
	dynamoOnce sync.Once
	dynamoProc *ddblocal.Process
	dynamoURL  string
	dynamoErr  error
	tableSeq   atomic.Int64
)

func run(m *testing.M) int {
	code := m.Run()
	if dynamoProc != nil {
		_ = dynamoProc.Stop()
	}
	return code
}

// MustDynamo returns the endpoint of DynamoDB Local and a client for it.
// The client uses ddblocal's fixed credentials and region (local/local,
// us-east-1); a bootstrap must use the same ones to see the same database.
func MustDynamo(tb testing.TB) (string, *dynamodb.Client) {
	tb.Helper()
	dynamoOnce.Do(func() {
		if dynamoURL = os.Getenv("RAPPORT_DDB_ENDPOINT"); dynamoURL != "" {
			return
		}
		ctx := context.Background()
		cache, err := ddblocal.DefaultCacheDir()
		if err != nil {
			dynamoErr = err
			return
		}
		jar, err := ddblocal.EnsureJar(ctx, cache)
		if err != nil {
			dynamoErr = err
			return
		}
		if dynamoProc, dynamoErr = ddblocal.Start(ctx, ddblocal.Options{JarDir: jar, InMemory: true}); dynamoErr == nil {
			dynamoURL = dynamoProc.Endpoint()
		}
	})
	if dynamoErr != nil {
		tb.Fatalf("DynamoDB Local: %v", dynamoErr)
	}
	db, err := ddblocal.NewClient(context.Background(), dynamoURL)
	if err != nil {
		tb.Fatal(err)
	}
	return dynamoURL, db
}

// MustTable creates the template's table logicalID under a fresh name and
// returns the name; it is deleted when tb ends.
func MustTable(tb testing.TB, db *dynamodb.Client, logicalID string) string {
	tb.Helper()
	defs, err := tables.FromTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	in, ok := defs[logicalID]
	if !ok {
		tb.Fatalf("template.yaml has no table %s", logicalID)
	}
	name := fmt.Sprintf("deploy-%s-%d-%d", logicalID, time.Now().UnixNano(), tableSeq.Add(1))
	create := *in
	create.TableName = aws.String(name)
	ctx := context.Background()
	if _, err := db.CreateTable(ctx, &create); err != nil {
		tb.Fatalf("create table %s: %v", logicalID, err)
	}
	tb.Cleanup(func() { _, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: &name}, 30*time.Second); err != nil {
		tb.Fatalf("wait for table %s: %v", name, err)
	}
	return name
}

// TestTablesMatchTemplate creates every table of template.yaml on DynamoDB
// Local and checks what DynamoDB reports against the template.
func TestTablesMatchTemplate(t *testing.T) {
	defs, err := tables.FromTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := defs["CrmTable"]; !ok {
		t.Fatal("template.yaml has no CrmTable")
	}
	_, db := MustDynamo(t)
	for id, want := range defs {
		t.Run(id, func(t *testing.T) {
			name := MustTable(t, db, id)
			out, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &name})
			if err != nil {
				t.Fatal(err)
			}
			got := out.Table
			if a, b := keys(got.KeySchema), keys(want.KeySchema); !slices.Equal(a, b) {
				t.Errorf("key schema %v, template %v", a, b)
			}
			if a, b := attrs(got.AttributeDefinitions), attrs(want.AttributeDefinitions); !slices.Equal(a, b) {
				t.Errorf("attributes %v, template %v", a, b)
			}
			gotIx := map[string]string{}
			for _, ix := range got.GlobalSecondaryIndexes {
				gotIx[*ix.IndexName] = fmt.Sprint(keys(ix.KeySchema), ix.Projection.ProjectionType)
			}
			wantIx := map[string]string{}
			for _, ix := range want.GlobalSecondaryIndexes {
				wantIx[*ix.IndexName] = fmt.Sprint(keys(ix.KeySchema), ix.Projection.ProjectionType)
			}
			if fmt.Sprint(gotIx) != fmt.Sprint(wantIx) {
				t.Errorf("indexes %v, template %v", gotIx, wantIx)
			}
			if want.StreamSpecification != nil {
				if s := got.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != want.StreamSpecification.StreamViewType {
					t.Errorf("stream %+v, template %+v", s, want.StreamSpecification)
				}
			}
		})
	}
}

func keys(ks []types.KeySchemaElement) []string {
	var out []string
	for _, k := range ks {
		out = append(out, *k.AttributeName+":"+string(k.KeyType))
	}
	return out
}

func attrs(as []types.AttributeDefinition) []string {
	var out []string
	for _, a := range as {
		out = append(out, *a.AttributeName+":"+string(a.AttributeType))
	}
	sort.Strings(out)
	return out
}
