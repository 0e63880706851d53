package tables_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/infra/tables"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }

var templatePath = filepath.Join("..", "..", "template.yaml")

// The real proof that local tables are what we deploy: every table in
// template.yaml, created in DynamoDB Local, describes back identically.
func TestEnsureAllCreatesTablesMatchingTheTemplate(t *testing.T) {
	t.Parallel()
	client := ddbtest.Client(t)
	want, err := tables.FromTemplate(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("template.yaml declares no tables")
	}
	nameFor := func(id string) string { return "ensureall-" + id }
	// Twice, because a second run against the same database must be a no-op.
	for range 2 {
		if err := tables.EnsureAll(t.Context(), client, templatePath, nameFor); err != nil {
			t.Fatal(err)
		}
	}
	for id, in := range want {
		t.Run(id, func(t *testing.T) {
			out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(nameFor(id))})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range tables.Diff(in, out.Table) {
				t.Error(d)
			}
		})
	}
}

func TestCreateIsIdempotentUnderConcurrency(t *testing.T) {
	t.Parallel()
	client := ddbtest.Client(t)
	defs, err := tables.FromTemplate(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	in := defs["CrmTable"]
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = tables.Create(t.Context(), client, "concurrent-crm", in) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if in.TableName != nil {
		t.Errorf("Create modified its input: TableName = %q", *in.TableName)
	}
}

func TestCreateReportsInvalidDefinitions(t *testing.T) {
	t.Parallel()
	client := ddbtest.Client(t)
	tests := []struct {
		name  string
		table string
		in    *dynamodb.CreateTableInput
	}{
		{name: "empty name", table: "", in: &dynamodb.CreateTableInput{}},
		{name: "no key schema", table: "no-keys", in: &dynamodb.CreateTableInput{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tables.Create(t.Context(), client, tt.table, tt.in); err == nil {
				t.Fatalf("Create(%q) succeeded", tt.table)
			}
		})
	}
}
