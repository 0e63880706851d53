// Command authorizer is the partner route's Lambda authorizer (template.yaml
// AuthorizerFunction): an API Gateway HTTP API REQUEST authorizer with
// simple responses. It checks the X-Api-Key header with the same domain
// function as the local server (crm.Service.VerifyAPIKey) and answers
// isAuthorized with the partner principal in the context, which the API
// function turns back into the user (lambdahttp.PartnerUser). It keeps each
// key's answer for a minute and counts each key's requests against its
// per-minute limit (usage.go). Built
// by `make build-AuthorizerFunction` (infra/lambda.mk).
package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/lambdahttp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rapport authorizer:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.AuthorizerFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	log := lambdahttp.NewLogger(os.Stdout, cfg.LogLevel)
	awsCfg, err := config.LambdaAWS(os.Getenv)
	if err != nil {
		return err
	}
	db := dynamo.NewClient(awsCfg, cfg.DynamoEndpoint)
	// No cursor key: the authorizer lists nothing.
	store := dynamo.New(db, cfg.TableName, nil)
	svc := crm.NewService(store)
	verify := limitPerKey(cachedVerify(svc.VerifyAPIKey, time.Minute, time.Now),
		store.CountAPIKeyUse, cfg.KeyRequestsPerMinute, time.Now, log)
	a := &authorizer{verify: verify, log: log}
	lambda.Start(a.handle)
	return nil
}

type authorizer struct {
	verify func(ctx context.Context, key string) (*crm.User, error)
	log    *slog.Logger
}

// handle allows a request whose key verifies and denies one whose key is
// refused or over its limit; both answers are kept for a minute by
// cachedVerify. A failure to check (the table unavailable) is returned as
// an error, which API Gateway answers with 500 and which is not kept, so a
// partner is not locked out for a minute by a passing fault.
func (a *authorizer) handle(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	key := header(ev.Headers, "x-api-key")
	u, err := a.verify(ctx, key)
	switch {
	case err == nil:
		a.log.InfoContext(ctx, "partner authorized", "principal", u.ID, "partnerId", u.PartnerOrgID, "route", ev.RouteKey)
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: lambdahttp.AuthorizerContext(u)}, nil
	case crm.ErrorCode(err) == crm.EUNAUTHORIZED:
		// Every refusal gets the same answer; why is logged. Never log
		// the key; its hint (prefix and last four) is enough.
		a.log.InfoContext(ctx, "partner key refused", "reason", cmp.Or(crm.ErrorDetail(err), crm.ErrorMessage(err)), "keyHint", hint(key), "route", ev.RouteKey)
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
	default:
		a.log.ErrorContext(ctx, "partner key check failed", "code", crm.ErrorCode(err), "err", err)
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, fmt.Errorf("check API key: %s", crm.ErrorCode(err))
	}
}

// header reads a header by name, whatever its case (payload 2.0 lower-cases
// names, test tools may not).
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func hint(key string) string {
	if len(key) < 8 {
		return "(short)"
	}
	return key[:4] + "…" + key[len(key)-4:]
}
