// Package mainstack grows the main goroutine's stack once, at the start of
// package initialisation, to what the api's start needs; cmd/api imports it
// for that side effect.
//
// A goroutine's stack starts at 2 KB and doubles when a call needs more,
// and each doubling copies it, walking every frame on it with its stack
// maps. The api's main goroutine doubled about six times before its first
// poll for an event, several times deep in package initialisation (the
// SDK's endpoint tables, GODEBUG settings) or in main's setup; growing it
// here, while it holds a few frames, replaces those copies with one cheap
// one: about 1 ms off the api's init against the bootstrap without it in
// the same runs (docs/access-patterns.md, "Cold start (built)").
//
// The package imports nothing and its path sorts before those of the
// standard library's internal packages, so it is initialised among the
// first: Go initialises packages in import path order among those whose
// imports are initialised. The stack keeps its size afterwards (only a
// garbage collection shrinks a stack, and none runs during the start).
package mainstack

// stackSize is a frame that makes the runtime grow the stack to 128 KB (it
// rounds up to a power of two, with room for the frames already on it):
// enough that the start never grows it again.
const stackSize = 96 << 10

// stackAt is negative, so grow never zeroes its array: the frame alone
// makes the call grow the stack, and zeroing would touch every page of the
// new stack for nothing. A variable, so that the compiler keeps the array.
var stackAt = -1

func init() { _ = grow() }

//go:noinline
func grow() byte {
	if stackAt >= 0 {
		var b [stackSize]byte
		return b[stackAt]
	}
	return 0
}
