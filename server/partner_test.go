package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/server"
	"github.com/rapportcrm/rapport/stream"
	"github.com/rapportcrm/rapport/stream/streamtest"
	"github.com/rapportcrm/rapport/webhooks"
)

// partnerEnv serves the API with the real key check on /partner/graphql
// (crm.Service.VerifyAPIKey, as cmd/local wires it) and headerAuth for staff.
type partnerEnv struct {
	srv      *httptest.Server
	logs     *bytes.Buffer
	consumer *streamtest.Consumer
}

// drain applies what the writes so far imply, as the stream function does.
func (e *partnerEnv) drain(tb testing.TB) {
	tb.Helper()
	e.consumer.Drain(tb)
}

func mustPartnerEnv(tb testing.TB) *partnerEnv {
	tb.Helper()
	table := ddbtest.NewTable(tb, "CrmTable")
	store := dynamo.New(ddbtest.Client(tb), table, []byte(strings.Repeat("s", 32)))
	svc := crm.NewService(store)
	// The authorization matrix sends importCustomers calls from all its
	// workers at once; how many imports an instance serves at once
	// (ImportLimits.Calls, tested in crm/import_test.go) is not what it checks.
	svc.Import.Calls = 16
	mustDirectory(tb, svc)
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil))
	// Partner webhooks, as the stack has them: https only, no internal
	// targets; nothing is delivered here, the matrix reads and writes the
	// endpoints and the log only.
	sealer, err := webhooks.NewSealer([]byte(strings.Repeat("w", 32)))
	if err != nil {
		tb.Fatal(err)
	}
	opts := testOptions
	opts.Webhooks = &webhooks.Service{Store: store, Sealer: sealer, Now: time.Now}
	e := &partnerEnv{logs: logs, srv: httptest.NewServer(server.New(svc, server.WithAPIKeys(svc.VerifyAPIKey, headerAuth{}), log, opts)),
		consumer: streamtest.New(tb, ddbtest.Client(tb), table, store, svc)}
	e.consumer.Handlers = append(e.consumer.Handlers, &webhooks.Fanout{Store: store}, &stream.ChangeLog{Store: store})
	// The tests drain the stream before they read the change feed.
	svc.ChangeSettle = 0
	tb.Cleanup(e.srv.Close)
	return e
}

// call posts an operation to path with the given headers.
func (e *partnerEnv) call(tb testing.TB, path string, h http.Header, query string, vars map[string]any) *response {
	tb.Helper()
	_, r := postTo(tb, e.srv.URL+path, h, query, vars)
	return r
}

func (e *partnerEnv) staff(tb testing.TB, user, query string, vars map[string]any, out any) {
	tb.Helper()
	r := e.call(tb, "/graphql", as(user), query, vars)
	if len(r.Errors) > 0 {
		tb.Fatalf("%s: %+v", query, r.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			tb.Fatal(err)
		}
	}
}

func (e *partnerEnv) partner(tb testing.TB, key, query string, vars map[string]any) *response {
	tb.Helper()
	return e.call(tb, server.PartnerPath, http.Header{server.APIKeyHeader: {key}}, query, vars)
}

// mustPartner runs a partner query that must succeed and returns its data
// as a JSON string, to search for what must not be there.
func (e *partnerEnv) mustPartner(tb testing.TB, key, query string, vars map[string]any, out any) string {
	tb.Helper()
	r := e.partner(tb, key, query, vars)
	if len(r.Errors) > 0 {
		tb.Fatalf("%s: %+v", query, r.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			tb.Fatal(err)
		}
	}
	return string(r.Data)
}

// partnerWorld is two partner organizations with a key each, a customer
// shared with each, one shared with nobody, all with full history.
type partnerWorld struct {
	acme, globex          string // organization ids
	acmeKey, globexKey    string
	shared, other, hidden string // customers: shared with Acme, with Globex, with nobody
}

