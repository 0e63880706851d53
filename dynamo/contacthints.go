package dynamo

import "sync"

// maxContactHints bounds the customers an instance remembers the contact
// count of; when full, it forgets them all and starts again.
const maxContactHints = 10_000

// contactHints remembers how many contacts each customer's profile counted
// when this instance last read its 360 view, so that the next 360 Query
// reads exactly the activity, the profile, the contacts and the recent
// interactions: its Limit must be known before the profile is read. A hint
// is only ever a Query's size, never what a view shows: one gone stale
// (contacts added or removed through another instance since) costs a
// second Query of what is left, or reads as many interactions the view
// then drops, and is corrected by that very read. A nil *contactHints
// (a Store not made by New) knows nothing.
type contactHints struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *contactHints) get(id string) (int, bool) {
	if h == nil {
		return 0, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n, ok := h.n[id]
	return n, ok
}

func (h *contactHints) put(id string, n int) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.n[id]; !ok && len(h.n) >= maxContactHints {
		h.n = nil
	}
	if h.n == nil {
		h.n = map[string]int{}
	}
	h.n[id] = n
}
