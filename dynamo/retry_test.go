package dynamo_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbfault"
	"github.com/rapportcrm/rapport/infra/ddbtest"
)

// faultyEnv is a service on a fresh table whose client has the production
// retry policy and the given faults, plus a clean service on the same
// table to check the outcome with.
type faultyEnv struct {
	svc, clean *crm.Service
	db         *dynamodb.Client
	table      string
	attempts   atomic.Int64
}

func mustFaultyEnv(tb testing.TB, faults ddbfault.Faults) *faultyEnv {
	tb.Helper()
	e := &faultyEnv{table: ddbtest.NewTable(tb, "CrmTable"), db: ddbtest.Client(tb)}
	faults.Attempts = &e.attempts
	key := []byte(strings.Repeat("k", 32))
	faulty := dynamodb.New(e.db.Options(), dynamo.Retries, faults.Option)
	e.svc = crm.NewService(dynamo.New(faulty, e.table, key))
	e.clean = crm.NewService(dynamo.New(e.db, e.table, key))
	return e
}

// A fifth of DynamoDB calls throttled and a fifth of transactions
// cancelled for a conflict: retries absorb nearly all of it, no call
// ends INTERNAL, and every acknowledged write is stored whole.
func TestRetriesAbsorbThrottlingAndTransactionConflicts(t *testing.T) {
	e := mustFaultyEnv(t, ddbfault.Faults{Before: ddbfault.Any(
		ddbfault.Fraction(0.2, ddbfault.Throttle),
		ddbfault.Fraction(0.2, ddbfault.TransactionConflict),
	)})
	w := newWorkload(e.svc)
	w.runSteps(t, 4, 6)
	if w.acknowledged() < 4*6-1 {
		t.Errorf("%d of %d calls acknowledged", w.acknowledged(), 4*6)
	}
	w.verify(t, e.clean, e.db, ddbtest.Streams(t), e.table)
}

// A transaction whose response is lost after DynamoDB applied it is
// retried by the SDK with the same idempotency token, and is not applied
// twice nor reported as a conflict.
func TestLostTransactionResponsesAreRetriedIdempotently(t *testing.T) {
	var lost atomic.Int64
	lose := ddbfault.Fraction(0.3, ddbfault.Only("TransactWriteItems", func(op string) error {
		lost.Add(1)
		return ddbfault.InternalServerError(op)
	}))
	e := mustFaultyEnv(t, ddbfault.Faults{After: lose})
	w := newWorkload(e.svc)
	for lost.Load() == 0 && !t.Failed() {
		w.runSteps(t, 3, 5)
	}
	t.Logf("%d responses lost", lost.Load())
	w.verify(t, e.clean, e.db, ddbtest.Streams(t), e.table)
}

// While DynamoDB throttles every call, each request uses all its attempts
// and ends UNAVAILABLE (MaxAttemptsError), never INTERNAL and never
// "retry quota exceeded", however many requests fail together; requests
// under way when the throttling stops succeed, and are stored.
func TestSustainedThrottling(t *testing.T) {
	throttle := ddbfault.NewSwitch(ddbfault.Throttle)
	e := mustFaultyEnv(t, ddbfault.Faults{Before: throttle.Fault})
	seed := func() string {
		c, err := e.clean.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Throttled"})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	id := seed()

	t.Run("ExhaustedRetriesAreUnavailable", func(t *testing.T) {
		throttle.Set(true)
		defer throttle.Set(false)
		// 24 calls of 7 retries each are more retries than the SDK's
		// default quota allows (500 tokens at 5 a retry).
		const calls = 24
		errs := make([]error, calls)
		var wg sync.WaitGroup
		start := e.attempts.Load()
		for i := range calls {
			wg.Go(func() {
				if i%2 == 0 {
					_, errs[i] = e.svc.Customer(as(admin), id)
					return
				}
				_, errs[i] = e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: id, Channel: crm.ChannelPhone, Type: crm.TypeCall})
			})
		}
		wg.Wait()
		if got := e.attempts.Load() - start; got != calls*dynamo.MaxAttempts {
			t.Errorf("%d attempts for %d calls, want %d each", got, calls, dynamo.MaxAttempts)
		}
		for i, err := range errs {
			var exhausted *retry.MaxAttemptsError
			var quota ratelimit.QuotaExceededError
			if crm.ErrorCode(err) != crm.EUNAVAILABLE || !errors.As(err, &exhausted) || errors.As(err, &quota) {
				t.Errorf("call %d: %s %v", i, crm.ErrorCode(err), err)
			}
		}
	})

	t.Run("RequestsOutlastAShortThrottle", func(t *testing.T) {
		// The calls' first attempts are throttled, fewer in all than one
		// call's retries, so however the calls interleave (and however
		// slow the machine) no call runs out of attempts.
		const throttled = dynamo.MaxAttempts - 1
		e := mustFaultyEnv(t, ddbfault.Faults{Before: ddbfault.First(throttled, ddbfault.Throttle)})
		w := newWorkload(e.svc)
		w.runSteps(t, 4, 2)
		if w.acknowledged() != 8 {
			t.Errorf("%d of 8 calls acknowledged", w.acknowledged())
		}
		if got := e.attempts.Load(); got < 8+throttled {
			t.Errorf("%d attempts for 8 calls, %d of them throttled", got, throttled)
		}
		t.Logf("%d attempts for 8 calls", e.attempts.Load())
		w.verify(t, e.clean, e.db, ddbtest.Streams(t), e.table)
	})
}

// The reason for Retries: the SDK's default retryer, under the same
// throttling, stops retrying once its quota is spent and fails requests
// with "retry quota exceeded" after a fraction of their attempts.
func TestDefaultRetryerRunsOutOfQuotaUnderThrottling(t *testing.T) {
	table := ddbtest.NewTable(t, "CrmTable")
	db := dynamodb.New(ddbtest.Client(t).Options(), ddbfault.Faults{Before: ddbfault.Throttle}.Option, func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = dynamo.MaxAttempts
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	})
	var (
		wg       sync.WaitGroup
		outOfQuo atomic.Int64
	)
	for range 24 {
		wg.Go(func() {
			_, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: dynamo.KeyOf("CUST#x", "~P")})
			if q := (ratelimit.QuotaExceededError{}); errors.As(err, &q) {
				outOfQuo.Add(1)
			}
		})
	}
	wg.Wait()
	if outOfQuo.Load() == 0 {
		t.Fatal("the default retryer never ran out of quota; the premise of dynamo.Retries no longer holds")
	}
	t.Logf("%d of 24 calls failed with retry quota exceeded", outOfQuo.Load())
}