const (
	sharedPhone   = "+8613812345678"
	sharedEmail   = "li.wei@acme-customer.cn"
	contactPhone  = "+8613999990000"
	contactEmail  = "zhang.san@acme-customer.cn"
	secretContent = "Card ending 4242, call after 6pm"
)

func mustPartnerWorld(tb testing.TB, e *partnerEnv) *partnerWorld {
	tb.Helper()
	w := &partnerWorld{}
	var org struct{ CreatePartnerOrganization struct{ ID string } }
	e.staff(tb, "admin", `mutation { createPartnerOrganization(input: {name: "Acme Agency"}) { id } }`, nil, &org)
	w.acme = org.CreatePartnerOrganization.ID
	e.staff(tb, "admin", `mutation { createPartnerOrganization(input: {name: "Globex Desk", masked: []}) { id } }`, nil, &org)
	w.globex = org.CreatePartnerOrganization.ID
	issue := func(partner string) string {
		var out struct{ IssueAPIKey struct{ Key string } }
		e.staff(tb, "admin", `mutation($p: ID!) { issueApiKey(partnerId: $p, name: "portal") { key apiKey { id hint } } }`,
			map[string]any{"p": partner}, &out)
		return out.IssueAPIKey.Key
	}
	w.acmeKey, w.globexKey = issue(w.acme), issue(w.globex)

	create := func(name string, extra map[string]any) string {
		in := map[string]any{"kind": "ORGANIZATION", "name": name, "team": "north", "region": "north", "grade": "B"}
		for k, v := range extra {
			in[k] = v
		}
		var out struct{ CreateCustomer struct{ ID string } }
		e.staff(tb, "admin", createCustomer, map[string]any{"in": in}, &out)
		return out.CreateCustomer.ID
	}
	w.shared = create("Huaxin Power Co., Ltd.", map[string]any{
		"phones": []string{sharedPhone}, "emails": []string{sharedEmail},
		"addresses":  []map[string]any{{"label": "site", "line1": "88 Binjiang Road", "city": "Hangzhou", "postalCode": "310000"}},
		"attributes": []map[string]any{{"key": "technical lead", "value": "Zhang San"}},
	})
	w.other = create("Huaxin Telecom Co., Ltd.", map[string]any{"phones": []string{"+8613700000001"}})
	w.hidden = create("Huaxin Logistics Co., Ltd.", map[string]any{"phones": []string{"+8613700000002"}})

	var tpl struct{ CreateTemplate struct{ ID string } }
	e.staff(tb, "admin", `mutation { createTemplate(input: {name: "Review", indicators: [
		{key: "satisfaction", name: "Satisfaction", dimension: SATISFACTION, weight: 1, scaleMin: 1, scaleMax: 5}]}) { id } }`, nil, &tpl)
	for _, id := range []string{w.shared, w.other, w.hidden} {
		v := map[string]any{"c": id}
		e.staff(tb, "admin", `mutation($c: ID!) { addContact(customerId: $c, input: {name: "Zhang San", primary: true,
			phones: ["`+contactPhone+`"], emails: ["`+contactEmail+`"]}) { id } }`, v, nil)
		e.staff(tb, "admin", `mutation($c: ID!) { logInteraction(input: {customerId: $c, channel: PHONE, type: COMPLAINT,
			subject: "Billing error", content: "`+secretContent+`", outcome: "refund promised",
			attachments: ["https://rec.example.cn/call.mp3"]}) { id } }`, v, nil)
		e.staff(tb, "admin", `mutation($c: ID!, $t: ID!) { submitEvaluation(input: {customerId: $c, templateId: $t, kind: CUSTOMER_SURVEY,
			scores: [{key: "satisfaction", value: 4}], comment: "`+secretContent+`"}) { id } }`, map[string]any{"c": id, "t": tpl.CreateTemplate.ID}, nil)
		e.staff(tb, "admin", `mutation($c: ID!) { changeStage(input: {customerId: $c, stage: FORMATION, reason: "first deal"}) { id } }`, v, nil)
	}
	share := func(customer, partner string) {
		e.staff(tb, "manager", `mutation($c: ID!, $p: ID!) { shareCustomer(customerId: $c, partnerId: $p) { id } }`,
			map[string]any{"c": customer, "p": partner}, nil)
	}
	share(w.shared, w.acme)
	share(w.other, w.globex)
	e.drain(tb) // counts, latest interactions and counters follow from the stream
	return w
}

