package dynamo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddblocal"
	"github.com/rapportcrm/rapport/infra/ddbtest"
)

// connWatch counts the connections a client dials and, when late is set,
// holds every request body's write until the SDK has closed that body: the
// order a writer goroutine descheduled after its last write sees on a
// loaded machine (the response arrives, the SDK closes the body, then the
// writer goes on). That makes the first half of the race that
// dynamo.KeepConnections closes happen on every request. When a request
// is armed, its first attempt also reads the response body only once the
// writer is done with the connection (after the transport closed it, if
// it does), the second half: the read that fails and is retried.
type connWatch struct {
	late    bool
	armed   atomic.Bool // the next attempt's response waits for the writer
	dials   atomic.Int64
	held    atomic.Int64
	current atomic.Pointer[attempt]
}

// attempt is one request sent: when the SDK closed its body, and what the
// transport's last read of the body told it.
type attempt struct {
	closed  chan struct{}
	outcome chan bool // true: the body ended; false: a failed write
	armed   bool
}

// option installs the watch on a client: it replaces the HTTP client, so
// it goes before any option that wraps it (dynamo.KeepConnections).
func (w *connWatch) option(o *dynamodb.Options) {
	transport := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		dial := t.DialContext
		t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			w.dials.Add(1)
			c, err := dial(ctx, network, addr)
			if err != nil || !w.late {
				return c, err
			}
			return &lateConn{Conn: c, w: w, closed: make(chan struct{})}, nil
		}
	})
	o.HTTPClient = bodyWatch{w: w, next: transport}
}

// bodyWatch tells lateConn when the SDK closes a request's body and how
// the transport's last read of it went. It keeps the body's WriteTo, so
// the transport sees what it would see without the watch.
type bodyWatch struct {
	w    *connWatch
	next dynamodb.HTTPClient
}

func (c bodyWatch) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		a := &attempt{closed: make(chan struct{}), outcome: make(chan bool, 1), armed: c.w.armed.CompareAndSwap(true, false)}
		c.w.current.Store(a)
		b := &watchedBody{ReadCloser: r.Body, a: a}
		if _, ok := r.Body.(io.WriterTo); ok {
			r.Body = watchedWriterTo{b}
		} else {
			r.Body = b
		}
	}
	return c.next.Do(r)
}

type watchedBody struct {
	io.ReadCloser
	a        *attempt
	closed   atomic.Bool
	reported atomic.Bool
}

func (b *watchedBody) Close() error {
	err := b.ReadCloser.Close()
	if b.closed.CompareAndSwap(false, true) {
		close(b.a.closed)
	}
	return err
}

// report records how the transport's first read after the close ended: an
// io.EOF from Read is the end of the body, one from WriteTo a failed write.
func (b *watchedBody) report(ok bool, err error) {
	if b.closed.Load() && err == io.EOF && b.reported.CompareAndSwap(false, true) {
		b.a.outcome <- ok
	}
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.report(true, err)
	return n, err
}

type watchedWriterTo struct{ *watchedBody }

func (b watchedWriterTo) WriteTo(w io.Writer) (int64, error) {
	n, err := b.ReadCloser.(io.WriterTo).WriteTo(w)
	b.report(false, err)
	return n, err
}

// lateConn returns from a body write only once the body is closed. The
// transport flushes a request's headers before its body (the SDK's body is
// not one of the in-memory readers net/http knows), so a write that does
// not start a request is the body's. For an armed attempt it hands the
// reader the response headers, then holds the body until the writer has
// reported (and, if it failed, until the transport has closed the
// connection).
type lateConn struct {
	net.Conn
	w      *connWatch
	closed chan struct{}
	once   atomic.Bool

	mu       sync.Mutex
	a        *attempt // the request being answered
	headers  bool     // its response's headers are read
	released bool     // its response's body may be read
	pending  []byte
}

const harnessWait = 30 * time.Second // a safety net, not a timing

func (c *lateConn) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("POST ")) {
		c.mu.Lock()
		c.a, c.headers, c.released, c.pending = c.w.current.Load(), false, false, nil
		c.mu.Unlock()
		return c.Conn.Write(p)
	}
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	a := c.a
	c.mu.Unlock()
	if a != nil {
		select {
		case <-a.closed:
			c.w.held.Add(1)
		case <-time.After(harnessWait):
		}
	}
	return n, err
}

func (c *lateConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if data := c.pending; len(data) > 0 {
		c.pending = nil
		c.mu.Unlock()
		return c.body(p, data)
	}
	c.mu.Unlock()
	buf := make([]byte, len(p))
	n, err := c.Conn.Read(buf)
	c.mu.Lock()
	if c.a == nil || !c.a.armed || c.released || n == 0 {
		c.mu.Unlock()
		return copy(p, buf[:n]), err
	}
	if !c.headers {
		end := bytes.Index(buf[:n], []byte("\r\n\r\n"))
		if end >= 0 {
			c.headers = true
			c.pending = append([]byte(nil), buf[end+4:n]...)
			n = end + 4
		}
		c.mu.Unlock()
		return copy(p, buf[:n]), err
	}
	c.mu.Unlock()
	return c.body(p, buf[:n])
}

