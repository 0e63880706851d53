package server_test

import (
	"os"
	"testing"

	"github.com/rapportcrm/rapport/infra/ddbtest"
)

// TestMain runs the package's tests against one DynamoDB Local; each test
// gets its own table.
func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }
