package deploy_test

import "testing"

func run(m *testing.M) int { return m.Run() }
