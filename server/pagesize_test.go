package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/generated"
)

// pagedFields reach every field that takes a page size, $n being the size;
// $c is a customer, $p a partner organization, $w its webhook endpoint.
var pagedFields = map[string]string{
	"Query.customers":             `query($n: Int) { customers(first: $n) { totalCount } }`,
	"Query.searchCustomers":       `query($n: Int) { searchCustomers(query: "huaxin", first: $n) { totalCount } }`,
	"Query.interactions":          `query($n: Int, $c: ID!) { interactions(customerId: $c, first: $n) { totalCount } }`,
	"Query.templates":             `query($n: Int) { templates(first: $n) { totalCount } }`,
	"Query.auditLog":              `query($n: Int, $c: ID!) { auditLog(filter: {customerId: $c}, first: $n) { edges { node { id } } } }`,
	"Query.partnerOrganizations":  `query($n: Int) { partnerOrganizations(first: $n) { totalCount } }`,
	"Query.duplicateCandidates":   `query($n: Int) { duplicateCandidates(name: "Paged", first: $n) { candidates { customer { id } } } }`,
	"Query.users":                 `query($n: Int) { users(first: $n) { totalCount } }`,
	"Customer.interactions":       `query($n: Int, $c: ID!) { customer(id: $c) { interactions(first: $n) { totalCount } } }`,
	"Customer.gradeHistory":       `query($n: Int, $c: ID!) { customer(id: $c) { gradeHistory(first: $n) { totalCount } } }`,
	"Customer.evaluations":        `query($n: Int, $c: ID!) { customer(id: $c) { evaluations(first: $n) { totalCount } } }`,
	"Customer.cases":              `query($n: Int, $c: ID!) { customer(id: $c) { cases(first: $n) { totalCount } } }`,
	"Customer.tasks":              `query($n: Int, $c: ID!) { customer(id: $c) { tasks(first: $n) { totalCount } } }`,
	"Query.taskQueue":             `query($n: Int) { taskQueue(first: $n) { totalCount } }`,
	"Query.caseQueue":             `query($n: Int) { caseQueue(first: $n) { totalCount } }`,
	"Customer.stageHistory":       `query($n: Int, $c: ID!) { customer(id: $c) { stageHistory(first: $n) { totalCount } } }`,
	"Customer.merges":             `query($n: Int, $c: ID!) { customer(id: $c) { merges(first: $n) { totalCount } } }`,
	"PartnerOrganization.apiKeys": `query($n: Int, $p: ID!) { partnerOrganization(id: $p) { apiKeys(first: $n) { totalCount } } }`,
	"Analytics.customersAtRisk":   `query($n: Int) { analytics { customersAtRisk(reason: DECLINE, first: $n) { totalCount } } }`,
	"Analytics.followUpsDue":      `query($n: Int) { analytics { followUpsDue(first: $n) { totalCount } } }`,
	"Customer.opportunities":      `query($n: Int, $c: ID!) { customer(id: $c) { opportunities(first: $n) { edges { node { id } } } } }`,
	"Query.openOpportunities":     `query($n: Int) { openOpportunities(first: $n) { edges { node { id } } } }`,
	"Customer.leads":              `query($n: Int, $c: ID!) { customer(id: $c) { leads(first: $n) { edges { node { id } } } } }`,
	"Customer.contracts":          `query($n: Int, $c: ID!) { customer(id: $c) { contracts(first: $n) { edges { node { id } } } } }`,
	"Customer.creditHistory":      `query($n: Int, $c: ID!) { customer(id: $c) { creditHistory(first: $n) { edges { node { id } } } } }`,
	"Query.notifications":         `query($n: Int) { notifications(first: $n) { edges { node { id } } } }`,
	"WebhookEndpoint.deliveries":  `query($n: Int, $w: ID!) { webhookEndpoint(id: $w) { deliveries(first: $n) { edges { node { id } } } } }`,
	"Query.changes":               `query($n: Int) { changes(first: $n) { edges { node { customerId } } } }`,
}

// Every page size is 1 to 100, wherever it is taken: 0 is refused like
// -1 and 101 (it used to be served as the default page); null, like
// leaving the size out, gets the default.
func TestPageSizesOutOfRangeAreRefusedEverywhere(t *testing.T) {
	e := mustEnv(t)
	c := e.mustCreate(t, "admin", map[string]any{"kind": "PERSON", "name": "Paged"})
	var org struct{ CreatePartnerOrganization struct{ ID string } }
	e.mustDo(t, "admin", `mutation { createPartnerOrganization(input: {name: "Paged Partner"}) { id } }`, nil, &org)
	var hook struct {
		RegisterWebhookEndpoint struct{ Endpoint struct{ ID string } }
	}
	e.mustDo(t, "admin", `mutation($p: ID!) { registerWebhookEndpoint(input: {partnerId: $p, url: "https://hooks.example.com/paged",
		eventTypes: ["rapport.customer.updated"]}) { endpoint { id } } }`, map[string]any{"p": org.CreatePartnerOrganization.ID}, &hook)
	for field, query := range pagedFields {
		vars := func(n any) map[string]any {
			v := map[string]any{"n": n}
			if strings.Contains(query, "$c") {
				v["c"] = c
			}
			if strings.Contains(query, "$p") {
				v["p"] = org.CreatePartnerOrganization.ID
			}
			if strings.Contains(query, "$w") {
				v["w"] = hook.RegisterWebhookEndpoint.Endpoint.ID
			}
			return v
		}
		for _, n := range []int{0, -1, crm.MaxPageSize + 1} {
			t.Run(fmt.Sprintf("%s/%d", field, n), func(t *testing.T) {
				r := e.do(t, "admin", query, vars(n))
				if r.code() != crm.EINVALID || r.field() != "first" {
					t.Fatalf("first: %d got %s %+v, want BAD_USER_INPUT on first", n, r.Data, r.Errors)
				}
			})
		}
		t.Run(field+"/null", func(t *testing.T) {
			if r := e.do(t, "admin", query, vars(nil)); len(r.Errors) > 0 {
				t.Fatalf("first: null refused: %+v", r.Errors)
			}
		})
	}
}

// The table above reaches every field of the schema with a first argument.
func TestPagedFieldsCoverTheSchema(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	var inSchema []string
	for _, def := range schema.Types {
		for _, f := range def.Fields {
			if f.Arguments.ForName("first") != nil {
				inSchema = append(inSchema, def.Name+"."+f.Name)
			}
		}
	}
	slices.Sort(inSchema)
	for _, f := range inSchema {
		if _, ok := pagedFields[f]; !ok {
			t.Errorf("%s takes a page size and has no entry in pagedFields", f)
		}
	}
	if len(inSchema) != len(pagedFields) {
		t.Errorf("pagedFields has %d entries, the schema %d paged fields: %v", len(pagedFields), len(inSchema), inSchema)
	}
}
