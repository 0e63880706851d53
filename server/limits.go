package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/crm"
)

// readBody reads a POST body up to limit bytes before gqlgen sees it.
// gqlgen's POST transport answers an unreadable body with an uncoded error
// and status 200, and a malformed one with an error that echoes the body;
// the first would reach the client as INTERNAL, the second leak input back.
// Here both are the caller's mistake: 413 or 400, BAD_USER_INPUT.
func readBody(limit int64, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeError(w, r, log, http.StatusRequestEntityTooLarge,
				crm.Errorf(crm.EINVALID, "request body exceeds %d bytes", limit))
			return
		case err != nil:
			writeError(w, r, log, http.StatusBadRequest, crm.Errorf(crm.EINVALID, "request body could not be read"))
			return
		case !json.Valid(body):
			writeError(w, r, log, http.StatusBadRequest, crm.Errorf(crm.EINVALID, "request body is not valid JSON"))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// noIntrospection refuses operations that ask for __schema or __type when
// introspection is off. Without it the generated executor fails those
// fields with an uncoded error, which the presenter would have to treat as
// INTERNAL; refusing the operation up front makes it a validation failure.
type noIntrospection struct{}

var (
	_ graphql.HandlerExtension        = noIntrospection{}
	_ graphql.OperationContextMutator = noIntrospection{}
)

func (noIntrospection) ExtensionName() string { return "NoIntrospection" }

func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

func (noIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Query"}) {
		if f.Name == "__schema" || f.Name == "__type" {
			err := gqlerror.ErrorPosf(f.Position, "introspection is disabled: field %s", f.Name)
			errcode.Set(err, errcode.ValidationFailed)
			return err
		}
	}
	return nil
}
