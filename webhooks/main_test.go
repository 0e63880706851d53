package webhooks_test

import (
	"os"
	"testing"

	"github.com/rapportcrm/rapport/infra/ddbtest"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }
