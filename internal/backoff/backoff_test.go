package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestJitterStaysUnderItsBoundAndIsNeverZero(t *testing.T) {
	for _, tt := range []struct {
		attempt int
		bound   time.Duration
	}{
		{0, 2 * time.Millisecond}, {3, 16 * time.Millisecond}, {6, 100 * time.Millisecond},
		{19, 100 * time.Millisecond}, {20, 100 * time.Millisecond}, {1000, 100 * time.Millisecond},
	} {
		for range 200 {
			d := Jitter(2*time.Millisecond, 100*time.Millisecond, tt.attempt)
			if d < time.Millisecond || d > tt.bound+time.Millisecond {
				t.Fatalf("attempt %d: %v, want within [1ms, %v]", tt.attempt, d, tt.bound+time.Millisecond)
			}
		}
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on an ended context: %v, want context.Canceled", err)
	}
	if err := Sleep(t.Context(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}
