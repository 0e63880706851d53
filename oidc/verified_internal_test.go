package oidc

import (
	"fmt"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// The memory of verified tokens stays within maxVerified, dropping the
// expired entries first, and answers for a token only with the key set's
// generation it was verified with.
func TestVerifiedTokensStayBoundedAndFollowTheKeySet(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	var v verifiedTokens
	u := &crm.User{ID: "u1", Roles: []crm.Role{crm.RoleSales}}
	v.put("old", u, now.Add(time.Minute), 1, now)
	for i := range maxVerified - 1 {
		v.put(fmt.Sprint("tok", i), u, now.Add(time.Hour), 1, now)
	}
	later := now.Add(2 * time.Minute)
	v.put("new", u, later.Add(time.Hour), 1, later)
	if n := len(v.tokens); n != maxVerified {
		t.Fatalf("%d tokens remembered; want %d (the expired one dropped)", n, maxVerified)
	}
	if _, ok := v.get("tok0", 1, later); !ok {
		t.Fatal("a token still valid was forgotten while an expired one could go")
	}
	v.put("newer", u, later.Add(time.Hour), 1, later)
	if n := len(v.tokens); n != 1 {
		t.Fatalf("%d tokens remembered after a put into a full memory with none expired; want 1", n)
	}
	if got, ok := v.get("newer", 1, later); !ok || got.ID != "u1" {
		t.Fatalf("get = %+v, %v; want u1", got, ok)
	}
	if _, ok := v.get("newer", 2, later); ok {
		t.Fatal("a token verified with another key set was answered")
	}
}