// everything selects every customer field a partner could reach, nested
// lists included.
const everything = `id name phones emails addresses { line1 city postalCode } attributes { key value }
	partners { partnerId } recentEvaluations { comment }
	latestInteraction { id content outcome attachments customer { id phones } }
	contacts { phones emails }
	interactions(first: 5) { edges { node { content outcome attachments customer { phones } } } }
	cases(first: 5) { edges { node { subject plan transitions { note } } } }
	evaluations(first: 5) { edges { node { comment } } }
	gradeHistory(first: 5) { edges { node { to } } }
	stageHistory(first: 5) { edges { node { to } } }
	poolReturn { rule dueAt warnedAt } stageSuggestion { stage reason }`

func TestPartnerSeesSharedCustomersOnlyOnEveryPath(t *testing.T) {
	e := mustPartnerEnv(t)
	w := mustPartnerWorld(t, e)
	foreign := []string{w.other, w.hidden}
	mustNotMention := func(t *testing.T, what, data string) {
		t.Helper()
		for _, s := range append(slices.Clone(foreign), w.globex, sharedPhone, sharedEmail, contactPhone, contactEmail,
			secretContent, "88 Binjiang Road", "310000", "Zhang San\"", "refund promised", "rec.example.cn") {
			if strings.Contains(data, s) {
				t.Errorf("%s discloses %q: %s", what, s, data)
			}
		}
	}

	t.Run("Me", func(t *testing.T) {
		var out struct {
			Me struct {
				ID, PartnerID string
				Roles         []string
			}
		}
		e.mustPartner(t, w.acmeKey, `{ me { id roles partnerId } }`, nil, &out)
		if out.Me.PartnerID != w.acme || !slices.Equal(out.Me.Roles, []string{"PARTNER"}) || !strings.HasPrefix(out.Me.ID, "apikey:") {
			t.Fatalf("me = %+v", out.Me)
		}
	})

	t.Run("CustomerByID", func(t *testing.T) {
		var out struct{ Customer *json.RawMessage }
		data := e.mustPartner(t, w.acmeKey, `query($id: ID!) { customer(id: $id) { `+everything+` } }`, map[string]any{"id": w.shared}, &out)
		if out.Customer == nil {
			t.Fatal("shared customer is null")
		}
		mustNotMention(t, "customer", data)
		for _, staffOnly := range []string{`"poolReturn":null`, `"stageSuggestion":null`} {
			if !strings.Contains(data, staffOnly) {
				t.Errorf("customer shows a partner the staff's workflow, want %s: %s", staffOnly, data)
			}
		}
		for _, want := range []string{"+86 *** **** 5678", "l***@acme-customer.cn", "+86 *** **** 0000", "z***@acme-customer.cn", `"***"`, "Hangzhou", "Billing error", w.acme} {
			if !strings.Contains(data, want) {
				t.Errorf("customer lacks %q: %s", want, data)
			}
		}
		for _, id := range foreign {
			r := e.partner(t, w.acmeKey, `query($id: ID!) { customer(id: $id) { id name } }`, map[string]any{"id": id})
			if len(r.Errors) > 0 || string(r.Data) != `{"customer":null}` {
				t.Errorf("foreign customer %s: %s %+v", id, r.Data, r.Errors)
			}
		}
	})

	t.Run("Customer360", func(t *testing.T) {
		data := e.mustPartner(t, w.acmeKey, `query($id: ID!) { customer360(id: $id) { customer { `+everything+` }
			contacts { phones emails } recentInteractions { content outcome attachments customer { phones } } } }`, map[string]any{"id": w.shared}, nil)
		mustNotMention(t, "360 view", data)
		if !strings.Contains(data, "+86 *** **** 0000") {
			t.Errorf("360 contacts not masked as expected: %s", data)
		}
		// A foreign customer is NOT_FOUND exactly like one that does not exist.
		missing := e.partner(t, w.acmeKey, `query($id: ID!) { customer360(id: $id) { customer { id } } }`, map[string]any{"id": "01JZZZZZZZZZZZZZZZZZZZZZZZ"})
		for _, id := range foreign {
			r := e.partner(t, w.acmeKey, `query($id: ID!) { customer360(id: $id) { customer { id } } }`, map[string]any{"id": id})
			if r.code() != crm.ENOTFOUND || strings.ReplaceAll(r.Errors[0].Message, id, "X") != strings.ReplaceAll(missing.Errors[0].Message, "01JZZZZZZZZZZZZZZZZZZZZZZZ", "X") {
				t.Errorf("foreign 360 %s: %+v, missing: %+v", id, r.Errors, missing.Errors)
			}
		}
	})

	t.Run("Lists", func(t *testing.T) {
		var out struct {
			Customers struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		for _, filter := range []string{`{}`, `{region: "north"}`, `{team: "north"}`, `{grade: "B"}`, `{ownerId: "sales1"}`, `{pool: true}`, `{includeArchived: true}`} {
			data := e.mustPartner(t, w.acmeKey, `{ customers(filter: `+filter+`, first: 3) { totalCount edges { node { `+everything+` } } } }`, nil, &out)
			mustNotMention(t, "list "+filter, data)
			for _, edge := range out.Customers.Edges {
				if edge.Node.ID != w.shared {
					t.Errorf("list %s holds %s", filter, edge.Node.ID)
				}
			}
		}
		e.mustPartner(t, w.acmeKey, `{ customers { totalCount edges { node { id } } } }`, nil, &out)
		if out.Customers.TotalCount != 1 || len(out.Customers.Edges) != 1 {
			t.Errorf("partner list %+v", out.Customers)
		}
	})

	t.Run("Changes", func(t *testing.T) {
		var out struct {
			Changes struct {
				Edges []struct {
					Node struct {
						Kind, CustomerID string
						Customer         *struct{ ID string }
					}
				}
			}
		}
		data := e.mustPartner(t, w.acmeKey, `{ changes(first: 5) { edges { node { kind customerId customer { `+everything+` } } } } }`, nil, &out)
		mustNotMention(t, "changes", data)
		if len(out.Changes.Edges) != 1 || out.Changes.Edges[0].Node.CustomerID != w.shared || out.Changes.Edges[0].Node.Customer == nil {
			t.Errorf("the partner's changes %s, want the shared customer's upsert alone", data)
		}
		if !strings.Contains(data, "+86 *** **** 5678") {
			t.Errorf("changes do not mask the shared customer's phone as the partner API does: %s", data)
		}
	})

	t.Run("InteractionsOfAForeignCustomer", func(t *testing.T) {
		for _, id := range foreign {
			r := e.partner(t, w.acmeKey, `query($id: ID!) { interactions(customerId: $id) { edges { node { id } } } }`, map[string]any{"id": id})
			if r.code() != crm.ENOTFOUND {
				t.Errorf("interactions of %s: %s %+v", id, r.Data, r.Errors)
			}
		}
		data := e.mustPartner(t, w.acmeKey, `query($id: ID!) { interactions(customerId: $id) { totalCount edges { node { content customer { emails } } } } }`,
			map[string]any{"id": w.shared}, nil)
		mustNotMention(t, "interactions", data)
	})

	t.Run("DuplicateCandidates", func(t *testing.T) {
		data := e.mustPartner(t, w.acmeKey, `{ duplicateCandidates(name: "Huaxin Power", first: 10) { complete candidates { score customer { id phones } } } }`, nil, nil)
		mustNotMention(t, "duplicate candidates", data)
		if !strings.Contains(data, w.shared) {
			t.Errorf("the shared customer is not a candidate: %s", data)
		}
	})

	t.Run("OtherPartnerSeesItsOwnUnmasked", func(t *testing.T) {
		data := e.mustPartner(t, w.globexKey, `{ customers { edges { node { id phones partners { partnerId } } } } }`, nil, nil)
		if !strings.Contains(data, w.other) || !strings.Contains(data, "+8613700000001") || strings.Contains(data, w.shared) || strings.Contains(data, w.acme) {
			t.Errorf("Globex (empty policy) sees %s", data)
		}
	})

	t.Run("StaffSeeEverythingUnmasked", func(t *testing.T) {
		var out struct {
			Customer struct {
				Phones   []string
				Partners []struct{ PartnerID string }
				Contacts []struct{ Phones []string }
			}
		}
		e.staff(t, "auditor", `query($id: ID!) { customer(id: $id) { phones partners { partnerId } contacts { phones } } }`, map[string]any{"id": w.shared}, &out)
		if out.Customer.Phones[0] != sharedPhone || len(out.Customer.Partners) != 1 || out.Customer.Partners[0].PartnerID != w.acme || out.Customer.Contacts[0].Phones[0] != contactPhone {
			t.Errorf("staff view %+v", out.Customer)
		}
	})

	t.Run("NoWritesNoAnalyticsNoDirectory", func(t *testing.T) {
		tests := []struct {
			name, query string
			vars        map[string]any
			code        string
		}{
			{"UpdateShared", `mutation($id: ID!) { updateCustomer(id: $id, expectedVersion: 1, input: {name: "x"}) { id } }`, map[string]any{"id": w.shared}, crm.EFORBIDDEN},
			{"UpdateForeign", `mutation($id: ID!) { updateCustomer(id: $id, expectedVersion: 1, input: {name: "x"}) { id } }`, map[string]any{"id": w.other}, crm.ENOTFOUND},
			{"LogInteraction", `mutation($id: ID!) { logInteraction(input: {customerId: $id, channel: WEB, type: NOTE}) { id } }`, map[string]any{"id": w.shared}, crm.EFORBIDDEN},
			// No DUPLICATE naming the holder of the phone: a partner creates nothing.
			{"CreateWithATakenPhone", createCustomer, map[string]any{"in": map[string]any{"kind": "PERSON", "name": "Probe", "phones": []string{"+8613700000002"}}}, crm.EFORBIDDEN},
			{"ClaimFromThePool", `mutation($id: ID!) { claimCustomer(customerId: $id) { id } }`, map[string]any{"id": w.hidden}, crm.EFORBIDDEN},
			{"Share", `mutation($c: ID!, $p: ID!) { shareCustomer(customerId: $c, partnerId: $p) { id } }`, map[string]any{"c": w.hidden, "p": w.acme}, crm.ENOTFOUND},
			{"IssueKey", `mutation($p: ID!) { issueApiKey(partnerId: $p, name: "mine") { key } }`, map[string]any{"p": w.acme}, crm.EFORBIDDEN},
			{"Templates", `{ templates { edges { node { id } } } }`, nil, crm.EFORBIDDEN},
			{"PartnerDirectory", `{ partnerOrganizations { edges { node { id } } } }`, nil, crm.EFORBIDDEN},
			{"GradingPolicy", `{ gradingPolicy { version } }`, nil, crm.EFORBIDDEN},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.partner(t, w.acmeKey, tt.query, tt.vars)
				if r.code() != tt.code {
					t.Fatalf("code %q, want %q: %+v", r.code(), tt.code, r.Errors)
				}
				for _, er := range r.Errors {
					if er.Extensions["existingId"] != nil || strings.Contains(er.Message, w.hidden) && tt.code != crm.ENOTFOUND {
						t.Errorf("error discloses another customer: %+v", er)
					}
				}
			})
		}
		var own struct {
			PartnerOrganization *struct {
				Name   string
				Masked []string
			}
		}
		e.mustPartner(t, w.acmeKey, `query($id: ID!) { partnerOrganization(id: $id) { name masked } }`, map[string]any{"id": w.acme}, &own)
		if own.PartnerOrganization == nil || own.PartnerOrganization.Name != "Acme Agency" || len(own.PartnerOrganization.Masked) != len(crm.MaskFields) {
			t.Errorf("own organization: %+v", own.PartnerOrganization)
		}
		r := e.partner(t, w.acmeKey, `query($id: ID!) { partnerOrganization(id: $id) { name } }`, map[string]any{"id": w.globex})
		if string(r.Data) != `{"partnerOrganization":null}` {
			t.Errorf("another organization: %s %+v", r.Data, r.Errors)
		}
	})
}

