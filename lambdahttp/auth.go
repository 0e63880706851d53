package lambdahttp

import (
	"net/http"

	"github.com/rapportcrm/rapport/crm"
)

// Authenticator matches server.Authenticator without importing the server.
type Authenticator interface {
	Authenticate(*http.Request) (*crm.User, error)
}

// AuthorizerFirst returns an Authenticator that trusts the user Handler put
// in the request context from the API Gateway authorizer's verified claims,
// and asks fallback (a bearer-token verifier) only when there is none: a
// direct invocation, or a route without an authorizer.
//
// Only Handler puts a user there, and only from
// requestContext.authorizer.jwt or .lambda, which API Gateway fills after
// verifying the token or, through cmd/authorizer, the API key; callers who can invoke the function directly are already trusted by
// IAM. Never use this with an http.Server, whose requests carry no such
// context.
func AuthorizerFirst(fallback Authenticator) Authenticator {
	return authorizerFirst{fallback}
}

type authorizerFirst struct{ fallback Authenticator }

func (a authorizerFirst) Authenticate(r *http.Request) (*crm.User, error) {
	if u := crm.UserFromContext(r.Context()); u != nil {
		return u, nil
	}
	return a.fallback.Authenticate(r)
}
