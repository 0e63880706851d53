package main

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestOnlyLoopbackTargets(t *testing.T) {
	for target, ok := range map[string]bool{
		"http://localhost:8080":         true,
		"http://127.0.0.1:8080/":        true,
		"http://127.8.9.10":             true,
		"http://[::1]:8080":             true,
		"http://10.0.0.5:8080":          false,
		"http://192.168.1.2":            false,
		"http://172.16.0.1":             false,
		"https://api.example.com":       false,
		"http://localhost.evil.example": false,
		"http://0.0.0.0:8080":           false,
		"http://[::ffff:10.0.0.1]":      false,
		"ftp://localhost":               false,
		"localhost:8080":                false,
	} {
		if _, err := checkLoopback(target); (err == nil) != ok {
			t.Errorf("%s: err %v, want allowed %v", target, err, ok)
		}
	}
	if err := run([]string{"-target", "http://10.1.2.3:8080", "-duration", "1s"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "only loopback") {
		t.Fatalf("run against a private address: %v", err)
	}
}

// A short run against its own DynamoDB Local and server: load, figures,
// and every acknowledged write found again.
func TestShortRunVerifiesItsWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local")
	}
	if err := os.Chdir("../.."); err != nil { // template.yaml is read from the repository root
		t.Fatal(err)
	}
	var out bytes.Buffer
	// A number of operations, not a time window: on a loaded machine a
	// window may hold too few of them to meet every kind.
	if err := run([]string{"-operations", "40", "-workers", "2"}, &out); err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	for _, want := range []string{"createCustomer", "logInteraction", "updateCustomer", "customer360", "customers", "p99", "missing: 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &out)
		}
	}
	t.Log("\n" + out.String())
}

// A cycle of the sequence holds each operation as often as its weight.
func TestSequenceFollowsTheMix(t *testing.T) {
	counts := map[string]int{}
	for _, op := range sequence() {
		counts[op]++
	}
	for _, m := range mix {
		if counts[m.name] != m.weight {
			t.Errorf("%s: %d in a cycle, want %d", m.name, counts[m.name], m.weight)
		}
	}
	if first := sequence()[:5]; !slices.Contains(first, "createCustomer") {
		t.Errorf("the first operations %v create no customer", first)
	}
}