func TestPartnerKeysOnTheirOwnPath(t *testing.T) {
	e := mustPartnerEnv(t)
	w := mustPartnerWorld(t, e)
	tests := []struct {
		name   string
		path   string
		header http.Header
		status int
	}{
		{"KeyOnThePartnerPath", server.PartnerPath, http.Header{server.APIKeyHeader: {w.acmeKey}}, http.StatusOK},
		{"KeyOnTheStaffPath", "/graphql", http.Header{server.APIKeyHeader: {w.acmeKey}}, http.StatusUnauthorized},
		{"NoKeyOnThePartnerPath", server.PartnerPath, http.Header{}, http.StatusUnauthorized},
		{"StaffOnThePartnerPath", server.PartnerPath, as("admin"), http.StatusUnauthorized},
		{"WrongKey", server.PartnerPath, http.Header{server.APIKeyHeader: {w.acmeKey[:20] + strings.Repeat("x", 27)}}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(t, tt.path, tt.header, `{ me { id } }`, nil)
			if r.status != tt.status || (tt.status != http.StatusOK && r.code() != crm.EUNAUTHORIZED) {
				t.Fatalf("status %d code %q, want %d: %+v", r.status, r.code(), tt.status, r.Errors)
			}
		})
	}

	t.Run("RevokedAtOnce", func(t *testing.T) {
		var keys struct {
			PartnerOrganization struct {
				APIKeys struct {
					Edges []struct {
						Node struct {
							ID, Hint   string
							LastUsedAt *string
						}
					}
				}
			}
		}
		e.staff(t, "admin", `query($id: ID!) { partnerOrganization(id: $id) { apiKeys { edges { node { id hint lastUsedAt } } } } }`, map[string]any{"id": w.acme}, &keys)
		edges := keys.PartnerOrganization.APIKeys.Edges
		if len(edges) != 1 || edges[0].Node.LastUsedAt == nil || !regexp.MustCompile(`^rpk_….{4}$`).MatchString(edges[0].Node.Hint) ||
			!strings.HasSuffix(w.acmeKey, edges[0].Node.Hint[len("rpk_…"):]) {
			t.Fatalf("keys %+v", edges)
		}
		e.staff(t, "admin", `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": edges[0].Node.ID}, nil)
		if r := e.partner(t, w.acmeKey, `{ me { id } }`, nil); r.status != http.StatusUnauthorized || r.code() != crm.EUNAUTHORIZED {
			t.Fatalf("revoked key: %d %+v", r.status, r.Errors)
		}
	})

	t.Run("MaskingPolicyChangesApply", func(t *testing.T) {
		var org struct{ PartnerOrganization struct{ Version int } }
		e.staff(t, "admin", `query($id: ID!) { partnerOrganization(id: $id) { version } }`, map[string]any{"id": w.globex}, &org)
		e.staff(t, "admin", `mutation($id: ID!, $v: Int!) { updatePartnerOrganization(id: $id, expectedVersion: $v, input: {masked: [PHONES]}) { masked } }`,
			map[string]any{"id": w.globex, "v": org.PartnerOrganization.Version}, nil)
		data := e.mustPartner(t, w.globexKey, `{ customers { edges { node { phones contacts { phones } } } } }`, nil, nil)
		if !strings.Contains(data, "+86 *** **** 0001") || !strings.Contains(data, contactPhone) {
			t.Errorf("after the policy masks PHONES only: %s", data)
		}
	})
}
