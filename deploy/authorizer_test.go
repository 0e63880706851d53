package deploy_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/lambdahttp"
)

// TestPartnerRoute checks the transformed template: /partner/graphql is
// served by the API function behind the Lambda authorizer (simple
// responses, the key header as identity source, answers cached), API
// Gateway may invoke the authorizer, /graphql keeps the JWT authorizer, and
// the authorizer gets no cursor secret.
func TestPartnerRoute(t *testing.T) {
	tpl := MustTransform(t)
	api := props(resources(tpl, "AWS::ApiGatewayV2::Api")["HttpApi"])
	body, _ := api["Body"].(map[string]any)
	schemes := body["components"].(map[string]any)["securitySchemes"].(map[string]any)
	auth, _ := schemes["PartnerKeyAuthorizer"].(map[string]any)["x-amazon-apigateway-authorizer"].(map[string]any)
	if auth["type"] != "request" || auth["enableSimpleResponses"] != true || auth["authorizerPayloadFormatVersion"] != "2.0" ||
		!slices.Equal(strs(auth["identitySource"]), []string{"$request.header.X-Api-Key"}) {
		t.Errorf("partner authorizer %v", auth)
	}
	// No cached answers: the authorizer counts every request of each key
	// (cmd/authorizer/usage.go) and keeps answers a minute itself.
	if ttl, ok := auth["authorizerResultTtlInSeconds"].(float64); !ok || ttl != 0 {
		t.Errorf("authorizer cache TTL %v: want 0, or per-key limits count one request per TTL", auth["authorizerResultTtlInSeconds"])
	}
	if !strings.Contains(mustJSON(t, auth["authorizerUri"]), "AuthorizerFunction") {
		t.Errorf("authorizer URI %v does not name AuthorizerFunction", auth["authorizerUri"])
	}
	paths := body["paths"].(map[string]any)
	security := func(path string) string {
		post, _ := paths[path].(map[string]any)["post"].(map[string]any)
		return mustJSON(t, post["security"]) + " " + mustJSON(t, post["x-amazon-apigateway-integration"])
	}
	if s := security("/partner/graphql"); !strings.Contains(s, "PartnerKeyAuthorizer") || !strings.Contains(s, "ApiFunction") {
		t.Errorf("/partner/graphql: %s", s)
	}
	if s := security("/graphql"); !strings.Contains(s, "OidcAuthorizer") || strings.Contains(s, "PartnerKeyAuthorizer") {
		t.Errorf("/graphql: %s", s)
	}
	invokes := false
	for _, p := range resources(tpl, "AWS::Lambda::Permission") {
		pp := props(p)
		if strings.Contains(mustJSON(t, pp["FunctionName"]), "AuthorizerFunction") && pp["Principal"] == "apigateway.amazonaws.com" {
			invokes = true
		}
	}
	if !invokes {
		t.Error("API Gateway has no permission to invoke AuthorizerFunction")
	}
	fn := props(resources(tpl, "AWS::Lambda::Function")["AuthorizerFunction"])
	vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	for _, v := range []string{"CURSOR_SECRET", "CURSOR_SECRET_ARN"} {
		if _, ok := vars[v]; ok {
			t.Errorf("the authorizer gets %s", v)
		}
	}
	if mustJSON(t, vars["PARTNER_KEY_REQUESTS_PER_MINUTE"]) != `{"Ref":"PartnerKeyRequestsPerMinute"}` {
		t.Errorf("the authorizer's per-key limit %v", vars["PARTNER_KEY_REQUESTS_PER_MINUTE"])
	}
	// The partner route has a throttle of its own, so partners cannot use
	// up the staff routes' share of the stage's.
	stage := props(resources(tpl, "AWS::ApiGatewayV2::Stage")["HttpApiApiGatewayDefaultStage"])
	route, _ := stage["RouteSettings"].(map[string]any)["POST /partner/graphql"].(map[string]any)
	if mustJSON(t, route["ThrottlingRateLimit"]) != `{"Ref":"PartnerThrottleRateLimit"}` ||
		mustJSON(t, route["ThrottlingBurstLimit"]) != `{"Ref":"PartnerThrottleBurstLimit"}` {
		t.Errorf("partner route settings %v", stage["RouteSettings"])
	}
}

