// Package ddbfault injects DynamoDB failures into an SDK client, for tests
// of what DynamoDB Local never does: throttle, cancel a transaction for a
// conflict, fail with an AWS error naming a table or an ARN, or lose the
// response of a request it did apply.
//
// A Faults value decides, for every attempt the SDK makes (retries
// included, since it sits after the retry middleware), whether to fail it
// instead of sending it (Before) or to replace the outcome of a sent one
// (After):
//
//	db := dynamodb.New(client.Options(), dynamo.Retries, ddbfault.Faults{
//		Before: ddbfault.Fraction(0.2, ddbfault.Throttle),
//	}.Option)
package ddbfault

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// A Fault returns the error an attempt of operation op should fail with,
// or nil to leave it alone.
type Fault func(op string) error

// Faults are the failures to inject; nil fields inject nothing.
type Faults struct {
	// Before fails an attempt without sending it.
	Before Fault
	// After fails an attempt that was sent and succeeded, as if its
	// response had been lost: DynamoDB applied it, the caller sees err.
	After Fault
	// Attempts, if set, counts every attempt (before any fault).
	Attempts *atomic.Int64
}

// Option installs the faults on a client's options.
func (f Faults) Option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("ddbfault",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				op := awsmiddleware.GetOperationName(ctx)
				if f.Attempts != nil {
					f.Attempts.Add(1)
				}
				if f.Before != nil {
					if err := f.Before(op); err != nil {
						return middleware.FinalizeOutput{}, middleware.Metadata{}, err
					}
				}
				out, md, err := next.HandleFinalize(ctx, in)
				if err == nil && f.After != nil {
					if ferr := f.After(op); ferr != nil {
						return middleware.FinalizeOutput{}, md, ferr
					}
				}
				return out, md, err
			}), "Retry", middleware.After)
	})
}

// Throttle fails like a table or index over its capacity. The message is
// DynamoDB's, which names no table.
func Throttle(string) error {
	return &types.ProvisionedThroughputExceededException{Message: ptr("The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.")}
}

// TransactionConflict cancels a TransactWriteItems because another
// transaction held one of its items; other operations pass.
func TransactionConflict(op string) error {
	if op != "TransactWriteItems" {
		return nil
	}
	return &types.TransactionCanceledException{
		Message:             ptr("Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]"),
		CancellationReasons: []types.CancellationReason{{Code: ptr("TransactionConflict"), Message: ptr("Transaction is ongoing for the item")}},
	}
}

// InternalServerError fails like a DynamoDB fault on its side: an HTTP 500
// carrying InternalServerError.
func InternalServerError(string) error {
	return &statusError{status: http.StatusInternalServerError, err: &types.InternalServerError{Message: ptr("Internal server error")}}
}

// statusError is an API error with the HTTP status it came with, which the
// SDK's retryer reads.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string {
	return fmt.Sprintf("https response error StatusCode: %d, %v", e.status, e.err)
}
func (e *statusError) Unwrap() error       { return e.err }
func (e *statusError) HTTPStatusCode() int { return e.status }

// Only restricts a fault to one operation.
func Only(op string, f Fault) Fault {
	return func(o string) error {
		if o != op {
			return nil
		}
		return f(o)
	}
}

// Fraction injects f into about p of the attempts.
func Fraction(p float64, f Fault) Fault {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	return func(op string) error {
		mu.Lock()
		hit := r.Float64() < p
		mu.Unlock()
		if !hit {
			return nil
		}
		return f(op)
	}
}

// First injects f into the first n attempts, and into none after them: a
// fault that ends after a number of attempts rather than after a time, so
// that what it does is the same on a fast machine and a loaded one.
func First(n int64, f Fault) Fault {
	var seen atomic.Int64
	return func(op string) error {
		if seen.Add(1) > n {
			return nil
		}
		return f(op)
	}
}

// Switch injects f while it is on.
type Switch struct {
	on atomic.Bool
	f  Fault
}

// NewSwitch returns a switch, off, over f.
func NewSwitch(f Fault) *Switch { return &Switch{f: f} }

// Set turns the fault on or off.
func (s *Switch) Set(on bool) { s.on.Store(on) }

// Fault is the switch's Fault.
func (s *Switch) Fault(op string) error {
	if !s.on.Load() {
		return nil
	}
	return s.f(op)
}

// Any injects the first fault of fs that fires.
func Any(fs ...Fault) Fault {
	return func(op string) error {
		for _, f := range fs {
			if err := f(op); err != nil {
				return err
			}
		}
		return nil
	}
}

// Errorf is a fault that always fails with a formatted error.
func Errorf(format string, args ...any) Fault {
	return func(string) error { return fmt.Errorf(format, args...) }
}

func ptr(s string) *string { return &s }
