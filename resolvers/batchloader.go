package resolvers

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// loader batches and caches one request's reads by key: concurrent Loads
// become one fetch (one BatchGetItem), and a key is fetched at most once
// per request. It replaces vikstrous/dataloadgen, which waited a fixed
// 5 ms before every fetch and linked OpenTelemetry into the API binary.
//
// When a batch is sent: no clock is involved.
//   - LoadAll sends its keys at once: its caller knows them all (a list
//     resolver loading what its rows will show).
//   - A Load that misses starts a batch and a goroutine that yields to the
//     scheduler until rounds of it add no key, then sends it. gqlgen resolves
//     the items of a list, and the fields of an object, in goroutines it
//     starts together; those are runnable when the first one asks, and get
//     to ask before the batch goes. A key asked for later starts the next
//     batch: how keys split into batches depends on scheduling, never what
//     any caller gets.
//   - A batch that reaches capacity is sent at once.
//
// Parents that know what their children will ask for load or prime it
// (listedCustomers, prime360), so the calls a page costs do not depend on
// the scheduler at all. A fetch must not Load from its own loader (it may
// from another: interactions authorize through the customer loader).
type loader[K comparable, V any] struct {
	fetch    func(ctx context.Context, keys []K) ([]V, []error)
	capacity int

	mu         sync.Mutex
	cache      map[K]entry[K, V] // every key asked for or primed
	collecting *batch[K, V]      // the batch keys join, not yet sent
}

// batch is one fetch: its keys, and once done is closed, their results.
type batch[K comparable, V any] struct {
	ctx  context.Context // the context of the Load that started it
	keys []K
	sent bool // taken to be fetched (under the loader's mu)
	done chan struct{}
	vals []V
	errs []error
}

// entry is a key's place in a batch, or its primed value (b nil).
type entry[K comparable, V any] struct {
	b   *batch[K, V]
	i   int
	val V
}

func (e entry[K, V]) wait() (V, error) {
	if e.b == nil {
		return e.val, nil
	}
	<-e.b.done
	return e.b.vals[e.i], e.b.errs[e.i]
}

// A batch is settled when settledYields yields in a row add no key to it;
// maxYields bounds how long it keeps collecting while it still grows.
const (
	settledYields = 2
	maxYields     = 32
)

// newLoader returns a loader that reads through fetch, which returns one
// value and one error (or a nil error slice) per key, in the keys' order,
// at most capacity keys at a time.
func newLoader[K comparable, V any](fetch func(ctx context.Context, keys []K) ([]V, []error), capacity int) *loader[K, V] {
	return &loader[K, V]{fetch: fetch, capacity: capacity, cache: map[K]entry[K, V]{}}
}

// Load returns the value for key, from the cache or from a batch it joins.
func (l *loader[K, V]) Load(ctx context.Context, key K) (V, error) {
	l.mu.Lock()
	e, ok := l.cache[key]
	if !ok {
		started := l.collecting == nil
		var full *batch[K, V]
		e, full = l.add(ctx, key)
		b := e.b
		l.mu.Unlock()
		switch {
		case full != nil:
			l.run(full)
		case started:
			go l.sendWhenSettled(b)
		}
		return e.wait()
	}
	l.mu.Unlock()
	return e.wait()
}

// LoadAll returns the values for keys, fetching those not yet cached at
// once, in batches of at most capacity. The error joins the keys' errors;
// a value whose key failed is the zero value.
func (l *loader[K, V]) LoadAll(ctx context.Context, keys []K) ([]V, error) {
	entries := make([]entry[K, V], len(keys))
	var send []*batch[K, V]
	l.mu.Lock()
	for i, k := range keys {
		e, ok := l.cache[k]
		if !ok {
			var full *batch[K, V]
			e, full = l.add(ctx, k)
			if full != nil {
				send = append(send, full)
			}
		}
		entries[i] = e
	}
	if b := l.collecting; b != nil {
		l.take(b)
		send = append(send, b)
	}
	l.mu.Unlock()
	for _, b := range send[min(1, len(send)):] {
		go l.run(b)
	}
	if len(send) > 0 {
		l.run(send[0])
	}
	vals := make([]V, len(keys))
	var errs []error
	for i, e := range entries {
		var err error
		if vals[i], err = e.wait(); err != nil {
			errs = append(errs, err)
		}
	}
	return vals, errors.Join(errs...)
}

// Prime caches value for key unless the key is already cached or being
// fetched, and reports whether it did.
func (l *loader[K, V]) Prime(key K, value V) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.cache[key]; ok {
		return false
	}
	l.cache[key] = entry[K, V]{val: value}
	return true
}

// add puts key in the collecting batch, starting one if there is none,
// and returns its entry, and the batch when key filled it (taken: the
// caller sends it). l.mu is held.
func (l *loader[K, V]) add(ctx context.Context, key K) (entry[K, V], *batch[K, V]) {
	b := l.collecting
	if b == nil {
		b = &batch[K, V]{ctx: ctx, done: make(chan struct{})}
		l.collecting = b
	}
	e := entry[K, V]{b: b, i: len(b.keys)}
	b.keys = append(b.keys, key)
	l.cache[key] = e
	if len(b.keys) >= l.capacity {
		l.take(b)
		return e, b
	}
	return e, nil
}

// take marks b as sent and stops it collecting. l.mu is held.
func (l *loader[K, V]) take(b *batch[K, V]) {
	b.sent = true
	if l.collecting == b {
		l.collecting = nil
	}
}

// sendWhenSettled sends b once yields to the scheduler stop adding keys
// to it, unless LoadAll or capacity sent it first.
func (l *loader[K, V]) sendWhenSettled(b *batch[K, V]) {
	n, still := -1, 0
	for range maxYields {
		l.mu.Lock()
		size, sent := len(b.keys), b.sent
		l.mu.Unlock()
		if sent {
			return
		}
		if size != n {
			n, still = size, 0
		} else if still++; still == settledYields {
			break
		}
		runtime.Gosched()
	}
	l.mu.Lock()
	if b.sent {
		l.mu.Unlock()
		return
	}
	l.take(b)
	l.mu.Unlock()
	l.run(b)
}

// run fetches b and releases its waiters. A fetch that panics or breaks
// its contract fails every key of the batch, not the process: run may be
// on a goroutine of its own, out of reach of gqlgen's recover.
func (l *loader[K, V]) run(b *batch[K, V]) {
	defer close(b.done)
	vals, errs, err := l.safeFetch(b.ctx, b.keys)
	if err == nil && len(vals) != len(b.keys) {
		err = fmt.Errorf("batch loader: fetch returned %d values for %d keys", len(vals), len(b.keys))
	}
	if err == nil && errs != nil && len(errs) != len(b.keys) {
		err = fmt.Errorf("batch loader: fetch returned %d errors for %d keys", len(errs), len(b.keys))
	}
	if err != nil {
		vals, errs = make([]V, len(b.keys)), make([]error, len(b.keys))
		for i := range errs {
			errs[i] = err
		}
	}
	if errs == nil {
		errs = make([]error, len(b.keys))
	}
	b.vals, b.errs = vals, errs
}

func (l *loader[K, V]) safeFetch(ctx context.Context, keys []K) (vals []V, errs []error, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("batch loader: fetch panicked: %v", r)
		}
	}()
	vals, errs = l.fetch(ctx, keys)
	return vals, errs, nil
}
