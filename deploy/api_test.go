package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
)

// apiEvent is what API Gateway sends for POST /graphql with payload format
// 2.0; claims, when not nil, are what its JWT authorizer verified.
func apiEvent(tb testing.TB, query string, claims map[string]string) []byte {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "POST /graphql",
		RawPath:  "/graphql",
		Headers: map[string]string{
			"content-type": "application/json",
			"host":         "abc123.execute-api.us-east-1.amazonaws.com",
		},
		Body: string(body),
	}
	ev.RequestContext.RequestID = "apigw-req"
	ev.RequestContext.DomainName = "abc123.execute-api.us-east-1.amazonaws.com"
	ev.RequestContext.HTTP = events.APIGatewayV2HTTPRequestContextHTTPDescription{
		Method: "POST", Path: "/graphql", Protocol: "HTTP/1.1", SourceIP: "203.0.113.9",
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestAPIBootstrap builds the API bootstrap for the host, runs it over the
// Runtime API against a table on DynamoDB Local, and queries it as an ADMIN
// whose identity comes from API Gateway authorizer claims.
func TestAPIBootstrap(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	secret := CursorSecret(t)

	// One customer, written through the service as the deployed API would.
	admin := &crm.User{ID: "admin-1", Name: "Ada Admin", Roles: []crm.Role{crm.RoleAdmin}}
	secretBytes, _ := decodeSecret(secret)
	svc := crm.NewService(dynamo.New(db, table, secretBytes))
	name := fmt.Sprintf("Bootstrap Test Ltd %d", tableSeq.Load())
	if _, err := svc.CreateCustomer(crm.NewContextWithUser(context.Background(), admin), crm.CustomerInput{
		Kind: crm.KindOrganization, Name: name, Source: crm.SourceWeb, Region: "north",
	}); err != nil {
		t.Fatalf("seed customer: %v", err)
	}

	path := MustMakeBootstrap(t, "ApiFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME":            table,
		"DYNAMODB_ENDPOINT":     endpoint,
		"CURSOR_SECRET":         secret,
		"OIDC_ISSUER":           "https://issuer.invalid/rapport-test",
		"OIDC_AUDIENCE":         "rapport-test",
		"LOG_LEVEL":             "debug",
		"AWS_ACCESS_KEY_ID":     "local", // ddblocal.NewClient's: same database
		"AWS_SECRET_ACCESS_KEY": "local",
	})

	query := `{ me { id roles } customers(first: 10) { edges { node { id name } } } }`
	res := api.MustInvoke(t, "inv-admin", apiEvent(t, query, map[string]string{
		"sub": admin.ID, "name": admin.Name, "cognito:groups": "[ADMIN]",
		"iss": "https://issuer.invalid/rapport-test", "token_use": "id",
	}), b.Exited)
	init := InitTime(t, b, api)
	t.Logf("bootstrap init: %v", init)
	fmt.Printf("bootstrap init: %v\n", init)
	if res.Error {
		t.Fatalf("invocation failed: %s", res.Body)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(res.Body, &resp); err != nil {
		t.Fatalf("response is not an HTTP API response: %v\n%s", err, res.Body)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Headers["Content-Type"], "application/json") {
		t.Fatalf("status %d headers %v body %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	var gql struct {
		Data struct {
			Me struct {
				ID    string
				Roles []string
			}
			Customers struct {
				Edges []struct{ Node struct{ ID, Name string } }
			}
		}
		Errors []json.RawMessage
	}
	if err := json.Unmarshal([]byte(resp.Body), &gql); err != nil {
		t.Fatalf("GraphQL response: %v\n%s", err, resp.Body)
	}
	if len(gql.Errors) > 0 {
		t.Errorf("GraphQL errors: %s", resp.Body)
	}
	if gql.Data.Me.ID != admin.ID || !slices.Contains(gql.Data.Me.Roles, "ADMIN") {
		t.Errorf("me = %+v, want %s with ADMIN", gql.Data.Me, admin.ID)
	}
	var names []string
	for _, e := range gql.Data.Customers.Edges {
		names = append(names, e.Node.Name)
	}
	if !slices.Contains(names, name) {
		t.Errorf("customers %v do not include %q: %s", names, name, resp.Body)
	}
	// The authorizer's claims registered the caller in the user directory.
	if u, err := svc.User(crm.NewContextWithUser(context.Background(), admin), admin.ID); err != nil ||
		u.Name != admin.Name || !slices.Equal(u.Roles, admin.Roles) || u.FirstSignInAt == nil {
		t.Errorf("directory entry of the caller: %+v %v", u, err)
	}
	if !b.WaitOutput(`"lambdaRequestId":"inv-admin"`) {
		t.Errorf("no log line carries the Lambda request id")
	}

	// Without authorizer claims or a token the same warm process must not
	// answer with data.
	res = api.MustInvoke(t, "inv-anon", apiEvent(t, query, nil), b.Exited)
	if res.Error {
		t.Fatalf("anonymous invocation failed: %s", res.Body)
	}
	if err := json.Unmarshal(res.Body, &resp); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(resp.Body, name) || (resp.StatusCode == 200 && !strings.Contains(resp.Body, "UNAUTHENTICATED")) {
		t.Errorf("anonymous request answered %d: %s", resp.StatusCode, resp.Body)
	}
}
