package server_test

import (
	"slices"
	"testing"
)

// What a client sees of the rules of seeds 000 and 001: a company status
// that grades, a lost customer born with its reason, and tags an app adds
// and removes without replacing the list.
func TestSeedRulesThroughGraphQL(t *testing.T) {
	e := mustEnv(t)

	// 「E级是破产企业」: the registry status is a field, and it grades.
	var created struct {
		CreateCustomer struct {
			ID            string
			CompanyStatus string
			Grade         struct {
				Level  struct{ Code string }
				Rule   string
				Reason string
			}
		}
	}
	e.mustDo(t, "admin", `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) {
		id companyStatus grade { level { code } rule reason } } }`,
		map[string]any{"in": map[string]any{"kind": "ORGANIZATION", "name": "Sunset Looms", "team": "north",
			"industry": "manufacturing", "annualRevenue": 4e8, "companyStatus": "BANKRUPT"}}, &created)
	c := created.CreateCustomer
	if c.CompanyStatus != "BANKRUPT" || c.Grade.Level.Code != "E" || c.Grade.Rule != "bankrupt" || c.Grade.Reason != "rule bankrupt: companyBankrupt = 1" {
		t.Fatalf("a bankrupt company: %+v, want E by rule bankrupt", c)
	}
	if r := e.do(t, "admin", createCustomer, map[string]any{"in": map[string]any{"kind": "ORGANIZATION", "name": "x",
		"companyStatus": "DORMANT"}}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("an unknown company status: %+v", r.Errors)
	}

	// 「分析客戶流失原因」: no customer is born LOST without why, none WON_BACK.
	lost := map[string]any{"kind": "ORGANIZATION", "name": "Gone Before Us", "team": "north", "stage": "LOST"}
	if r := e.do(t, "admin", createCustomer, map[string]any{"in": lost}); r.code() != "BAD_USER_INPUT" || r.field() != "input.stageReason" {
		t.Fatalf("born LOST without a reason: %+v", r.Errors)
	}
	if r := e.do(t, "admin", createCustomer, map[string]any{"in": map[string]any{"kind": "PERSON", "name": "Back Again",
		"stage": "WON_BACK", "stageReason": "came back"}}); r.code() != "BAD_USER_INPUT" || r.field() != "input.stage" {
		t.Fatalf("born WON_BACK: %+v", r.Errors)
	}
	lost["stageReason"] = "Lost to a competitor in 2025 (old CRM)"
	id := e.mustCreate(t, "admin", lost)
	var hist struct {
		Customer struct {
			StageHistory struct {
				Edges []struct {
					Node struct {
						From       *string
						To, Reason string
					}
				}
			}
		}
	}
	e.mustDo(t, "admin", `query($id: ID!) { customer(id: $id) { stageHistory { edges { node { from to reason } } } } }`,
		map[string]any{"id": id}, &hist)
	if h := hist.Customer.StageHistory.Edges; len(h) != 1 || h[0].Node.From != nil || h[0].Node.To != "LOST" ||
		h[0].Node.Reason != "Lost to a competitor in 2025 (old CRM)" {
		t.Fatalf("stage history of a customer born LOST: %+v", h)
	}
	e.mustDo(t, "admin", `mutation($c: ID!) { changeStage(input: {customerId: $c, stage: WON_BACK, reason: "new package"}) { id } }`,
		map[string]any{"c": id}, nil)

	// Tags: add and remove without replacing, without a version.
	const change = `mutation($in: ChangeCustomerTagsInput!) { changeCustomerTags(input: $in) { tags version } }`
	var out struct {
		ChangeCustomerTags struct {
			Tags    []string
			Version int
		}
	}
	e.mustDo(t, "manager", change, map[string]any{"in": map[string]any{"customerId": id, "add": []string{"VIP", "Renewal Due"}}}, &out)
	if got := out.ChangeCustomerTags.Tags; !slices.Equal(got, []string{"vip", "renewal-due"}) {
		t.Fatalf("tags after adding: %v", got)
	}
	v := out.ChangeCustomerTags.Version
	e.mustDo(t, "manager", change, map[string]any{"in": map[string]any{"customerId": id, "add": []string{"vip"}, "remove": []string{"renewal-due", "never-had"}}}, &out)
	if got := out.ChangeCustomerTags.Tags; !slices.Equal(got, []string{"vip"}) || out.ChangeCustomerTags.Version != v+1 {
		t.Fatalf("tags after removing: %v (version %d, was %d)", got, out.ChangeCustomerTags.Version, v)
	}
	if r := e.do(t, "manager", change, map[string]any{"in": map[string]any{"customerId": id, "add": []string{"x"}, "remove": []string{"X"}}}); r.code() != "BAD_USER_INPUT" ||
		r.field() != "input.remove[0]" {
		t.Fatalf("a tag added and removed at once: %+v", r.Errors)
	}
}
