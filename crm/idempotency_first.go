package crm

import "context"

// firstResult answers a create retried with idem's key before anything
// is checked against the state: the first request's result, read by load,
// when the key was used for the same request (done true); a CONFLICT on
// input.idempotencyKey when it was used for another. A retry must not be
// refused because the first request changed what it checks (a lead's
// customer moved to its recipient) or what it fills in (a deal's amount
// changed since its contract was recorded). One consistent read of the
// key's record; nil idem (no key) and a new key read nothing more and
// answer done false, and the write's own condition still guards the key
// against a request racing this one.
func firstResult[T any](ctx context.Context, s *Service, idem *Idempotency, load func(context.Context, string) (T, error)) (first T, done bool, err error) {
	if idem == nil {
		return first, false, nil
	}
	found, err := s.Store.IdempotencyRecords(ctx, []string{idem.Key})
	if err != nil {
		return first, true, err
	}
	rec, ok := found[idem.Key]
	switch {
	case !ok:
		return first, false, nil
	case rec.RequestHash != idem.RequestHash:
		return first, true, &Error{Code: ECONFLICT, Field: "input.idempotencyKey",
			Message: "this idempotency key was already used for a different request; use a new key for a new request"}
	}
	first, err, _ = replay(ctx, &Error{Code: EREPLAYED, ExistingID: rec.ResultID}, load)
	return first, true, err
}

// checkInputKey checks the key of the item a mutation names in its input
// (input.customerId and input.<idField>), so that its BAD_USER_INPUT
// names the field as every mutation does; a query's arguments are named
// bare (readableOf).
func checkInputKey(customerID, id, idField string) error {
	if err := checkID("input.customerId", customerID); err != nil {
		return err
	}
	return checkID("input."+idField, id)
}
