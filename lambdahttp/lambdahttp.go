// Package lambdahttp serves API Gateway HTTP API (payload format 2.0)
// events with an ordinary http.Handler, so the Lambda function runs exactly
// the handler the local server runs.
//
// Behind API Gateway the JWT authorizer has already verified the caller's
// token, or, on the partner route, the Lambda authorizer the caller's API
// key; Handler turns the claims or context it passes along into a
// *crm.User in the request context, and AuthorizerFirst lets the server
// trust that user instead of verifying the credentials a second time.
package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/oidc"
)

// RequestIDHeader carries the Lambda request id to the handler, which uses
// it as the request id it logs and reports with internal errors. Any value
// the client sent is replaced.
const RequestIDHeader = "X-Request-Id"

// Options configures Handler.
type Options struct {
	// RolesClaim and TeamsClaim name the claims holding roles and teams
	// (oidc defaults when empty).
	RolesClaim, TeamsClaim string
	// Log receives warnings about events that cannot be served; default
	// slog.Default().
	Log *slog.Logger
}

// HandlerFunc is the Lambda handler Handler returns, for lambda.Start.
type HandlerFunc func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Handler adapts h to API Gateway HTTP API payload 2.0 events. It never
// returns an error: a request that cannot be built is answered 400, so
// API Gateway does not turn it into an opaque 500.
func Handler(h http.Handler, opts Options) HandlerFunc {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		req, err := NewRequest(ctx, ev)
		if err != nil {
			log.WarnContext(ctx, "bad API Gateway event", "err", err)
			return textResponse(http.StatusBadRequest, "bad request"), nil
		}
		if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
			req.Header.Set(RequestIDHeader, lc.AwsRequestID)
		}
		if a := ev.RequestContext.Authorizer; a != nil && len(a.Lambda) > 0 {
			// The partner route's Lambda authorizer verified an API key.
			if u, err := PartnerUser(a.Lambda); err != nil {
				log.WarnContext(ctx, "authorizer context does not describe a partner", "err", err)
			} else {
				req = req.WithContext(crm.NewContextWithUser(req.Context(), u))
			}
		} else if jwt := ev.RequestContext.Authorizer; jwt != nil && jwt.JWT != nil && len(jwt.JWT.Claims) > 0 {
			u, err := oidc.StringClaimsToUser(jwt.JWT.Claims, opts.RolesClaim, opts.TeamsClaim)
			if err != nil {
				// The authorizer let the token through, so this is a token
				// without a subject: no user, and the server answers it as
				// unauthenticated unless its own verifier accepts it.
				log.WarnContext(ctx, "authorizer claims do not describe a user", "err", err)
			} else {
				req = req.WithContext(crm.NewContextWithUser(req.Context(), u))
			}
		}
		w := NewResponseWriter()
		h.ServeHTTP(w, req)
		return w.Response(), nil
	}
}

// NewRequest builds the *http.Request an HTTP API payload 2.0 event
// describes, with ctx as its context.
func NewRequest(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		return nil, fmt.Errorf("event has no requestContext.http.method (not an HTTP API payload 2.0 event?)")
	}
	path := ev.RawPath
	if path == "" {
		path = "/"
	}
	// Not url.Parse: a path such as "//host/x" must stay a path.
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return nil, fmt.Errorf("raw path %q: %w", path, err)
	}
	u := &url.URL{Path: unescaped, RawPath: path, RawQuery: ev.RawQueryString}

	var body []byte
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, fmt.Errorf("base64 body: %w", err)
		}
	} else {
		body = []byte(ev.Body)
	}

	req, err := http.NewRequestWithContext(ctx, method, "/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("method %q: %w", method, err)
	}
	req.URL = u
	req.RequestURI = u.RequestURI()
	if p := ev.RequestContext.HTTP.Protocol; p != "" {
		if major, minor, ok := http.ParseHTTPVersion(p); ok {
			req.Proto, req.ProtoMajor, req.ProtoMinor = p, major, minor
		}
	}
	// Payload 2.0 joins repeated headers with commas, which is also how
	// HTTP allows them to be combined, so one value per name is faithful.
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	// Cookies arrive apart from the headers.
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	req.Host = req.Header.Get("Host")
	if req.Host == "" {
		req.Host = ev.RequestContext.DomainName
	}
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	req.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	return req, nil
}

// ResponseWriter is an in-memory http.ResponseWriter whose result becomes
// an HTTP API payload 2.0 response.
type ResponseWriter struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

// NewResponseWriter returns an empty ResponseWriter.
func NewResponseWriter() *ResponseWriter {
	return &ResponseWriter{header: http.Header{}}
}

// Header implements http.ResponseWriter.
func (w *ResponseWriter) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter; like net/http, only the first
// call counts.
func (w *ResponseWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.status, w.wroteHeader = status, true
}

// Write implements http.ResponseWriter.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(p)
}

// Flush implements http.Flusher. The response is sent whole when the
// handler returns (API Gateway does not stream), so it does nothing.
func (w *ResponseWriter) Flush() {}

// Response returns what the handler wrote. Set-Cookie headers become the
// cookies list; other repeated headers are joined with commas. A body that
// is not valid UTF-8 text, or is content-encoded, is sent base64-encoded.
func (w *ResponseWriter) Response() events.APIGatewayV2HTTPResponse {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	res := events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{}}
	for k, vs := range w.header {
		if k == "Set-Cookie" {
			res.Cookies = append(res.Cookies, vs...)
			continue
		}
		res.Headers[k] = strings.Join(vs, ",")
	}
	body := w.body.Bytes()
	if len(body) > 0 && res.Headers["Content-Type"] == "" {
		res.Headers["Content-Type"] = http.DetectContentType(body)
	}
	if w.header.Get("Content-Encoding") == "" && utf8.Valid(body) {
		res.Body = string(body)
	} else {
		res.Body = base64.StdEncoding.EncodeToString(body)
		res.IsBase64Encoded = true
	}
	return res
}

func textResponse(status int, msg string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body:       msg + "\n",
	}
}
