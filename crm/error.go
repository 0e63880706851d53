package crm

import (
	"errors"
	"fmt"
)

// Error codes. The transport maps each to a GraphQL extensions.code once, at
// the edge; anything that is not an *Error is INTERNAL and its text is hidden.
const (
	ECONFLICT     = "CONFLICT"       // stale version or a racing writer won
	EDUPLICATE    = "DUPLICATE"      // a unique value (phone, email) is taken
	EINTERNAL     = "INTERNAL"       // a fault of ours; details only in logs
	EINVALID      = "BAD_USER_INPUT" // input breaks a rule; Field names it
	ENOTFOUND     = "NOT_FOUND"
	EUNAUTHORIZED = "UNAUTHENTICATED" // no or bad credentials
	EFORBIDDEN    = "FORBIDDEN"       // authenticated, but not allowed
	EUNAVAILABLE  = "UNAVAILABLE"     // a dependency is down or throttling; retry later
	ERESYNC       = "RESYNC_REQUIRED" // a change feed's cursor cannot be resumed: read everything again
)

// Error is a domain error: a code, a message safe to show to the caller, and
// for invalid input the field path it concerns.
type Error struct {
	Code    string
	Message string
	// Field is the input path of the offending value, e.g. "input.emails[1]".
	Field string
	// ExistingID names the customer holding a duplicate value (DUPLICATE),
	// or the one a merged customer went into (CONFLICT).
	ExistingID string
	// Applied says, of a write that ends UNAVAILABLE, whether it may have
	// been applied: AppliedNo (it was not, and will not be) or
	// AppliedUnknown (it may have been; retrying with the same
	// idempotency key returns the first result).
	Applied string
	// Err is a wrapped cause, kept for logs, never shown to callers.
	Err error
	// Also holds the further rules the same input broke, after this first
	// one, for callers that report every problem at once (an import's
	// rows); a GraphQL error names the first only.
	Also []*Error
}

// Whether a write that ended UNAVAILABLE was applied.
const (
	AppliedNo      = "NO"
	AppliedUnknown = "UNKNOWN"
)

// timedOut is the UNAVAILABLE of a request whose context ended while it
// waited (err, the context's error), saying whether its write was applied.
func timedOut(err error, applied string) *Error {
	return &Error{Code: EUNAVAILABLE, Message: "the request timed out; retry", Err: err, Applied: applied}
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error for one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: the Code of the first *Error in its
// chain, "" for nil, and EINTERNAL for anything else.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorDetail returns what err keeps from the caller, for logs: the text of
// its domain error's cause, or "" when it has none.
func ErrorDetail(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Err != nil {
		return e.Err.Error()
	}
	return ""
}

// ErrorMessage returns the caller-safe message of err; internal errors get a
// generic text so that no driver or AWS detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "internal error"
}

// partly marks an UNAVAILABLE error of a request that made several
// writes, some of which were applied, as possibly applied.
func partly(err error, progressed bool) error {
	var e *Error
	if !progressed || !errors.As(err, &e) || e.Code != EUNAVAILABLE {
		return err
	}
	c := *e
	c.Applied = AppliedUnknown
	return &c
}
