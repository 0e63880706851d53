package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// fakeKeys verifies "good" as key k1 and refuses anything else, counting
// its calls.
type fakeKeys struct {
	calls int
	fail  error
}

func (f *fakeKeys) verify(_ context.Context, key string) (*crm.User, error) {
	f.calls++
	switch {
	case f.fail != nil:
		return nil, f.fail
	case key == "good":
		return &crm.User{ID: crm.PartnerUserID("k1"), Roles: []crm.Role{crm.RolePartner}, PartnerOrgID: "o1"}, nil
	}
	return nil, crm.Errorf(crm.EUNAUTHORIZED, "invalid API key")
}

func TestVerifiedKeysAreKeptForAMinute(t *testing.T) {
	keys := &fakeKeys{}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	verify := cachedVerify(keys.verify, time.Minute, func() time.Time { return now })
	ctx := context.Background()
	for range 3 {
		if u, err := verify(ctx, "good"); err != nil || u.ID != crm.PartnerUserID("k1") {
			t.Fatalf("good key: %v %v", u, err)
		}
		if _, err := verify(ctx, "bad"); crm.ErrorCode(err) != crm.EUNAUTHORIZED {
			t.Fatalf("bad key: %v", err)
		}
	}
	if keys.calls != 2 {
		t.Errorf("%d checks for three requests of two keys, want 2", keys.calls)
	}
	now = now.Add(time.Minute)
	if _, err := verify(ctx, "good"); err != nil || keys.calls != 3 {
		t.Errorf("a minute later the key is checked again: %v, %d checks", err, keys.calls)
	}

	// A failure to check is not kept: the next request checks again.
	keys.fail = crm.Errorf(crm.EUNAVAILABLE, "table unavailable")
	for range 2 {
		if _, err := verify(ctx, "other"); crm.ErrorCode(err) != crm.EUNAVAILABLE {
			t.Fatalf("failure: %v", err)
		}
	}
	if keys.calls != 5 {
		t.Errorf("%d checks, want the failing one tried twice", keys.calls)
	}
}

func TestKeysOverTheirPerMinuteLimitAreRefused(t *testing.T) {
	keys := &fakeKeys{}
	counted := map[string]int{}
	var countErr error
	count := func(_ context.Context, keyID string, minute time.Time, limit int) (bool, error) {
		if countErr != nil {
			return false, countErr
		}
		w := keyID + minute.Truncate(time.Minute).String()
		if counted[w] >= limit {
			return false, nil
		}
		counted[w]++
		return true, nil
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	verify := limitPerKey(keys.verify, count, 2, func() time.Time { return now }, log)
	ctx := context.Background()

	for i, want := range []string{"", "", crm.EUNAUTHORIZED} {
		u, err := verify(ctx, "good")
		if crm.ErrorCode(err) != want && !(want == "" && err == nil) {
			t.Fatalf("request %d: %v %v, want %q", i+1, u, err, want)
		}
		if want != "" && (u != nil || !strings.Contains(crm.ErrorMessage(err), "limit of 2 requests a minute")) {
			t.Errorf("over the limit: %v %v", u, err)
		}
	}
	if _, err := verify(ctx, "bad"); crm.ErrorCode(err) != crm.EUNAUTHORIZED || counted["k1"+now.String()] != 2 {
		t.Errorf("a refused key is refused before counting: %v %v", err, counted)
	}
	now = now.Add(time.Minute)
	if _, err := verify(ctx, "good"); err != nil {
		t.Errorf("next minute: %v", err)
	}
	countErr = errors.New("throttled")
	if u, err := verify(ctx, "good"); err != nil || u == nil {
		t.Errorf("a counting failure refused the key: %v", err)
	}
	if !strings.Contains(logs.String(), "partner key use not counted") {
		t.Errorf("counting failure not logged: %s", logs.String())
	}
	countErr = nil
	before := len(counted)
	off := limitPerKey(keys.verify, count, 0, time.Now, log)
	for range 5 {
		if _, err := off(ctx, "good"); err != nil {
			t.Fatalf("limit 0: %v", err)
		}
	}
	if len(counted) != before {
		t.Errorf("limit 0 counted: %v", counted)
	}
}

func TestPartnerUserIDsNameTheirKey(t *testing.T) {
	// limitPerKey counts by the key id it reads back from the principal.
	if id, ok := strings.CutPrefix(crm.PartnerUserID("k42"), crm.PartnerUserID("")); !ok || id != "k42" {
		t.Errorf("key id %q %v", id, ok)
	}
}
