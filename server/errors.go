package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/crm"
)

// The error policy: domain errors reach the client with their code, message
// and field; GraphQL's own parse and validation errors keep theirs; bad
// variables become BAD_USER_INPUT naming the variable path (in production
// the variable only); anything else
// is logged in full and reaches the client only as "internal error" with
// the request id, so no stack, table name or AWS message leaks. In
// production (introspection off) GraphQL's own errors say no more of the
// schema than the caller wrote (withhold.go).
func presentError(log *slog.Logger, introspection bool) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if logWithheld(ctx, log, gerr) {
			return gerr
		}
		var de *crm.Error
		if errors.As(err, &de) {
			if de.Code == crm.EINVALID && de.Field == "" {
				// An argument that failed to decode (a DateTime): its
				// path below the field names it.
				if field := argumentField(ctx, gerr.Path); field != "" {
					named := *de
					named.Field = field
					de = &named
				}
			}
			gerr.Message = crm.ErrorMessage(de)
			gerr.Extensions = domainExtensions(de)
			if de.Code == crm.EINTERNAL || de.Code == crm.EUNAVAILABLE {
				// The client may quote the request id when it reports
				// a failure that was not its own.
				gerr.Extensions["requestId"] = RequestID(ctx)
				if d, ok := ctx.Value(timeoutKey{}).(time.Duration); ok && errors.Is(err, context.DeadlineExceeded) {
					gerr.Message = fmt.Sprintf("the request took longer than its limit of %s; retry", d)
				}
				logger(ctx, log).ErrorContext(ctx, "request failed", "code", de.Code, "err", err, "cause", de.Err, "path", gerr.Path.String())
			}
			return gerr
		}
		if code, ok := gerr.Extensions["code"].(string); ok && gerr.Err == nil {
			switch {
			case code == errcode.ValidationFailed && isVariablePath(gerr.Path) && !introspection:
				withholdCoercion(ctx, log, gerr)
			case code == errcode.ValidationFailed && isVariablePath(gerr.Path):
				field := variableField(gerr.Path)
				gerr.Message = strings.TrimPrefix(gerr.Message, "input: ")
				gerr.Extensions = map[string]any{"code": crm.EINVALID, "field": field}
				gerr.Path = nil
				gerr.Message = field + ": " + gerr.Message
			case !introspection:
				withholdSuggestion(ctx, log, gerr)
			}
			return gerr
		}
		id := RequestID(ctx)
		logger(ctx, log).ErrorContext(ctx, "internal error", "err", err, "path", gerr.Path.String())
		return &gqlerror.Error{
			Message:    "internal error",
			Path:       gerr.Path,
			Extensions: map[string]any{"code": crm.EINTERNAL, "requestId": id},
		}
	}
}

func domainExtensions(e *crm.Error) map[string]any {
	ext := map[string]any{"code": e.Code}
	if e.Field != "" {
		ext["field"] = e.Field
	}
	if e.ExistingID != "" {
		ext["existingId"] = e.ExistingID
	}
	return ext
}

// argumentField renders the part of an error path below the field being
// resolved, e.g. customers.edges[0].node.interactions.from as from, or
// logInteraction.input.occurredAt as input.occurredAt.
func argumentField(ctx context.Context, p ast.Path) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return ""
	}
	field := fc.Path()
	if len(p) <= len(field) || !slices.Equal(p[:len(field)], field) {
		return ""
	}
	return strings.TrimPrefix(p[len(field):].String(), ".")
}

func isVariablePath(p ast.Path) bool {
	if len(p) == 0 {
		return false
	}
	n, ok := p[0].(ast.PathName)
	return ok && n == "variable"
}

// variableField renders a variable path such as variable.input.emails[1]
// as input.emails[1].
func variableField(p ast.Path) string {
	return strings.TrimPrefix(p[1:].String(), ".")
}

func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger(ctx, log).ErrorContext(ctx, "panic", "panic", fmt.Sprint(p))
		return errors.New("internal error")
	}
}

// unauthenticated makes any authentication failure UNAUTHENTICATED. The
// verifier's text is shown only when it is already a caller-safe
// UNAUTHENTICATED message ("token expired", "invalid API key"), and what it
// keeps from the caller (why a key is refused) is logged; any other error
// says nothing the client can act on beyond "sign in again", and is logged
// instead.
func unauthenticated(r *http.Request, log *slog.Logger, err error) error {
	switch {
	case err == nil:
		return crm.Errorf(crm.EUNAUTHORIZED, "sign-in required")
	case crm.ErrorCode(err) == crm.EUNAUTHORIZED:
		if detail := crm.ErrorDetail(err); detail != "" {
			logger(r.Context(), log).InfoContext(r.Context(), "authentication refused", "reason", detail)
		}
		return err
	}
	// Not a routine missing or expired token: a verifier fault is worth
	// a look.
	logger(r.Context(), log).WarnContext(r.Context(), "authentication failed", "err", err)
	return &crm.Error{Code: crm.EUNAUTHORIZED, Message: "sign-in required", Err: err}
}

// writeError answers outside GraphQL execution (authentication, body
// limits) with a GraphQL-shaped body.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, err error) {
	code := crm.ErrorCode(err)
	if code == crm.EINTERNAL || code == crm.EUNAVAILABLE {
		logger(r.Context(), log).ErrorContext(r.Context(), "request refused", "code", code, "err", err, "cause", crm.ErrorDetail(err))
	}
	ext := map[string]any{"code": code}
	var de *crm.Error
	if errors.As(err, &de) {
		ext = domainExtensions(de)
	}
	if code == crm.EINTERNAL || code == crm.EUNAVAILABLE {
		ext["requestId"] = RequestID(r.Context())
	}
	w.Header().Set("Content-Type", responseMediaType(r)+"; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": crm.ErrorMessage(err), "extensions": ext}},
	})
}
