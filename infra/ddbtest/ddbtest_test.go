package ddbtest_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/infra/ddbtest"
)

// skipRunEnv lets TestClientWithoutRunFails re-run this binary as a package
// whose TestMain forgot ddbtest.Run.
const skipRunEnv = "DDBTEST_TEST_SKIP_RUN"

func TestMain(m *testing.M) {
	if os.Getenv(skipRunEnv) != "" {
		os.Exit(m.Run())
	}
	os.Exit(ddbtest.Run(m))
}

func TestNewTableGivesEachParallelTestItsOwnTable(t *testing.T) {
	t.Parallel()
	client := ddbtest.Client(t)
	names := make(chan string, 4)
	t.Run("group", func(t *testing.T) {
		for i := range cap(names) {
			t.Run(string(rune('a'+i)), func(t *testing.T) {
				t.Parallel()
				table := ddbtest.NewTable(t, "CrmTable")
				names <- table
				// Every table starts empty, so nothing written by a sibling is visible.
				out, err := client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table)})
				if err != nil {
					t.Fatal(err)
				}
				if out.Count != 0 {
					t.Errorf("fresh table %s holds %d items", table, out.Count)
				}
				_, err = client.PutItem(t.Context(), &dynamodb.PutItemInput{
					TableName: aws.String(table),
					Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: "p"},
						"sk": &types.AttributeValueMemberS{Value: "s"},
					},
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	})
	close(names)
	seen := map[string]bool{}
	for n := range names {
		if seen[n] {
			t.Errorf("table name %s handed out twice", n)
		}
		seen[n] = true
	}
}

func TestNewTableNamesAreValidForAnyTestName(t *testing.T) {
	t.Parallel()
	t.Run("spaces, unicode ünd/slashes "+strings.Repeat("long", 80), func(t *testing.T) {
		table := ddbtest.NewTable(t, "CrmTable")
		if len(table) > 255 {
			t.Errorf("table name is %d characters, DynamoDB allows 255", len(table))
		}
	})
}

// A misconfigured package must fail with instructions, not panic or hang.
func TestClientWithoutRunFails(t *testing.T) {
	if os.Getenv(skipRunEnv) != "" {
		ddbtest.Client(t)
		return
	}
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestClientWithoutRunFails$", "-test.count=1")
	cmd.Env = append(os.Environ(), skipRunEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("child test passed without ddbtest.Run:\n%s", out)
	}
	if !strings.Contains(string(out), "TestMain must call ddbtest.Run") {
		t.Errorf("child output does not explain the fix:\n%s", out)
	}
}

const unknownIDEnv = "DDBTEST_TEST_UNKNOWN_ID"

func TestNewTableRejectsUnknownLogicalID(t *testing.T) {
	if os.Getenv(unknownIDEnv) != "" {
		ddbtest.NewTable(t, "NoSuchTable")
		return
	}
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestNewTableRejectsUnknownLogicalID$", "-test.count=1")
	cmd.Env = append(os.Environ(), unknownIDEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("NewTable accepted an unknown logical id:\n%s", out)
	}
	if !strings.Contains(string(out), `no AWS::DynamoDB::Table "NoSuchTable" (have CrmTable`) {
		t.Errorf("child output does not list the known tables:\n%s", out)
	}
}

// namedTB is t under another top-level test's name.
type namedTB struct {
	testing.TB
	name string
}

func (n namedTB) Name() string { return n.name }

// A top-level test's tables are in a database of its own: its subtests see
// them, and another top-level test (here t under another name) does not.
func TestEachTopLevelTestHasADatabaseOfItsOwn(t *testing.T) {
	t.Parallel()
	table := ddbtest.NewTable(t, "CrmTable")
	describe := func(tb testing.TB) error {
		_, err := ddbtest.Client(tb).DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		return err
	}
	t.Run("subtest", func(t *testing.T) {
		if err := describe(t); err != nil {
			t.Errorf("a subtest does not see its test's table: %v", err)
		}
	})
	var missing *types.ResourceNotFoundException
	if err := describe(namedTB{TB: t, name: t.Name() + "Elsewhere"}); !errors.As(err, &missing) {
		t.Errorf("another top-level test's table: %v, want ResourceNotFoundException", err)
	}
	if err := describe(t); err != nil {
		t.Errorf("the test no longer sees its own table: %v", err)
	}
}
