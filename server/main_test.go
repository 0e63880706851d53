package server_test

import (
	"os"
	"testing"

	"github.com/rapportcrm/rapport/infra/ddbtest"
)

func ddbtestMain(m *testing.M) { os.Exit(ddbtest.Run(m)) }
