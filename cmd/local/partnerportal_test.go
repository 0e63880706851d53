package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// checkPartnerPortal builds and runs examples/partner-portal, the
// TypeScript client made with GraphQL Code Generator's typed documents
// from schema.graphql, against the local server with the demo partner's
// key: it lists every shared customer (as many as the partner's
// totalCount, masked) and opens one's history, twice, the second time by
// persisted-query hashes alone.
func checkPartnerPortal(t *testing.T, base, key string, shared int) {
	dir := "../../examples/partner-portal"
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	run := func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// The lock file pins every package; node_modules stays in the
	// example's folder (ignored by git).
	run(nil, "npm", "ci", "--no-fund", "--no-audit", "--loglevel=error")
	run(nil, "npm", "run", "build")
	env := []string{"RAPPORT_URL=" + base, "RAPPORT_API_KEY=" + key}
	first := run(env, "node", "dist/portal.js")
	for _, want := range []string{
		"(PARTNER) of partner organization",
		fmt.Sprintf("%d shared customers (totalCount %d)", shared, shared),
		"+86 *** **** ",
		"History of ",
		"Persisted queries: 0 by hash alone, 2 sent with their query",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("the partner portal's output lacks %q:\n%s", want, first)
		}
	}
	if again := run(env, "node", "dist/portal.js"); !strings.Contains(again, "Persisted queries: 2 by hash alone, 0 sent with their query") {
		t.Errorf("the second run did not use the persisted queries:\n%s", again)
	}
	t.Logf("examples/partner-portal:\n%s", first)
}
