package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/server"
)

// q360 is the customer 360 that make bench-overhead sends.
const q360 = `query($id: ID!) { customer360(id: $id, recentInteractions: 10) {
		customer { id name version stage grade { level { code label } reason } openCases { id status dueAt }
			recentEvaluations { id overall evaluatedAt } lastInteractionAt nextFollowUpAt }
		contacts { id name title phones }
		recentInteractions { id channel type subject occurredAt } } }`

// storedView answers Customer360 with a view read once, so that a
// benchmark times the handler's own work over it and not DynamoDB.
type storedView struct {
	crm.Store
	view *crm.Customer360
}

func (s storedView) Customer360(context.Context, string, int) (*crm.Customer360, error) {
	v := *s.view
	c := *v.Customer
	v.Customer = &c
	return &v, nil
}

// BenchmarkCustomer360Handler times what the server does for the
// customer 360 of make bench-overhead around its one Query: the handler
// (checks, GraphQL parse from the cache, validation, execution, the
// resolvers, writing the response) over a view of 3 contacts and 10
// interactions read once from DynamoDB Local.
func BenchmarkCustomer360Handler(b *testing.B) {
	e := mustEnv(b)
	ctx := crm.NewContextWithUser(b.Context(), users["admin"])
	c, err := e.svc.CreateCustomer(ctx, crm.CustomerInput{Kind: crm.KindOrganization, Name: "Overhead Ltd",
		Region: "north", Team: "north", Grade: "B", OwnerID: aws("sales1")})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 3 {
		if _, err := e.svc.AddContact(ctx, c.ID, crm.ContactInput{Name: fmt.Sprintf("Contact %d", i),
			Title: "Buyer", Phones: []string{fmt.Sprintf("+86 138 0000 %04d", i)}}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 12 {
		at := time.Now().Add(-time.Duration(i) * time.Hour)
		if _, err := e.svc.LogInteraction(ctx, crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone,
			Direction: crm.Outbound, Type: crm.TypeCall, Subject: fmt.Sprintf("Call %d", i), OccurredAt: &at}); err != nil {
			b.Fatal(err)
		}
	}
	e.drain(b)
	view, err := e.svc.Store.Customer360(ctx, c.ID, 10)
	if err != nil {
		b.Fatal(err)
	}
	svc := crm.NewService(storedView{Store: e.svc.Store, view: view})
	h := server.New(svc, headerAuth{}, slog.New(slog.DiscardHandler), server.Options{WithoutDirectory: true})
	body, _ := json.Marshal(map[string]any{"query": q360, "variables": map[string]any{"id": c.ID}})
	serve := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-User", "sales1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := serve(); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
		b.Fatalf("status %d: %.500s", rec.Code, rec.Body)
	}
	e.resetOps()
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
	if ops := e.takeOps(); len(ops) > 0 {
		b.Logf("DynamoDB calls: %d, %v", len(ops), ops[:min(5, len(ops))])
	}
}
