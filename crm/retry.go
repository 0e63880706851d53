package crm

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/internal/backoff"
)

// maxContendedAttempts bounds the retries of a write that many callers
// may make at once on one item (a customer's contracts and their credit):
// each round of a race has one winner, so the bound must outlast the
// number of writers a busy customer sees, and the request's deadline
// ends it before that in practice.
const maxContendedAttempts = 40

// retryPause waits before writing again after losing a race to another
// writer: full jitter over 2 ms·2^attempt, at most 100 ms, so that writers
// who collided do not collide again at once (retried at once, twenty
// writers of one customer's contracts each lost up to eight rounds). When
// ctx ends first it returns UNAVAILABLE: the write that lost was not
// applied.
func retryPause(ctx context.Context, attempt int) error {
	if err := backoff.Sleep(ctx, backoff.Jitter(2*time.Millisecond, 100*time.Millisecond, attempt)); err != nil {
		return timedOut(err, AppliedNo)
	}
	return nil
}