// body hands out response body bytes once the writer has reported: at
// once if it read the body's end, after the connection's close if it took
// the closed body for a failed write (the bytes are then lost with it).
func (c *lateConn) body(p, data []byte) (int, error) {
	c.mu.Lock()
	a, wait := c.a, !c.released
	c.released = true
	c.mu.Unlock()
	if wait {
		select {
		case ok := <-a.outcome:
			if !ok {
				select {
				case <-c.closed:
				case <-time.After(harnessWait):
				}
				return c.Conn.Read(p)
			}
		case <-time.After(harnessWait):
		}
	}
	n := copy(p, data)
	if n < len(data) {
		c.mu.Lock()
		c.pending = data[n:]
		c.mu.Unlock()
	}
	return n, nil
}

func (c *lateConn) Close() error {
	if c.once.CompareAndSwap(false, true) {
		close(c.closed)
	}
	return c.Conn.Close()
}

// sequentialRequests makes n sequential requests, each first attempt
// armed: reads, and a transaction of two items every tenth request (the
// shapes of Rapport's reads and writes).
func sequentialRequests(tb testing.TB, db *dynamodb.Client, w *connWatch, table string, n int) {
	tb.Helper()
	ctx := tb.Context()
	for i := range n {
		w.armed.Store(true)
		pk := fmt.Sprintf("CONN#%d", i/10)
		var err error
		if i%10 == 0 {
			item := func(sk string) map[string]types.AttributeValue {
				return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk},
					"data": &types.AttributeValueMemberS{Value: fmt.Sprintf("request %d", i)}}
			}
			_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: &table, Item: item("A")}}, {Put: &types.Put{TableName: &table, Item: item("B")}},
			}})
		} else {
			_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: dynamo.KeyOf(pk, "A")})
		}
		if err != nil {
			tb.Fatalf("request %d: %v", i, err)
		}
	}
}

// A request whose response arrives before the transport has finished with
// its body loses its connection with the SDK's own request bodies (the
// transport takes the closed body's io.EOF for a failed write), and a
// response read that the close overtakes fails ("use of closed network
// connection") and is retried. With dynamo.KeepConnections, over 1,000
// requests each meeting that order of events, no connection is lost and
// nothing is retried. Attempts are counted by ddbfault's middleware,
// which sits after the retry step.
//
// If SDKBodiesLoseTheirConnection starts failing, smithy-go has fixed the
// closed body's WriteTo: KeepConnections can go (see its comment).
func TestRequestsKeepTheirConnection(t *testing.T) {
	local := ddbtest.Client(t).Options()
	endpoint := aws.ToString(local.BaseEndpoint)
	table := ddbtest.NewTable(t, "CrmTable")
	run := func(t *testing.T, calls int, keep bool) (attempts, closedReads int64, w *connWatch) {
		w = &connWatch{late: true}
		var n, closed atomic.Int64
		// Signed with the test's access key, which picks its database (ddbtest).
		opts := []func(*dynamodb.Options){dynamo.Retries, w.option, func(o *dynamodb.Options) { o.Credentials = local.Credentials }}
		if keep { // and reading as the deployed client reads
			opts = append(opts, dynamo.KeepConnections, dynamo.FastReads)
		}
		opts = append(opts, countAttempts(&n, &closed))
		db, err := ddblocal.NewClient(t.Context(), endpoint, opts...)
		if err != nil {
			t.Fatal(err)
		}
		sequentialRequests(t, db, w, table, calls)
		t.Logf("%d requests: %d attempts (%d retried, %d on a closed connection), %d connections, %d bodies held until closed",
			calls, n.Load(), n.Load()-int64(calls), closed.Load(), w.dials.Load(), w.held.Load())
		if w.held.Load() < int64(calls) {
			t.Fatalf("%d of %d request bodies were held until closed: the harness did not apply", w.held.Load(), calls)
		}
		return n.Load(), closed.Load(), w
	}

	t.Run("SDKBodiesLoseTheirConnection", func(t *testing.T) {
		const calls = 100
		attempts, closedReads, w := run(t, calls, false)
		if closedReads != calls || attempts != 2*calls {
			t.Errorf("%d attempts, %d failed on a closed connection, for %d requests: want each request's first attempt to", attempts, closedReads, calls)
		}
		if w.dials.Load() != attempts {
			t.Errorf("%d connections for %d attempts, want one each (every connection lost)", w.dials.Load(), attempts)
		}
	})

	t.Run("KeepConnections", func(t *testing.T) {
		const calls = 1000
		attempts, _, w := run(t, calls, true)
		if attempts != calls {
			t.Errorf("%d attempts for %d requests: %d retried, want none", attempts, calls, attempts-calls)
		}
		// The transport keeps a connection if its writer reports within
		// 50 ms of the response; a very loaded machine can miss that now
		// and then, which costs a new connection, never a retry.
		if w.dials.Load() > calls/10 {
			t.Errorf("%d connections for %d requests, want them reused", w.dials.Load(), calls)
		}
	})
}

// countAttempts counts every attempt the SDK makes (it sits after the retry
// step) and those that failed on a closed connection.
func countAttempts(attempts, closed *atomic.Int64) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("countAttempts",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					attempts.Add(1)
					out, md, err := next.HandleFinalize(ctx, in)
					if errors.Is(err, net.ErrClosed) {
						closed.Add(1)
					}
					return out, md, err
				}), "Retry", middleware.After)
		})
	}
}
