package demo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// step is one thing that happened in the demo's year: at its time, do
// makes it happen through the service.
type step struct {
	at   time.Time
	seq  int // the order of planning, for steps at the same moment
	what string
	do   func(context.Context) error
}

// timeline is the demo's year, planned customer by customer and replayed
// in time order.
type timeline struct {
	steps []step
	until time.Time // steps planned after it (the future) are dropped
}

// add plans do at at, unless at is still to come.
func (t *timeline) add(at time.Time, what string, do func(context.Context) error) bool {
	if at.After(t.until) {
		return false
	}
	t.steps = append(t.steps, step{at: at, seq: len(t.steps), what: what, do: do})
	return true
}

// replay runs the steps in time order on clock, and tick at each moment
// of ticks that falls before a step (and after the last), so that the
// scheduled job runs through the year as it would have.
func (t *timeline) replay(ctx context.Context, clock *Clock, ticks []time.Time, tick func(context.Context) error) error {
	slices.SortFunc(t.steps, func(a, b step) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq))
	})
	runTicks := func(before time.Time) error {
		for len(ticks) > 0 && !ticks[0].After(before) {
			clock.hold(ticks[0])
			if err := tick(ctx); err != nil {
				return fmt.Errorf("scheduled job of %s: %w", ticks[0].Format(time.DateOnly), err)
			}
			ticks = ticks[1:]
		}
		return nil
	}
	for _, s := range t.steps {
		if err := runTicks(s.at); err != nil {
			return err
		}
		clock.hold(s.at)
		if err := s.do(ctx); err != nil {
			return fmt.Errorf("%s on %s: %w", s.what, s.at.Format(time.DateTime), err)
		}
	}
	return runTicks(t.until)
}

// jobTicks are the moments the demo's scheduled job runs: weekly through
// the year, then daily over the last two weeks, so that warnings and
// escalations in progress are as a daily job leaves them.
func jobTicks(from, until time.Time) []time.Time {
	var ticks []time.Time
	daily := until.AddDate(0, 0, -14)
	for t := from.AddDate(0, 0, 7); !t.After(until); {
		ticks = append(ticks, t)
		if t.Before(daily) {
			t = t.AddDate(0, 0, 7)
		} else {
			t = t.AddDate(0, 0, 1)
		}
	}
	return ticks
}
