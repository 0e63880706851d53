package demo

import (
	"sync/atomic"
	"time"
)

// Clock is the clock of a service the demo seed fills: the wall clock,
// except while Seed replays the past year, when it reads the moment being
// replayed. Every write then carries the time it would have had (a
// customer's creation, a call, a grade change, a case's steps), so the
// history is consistent over the year. The service must use it
// (svc.Now = clock.Now) before anything else reads the service's clock.
type Clock struct{ at atomic.Pointer[time.Time] }

// Now returns the replayed moment while Seed runs, else the wall clock.
func (c *Clock) Now() time.Time {
	if t := c.at.Load(); t != nil {
		return *t
	}
	return time.Now()
}

func (c *Clock) hold(t time.Time) { c.at.Store(&t) }

func (c *Clock) release() { c.at.Store(nil) }
