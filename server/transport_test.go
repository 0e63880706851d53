package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/server"
)

// A request asking to upgrade the connection (a WebSocket subscription
// client) is one no transport serves: 400 with an uncoded error, as
// gqlgen's handler.Server answered it before the server drove the
// executor itself.
func TestUpgradeRequestsAreAnsweredTransportNotSupported(t *testing.T) {
	srv, _ := mustBareServer(t, headerAuth{}, server.Options{})
	tests := []struct {
		name, method, url, body string
	}{
		{"GET", http.MethodGet, srv.URL + "/graphql?query=%7B__typename%7D", ""},
		{"POST", http.MethodPost, srv.URL + "/graphql", `{"query":"{ __typename }"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			req.Header.Set("X-Test-User", "admin")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out response
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusBadRequest || len(out.Errors) != 1 || out.Errors[0].Message != "transport not supported" {
				t.Fatalf("got %d %+v, want 400 transport not supported", res.StatusCode, out.Errors)
			}
		})
	}
}
