package lambdahttp

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// LogHandler wraps h so that every record logged with a Lambda invocation's
// context (InfoContext and friends) carries its request id as
// "lambdaRequestId", the id Lambda prints on its START, END and REPORT
// lines. The same id reaches the http.Handler as X-Request-Id.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		r.AddAttrs(slog.String("lambdaRequestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler {
	return logHandler{h.Handler.WithGroup(name)}
}

// NewLogger is a function's JSON logger whose lines carry the Lambda
// request id of the invocation they belong to.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(LogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}
