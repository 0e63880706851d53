package dynamo

// SetReadBudget shrinks a store's list budget so tests can exhaust it
// without thousands of items.
func (s *Store) SetReadBudget(calls, items int) { s.budget = readBudget{calls: calls, items: items} }
