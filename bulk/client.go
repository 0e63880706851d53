package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	jitter "github.com/rapportcrm/rapport/internal/backoff"
)

// Client calls a Rapport API: staff with a bearer token on /graphql,
// partners with an API key on /partner/graphql.
type Client struct {
	// BaseURL is where the API is served, e.g. http://localhost:8080 or
	// the stack's ApiUrl (a trailing /graphql is ignored).
	BaseURL string
	Token   string
	APIKey  string
	HTTP    *http.Client
	// MaxWait is how long a call is retried while the API is unavailable
	// (default 10 minutes); every retry waits longer, up to 30 seconds.
	MaxWait time.Duration
	// Notify, when set, is told of every retry.
	Notify func(string)
}

// Token reads a bearer token as `make token` prints it: its last
// non-empty line, without a "Bearer " prefix.
func Token(s string) string {
	var last string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			last = l
		}
	}
	return strings.TrimSpace(strings.TrimPrefix(last, "Bearer "))
}

// APIError is an error the API answered with.
type APIError struct {
	Code, Field, Message string
	// Status is the HTTP status of the response.
	Status int
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Code + ": " + e.Message
}

func (c *Client) endpoint() string {
	base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(c.BaseURL, "/"), "/partner/graphql"), "/graphql")
	if c.APIKey != "" {
		return base + "/partner/graphql"
	}
	return base + "/graphql"
}

// Do runs a GraphQL operation and decodes its data into out. While the
// API is unavailable (no answer, 429, 502–504, or UNAVAILABLE) it tries
// again after a growing, jittered pause, for up to MaxWait: the client
// keeps no retry quota that could run dry while the server recovers.
func (c *Client) Do(ctx context.Context, query string, vars map[string]any, out any) error {
	maxWait := c.MaxWait
	if maxWait == 0 {
		maxWait = 10 * time.Minute
	}
	var b backoff
	began := time.Now()
	for {
		retryAfter, err := c.do(ctx, query, vars, out)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		wait := max(b.next(), retryAfter)
		if time.Since(began)+wait > maxWait {
			return fmt.Errorf("the API stayed unavailable for %s: %w", time.Since(began).Round(time.Second), err)
		}
		if c.Notify != nil {
			c.Notify(fmt.Sprintf("%v; trying again in %s", err, wait.Round(100*time.Millisecond)))
		}
		if err := jitter.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// unavailable marks a failure worth retrying.
type unavailable struct{ err error }

func (u unavailable) Error() string { return u.err.Error() }
func (u unavailable) Unwrap() error { return u.err }

func retryable(err error) bool {
	var u unavailable
	var api *APIError
	return errors.As(err, &u) || errors.As(err, &api) && api.Code == "UNAVAILABLE"
}

func (c *Client) do(ctx context.Context, query string, vars map[string]any, out any) (time.Duration, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.APIKey != "" {
		req.Header.Set("X-Api-Key", c.APIKey)
	} else if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, unavailable{fmt.Errorf("no answer from %s: %w", c.endpoint(), err)}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return 0, unavailable{fmt.Errorf("reading the answer of %s: %w", c.endpoint(), err)}
	}
	retryAfter := time.Duration(0)
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		retryAfter = time.Duration(min(s, 300)) * time.Second
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code  string `json:"code"`
				Field string `json:"field"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) == 0 && res.StatusCode != http.StatusOK {
		// Not an answer of the API: a gateway's, a load balancer's.
		err := fmt.Errorf("%s answered HTTP %d: %s", c.endpoint(), res.StatusCode, snippet(raw))
		switch res.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return retryAfter, unavailable{err}
		}
		return 0, err
	}
	if len(r.Errors) > 0 {
		e := r.Errors[0]
		return retryAfter, &APIError{Code: e.Extensions.Code, Field: e.Extensions.Field, Message: e.Message, Status: res.StatusCode}
	}
	if out == nil {
		return 0, nil
	}
	return 0, json.Unmarshal(r.Data, out)
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// backoff grows from half a second to 30 seconds; half of each pause is
// random, so that clients that failed together do not come back together.
type backoff struct{ attempt int }

func (b *backoff) next() time.Duration {
	d := min(500*time.Millisecond<<min(b.attempt, 10), 30*time.Second)
	b.attempt++
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (b *backoff) reset() { b.attempt = 0 }
