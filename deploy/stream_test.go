package deploy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddblocal"
	"github.com/rapportcrm/rapport/infra/ddbstream"
)

// TestStreamPublishesToItsBus: the stack creates the bus, names it to the
// stream function, and lets that function (and the webhook delivery
// function, which tells of the endpoints it disables; no other) put events
// on it, on it only.
func TestStreamPublishesToItsBus(t *testing.T) {
	tpl := MustTransform(t)
	if len(resources(tpl, "AWS::Events::EventBus")) != 1 {
		t.Fatal("want one event bus")
	}
	fn := props(resources(tpl, "AWS::Lambda::Function")["StreamFunction"])
	vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	if got := mustJSON(t, vars["EVENT_BUS_NAME"]); got != `{"Ref":"EventBus"}` {
		t.Errorf("StreamFunction EVENT_BUS_NAME %s, want the stack's bus", got)
	}
	for id, r := range resources(tpl, "AWS::IAM::Role") {
		pols, _ := props(r)["Policies"].([]any)
		for _, pol := range pols {
			stmts, _ := pol.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)
			for _, s := range stmts {
				s := s.(map[string]any)
				for _, a := range strs(s["Action"]) {
					if !strings.HasPrefix(a, "events:") {
						continue
					}
					if (id != "StreamFunctionRole" && id != "WebhookFunctionRole") || a != "events:PutEvents" || mustJSON(t, s["Resource"]) != `{"Fn::GetAtt":["EventBus","Arn"]}` {
						t.Errorf("%s: %s on %s; only StreamFunctionRole and WebhookFunctionRole put events, on EventBus", id, a, mustJSON(t, s["Resource"]))
					}
				}
			}
		}
	}
}

// TestStreamBootstrap runs the stream function's bootstrap under a
// Runtime API double with a batch of the table's stream (DynamoDB
// Local's): it applies it and puts the customer's creation on the bus
// (an EventBridge double), signed with the function's credentials.
func TestStreamBootstrap(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	svc := crm.NewService(dynamo.New(db, table, nil))
	admin := crm.NewContextWithUser(context.Background(), &crm.User{ID: "admin", Roles: []crm.Role{crm.RoleAdmin}})
	nobody := ""
	c, err := svc.CreateCustomer(admin, crm.CustomerInput{Kind: crm.KindOrganization, Name: "Streamed", OwnerID: &nobody, Grade: "D"})
	if err != nil {
		t.Fatal(err)
	}
	var batches []events.DynamoDBTimeWindowEvent
	p, err := ddbstream.New(t.Context(), db, ddblocal.NewStreamsClient(endpoint), table,
		func(_ context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error) {
			batches = append(batches, ev)
			return events.DynamoDBTimeWindowEventResponse{}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Drain(t.Context()); err != nil || len(batches) == 0 {
		t.Fatalf("read the stream: %d batches, %v", len(batches), err)
	}

	var mu sync.Mutex
	var puts []string
	bus := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=local/") {
			http.Error(w, "not a signed PutEvents", http.StatusBadRequest)
			return
		}
		var in struct{ Entries []json.RawMessage }
		json.Unmarshal(body, &in)
		mu.Lock()
		for _, e := range in.Entries {
			puts = append(puts, string(e))
		}
		mu.Unlock()
		ok := make([]map[string]string, len(in.Entries))
		for i := range ok {
			ok[i] = map[string]string{"EventId": "e"}
		}
		json.NewEncoder(w).Encode(map[string]any{"FailedEntryCount": 0, "Entries": ok})
	}))
	t.Cleanup(bus.Close)

	path := MustMakeBootstrap(t, "StreamFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME":            table,
		"DYNAMODB_ENDPOINT":     endpoint,
		"EVENT_BUS_NAME":        "rapport-test-bus",
		"EVENT_SOURCE":          "rapport/test",
		"EVENTBRIDGE_ENDPOINT":  bus.URL,
		"AWS_ACCESS_KEY_ID":     "local", // ddblocal.NewClient's: same database
		"AWS_SECRET_ACCESS_KEY": "local",
	})
	for i, ev := range batches {
		payload, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		res := api.MustInvoke(t, "stream-"+string(rune('a'+i)), payload, b.Exited)
		var out events.DynamoDBTimeWindowEventResponse
		if res.Error || json.Unmarshal(res.Body, &out) != nil || len(out.BatchItemFailures) > 0 {
			t.Fatalf("batch %d failed: %s\n%s", i, res.Body, b.Output())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	created := 0
	for _, p := range puts {
		var e struct {
			EventBusName, Source, DetailType, Detail string
		}
		json.Unmarshal([]byte(p), &e)
		var detail struct{ ID, Subject string }
		json.Unmarshal([]byte(e.Detail), &detail)
		if e.EventBusName != "rapport-test-bus" || e.Source != "rapport/test" {
			t.Errorf("entry %s", p)
		}
		if e.DetailType == "rapport.customer.created" && detail.Subject == c.ID && detail.ID != "" {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d creations of %s put on the bus, want 1: %v", created, c.ID, puts)
	}
}
