package server

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/crm"
)

// Media types of GraphQL responses (GraphQL over HTTP).
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// responseMediaType picks the response's media type from the Accept
// header, as GraphQL over HTTP asks: application/graphql-response+json
// when the client prefers it, application/json otherwise (also when Accept
// is missing, */* or names neither, as legacy clients expect).
func responseMediaType(r *http.Request) string {
	best, bestQ := mediaJSON, -1.0
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil {
				continue
			}
		}
		var offer string
		switch mt {
		case mediaGraphQLResponse:
			offer = mediaGraphQLResponse
		case mediaJSON, "application/*", "*/*":
			offer = mediaJSON
		default:
			continue
		}
		if q > 0 && q > bestQ {
			best, bestQ = offer, q
		}
	}
	return best
}

// requestErrorStatus is the status of a response to a well-formed HTTP
// request whose GraphQL request failed before execution (parameters,
// parsing, validation, variables, limits): GraphQL over HTTP asks for 200
// with application/json, whose clients read errors from the body whatever
// the status, and 400 with application/graphql-response+json, whose
// clients tell a failed request by its status.
func requestErrorStatus(r *http.Request) int {
	if responseMediaType(r) == mediaGraphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// graphqlHandler serves GraphQL over HTTP with gqlgen's executor and
// httpTransport, as gqlgen's handler.Server does with that one transport.
// Not handler.Server itself: its package links every gqlgen transport, the
// websocket one and its library included, which the server never uses and
// which made the api's bootstrap larger and its cold start longer (its
// package initialisation touches their code and type data).
type graphqlHandler struct {
	exec *executor.Executor
}

func (h graphqlHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// As handler.Server answers a panic outside the resolvers, which
		// the executor's recover function does not see.
		if err := recover(); err != nil {
			gqlErr, _ := h.exec.PresentRecoveredError(r.Context(), err).(*gqlerror.Error)
			b, _ := json.Marshal(&graphql.Response{Errors: gqlerror.List{gqlErr}})
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write(b)
		}
	}()
	r = r.WithContext(graphql.StartOperationTrace(r.Context()))
	t := httpTransport{}
	if !t.Supports(r) {
		b, _ := json.Marshal(&graphql.Response{Errors: gqlerror.List{{Message: "transport not supported"}}})
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(b)
		return
	}
	t.Do(w, r, h.exec)
}

// httpTransport serves GraphQL over HTTP: queries by GET and any operation
// by POST with a JSON body, both already checked by checkRequest. It
// replaces gqlgen's GET and POST transports for what GraphQL over HTTP
// asks of a server and they do otherwise: a request that fails before
// execution is answered without a data entry (execution never began) and
// with the status requestErrorStatus names, and a mutation sent by GET is
// answered 405 with Allow: POST.
type httpTransport struct{}

var _ graphql.Transport = httpTransport{}

func (httpTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	if r.Method == http.MethodGet {
		return true
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && err == nil && mt == mediaJSON
}

func (httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	w.Header().Set("Content-Type", responseMediaType(r)+"; charset=utf-8")
	params, err := operationParams(r)
	if err != nil {
		errs := gqlerror.List{gqlerror.Errorf("%s", crm.ErrorMessage(err))}
		errs[0].Extensions = domainExtensions(err)
		writeRequestErrors(w, requestErrorStatus(r), exec.DispatchError(ctx, errs))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}

	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := requestErrorStatus(r)
		if r.Method == http.MethodGet && oc != nil && oc.Operation != nil && oc.Operation.Operation != ast.Query {
			// queriesOnlyOverGET refused it; GraphQL over HTTP asks
			// for 405 whatever the media type.
			w.Header().Set("Allow", http.MethodPost)
			status = http.StatusMethodNotAllowed
		}
		writeRequestErrors(w, status, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, responses(ctx))
}

// operationParams reads the operation from a GET request's URL or a POST
// request's body.
func operationParams(r *http.Request) (*graphql.RawParams, *crm.Error) {
	p := &graphql.RawParams{}
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, crm.Errorf(crm.EINVALID, "the URL query could not be parsed")
		}
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		for _, param := range []struct {
			name string
			into *map[string]any
		}{{"variables", &p.Variables}, {"extensions", &p.Extensions}} {
			v := q.Get(param.name)
			switch {
			case v == "":
			case !json.Valid([]byte(v)):
				return nil, crm.Invalid(param.name, "is not valid JSON")
			default:
				if err := checkJSONKind(param.name, json.RawMessage(v), '{'); err != nil {
					return nil, err
				}
				if err := decodeJSON([]byte(v), param.into); err != nil {
					return nil, crm.Invalid(param.name, "must be a JSON object")
				}
			}
		}
		return p, nil
	}
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		return nil, crm.Errorf(crm.EINVALID, "request body could not be read")
	}
	if err := decodeJSON(body.Bytes(), p); err != nil {
		return nil, crm.Errorf(crm.EINVALID, "request body must be a JSON object with a query")
	}
	return p, nil
}

// decodeJSON keeps numbers as json.Number, as gqlgen's transports do, so
// that Int and Float variables are coerced by the schema, not by float64.
func decodeJSON(b []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(into)
}

// writeRequestErrors answers a request that failed before execution: its
// errors and extensions, and no data entry, since execution never began.
func writeRequestErrors(w http.ResponseWriter, status int, resp *graphql.Response) {
	writeJSON(w, status, struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
}

// writeResponse writes an executed operation's response as
// json.Marshal would, without running its encoder over the data: gqlgen
// wrote the data as compact JSON already, and Marshal would scan it
// again only to check and compact it (a fifth of a list of 50's own
// time). The data is HTML-escaped as Marshal does.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	var b bytes.Buffer
	b.Grow(len(resp.Data) + 64)
	b.WriteByte('{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			writeJSON(w, http.StatusOK, resp)
			return
		}
		b.WriteString(`"errors":`)
		b.Write(errs)
		b.WriteByte(',')
	}
	b.WriteString(`"data":`)
	if resp.Data == nil {
		b.WriteString("null")
	} else {
		json.HTMLEscape(&b, resp.Data)
	}
	rest, err := json.Marshal(struct {
		Label      string         `json:"label,omitempty"`
		Path       ast.Path       `json:"path,omitempty"`
		HasNext    *bool          `json:"hasNext,omitempty"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Label, resp.Path, resp.HasNext, resp.Extensions})
	if err != nil {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	if len(rest) > 2 { // more than {}
		b.WriteByte(',')
		b.Write(rest[1:])
	} else {
		b.WriteByte('}')
	}
	writeBody(w, http.StatusOK, b.Bytes())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// A response is made of JSON the resolvers marshalled already;
		// failing here is a bug, and the client learns only that.
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	writeBody(w, status, b)
}

// writeBody writes a whole response body with its length: a body over
// net/http's 2 KB chunking buffer would otherwise go chunked (its framing,
// and a last chunk the client must read before it can reuse the
// connection), where its length is known.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
