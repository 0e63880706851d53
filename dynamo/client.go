package dynamo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NewClient builds the DynamoDB client of a deployed function from the
// standard AWS environment (credentials, region), once per cold start,
// with Rapport's retry policy. endpoint, when set, points it elsewhere
// (DynamoDB Local in tests).
func NewClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg, Retries, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// The retry policy. An attempt that DynamoDB throttles, that fails with a
// 5xx or a broken connection, or that meets another transaction on its
// item (TransactionConflictException) is tried again after a capped,
// jittered exponential backoff (up to 50 ms, 100 ms, … 2 s), at most
// MaxAttempts times in all; the request's own deadline (REQUEST_TIMEOUT)
// ends the waiting sooner. TransactWriteItems carries an idempotency token
// the SDK fills once per call, so a retried transaction whose first
// attempt did commit is not applied twice.
//
// The SDK's default retryer also keeps a retry quota per client (a token
// bucket of 500, 5 per retry) and stops retrying at all once a burst of
// throttling empties it ("retry quota exceeded"), for every request the
// warm instance serves, until successes refill it. DynamoDB throttling is
// per partition and short-lived, so that quota turns a brief throttle into
// failed requests; Rapport disables it and relies on the attempt cap, the
// backoff and the request deadline instead. What still fails reaches the
// client as UNAVAILABLE (retry), never INTERNAL (see wrap).
const (
	MaxAttempts  = 8
	retryBase    = 25 * time.Millisecond
	retryBackoff = 2 * time.Second
)

// Retries sets the retry policy on a client's options: pass it to
// dynamodb.NewFromConfig or dynamodb.New.
func Retries(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = MaxAttempts
		so.MaxBackoff = retryBackoff
		so.Backoff = retry.BackoffDelayerFunc(retryDelay)
		so.RateLimiter = ratelimit.None
		so.Retryables = append(so.Retryables, retry.RetryableErrorCode{
			Codes: map[string]struct{}{"TransactionConflictException": {}},
		})
	})
}

// retryDelay is full jitter over base·2^attempt, capped at retryBackoff;
// attempt is 1 before the first retry.
func retryDelay(attempt int, _ error) (time.Duration, error) {
	d := retryBackoff
	if attempt < 10 {
		d = min(retryBase<<attempt, retryBackoff)
	}
	return time.Duration(rand.Int64N(int64(d))) + time.Millisecond, nil
}
