// Package oidc verifies OpenID Connect / OAuth 2.0 bearer tokens (Amazon
// Cognito user-pool tokens in production, the dev issuer locally) and turns
// their claims into a crm.User.
//
// Only asymmetric algorithms (RS256, ES256) are accepted: the verifier never
// holds a shared secret, so accepting HS* would let anyone who has the public
// key mint tokens.
package oidc

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rapportcrm/rapport/crm"
)

// Defaults applied by NewVerifier to zero Config fields.
const (
	DefaultRolesClaim = "cognito:groups"
	DefaultTeamsClaim = "custom:teams"
	DefaultLeeway     = 60 * time.Second
)

const (
	// maxTokenLen bounds the work an unauthenticated caller can make us do;
	// Cognito tokens are a few KiB even with many groups.
	maxTokenLen = 16 << 10
	// httpTimeout bounds discovery and JWKS fetches when the caller supplies
	// no HTTP client; the fetch is shared by concurrent requests, so it runs
	// detached from any one request's context.
	httpTimeout = 10 * time.Second
)

// supportedAlgs are the only JWS algorithms Verify accepts.
var supportedAlgs = []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()}

// Config configures a Verifier.
type Config struct {
	// Issuer must equal the token's iss claim exactly, e.g.
	// "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf".
	Issuer string
	// Audience is the expected aud (ID tokens) or client_id (Cognito access
	// tokens). Empty skips the audience check.
	Audience string
	// JWKSURL overrides discovery via <Issuer>/.well-known/openid-configuration.
	JWKSURL string
	// RolesClaim names the claim holding role names; default "cognito:groups".
	RolesClaim string
	// TeamsClaim names the claim holding team names; default "custom:teams".
	TeamsClaim string
	// Leeway tolerates clock skew on exp, nbf and iat; default 60s.
	Leeway time.Duration
	// HTTPClient fetches discovery and JWKS documents; default is a client
	// with a 10s timeout.
	HTTPClient *http.Client
	// Now is the clock, for tests; default time.Now. It also drives the JWKS
	// refresh rate limit.
	Now func() time.Time
}

// Verifier verifies bearer tokens against an issuer's published keys. It is
// safe for concurrent use; create one per process and share it.
type Verifier struct {
	cfg      Config
	parser   *jwt.Parser
	keys     *keyCache
	verified verifiedTokens
}

// NewVerifier returns a Verifier for cfg. It does no network I/O: keys are
// fetched on first use so that a Lambda cold start is not slowed down (and
// does not fail) because the issuer is slow.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("oidc: Config.Issuer is required")
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = DefaultRolesClaim
	}
	if cfg.TeamsClaim == "" {
		cfg.TeamsClaim = DefaultTeamsClaim
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Leeway < 0 {
		return nil, errors.New("oidc: Config.Leeway must not be negative")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: httpTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := jwt.NewParser(
		jwt.WithValidMethods(supportedAlgs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		// Reject non-canonical base64 so a token has exactly one encoding.
		jwt.WithStrictDecoding(),
	)
	return &Verifier{
		cfg:    cfg,
		parser: p,
		keys:   newKeyCache(cfg.Issuer, cfg.JWKSURL, cfg.HTTPClient, cfg.Now),
	}, nil
}

// Verify checks rawToken's signature, algorithm, lifetime, issuer and
// audience, and returns the user its claims describe. Failures are
// *crm.Error: EUNAUTHORIZED for a bad token, EUNAVAILABLE when the issuer's
// keys cannot be fetched (so clients retry rather than sign the user out).
// A token verified before, with the key set that stands, is answered from
// memory until it expires (verifiedTokens).
func (v *Verifier) Verify(ctx context.Context, rawToken string) (*crm.User, error) {
	if rawToken == "" {
		return nil, unauthorized("missing bearer token", nil)
	}
	if len(rawToken) > maxTokenLen {
		return nil, unauthorized("invalid token", errors.New("token too long"))
	}
	now := v.cfg.Now()
	if u, ok := v.verified.get(rawToken, v.keys.generation(), now); ok {
		return u, nil
	}
	claims := jwt.MapClaims{}
	var keys uint64
	_, err := v.parser.ParseWithClaims(rawToken, claims, func(t *jwt.Token) (any, error) {
		k, gen, err := v.keyFor(ctx, t)
		keys = gen
		return k, err
	})
	if err != nil {
		var ce *crm.Error
		switch {
		case errors.As(err, &ce):
			// From keyFor: already classified (e.g. keys unavailable).
			return nil, ce
		case errors.Is(err, jwt.ErrTokenExpired):
			return nil, unauthorized("token expired", err)
		default:
			return nil, unauthorized("invalid token", err)
		}
	}
	if err := v.checkAudience(claims); err != nil {
		return nil, err
	}
	u, err := ClaimsToUser(claims, v.cfg.RolesClaim, v.cfg.TeamsClaim)
	if err != nil {
		return nil, err
	}
	// A key set replaced while the token was checked may have withdrawn
	// its key: such a check is answered but not remembered.
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil && keys == v.keys.generation() {
		v.verified.put(rawToken, u, exp.Time, keys, now)
	}
	return u, nil
}

// keyFor returns the verification key for t, insisting that the key's type
// (and its JWK alg, when published) matches the token's alg; otherwise a
// token could pick an algorithm the key was never meant for.
// The generation it returns is the key set's the key came from.
func (v *Verifier) keyFor(ctx context.Context, t *jwt.Token) (any, uint64, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, 0, unauthorized("invalid token", errors.New("token has no kid"))
	}
	k, gen, err := v.keys.get(ctx, kid)
	if err != nil {
		return nil, 0, err
	}
	alg := t.Method.Alg()
	if k.alg != "" && k.alg != alg {
		return nil, 0, unauthorized("invalid token", errors.New("token alg "+alg+" does not match key alg "+k.alg))
	}
	if k.kty != algKty(alg) {
		return nil, 0, unauthorized("invalid token", errors.New("token alg "+alg+" does not match key type "+k.kty))
	}
	return k.pub, gen, nil
}

// checkAudience accepts aud containing Audience (ID tokens) or client_id equal
// to it (Cognito access tokens carry no aud).
func (v *Verifier) checkAudience(claims jwt.MapClaims) error {
	want := v.cfg.Audience
	if want == "" {
		return nil
	}
	aud, err := claims.GetAudience()
	if err != nil {
		return unauthorized("invalid token", err)
	}
	if slices.Contains(aud, want) {
		return nil
	}
	if cid, ok := claims["client_id"].(string); ok && cid == want {
		return nil
	}
	return unauthorized("invalid token", errors.New("token audience does not match"))
}

// Authenticate verifies the bearer token of r's Authorization header.
func (v *Verifier) Authenticate(r *http.Request) (*crm.User, error) {
	tok, ok := BearerToken(r)
	if !ok {
		return nil, unauthorized("missing bearer token", nil)
	}
	return v.Verify(r.Context(), tok)
}

// BearerToken returns the token of r's "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 7235).
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func unauthorized(msg string, cause error) *crm.Error {
	return &crm.Error{Code: crm.EUNAUTHORIZED, Message: msg, Err: cause}
}
