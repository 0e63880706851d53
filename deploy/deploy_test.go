// Package deploy_test checks the serverless deployment without an AWS
// account: the SAM template lints and transforms, its IAM is least
// privilege, every function's Makefile target builds a static arm64
// bootstrap, and the API bootstrap answers real invocations over the Lambda
// Runtime API against DynamoDB Local.
//
// cfn-lint and Python 3 with aws-sam-translator must be installed
// (pip install cfn-lint aws-sam-translator); these tests fail, not skip,
// without them, because CI has them.
package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// root is the repository root, where template.yaml and the Makefile live.
const root = ".."

// MustLookPath returns the path of a tool the deploy tests need.
func MustLookPath(tb testing.TB, name, install string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("%s is not on PATH; the deploy tests need it (install with: %s)", name, install)
	}
	return p
}

// MustTransform runs the SAM transform offline (testdata/sam_transform.py)
// with the given parameter overrides and returns the CloudFormation template.
func MustTransform(tb testing.TB, params ...string) map[string]any {
	tb.Helper()
	python := MustLookPath(tb, "python3", "apt-get install python3")
	args := append([]string{filepath.Join("testdata", "sam_transform.py"), filepath.Join(root, "template.yaml")}, params...)
	cmd := exec.Command(python, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("SAM transform failed (needs pip install aws-sam-translator): %v\n%s", err, stderr.String())
	}
	var tpl map[string]any
	if err := json.Unmarshal(out, &tpl); err != nil {
		tb.Fatalf("SAM transform output: %v", err)
	}
	return tpl
}

func TestMain(m *testing.M) { os.Exit(run(m)) }
