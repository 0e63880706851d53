package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/metrics/emftest"
)

// fakeSecretsManager answers signed GetSecretValue calls for arn with value
// and counts them.
func fakeSecretsManager(t *testing.T, arn, value string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		calls.Add(1)
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" ||
			!strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") || string(body) != `{"SecretId":"`+arn+`"}` {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"ValidationException","message":"unexpected call"}`)
			return
		}
		_, _ = fmt.Fprintf(w, `{"ARN":%q,"SecretString":%q}`, arn, value)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestAPIBootstrapReadsItsCursorSecretAndWritesMetrics runs the API
// bootstrap as the stack does: CURSOR_SECRET_ARN instead of the key, read
// once at start from (a stand-in for) Secrets Manager, and
// METRICS_NAMESPACE. The cursor it hands out signs and verifies with the
// secret's key, and each request writes one valid EMF line.
func TestAPIBootstrapReadsItsCursorSecretAndWritesMetrics(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	secret := strings.Repeat("Rapport1", 8) // the stack's shape: 64 alphanumerics
	secretBytes, _ := decodeSecret(secret)
	svc := crm.NewService(dynamo.New(db, table, secretBytes))
	admin := &crm.User{ID: "admin-1", Name: "Ada Admin", Roles: []crm.Role{crm.RoleAdmin}}
	ctx := crm.NewContextWithUser(context.Background(), admin)
	for i := range 2 {
		if _, err := svc.CreateCustomer(ctx, crm.CustomerInput{Kind: crm.KindOrganization, Name: fmt.Sprintf("Paged Ltd %d", i), Region: "north"}); err != nil {
			t.Fatal(err)
		}
	}
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:rapport-test-cursor-AbCdEf"
	sm, smCalls := fakeSecretsManager(t, arn, secret)

	path := MustMakeBootstrap(t, "ApiFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME":                       table,
		"DYNAMODB_ENDPOINT":                endpoint,
		"CURSOR_SECRET_ARN":                arn,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.URL,
		"METRICS_NAMESPACE":                "Rapport/test-stack",
		"OIDC_ISSUER":                      "https://issuer.invalid/rapport-test",
		"OIDC_AUDIENCE":                    "rapport-test",
		"AWS_ACCESS_KEY_ID":                "local", // ddblocal.NewClient's: same database
		"AWS_SECRET_ACCESS_KEY":            "local",
		"AWS_SESSION_TOKEN":                "session",
	})
	claims := map[string]string{"sub": admin.ID, "cognito:groups": "[ADMIN]", "iss": "https://issuer.invalid/rapport-test"}
	page := func(id, after string) (names []string, end string) {
		t.Helper()
		q := `{ customers(first: 1` + after + `) { edges { node { name } } pageInfo { endCursor hasNextPage } } }`
		res := api.MustInvoke(t, id, apiEvent(t, q, claims), b.Exited)
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(res.Body, &resp); err != nil || res.Error {
			t.Fatalf("%s: %v %s", id, err, res.Body)
		}
		var gql struct {
			Data struct {
				Customers struct {
					Edges    []struct{ Node struct{ Name string } }
					PageInfo struct{ EndCursor string }
				}
			}
			Errors []json.RawMessage
		}
		if err := json.Unmarshal([]byte(resp.Body), &gql); err != nil || len(gql.Errors) > 0 {
			t.Fatalf("%s: %v %s", id, err, resp.Body)
		}
		for _, e := range gql.Data.Customers.Edges {
			names = append(names, e.Node.Name)
		}
		return names, gql.Data.Customers.PageInfo.EndCursor
	}
	first, cursor := page("inv-page-1", "")
	t.Logf("bootstrap init with the secret read from Secrets Manager: %v", InitTime(t, b, api))
	if cursor == "" || len(first) != 1 {
		t.Fatalf("first page %v cursor %q", first, cursor)
	}
	second, _ := page("inv-page-2", fmt.Sprintf(", after: %q", cursor))
	if len(second) != 1 || second[0] == first[0] {
		t.Errorf("second page %v after %v: the cursor did not verify", second, first)
	}
	// Signed with the secret's key: the store that has the key reads it.
	if _, err := svc.Customers(ctx, crm.CustomerFilter{}, crm.PageRequest{First: 1, After: cursor}); err != nil {
		t.Errorf("the bootstrap's cursor does not verify with the secret's key: %v", err)
	}
	if n := smCalls.Load(); n != 1 {
		t.Errorf("%d GetSecretValue calls for two requests, want 1 (at start)", n)
	}
	if strings.Contains(b.Output(), secret) {
		t.Error("the bootstrap logged the secret")
	}

	if !b.WaitOutput(`"_aws"`, `"inv-page-2"`) {
		t.Fatalf("no EMF line for the second request in:\n%s", b.Output())
	}
	docs, err := emftest.Lines(b.Output())
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("%d EMF lines for two requests", len(docs))
	}
	for _, d := range docs {
		r := d.Root
		if d.Directives[0].Namespace != "Rapport/test-stack" || r["Operation"] != "customers" || r["Code"] != "OK" ||
			r["Version"] != "$LATEST" || r["DynamoDBCalls"].(float64) < 1 || r["ConsumedReadCapacity"].(float64) <= 0 {
			t.Errorf("EMF line %v", r)
		}
		if !d.Has("Requests", "Version", "Code") || !d.Has("Requests", "Code") {
			t.Error("the canary and INTERNAL alarms' series are not published")
		}
	}
}

