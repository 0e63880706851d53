package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/crm"
)

// checkRequest refuses, before gqlgen sees them, the requests its transports
// would answer without an error code, or with an error that echoes the body
// back (which the error policy would then have to call INTERNAL): other
// methods and content types, bodies over the size limit, malformed JSON,
// batches, and parameters of the wrong JSON type. All of these are the
// caller's mistake: BAD_USER_INPUT, with 405, 415, 413 or 400 (a body that
// is not JSON) for a request that is not GraphQL over HTTP at all, and
// requestErrorStatus otherwise.
// (httpTransport checks a GET request's URL parameters the same way.)
func checkRequest(limit int64, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err *crm.Error
		status := http.StatusBadRequest
		switch r.Method {
		case http.MethodGet:
			// httpTransport reads and checks the URL's parameters.
		case http.MethodPost:
			if mt, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type")); perr != nil || mt != "application/json" {
				status, err = http.StatusUnsupportedMediaType, crm.Errorf(crm.EINVALID, "send operations as Content-Type application/json")
				break
			}
			var body []byte
			body, status, err = readBody(w, r, limit)
			if err == nil {
				status, err = requestErrorStatus(r), checkParams(body)
				if err != nil && !json.Valid(body) {
					// Not JSON at all (or empty): not a GraphQL-over-HTTP
					// request, whatever the client accepts.
					status = http.StatusBadRequest
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
		default:
			w.Header().Set("Allow", "GET, POST")
			status, err = http.StatusMethodNotAllowed, crm.Errorf(crm.EINVALID, "method %s is not allowed: use GET for queries or POST", r.Method)
		}
		if err != nil {
			writeError(w, r, log, status, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), methodKey{}, r.Method)))
	})
}

// readBody reads a POST body up to limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, int, *crm.Error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge, crm.Errorf(crm.EINVALID, "request body exceeds the limit of %d bytes", limit)
	case err != nil:
		return nil, http.StatusBadRequest, crm.Errorf(crm.EINVALID, "request body could not be read")
	}
	return body, http.StatusOK, nil
}

// checkParams checks that a POST body is one operation: a JSON object whose
// query and operationName are strings and whose variables and extensions
// are objects. Batches (a JSON array of operations) are refused: one
// request is one operation, so every limit above holds per request.
func checkParams(body []byte) *crm.Error {
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		if !json.Valid(body) {
			return crm.Errorf(crm.EINVALID, "request body is not valid JSON")
		}
		return crm.Errorf(crm.EINVALID, "batched requests are not supported: send one operation per request")
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(body, &params); err != nil {
		if !json.Valid(body) {
			return crm.Errorf(crm.EINVALID, "request body is not valid JSON")
		}
		return crm.Errorf(crm.EINVALID, "request body must be a JSON object with a query")
	}
	if params == nil {
		return crm.Errorf(crm.EINVALID, "request body must be a JSON object with a query")
	}
	for _, p := range []struct {
		name string
		want byte
	}{{"query", '"'}, {"operationName", '"'}, {"variables", '{'}, {"extensions", '{'}} {
		if err := checkJSONKind(p.name, params[p.name], p.want); err != nil {
			return err
		}
	}
	return nil
}

// checkJSONKind checks that a parameter is absent, null, or of the kind
// whose JSON starts with want ('"' a string, '{' an object).
func checkJSONKind(name string, raw json.RawMessage, want byte) *crm.Error {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) || raw[0] == want {
		return nil
	}
	if want == '"' {
		return crm.Invalid(name, "must be a string")
	}
	return crm.Invalid(name, "must be a JSON object")
}

// methodKey holds the request's HTTP method for queriesOnlyOverGET.
type methodKey struct{}

// queriesOnlyOverGET refuses mutations sent with GET as BAD_USER_INPUT
// (gqlgen's GET transport refuses them too, but without a code). A GET may
// be cached or replayed by intermediaries; writes are POSTs.
type queriesOnlyOverGET struct{}

var _ graphql.OperationContextMutator = queriesOnlyOverGET{}

func (queriesOnlyOverGET) ExtensionName() string { return "QueriesOnlyOverGET" }

func (queriesOnlyOverGET) Validate(graphql.ExecutableSchema) error { return nil }

func (queriesOnlyOverGET) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if m, _ := ctx.Value(methodKey{}).(string); m == http.MethodGet && oc.Operation.Operation != ast.Query {
		err := gqlerror.Errorf("a %s must be sent with POST; GET serves queries only", oc.Operation.Operation)
		errcode.Set(err, crm.EINVALID)
		return err
	}
	return nil
}
