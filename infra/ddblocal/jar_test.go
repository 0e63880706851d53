package ddblocal

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestEnsureJarUsesCacheWithoutNPM(t *testing.T) {
	cache := t.TempDir()
	dir := filepath.Join(cache, "dynamodb-local", Version)
	if err := os.MkdirAll(filepath.Join(dir, libDirName), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, jarName), []byte("jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // no npm reachable: a download attempt would fail

	got, err := EnsureJar(context.Background(), cache)
	if err != nil {
		t.Fatal(err)
	}
	if got != dir {
		t.Errorf("EnsureJar = %q, want %q", got, dir)
	}
}

func TestEnsureJarReportsMissingNPM(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := EnsureJar(context.Background(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "npm") {
		t.Fatalf("err = %v, want it to explain that npm is missing", err)
	}
}

// Downloads for real (npm's own cache makes repeats cheap), proving that
// racing callers on a cold cache all end up with the same complete copy.
func TestEnsureJarConcurrentColdCache(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads DynamoDB Local")
	}
	cache := t.TempDir()
	const n = 3
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dirs[i], errs[i] = EnsureJar(t.Context(), cache) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if dirs[i] != dirs[0] || !jarPresent(dirs[i]) {
			t.Errorf("caller %d got %q (complete: %v), want %q", i, dirs[i], jarPresent(dirs[i]), dirs[0])
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(cache, "dynamodb-local", ".fetch-*"))
	if len(leftovers) > 0 {
		t.Errorf("temp dirs left behind: %v", leftovers)
	}
}
