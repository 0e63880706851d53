// Package ddblocal fetches, starts and connects to DynamoDB Local so that
// storage code can be tested against the real DynamoDB wire protocol without
// Docker or an AWS account.
package ddblocal

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

// Version pins the npm package that carries DynamoDB Local. AWS does not
// publish DynamoDB Local to any registry reachable from CI; the Amplify
// simulator package bundles the jar and its native sqlite4java libraries.
const Version = "2.9.30"

const (
	npmPackage = "amplify-dynamodb-simulator@" + Version
	// emulatorPrefix is the part of the npm tarball we keep; the rest is
	// JavaScript wrapper code we have no use for.
	emulatorPrefix = "package/emulator/"
	jarName        = "DynamoDBLocal.jar"
	libDirName     = "DynamoDBLocal_lib"
)

// DefaultCacheDir is where the jar is cached between runs. It is outside the
// git tree on purpose: the download is 56 MB and must never be committed.
func DefaultCacheDir() (string, error) {
	if dir := os.Getenv("RAPPORT_CACHE_DIR"); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate user cache dir (set RAPPORT_CACHE_DIR to override): %w", err)
	}
	return filepath.Join(base, "rapport"), nil
}

// EnsureJar returns a directory holding DynamoDBLocal.jar and
// DynamoDBLocal_lib, downloading it with npm into cacheDir on first use.
//
// Several test binaries call this at once on a cold cache (go test runs
// packages in parallel), so the download is serialised with a file lock
// where the platform supports it, and the final step is an atomic rename
// whose loser simply discards its copy.
func EnsureJar(ctx context.Context, cacheDir string) (string, error) {
	if cacheDir == "" {
		return "", errors.New("ddblocal: empty cache dir")
	}
	parent := filepath.Join(cacheDir, "dynamodb-local")
	dir := filepath.Join(parent, Version)
	if jarPresent(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("ddblocal: create cache dir: %w", err)
	}

	unlock, err := lockFile(ctx, filepath.Join(parent, ".lock"))
	if err != nil {
		return "", fmt.Errorf("ddblocal: lock cache dir: %w", err)
	}
	defer unlock()
	// Another process may have finished the download while we waited.
	if jarPresent(dir) {
		return dir, nil
	}

	// The temp dir lives next to the destination so the rename stays on one
	// filesystem and is therefore atomic.
	tmp, err := os.MkdirTemp(parent, ".fetch-")
	if err != nil {
		return "", fmt.Errorf("ddblocal: create temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)

	tgz, err := npmPack(ctx, tmp)
	if err != nil {
		return "", err
	}
	staged := filepath.Join(tmp, "emulator")
	if err := extractEmulator(tgz, staged); err != nil {
		return "", fmt.Errorf("ddblocal: extract %s: %w", filepath.Base(tgz), err)
	}
	if !jarPresent(staged) {
		return "", fmt.Errorf("ddblocal: %s does not contain %s%s and %s%s/", npmPackage, emulatorPrefix, jarName, emulatorPrefix, libDirName)
	}
	if err := os.Rename(staged, dir); err != nil {
		if jarPresent(dir) {
			return dir, nil // lost a race with a process that had no lock support
		}
		return "", fmt.Errorf("ddblocal: move jar into cache: %w", err)
	}
	return dir, nil
}

func jarPresent(dir string) bool {
	jar, err := os.Stat(filepath.Join(dir, jarName))
	if err != nil || !jar.Mode().IsRegular() {
		return false
	}
	lib, err := os.Stat(filepath.Join(dir, libDirName))
	return err == nil && lib.IsDir()
}

// npmPack downloads the package tarball into dest and returns its path.
// npm's progress output is only interesting when something went wrong, so it
// is captured and shown on failure.
func npmPack(ctx context.Context, dest string) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("ddblocal: npm is needed to download DynamoDB Local (%s) but is not on PATH: %w", npmPackage, err)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, npm, "pack", npmPackage, "--pack-destination", dest, "--silent", "--no-fund", "--no-audit")
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ddblocal: npm pack %s: %w\n%s", npmPackage, err, strings.TrimSpace(out.String()))
	}
	matches, err := filepath.Glob(filepath.Join(dest, "*.tgz"))
	if err != nil || len(matches) != 1 {
		return "", fmt.Errorf("ddblocal: npm pack %s produced %d tarballs, want 1\n%s", npmPackage, len(matches), strings.TrimSpace(out.String()))
	}
	return matches[0], nil
}

// extractEmulator unpacks package/emulator/** from the npm tarball into dest,
// dropping the prefix. Entries that would escape dest are rejected rather
// than skipped: a tarball like that is corrupt or hostile.
func extractEmulator(tgzPath, dest string) error {
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
		rel, ok := strings.CutPrefix(name, emulatorPrefix)
		if !ok || rel == "" {
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
			// anything else (links, devices) is not needed to run the jar.
		}
	}
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
