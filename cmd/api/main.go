// Command api is the Rapport GraphQL API as an AWS Lambda function behind an
// API Gateway HTTP API (payload format 2.0). It serves the same http.Handler
// as cmd/local; behind API Gateway the caller's identity comes from the JWT
// authorizer's verified claims (/graphql) or the partner-key authorizer's
// context (/partner/graphql), and a bearer token or API key is verified here
// only when an event carries neither (a direct invocation). Built by `make
// build-ApiFunction` (infra/lambda.mk) as the function's bootstrap.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/lambdahttp"
	"github.com/rapportcrm/rapport/oidc"
	"github.com/rapportcrm/rapport/server"
)

// maxBodyBytes bounds a GraphQL request body; API Gateway itself allows 10 MB.
const maxBodyBytes = 1 << 20

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rapport api:", err)
		os.Exit(1)
	}
}

// run builds everything once per cold start and then serves invocations
// until Lambda freezes or ends the process.
func run() error {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	log := lambdahttp.NewLogger(os.Stdout, cfg.LogLevel)

	db, err := dynamo.NewClient(context.Background(), cfg.DynamoEndpoint)
	if err != nil {
		return err
	}
	svc := crm.NewService(dynamo.New(db, cfg.TableName, cfg.CursorSecret))
	cfg.Service(svc)

	verifier, err := oidc.NewVerifier(oidc.Config{
		Issuer: cfg.OIDCIssuer, Audience: cfg.OIDCAudience, JWKSURL: cfg.OIDCJWKSURL,
		RolesClaim: cfg.RolesClaim, TeamsClaim: cfg.TeamsClaim,
	})
	if err != nil {
		return err
	}
	// Behind API Gateway the authorizers have checked the token or key;
	// direct invocations are checked here, keys by the same domain function.
	auth := lambdahttp.AuthorizerFirst(server.WithAPIKeys(svc.VerifyAPIKey, verifier))
	h := server.New(svc, auth, log, server.Options{
		Introspection:  cfg.Introspection,
		RequestTimeout: cfg.RequestTimeout,
		MaxBodyBytes:   maxBodyBytes,
	})
	log.Info("api ready", "table", cfg.TableName, "issuer", cfg.OIDCIssuer)
	lambda.Start(lambdahttp.Handler(h, lambdahttp.Options{
		RolesClaim: cfg.RolesClaim, TeamsClaim: cfg.TeamsClaim, Log: log,
	}))
	return nil
}
