package metrics

import (
	"context"
	"sync"
)

// Usage counts the DynamoDB calls made for one request and the capacity
// they consumed. It is safe for concurrent use: resolvers and dataloaders
// call DynamoDB from several goroutines.
type Usage struct {
	mu          sync.Mutex
	calls       int
	read, write float64
	left        int
}

type usageKey struct{}

// WithUsage returns ctx carrying u.
func WithUsage(ctx context.Context, u *Usage) context.Context {
	return context.WithValue(ctx, usageKey{}, u)
}

// UsageFrom returns the Usage ctx carries, or nil.
func UsageFrom(ctx context.Context) *Usage {
	u, _ := ctx.Value(usageKey{}).(*Usage)
	return u
}

// AddCall counts one call and the read and write capacity units it
// consumed.
func (u *Usage) AddCall(read, write float64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls++
	u.read += read
	u.write += write
}

// Totals returns the calls counted and the capacity units they consumed.
func (u *Usage) Totals() (calls int, read, write float64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls, u.read, u.write
}

// LeaveToStream counts a write the request left to the table's stream
// consumer to make (an append's audit entry or case whose put failed after
// its interaction was written). Nil-safe: a call outside a request counts
// nothing.
func (u *Usage) LeaveToStream() {
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.left++
}

// LeftToStream returns the writes counted by LeaveToStream.
func (u *Usage) LeftToStream() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.left
}
