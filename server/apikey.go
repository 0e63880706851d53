package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/rapportcrm/rapport/crm"
)

// PartnerPath is where partner portals send their GraphQL requests, signed
// in with an API key instead of a staff token. It serves the same schema as
// /graphql; what a partner principal sees is decided by the domain.
const PartnerPath = "/partner/graphql"

// APIKeyHeader carries a partner's API key.
const APIKeyHeader = "X-Api-Key"

// KeyVerifier checks a partner API key: crm.Service.VerifyAPIKey.
type KeyVerifier func(ctx context.Context, key string) (*crm.User, error)

// WithAPIKeys returns an Authenticator that signs requests to PartnerPath in
// by their X-Api-Key header with verify, and all other requests with staff
// (the bearer-token verifier). Keys count on PartnerPath only and tokens
// only elsewhere, exactly as in the AWS stack, where PartnerPath has the
// key authorizer and /graphql the JWT authorizer.
func WithAPIKeys(verify KeyVerifier, staff Authenticator) Authenticator {
	return keyAuth{verify: verify, staff: staff}
}

type keyAuth struct {
	verify KeyVerifier
	staff  Authenticator
}

func (a keyAuth) Authenticate(r *http.Request) (*crm.User, error) {
	key := strings.TrimSpace(r.Header.Get(APIKeyHeader))
	if r.URL.Path != PartnerPath {
		if key != "" && r.Header.Get("Authorization") == "" {
			return nil, crm.Errorf(crm.EUNAUTHORIZED, "API keys are accepted on %s only", PartnerPath)
		}
		return a.staff.Authenticate(r)
	}
	if key == "" {
		return nil, crm.Errorf(crm.EUNAUTHORIZED, "missing %s header: partner requests are signed in with an API key", APIKeyHeader)
	}
	return a.verify(r.Context(), key)
}
