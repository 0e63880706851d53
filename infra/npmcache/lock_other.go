//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package npmcache

import "context"

// lockFile is a no-op where flock is unavailable; Ensure's atomic rename
// still keeps concurrent downloads safe, merely wasteful.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
