package server_test

import (
	"os"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/server"
)

// TestMain runs the package's tests against one DynamoDB Local; each test
// gets its own table.
func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }

// testOptions are the handler's options in tests over DynamoDB Local: a
// request time limit far above the production one, since a loaded machine
// with the race detector on may take longer than 10 s over a request, and
// only the tests of the limit itself are about it.
var testOptions = server.Options{RequestTimeout: 2 * time.Minute}
