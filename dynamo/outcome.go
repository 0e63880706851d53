package dynamo

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/rapportcrm/rapport/crm"
)

// Uncertain outcomes. A transaction that fails without DynamoDB saying it
// was refused (a timeout, a lost response, a fault on its side) may have
// been applied. Every transaction carries a client request token of its
// own; such a failure is followed by the same transaction sent again with
// the same token, in the time the write kept for it (resendReserve before
// the request's deadline): DynamoDB answers a token it applied with
// success and applies it at most once, so the answer is definite: applied
// (the write succeeds), refused by a condition (it was not applied), or,
// when even that goes unanswered, UNAVAILABLE with Applied = UNKNOWN. A
// transaction that never reached DynamoDB is UNAVAILABLE with Applied =
// NO, and, never sent, it cannot apply later.

// resendReserve is how long before its request's deadline a write stops
// trying and keeps for asking again with the same token.
const resendReserve = 2 * time.Second

// sentFlag records that a request of a call went out on the wire: the
// HTTP client KeepConnections installs sets it.
type sentFlag struct{ sent atomic.Bool }

type sentKey struct{}

// tracksSends reports whether a client records sends (it has
// KeepConnections' HTTP client); without it every call counts as sent.
func tracksSends(db *dynamodb.Client) bool {
	if db == nil {
		return false
	}
	_, ok := db.Options().HTTPClient.(readOnlyBodies)
	return ok
}

// newToken returns a client request token for one transaction.
func newToken() string { return ulid.Make().String() }

// reserved returns ctx less the resend reserve, when it has a deadline far
// enough away.
func reserved(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) > 2*resendReserve {
		return context.WithDeadline(ctx, d.Add(-resendReserve))
	}
	return ctx, func() {}
}

// settle finds out, after err, whether a transaction sent with token was
// applied: nil when it was, a cancellation (its conditions refused it:
// not applied) for the caller to read, or UNAVAILABLE saying whether it
// may have been.
func (s *Store) settleOutcome(ctx context.Context, in *dynamodb.TransactWriteItemsInput, flag *sentFlag, err error) error {
	if s.trackSends && !flag.sent.Load() {
		return unavailable(err, crm.AppliedNo)
	}
	// Ask again with the same token, in what is left of the request's
	// time (its own reserve).
	ask, cancel := askAgain(ctx)
	defer cancel()
	again := *in
	again.ClientRequestToken = aws.String(aws.ToString(in.ClientRequestToken))
	_, rerr := s.db.TransactWriteItems(ask, &again)
	var tce *types.TransactionCanceledException
	switch {
	case rerr == nil:
		return nil
	case errors.As(rerr, &tce):
		return rerr // refused afresh: the first was not applied either
	}
	return unavailable(errors.Join(err, rerr), crm.AppliedUnknown)
}

// askAgain is the time a write whose outcome is unknown has to ask again:
// what is left of its request's, which the write kept in reserve, or
// resendReserve without a deadline.
func askAgain(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(context.WithoutCancel(ctx), d)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), resendReserve)
}

func unavailable(err error, applied string) error {
	e := wrap("transact write", err)
	var de *crm.Error
	if !errors.As(e, &de) || de.Code != crm.EUNAVAILABLE {
		de = &crm.Error{Code: crm.EUNAVAILABLE, Message: "the database failed; retry shortly", Err: err}
	} else {
		c := *de
		de = &c
	}
	de.Applied = applied
	return de
}
