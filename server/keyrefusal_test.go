package server_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/server"
)

// Every partner key that does not sign in gets one answer, byte for byte:
// a key of a suspended organization is not told the organization's name
// or status, a revoked key not its hint, and neither can be told from an
// unknown or a malformed key. Why each was refused is in the log, under
// the request id.
func TestRefusedPartnerKeysGetOneAnswer(t *testing.T) {
	e := mustPartnerEnv(t)
	var org struct{ CreatePartnerOrganization struct{ ID string } }
	e.staff(t, "admin", `mutation { createPartnerOrganization(input: {name: "Suspended Agency"}) { id } }`, nil, &org)
	suspendedOrg := org.CreatePartnerOrganization.ID
	issue := func(orgID string) (id, key string) {
		var out struct {
			IssueAPIKey struct {
				Key    string
				APIKey struct{ ID string }
			}
		}
		e.staff(t, "admin", `mutation($p: ID!) { issueApiKey(partnerId: $p, name: "portal") { key apiKey { id } } }`, map[string]any{"p": orgID}, &out)
		return out.IssueAPIKey.APIKey.ID, out.IssueAPIKey.Key
	}
	_, suspendedKey := issue(suspendedOrg)
	e.staff(t, "admin", `mutation($id: ID!) { updatePartnerOrganization(id: $id, expectedVersion: 1, input: {status: SUSPENDED}) { id } }`,
		map[string]any{"id": suspendedOrg}, nil)
	e.staff(t, "admin", `mutation { createPartnerOrganization(input: {name: "Active Agency"}) { id } }`, nil, &org)
	revokedID, revokedKey := issue(org.CreatePartnerOrganization.ID)
	e.staff(t, "admin", `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": revokedID}, nil)

	keys := []struct{ name, key, logged string }{
		{"SuspendedOrganization", suspendedKey, "Suspended Agency) is SUSPENDED"},
		{"Revoked", revokedKey, "was revoked at"},
		{"Unknown", "rpk_" + strings.Repeat("Z", 43), "no key"},
		{"WrongSecretOfARealKey", suspendedKey[:len(suspendedKey)-4] + "AAAA", ""},
		{"Malformed", "let me in", "malformed key"},
	}
	var first []byte
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			reqID := "key-" + k.name
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+server.PartnerPath, strings.NewReader(`{"query":"{ me { id } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(server.APIKeyHeader, k.key)
			req.Header.Set("X-Request-Id", reqID)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			got := append([]byte(res.Status+" "), body...)
			if first == nil {
				first = got
			}
			if res.StatusCode != http.StatusUnauthorized || !bytes.Equal(got, first) || !bytes.Contains(body, []byte(`"invalid API key"`)) {
				t.Errorf("answer %s, the first refused key's %s", got, first)
			}
			logged := false
			for line := range strings.Lines(e.logs.String()) {
				logged = logged || strings.Contains(line, `"requestId":"`+reqID+`"`) && strings.Contains(line, `"msg":"authentication refused"`) &&
					strings.Contains(line, k.logged)
			}
			if !logged {
				t.Errorf("no log line with the request id and %q", k.logged)
			}
		})
	}
}
