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
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	_ "github.com/rapportcrm/rapport/internal/mainstack"
	"github.com/rapportcrm/rapport/lambdahttp"
	"github.com/rapportcrm/rapport/oidc"
	"github.com/rapportcrm/rapport/server"
	"github.com/rapportcrm/rapport/webhooks"
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

	// The cursor key comes from Secrets Manager in the stack: ask for it
	// first and build the clients while the call is in flight.
	ctx := context.Background()
	type keyResult struct {
		key []byte
		err error
	}
	cursorKey, webhookKey := make(chan keyResult, 1), make(chan keyResult, 1)
	go func() {
		key, err := cfg.CursorSecretFrom(ctx, config.SecretsManager(os.Getenv, http.DefaultClient))
		cursorKey <- keyResult{key, err}
	}()
	// The key sealing partner webhook secrets (WEBHOOK_KEY_ARN), likewise.
	go func() {
		key, err := cfg.WebhookKeyFrom(ctx, config.SecretsManager(os.Getenv, http.DefaultClient))
		webhookKey <- keyResult{key, err}
	}()

	awsCfg, err := config.LambdaAWS(os.Getenv)
	if err != nil {
		return err
	}
	// Metered: each request's DynamoDB calls and consumed capacity, for
	// its metrics.
	db := dynamo.NewClient(awsCfg, cfg.DynamoEndpoint, dynamo.Metered)
	verifier, err := oidc.NewVerifier(oidc.Config{
		Issuer: cfg.OIDCIssuer, Audience: cfg.OIDCAudience, JWKSURL: cfg.OIDCJWKSURL,
		RolesClaim: cfg.RolesClaim, TeamsClaim: cfg.TeamsClaim,
	})
	if err != nil {
		return err
	}
	k := <-cursorKey
	if k.err != nil {
		return k.err
	}
	store := dynamo.New(db, cfg.TableName, k.key).UseIndexes(dynamo.IndexesNumbered(cfg.TableIndexes))
	svc := crm.NewService(store)
	cfg.Service(svc)
	var hooks *webhooks.Service
	if wk := <-webhookKey; wk.err != nil {
		return wk.err
	} else if wk.key != nil {
		sealer, err := webhooks.NewSealer(wk.key)
		if err != nil {
			return err
		}
		hooks = &webhooks.Service{Store: store, Sealer: sealer, Now: time.Now,
			Guard: webhooks.Guard{AllowHTTP: cfg.Webhooks.AllowHTTP, AllowLoopback: cfg.Webhooks.AllowLoopback}}
	}

	// Behind API Gateway the authorizers have checked the token or key;
	// direct invocations are checked here, keys by the same domain function.
	auth := lambdahttp.AuthorizerFirst(server.WithAPIKeys(svc.VerifyAPIKey, verifier))
	h := server.New(svc, auth, log, server.Options{
		Introspection:  cfg.Introspection,
		RequestTimeout: cfg.RequestTimeout,
		MaxBodyBytes:   maxBodyBytes,
		Metrics:        server.NewMetrics(os.Stdout, cfg.MetricsNamespace, os.Getenv("AWS_LAMBDA_FUNCTION_VERSION")),
		Webhooks:       hooks,
	})
	log.Info("api ready", "table", cfg.TableName, "issuer", cfg.OIDCIssuer)
	lambda.Start(lambdahttp.Handler(h, lambdahttp.Options{
		RolesClaim: cfg.RolesClaim, TeamsClaim: cfg.TeamsClaim, Log: log,
	}))
	return nil
}