// TestAPIBootstrapWithoutItsSecretFailsAtStart: an ARN it may not read is
// an init error naming the failure, not a function that answers with
// unsigned cursors.
func TestAPIBootstrapWithoutItsSecretFailsAtStart(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	sm, _ := fakeSecretsManager(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:other", "x")
	path := MustMakeBootstrap(t, "ApiFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME": table, "DYNAMODB_ENDPOINT": endpoint,
		"CURSOR_SECRET_ARN":                "arn:aws:secretsmanager:us-east-1:123456789012:secret:rapport-test-cursor",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.URL,
		"OIDC_ISSUER":                      "https://issuer.invalid/rapport-test", "OIDC_AUDIENCE": "rapport-test",
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
	})
	<-b.Exited
	if out := b.Output(); !strings.Contains(out, "read the cursor secret") || !strings.Contains(out, "ValidationException") {
		t.Errorf("exit without naming the failure:\n%s", out)
	}
}

// TestAuthorizerBootstrapLimitsEachKey: with PARTNER_KEY_REQUESTS_PER_MINUTE
// set, a key's requests beyond it in a minute are denied while another
// key's are allowed.
func TestAuthorizerBootstrapLimitsEachKey(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	secretBytes, _ := decodeSecret(CursorSecret(t))
	svc := crm.NewService(dynamo.New(db, table, secretBytes))
	admin := crm.NewContextWithUser(context.Background(), &crm.User{ID: "admin", Roles: []crm.Role{crm.RoleAdmin}})
	org, err := svc.CreatePartnerOrg(admin, crm.PartnerOrgInput{Name: "Busy Agency"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, label := range []string{"busy portal", "quiet portal"} {
		k, err := svc.IssueAPIKey(admin, org.ID, label)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.Secret)
	}
	path := MustMakeBootstrap(t, "AuthorizerFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME": table, "DYNAMODB_ENDPOINT": endpoint, "PARTNER_KEY_REQUESTS_PER_MINUTE": "3",
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
	})
	allowed := func(id, key string) bool {
		t.Helper()
		res := api.MustInvoke(t, id, authorizerEvent(t, key), b.Exited)
		var out events.APIGatewayV2CustomAuthorizerSimpleResponse
		if err := json.Unmarshal(res.Body, &out); err != nil || res.Error {
			t.Fatalf("%s: %v %s", id, err, res.Body)
		}
		return out.IsAuthorized
	}
	// The minute may turn between requests: then the count starts afresh
	// and more are allowed, never fewer; five requests cross the limit of
	// three within one minute unless the machine stalls for a whole minute.
	var got []bool
	for i := range 5 {
		got = append(got, allowed(fmt.Sprintf("busy-%d", i), keys[0]))
	}
	if !got[0] || !got[1] || !got[2] || (got[3] && got[4]) {
		t.Errorf("busy key answers %v, want three allowed, then refusals", got)
	}
	if !allowed("quiet", keys[1]) {
		t.Error("another key of the same partner was refused")
	}
	if !b.WaitOutput(`over its limit of 3 requests a minute`) {
		t.Errorf("no refusal logged:\n%s", b.Output())
	}
}

// TestJobBootstrapReportsIncompleteGrading: the job runs without a cursor
// secret and writes one EMF line per run whose GradingIncomplete the
// JobGradingIncompleteAlarm watches.
func TestJobBootstrapReportsIncompleteGrading(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	path := MustMakeBootstrap(t, "JobFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME": table, "DYNAMODB_ENDPOINT": endpoint, "METRICS_NAMESPACE": "Rapport/test-stack",
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
	})
	ev := `{"version":"0","id":"e-2","detail-type":"Scheduled Event","source":"aws.events","time":"2026-01-02T03:04:05Z","detail":{}}`
	if res := api.MustInvoke(t, "job-metrics", []byte(ev), b.Exited); res.Error {
		t.Fatalf("job failed: %s\n%s", res.Body, b.Output())
	}
	if !b.WaitOutput(`"GradingIncomplete"`) {
		t.Fatalf("no job metrics in:\n%s", b.Output())
	}
	docs, err := emftest.Lines(b.Output())
	if err != nil || len(docs) != 1 {
		t.Fatalf("%d EMF lines, %v", len(docs), err)
	}
	d := docs[0]
	if d.Root["Service"] != "job" || d.Root["GradingIncomplete"] != 0.0 || !d.Has("GradingIncomplete", "Service") ||
		d.Root["lambdaRequestId"] != "job-metrics" {
		t.Errorf("job EMF line %v", d.Root)
	}
}
