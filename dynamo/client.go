package dynamo

import (
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	jitter "github.com/rapportcrm/rapport/internal/backoff"
)

// NewClient builds the DynamoDB client of a deployed function from cfg
// (config.LambdaAWS: the region and credentials Lambda sets), once per
// cold start, with Rapport's retry policy, KeepConnections and FastReads.
// endpoint, when set, points it elsewhere (DynamoDB Local in tests); opts
// follow (Metered, for the API).
func NewClient(cfg aws.Config, endpoint string, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){Retries, KeepConnections, FastReads, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}}, opts...)...)
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
	return jitter.Jitter(retryBase, retryBackoff, attempt), nil
}

// KeepConnections stops the SDK from losing its HTTP connection after a
// request whose response came back before the transport had finished
// with the request body; pass it to dynamodb.NewFromConfig or
// dynamodb.New, beside Retries.
//
// What happens without it: smithy-go closes a request's body as soon as
// the response headers are in (transport/http.ClientHandler), and its
// body's WriteTo returns io.EOF once closed. After sending a body of known
// length, Go's transport copies whatever is left of it to io.Discard (Go
// 1.26 net/http, transferWriter.writeBody) through that WriteTo, takes the
// io.EOF for a failed write and closes the connection: the next request
// dials again and, when the response body was still being read, that read
// fails with "use of closed network connection", which the SDK retries
// (aws/aws-sdk-go-v2#2949). Upstream reports: aws/aws-sdk-go-v2#1825,
// #2737, #2935. The window is the writer goroutine's last step, so it
// opens on a loaded machine; dynamo/connections_test.go holds it open.
//
// The body handed to the transport here reads like the SDK's but has no
// WriteTo, so the transport's last copy uses Read, whose io.EOF after
// close is the ordinary end of the body. Remove this when smithy-go's
// closed body stops answering WriteTo with io.EOF (the test then passes
// without it).
func KeepConnections(o *dynamodb.Options) {
	o.HTTPClient = readOnlyBodies{next: o.HTTPClient}
}

type readOnlyBodies struct{ next dynamodb.HTTPClient }

func (c readOnlyBodies) Do(r *http.Request) (*http.Response, error) {
	// A write whose outcome is not learned asks whether it was sent at
	// all (outcome.go).
	if f, ok := r.Context().Value(sentKey{}).(*sentFlag); ok {
		f.sent.Store(true)
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return c.next.Do(r)
}