// TestAuthorizerReadsOnlyKeyItems: its role reaches the table only through
// GetItem confined to key and partner organization items, and UpdateItem
// of a key's lastUsedAt or of its request counters (APIUSE#): it can
// neither undo a revocation nor expire a key through ttl.
func TestAuthorizerReadsOnlyKeyItems(t *testing.T) {
	tpl := MustTransform(t)
	role := props(resources(tpl, "AWS::IAM::Role")["AuthorizerFunctionRole"])
	var tableActions []string
	for _, pol := range role["Policies"].([]any) {
		for _, s := range pol.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			s := s.(map[string]any)
			for _, a := range strs(s["Action"]) {
				if !strings.HasPrefix(a, "dynamodb:") {
					continue
				}
				tableActions = append(tableActions, a)
				cond := mustJSON(t, s["Condition"])
				if !strings.Contains(cond, `"dynamodb:LeadingKeys"`) || strings.Contains(cond, "CUST#") {
					t.Errorf("%s is not confined to key items: %s", a, cond)
				}
				if a == "dynamodb:UpdateItem" &&
					!strings.Contains(cond, `{"dynamodb:Attributes":["pk","sk","lastUsedAt"]},"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["APIKEY#*"]}`) &&
					!strings.Contains(cond, `{"dynamodb:Attributes":["pk","sk","uses","ttl"]},"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["APIUSE#*"]}`) {
					t.Errorf("UpdateItem may touch more than a key's lastUsedAt or its counters: %s", cond)
				}
				if strings.Contains(mustJSON(t, s["Resource"]), "index") {
					t.Errorf("%s on an index", a)
				}
			}
		}
	}
	slices.Sort(tableActions)
	if want := []string{"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:UpdateItem"}; !slices.Equal(tableActions, want) {
		t.Errorf("authorizer table actions %v, want %v", tableActions, want)
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// authorizerEvent is what API Gateway sends a REQUEST authorizer with
// payload format 2.0 for POST /partner/graphql.
func authorizerEvent(tb testing.TB, key string) []byte {
	tb.Helper()
	ev := events.APIGatewayV2CustomAuthorizerV2Request{
		Version: "2.0", Type: "REQUEST", RouteKey: "POST /partner/graphql", RawPath: "/partner/graphql",
		RouteArn:       "arn:aws:execute-api:us-east-1:123456789012:abc123/$default/POST/partner/graphql",
		IdentitySource: []string{key},
		Headers:        map[string]string{"x-api-key": key, "content-type": "application/json"},
	}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.HTTP.Path = "/partner/graphql"
	b, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestAuthorizerBootstrap builds the authorizer for the host and runs it
// over the Runtime API against DynamoDB Local: a valid key is allowed with
// the partner principal in the context (which the API function turns back
// into the same user), an unknown or revoked one is denied, and the key's
// last use is recorded. It runs without CURSOR_SECRET, as in the stack.
func TestAuthorizerBootstrap(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	secretBytes, _ := decodeSecret(CursorSecret(t))
	svc := crm.NewService(dynamo.New(db, table, secretBytes))
	admin := crm.NewContextWithUser(context.Background(), &crm.User{ID: "admin", Roles: []crm.Role{crm.RoleAdmin}})
	org, err := svc.CreatePartnerOrg(admin, crm.PartnerOrgInput{Name: "Acme Agency", Masked: []crm.MaskField{crm.MaskPhones, crm.MaskEmails}})
	if err != nil {
		t.Fatal(err)
	}
	good, err := svc.IssueAPIKey(admin, org.ID, "portal")
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := svc.IssueAPIKey(admin, org.ID, "old portal")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RevokeAPIKey(admin, revoked.Key.ID); err != nil {
		t.Fatal(err)
	}

	path := MustMakeBootstrap(t, "AuthorizerFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME":            table,
		"DYNAMODB_ENDPOINT":     endpoint,
		"LOG_LEVEL":             "info",
		"AWS_ACCESS_KEY_ID":     "local", // ddblocal.NewClient's: same database
		"AWS_SECRET_ACCESS_KEY": "local",
	})
	invoke := func(id, key string) events.APIGatewayV2CustomAuthorizerSimpleResponse {
		t.Helper()
		res := api.MustInvoke(t, id, authorizerEvent(t, key), b.Exited)
		if res.Error {
			t.Fatalf("%s: invocation failed: %s", id, res.Body)
		}
		var out events.APIGatewayV2CustomAuthorizerSimpleResponse
		if err := json.Unmarshal(res.Body, &out); err != nil {
			t.Fatalf("%s: not a simple response: %v\n%s", id, err, res.Body)
		}
		return out
	}

	allow := invoke("auth-allow", good.Secret)
	t.Logf("authorizer init: %v", InitTime(t, b, api))
	if !allow.IsAuthorized {
		t.Fatalf("valid key denied: %+v\n%s", allow, b.Output())
	}
	// What API Gateway hands the API function, as JSON would carry it.
	var passed map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, allow.Context)), &passed); err != nil {
		t.Fatal(err)
	}
	if passed["partnerId"] != org.ID || passed["masked"] != "PHONES,EMAILS" || passed["principal"] != crm.PartnerUserID(good.Key.ID) {
		t.Errorf("context %v", passed)
	}
	for _, tc := range []struct{ id, key string }{
		{"auth-revoked", revoked.Secret},
		{"auth-unknown", "rpk_" + strings.Repeat("Z", 43)},
		{"auth-garbage", "let me in"},
	} {
		if got := invoke(tc.id, tc.key); got.IsAuthorized || len(got.Context) > 0 {
			t.Errorf("%s: %+v", tc.id, got)
		}
	}
	if !b.WaitOutput(`"msg":"partner authorized"`, `"lambdaRequestId":"auth-allow"`, `"msg":"partner key refused"`) {
		t.Errorf("no structured allow and deny lines with the request id")
	}
	if strings.Contains(b.Output(), good.Secret) || strings.Contains(b.Output(), revoked.Secret) {
		t.Error("the authorizer logged a key")
	}
	deadline := time.Now().Add(time.Minute) // a bound for a lost write, not a speed
	for {
		k, err := svc.Store.APIKey(context.Background(), good.Key.ID)
		if err == nil && k.LastUsedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("last use not recorded: %+v %v", k, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAPIBootstrapServesPartners sends the API bootstrap what API Gateway
// sends after the partner authorizer allowed a key: the authorizer's context
// becomes the partner principal, which sees the shared customer only,
// masked.
func TestAPIBootstrapServesPartners(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	secret := CursorSecret(t)
	secretBytes, _ := decodeSecret(secret)
	svc := crm.NewService(dynamo.New(db, table, secretBytes))
	admin := crm.NewContextWithUser(context.Background(), &crm.User{ID: "admin", Roles: []crm.Role{crm.RoleAdmin}})
	org, err := svc.CreatePartnerOrg(admin, crm.PartnerOrgInput{Name: "Acme Agency"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range []struct{ name, phone string }{{"Shared Ltd", "+8613811112222"}, {"Private Ltd", "+8613833334444"}} {
		c, err := svc.CreateCustomer(admin, crm.CustomerInput{Kind: crm.KindOrganization, Name: c.name, Phones: []string{c.phone}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if _, err := svc.ShareCustomer(admin, ids[0], org.ID); err != nil {
		t.Fatal(err)
	}
	key, err := svc.IssueAPIKey(admin, org.ID, "portal")
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.VerifyAPIKey(context.Background(), key.Secret)
	if err != nil {
		t.Fatal(err)
	}

	path := MustMakeBootstrap(t, "ApiFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME": table, "DYNAMODB_ENDPOINT": endpoint, "CURSOR_SECRET": secret,
		"OIDC_ISSUER": "https://issuer.invalid/rapport-test", "OIDC_AUDIENCE": "rapport-test",
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
	})
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(apiEvent(t, `{ me { roles partnerId } customers { edges { node { id phones } } } }`, nil), &ev); err != nil {
		t.Fatal(err)
	}
	ev.RouteKey, ev.RawPath, ev.RequestContext.HTTP.Path = "POST /partner/graphql", "/partner/graphql", "/partner/graphql"
	var authCtx map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, lambdahttp.AuthorizerContext(u))), &authCtx); err != nil {
		t.Fatal(err)
	}
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: authCtx}
	res := api.MustInvoke(t, "inv-partner", []byte(mustJSON(t, ev)), b.Exited)
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(res.Body, &resp); err != nil || resp.StatusCode != 200 {
		t.Fatalf("partner invocation: %v %d %s", err, resp.StatusCode, res.Body)
	}
	if !strings.Contains(resp.Body, ids[0]) || strings.Contains(resp.Body, ids[1]) || !strings.Contains(resp.Body, "+86 *** **** 2222") ||
		strings.Contains(resp.Body, "13811112222") || !strings.Contains(resp.Body, `"partnerId":"`+org.ID+`"`) || !strings.Contains(resp.Body, `"PARTNER"`) {
		t.Errorf("partner response: %s", resp.Body)
	}
}
