package resolvers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recorder is a fetch that answers "v<key>" and records every batch; keys
// in fail get an error instead.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	fail    map[int]bool
	panics  bool
}

var errFailed = errors.New("failed")

func (r *recorder) fetch(_ context.Context, keys []int) ([]string, []error) {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(keys))
	r.mu.Unlock()
	if r.panics {
		panic("boom")
	}
	vals, errs := make([]string, len(keys)), make([]error, len(keys))
	for i, k := range keys {
		if r.fail[k] {
			errs[i] = fmt.Errorf("key %d: %w", k, errFailed)
			continue
		}
		vals[i] = fmt.Sprint("v", k)
	}
	return vals, errs
}

// fetched returns every key fetched, in order of batches, and fails the
// test when a batch exceeds capacity or a key was fetched twice.
func (r *recorder) fetched(t *testing.T, capacity int) []int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []int
	seen := map[int]bool{}
	for _, b := range r.batches {
		if len(b) > capacity {
			t.Errorf("a batch of %d keys, over the capacity of %d", len(b), capacity)
		}
		for _, k := range b {
			if seen[k] {
				t.Errorf("key %d fetched twice", k)
			}
			seen[k] = true
			all = append(all, k)
		}
	}
	return all
}

func TestLoaderLoadAllFetchesMissingKeysInBatchesOfCapacity(t *testing.T) {
	r := &recorder{}
	l := newLoader(r.fetch, 100)
	l.Prime(7, "primed")
	keys := make([]int, 0, 260)
	for k := range 250 {
		keys = append(keys, k)
	}
	keys = append(keys, 3, 3, 249) // repeated keys are fetched once
	vals, err := l.LoadAll(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		want := fmt.Sprint("v", k)
		if k == 7 {
			want = "primed"
		}
		if vals[i] != want {
			t.Errorf("key %d: got %q, want %q", k, vals[i], want)
		}
	}
	if got := r.fetched(t, 100); len(got) != 249 || slices.Contains(got, 7) {
		t.Errorf("fetched %d keys (7 among them: %v), want the 249 not primed", len(got), slices.Contains(got, 7))
	}
	if len(r.batches) != 3 {
		t.Errorf("%d fetches, want 3 (100, 100, 49)", len(r.batches))
	}
	// Everything is cached now.
	if _, err := l.LoadAll(context.Background(), keys[:10]); err != nil || len(r.batches) != 3 {
		t.Errorf("a second LoadAll fetched again (%d fetches, err %v)", len(r.batches), err)
	}
}

func TestLoaderPrime(t *testing.T) {
	r := &recorder{}
	l := newLoader(r.fetch, 100)
	ctx := context.Background()
	if !l.Prime(1, "one") {
		t.Error("Prime of a new key reported false")
	}
	if l.Prime(1, "other") {
		t.Error("Prime replaced a cached value")
	}
	if v, err := l.Load(ctx, 1); err != nil || v != "one" {
		t.Errorf("Load after Prime: %q, %v", v, err)
	}
	if v, err := l.Load(ctx, 2); err != nil || v != "v2" {
		t.Errorf("Load: %q, %v", v, err)
	}
	if l.Prime(2, "late") {
		t.Error("Prime replaced a fetched value")
	}
	if v, _ := l.Load(ctx, 2); v != "v2" {
		t.Errorf("a fetched value was replaced by %q", v)
	}
	if got := r.fetched(t, 100); !slices.Equal(got, []int{2}) {
		t.Errorf("fetched %v, want [2]", got)
	}
}

func TestLoaderErrorsStayWithTheirKeys(t *testing.T) {
	r := &recorder{fail: map[int]bool{2: true, 4: true}}
	l := newLoader(r.fetch, 100)
	ctx := context.Background()
	vals, err := l.LoadAll(ctx, []int{1, 2, 3, 4})
	if !errors.Is(err, errFailed) || !strings.Contains(err.Error(), "key 2") || !strings.Contains(err.Error(), "key 4") {
		t.Errorf("LoadAll error %v, want the errors of keys 2 and 4", err)
	}
	if !slices.Equal(vals, []string{"v1", "", "v3", ""}) {
		t.Errorf("LoadAll values %q", vals)
	}
	// An error is the key's answer for the request, like a value.
	if _, err := l.Load(ctx, 2); !errors.Is(err, errFailed) {
		t.Errorf("Load of a failed key: %v", err)
	}
	if v, err := l.Load(ctx, 3); err != nil || v != "v3" {
		t.Errorf("Load of a good key: %q, %v", v, err)
	}
	if len(r.batches) != 1 {
		t.Errorf("%d fetches, want 1", len(r.batches))
	}
}

