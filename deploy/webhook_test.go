package deploy_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/webhooks"
)

// TestWebhookBootstrap runs the delivery function's bootstrap under a
// Runtime API double with a scheduled event: it sends a due delivery to a
// local receiver (http and loopback allowed by the test's environment, as
// only a local setting may), signed with the endpoint's secret, and logs
// its run.
func TestWebhookBootstrap(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	key := CursorSecret(t) // any base64 of 32 bytes
	keyBytes, _ := decodeSecret(key)
	store := dynamo.New(db, table, keyBytes)
	svc := crm.NewService(store)
	sealer, err := webhooks.NewSealer(keyBytes)
	if err != nil {
		t.Fatal(err)
	}
	admin := crm.NewContextWithUser(context.Background(), &crm.User{ID: "admin", Roles: []crm.Role{crm.RoleAdmin}})
	org, err := svc.CreatePartnerOrg(admin, crm.PartnerOrgInput{Name: "Hooked"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
	}))
	t.Cleanup(rx.Close)
	hooks := &webhooks.Service{Store: store, Sealer: sealer, Now: time.Now, Guard: webhooks.Guard{AllowHTTP: true, AllowLoopback: true}}
	reg, err := hooks.RegisterEndpoint(admin, webhooks.EndpointInput{OrgID: org.ID, URL: rx.URL, Types: []events.Type{events.CustomerUpdated}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	d := &webhooks.Delivery{ID: "01M8T0000000000000000000AA", EndpointID: reg.Endpoint.ID, OrgID: org.ID, MessageID: "msg_1",
		EventID: "e-1", Type: events.CustomerUpdated, CustomerID: "01M8T0000000000000000000CC", Payload: []byte(`{"type":"rapport.customer.updated"}`),
		Status: webhooks.DeliveryPending, NextAttemptAt: &now, CreatedAt: now, Version: 1}
	if err := store.AddDeliveries(context.Background(), []*webhooks.Delivery{d}); err != nil {
		t.Fatal(err)
	}

	path := MustMakeBootstrap(t, "WebhookFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME":             table,
		"DYNAMODB_ENDPOINT":      endpoint,
		"WEBHOOK_KEY":            key,
		"WEBHOOK_ALLOW_HTTP":     "true",
		"WEBHOOK_ALLOW_LOOPBACK": "true",
		"AWS_ACCESS_KEY_ID":      "local", // ddblocal.NewClient's: same database
		"AWS_SECRET_ACCESS_KEY":  "local",
	})
	ev := `{"version":"0","id":"e-1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-01-02T03:04:05Z","resources":["arn:aws:events:us-east-1:123456789012:rule/rapport-webhooks"],"detail":{}}`
	res := api.MustInvoke(t, "webhooks-1", []byte(ev), b.Exited)
	if res.Error {
		t.Fatalf("run failed: %s\n%s", res.Body, b.Output())
	}
	if !b.WaitOutput(`"msg":"webhook run"`, `"lambdaRequestId":"webhooks-1"`, `"delivered":1`) {
		t.Errorf("no structured webhook run line with one delivery in:\n%s", b.Output())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("the receiver got %d requests", len(got))
	}
	h := got[0].Header
	if err := webhooks.Verify(reg.Secret, h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), bodies[0], time.Now()); err != nil || h.Get("webhook-id") != "msg_1" {
		t.Errorf("delivery %v: %v", h, err)
	}
	after, err := store.Delivery(context.Background(), reg.Endpoint.ID, d.ID)
	if err != nil || after.Status != webhooks.DeliveryDelivered || after.ResponseCode != 200 {
		t.Errorf("logged %+v (%v)", after, err)
	}
}
