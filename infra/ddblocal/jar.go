// Package ddblocal fetches, starts and connects to DynamoDB Local so that
// storage code can be tested against the real DynamoDB wire protocol without
// Docker or an AWS account.
package ddblocal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rapportcrm/rapport/infra/npmcache"
)

// Version pins the npm package that carries DynamoDB Local. AWS does not
// publish DynamoDB Local to any registry reachable from CI; the Amplify
// simulator package bundles the jar and its native sqlite4java libraries.
const Version = "2.9.30"

const (
	jarName    = "DynamoDBLocal.jar"
	libDirName = "DynamoDBLocal_lib"
)

// simulator is the npm package, of which we keep the emulator folder; the
// rest is JavaScript wrapper code we have no use for.
var simulator = npmcache.Package{
	Name: "amplify-dynamodb-simulator", Version: Version, Dir: "dynamodb-local",
	Root: "package/emulator/", Complete: jarPresent,
}

// DefaultCacheDir is where the jar is cached between runs (npmcache's
// folder). It is outside the git tree on purpose: the download is 56 MB
// and must never be committed.
func DefaultCacheDir() (string, error) { return npmcache.DefaultDir() }

// EnsureJar returns a directory holding DynamoDBLocal.jar and
// DynamoDBLocal_lib, downloading it with npm into cacheDir on first use
// (safely when several test binaries do so at once).
func EnsureJar(ctx context.Context, cacheDir string) (string, error) {
	dir, err := npmcache.Ensure(ctx, cacheDir, simulator)
	if err != nil {
		return "", fmt.Errorf("ddblocal: %w", err)
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