func TestLoaderFetchFailuresFailTheBatchNotTheProcess(t *testing.T) {
	tests := []struct {
		name  string
		fetch func(context.Context, []int) ([]string, []error)
	}{
		{"Panic", (&recorder{panics: true}).fetch},
		// One fewer than the keys, however the Loads split into batches
		// (a batch of one key gets none, which is still too few).
		{"TooFewValues", func(_ context.Context, keys []int) ([]string, []error) {
			return make([]string, len(keys)-1), nil
		}},
		{"TooFewErrors", func(_ context.Context, keys []int) ([]string, []error) {
			return make([]string, len(keys)), make([]error, len(keys)-1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLoader(tt.fetch, 100)
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				wg.Go(func() { _, errs[i] = l.Load(context.Background(), i) })
			}
			wg.Wait()
			for i, err := range errs {
				if err == nil || !strings.HasPrefix(err.Error(), "batch loader:") {
					t.Errorf("key %d: error %v", i, err)
				}
			}
		})
	}
}

// Keys that join a batch while it collects go in its one fetch.
func TestLoaderBatchCollectsUntilSettled(t *testing.T) {
	r := &recorder{}
	l := newLoader(r.fetch, 100)
	ctx := context.Background()
	// What three resolvers' Loads do before the first one's goroutine
	// gets to run.
	l.mu.Lock()
	entries := make([]entry[int, string], 3)
	for i := range entries {
		entries[i], _ = l.add(ctx, i+10)
	}
	b := l.collecting
	l.mu.Unlock()
	l.sendWhenSettled(b)
	for i, e := range entries {
		if v, err := e.wait(); err != nil || v != fmt.Sprint("v", i+10) {
			t.Errorf("key %d: %q, %v", i+10, v, err)
		}
	}
	if len(r.batches) != 1 || len(r.batches[0]) != 3 {
		t.Errorf("batches %v, want one of 3 keys", r.batches)
	}
	// Once sent, the batch takes no more keys: the next Load starts
	// another.
	if v, err := l.Load(ctx, 20); err != nil || v != "v20" {
		t.Errorf("Load after the batch went: %q, %v", v, err)
	}
	if len(r.batches) != 2 {
		t.Errorf("%d fetches, want 2", len(r.batches))
	}
}

// Resolvers asking at once, as gqlgen runs the items of a list: whatever
// the scheduler does, every caller gets its own value, every key is
// fetched once, and no batch exceeds the capacity.
func TestLoaderConcurrentLoads(t *testing.T) {
	for _, capacity := range []int{100, 7} {
		t.Run(fmt.Sprint("Capacity", capacity), func(t *testing.T) {
			r := &recorder{}
			l := newLoader(r.fetch, capacity)
			ctx := context.Background()
			const callers = 200
			var wg sync.WaitGroup
			start := make(chan struct{})
			bad := make(chan string, callers)
			for i := range callers {
				wg.Go(func() {
					<-start
					k := i % 60 // keys asked for by several callers
					if i%25 == 0 {
						vals, err := l.LoadAll(ctx, []int{k, k + 100})
						if err != nil || vals[0] != fmt.Sprint("v", k) || vals[1] != fmt.Sprint("v", k+100) {
							bad <- fmt.Sprintf("LoadAll %d: %q, %v", k, vals, err)
						}
						return
					}
					if v, err := l.Load(ctx, k); err != nil || v != fmt.Sprint("v", k) {
						bad <- fmt.Sprintf("Load %d: %q, %v", k, v, err)
					}
				})
			}
			close(start)
			wg.Wait()
			close(bad)
			for s := range bad {
				t.Error(s)
			}
			got := r.fetched(t, capacity)
			if len(got) != 60+8 {
				t.Errorf("%d keys fetched, want 68", len(got))
			}
			t.Logf("%d callers, %d keys: %d fetches", callers, len(got), len(r.batches))
		})
	}
}
