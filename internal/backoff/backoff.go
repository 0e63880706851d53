// Package backoff spaces out the attempts of work that lost a race or was
// throttled: capped exponential delays with full jitter, so that callers
// who collided do not collide again at once, and a sleep that ends with
// its context.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Jitter is a random delay below base·2^attempt, or below ceiling once
// that is larger, plus a millisecond so that it is never zero.
func Jitter(base, ceiling time.Duration, attempt int) time.Duration {
	d := ceiling
	if attempt < 20 { // never shift into overflow; past 2^20 a millisecond base is over any ceiling used
		d = min(base<<attempt, ceiling)
	}
	return time.Duration(rand.Int64N(int64(d))) + time.Millisecond
}

// Sleep waits d, or until ctx ends and then returns its error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
