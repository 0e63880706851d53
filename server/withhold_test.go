package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/server"
)

// schemaProbes are documents a caller without the schema might send to
// rebuild it from our errors, one per validation rule that can name what
// the caller did not write, and per kind of variable coercion. hidden are
// the names each answer must not contain: what a suggestion or a
// description of the input would reveal.
var schemaProbes = []struct {
	name, query string
	vars        map[string]any
	hidden      []string
	// shows is what the production answer does say: the caller's own words.
	shows string
}{
	// Suggestions, rule by rule.
	{name: "MisspelledArgument", query: `{ customers(frist: 3) { totalCount } }`,
		hidden: []string{`"first"`}, shows: `"frist"`},
	{name: "MisspelledInputField", query: `{ customers(filter: {tga: "x"}) { totalCount } }`,
		hidden: []string{`"tag"`, "CustomerFilter"}, shows: `argument "filter"`},
	{name: "MisspelledEnumValue", query: `mutation { logInteraction(input: {customerId: "c", channel: PHON, type: CALL}) { id } }`,
		hidden: []string{"PHONE", `"Channel"`, "LogInteractionInput"}, shows: `argument "input"`},
	{name: "MisspelledNestedEnumValue", query: `{ customers(filter: {stage: LEED}) { totalCount } }`,
		hidden: []string{"LEAD", "LifecycleStage"}, shows: `argument "filter"`},
	{name: "WrongTypeInAList", query: `mutation { createCustomer(input: {kind: PERSON, name: "x", tags: [1]}) { id } }`,
		hidden: []string{"String", "CreateCustomerInput"}, shows: `argument "input"`},
	{name: "MisspelledFragmentTypeCondition", query: `fragment F on Quer { me { id } } { ...F }`,
		hidden: []string{`"Query"`}, shows: `"Quer"`},
	{name: "MisspelledVariableType", query: `query($f: CustomerFiltr) { customers(filter: $f) { totalCount } }`,
		hidden: []string{`"CustomerFilter"`}, shows: `"CustomerFiltr"`},
	{name: "MisspelledField", query: `{ custmers { totalCount } }`,
		hidden: []string{`"customers"`, `"customer"`}, shows: `"custmers"`},
	{name: "MisspelledNestedField", query: `{ customers { edges { node { nmae } } } }`,
		hidden: []string{`"name"`}, shows: `"nmae"`},
	{name: "MisspelledDirectiveArgument", query: `{ me @include(iff: true) { id } }`,
		hidden: []string{`"if"`}, shows: `"iff"`},
	{name: "LeafWithoutSelection", query: `{ customers }`,
		hidden: []string{"Did you mean"}, shows: `"customers"`},
	// Descriptions of inputs: required arguments and fields, expected types.
	{name: "MissingRequiredArgument", query: `{ customer { id } }`,
		hidden: []string{`"id"`, "ID!"}, shows: `field "customer" is missing a required argument`},
	{name: "MissingRequiredDirectiveArgument", query: `{ me @include { id } }`,
		hidden: []string{`"if"`, "Boolean!"}, shows: `directive "@include" is missing a required argument`},
	{name: "MissingRequiredInputField", query: `mutation { createCustomer(input: {name: "x"}) { id } }`,
		hidden: []string{"kind", "CustomerKind", "CreateCustomerInput"}, shows: `argument "input"`},
	{name: "NullInARequiredInputField", query: `mutation { createCustomer(input: {kind: PERSON, name: null}) { id } }`,
		hidden: []string{"String!", "CreateCustomerInput"}, shows: `argument "input"`},
	{name: "WrongLiteralType", query: `{ customers(first: "ten") { totalCount } }`,
		hidden: []string{"Int"}, shows: `argument "first"`},
	{name: "WrongNestedLiteralType", query: `mutation { createCustomer(input: {kind: PERSON, name: "x", annualRevenue: "lots"}) { id } }`,
		hidden: []string{"Float", "CreateCustomerInput"}, shows: `argument "input"`},
	{name: "VariableInTheWrongPosition", query: `query($n: String) { customers(first: $n) { totalCount } }`,
		hidden: []string{"Int"}, shows: `argument "first"`},
	{name: "BadVariableDefault", query: `query($n: Int = "ten") { customers(first: $n) { totalCount } }`,
		hidden: []string{"Int"}, shows: `default value for variable "$n"`},
	// Variable coercion.
	{name: "VariableMissingARequiredField", query: `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
		vars: map[string]any{"in": map[string]any{"name": "x"}}, hidden: []string{"kind"}, shows: `variable "$in"`},
	{name: "VariableWithAnUnknownEnumValue", query: `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`,
		vars: map[string]any{"in": map[string]any{"kind": "PERSN", "name": "x"}}, hidden: []string{"CustomerKind", "PERSON"}, shows: `variable "$in"`},
	{name: "VariableOfTheWrongShape", query: `query($f: CustomerFilter) { customers(filter: $f) { totalCount } }`,
		vars: map[string]any{"f": "vip"}, hidden: []string{"CustomerFilter"}, shows: `variable "$f"`},
	{name: "VariableWithAnUnknownField", query: `query($f: CustomerFilter) { customers(filter: $f) { totalCount } }`,
		vars: map[string]any{"f": map[string]any{"tga": "vip"}}, hidden: []string{"unknown field"}, shows: `variable "$f"`},
}

// probeServer serves the handler in production mode (introspection off)
// or not, signing /graphql in as the admin and PartnerPath as a partner.
func probeServer(t *testing.T, introspection bool) (url string, logs fmt.Stringer) {
	srv, buf := mustBareServer(t, authFunc(func(r *http.Request) (*crm.User, error) {
		if r.URL.Path == server.PartnerPath {
			return &crm.User{ID: "apikey:k", Roles: []crm.Role{crm.RolePartner}, PartnerOrgID: "p"}, nil
		}
		return users["admin"], nil
	}), server.Options{Introspection: introspection})
	return srv.URL, buf
}

func TestProductionErrorsNameOnlyWhatTheCallerWrote(t *testing.T) {
	url, _ := probeServer(t, false)
	for _, path := range []string{"/graphql", server.PartnerPath} {
		for _, p := range schemaProbes {
			t.Run(strings.TrimPrefix(path, "/")+"/"+p.name, func(t *testing.T) {
				_, r := postTo(t, url+path, nil, p.query, p.vars)
				if len(r.Errors) == 0 {
					t.Fatalf("accepted: %s", r.Data)
				}
				var msgs []string
				for _, e := range r.Errors {
					msgs = append(msgs, e.Message)
				}
				all := strings.Join(msgs, "\n")
				for _, h := range append(p.hidden, "Did you mean") {
					if strings.Contains(all, h) {
						t.Errorf("the answer reveals %s:\n%s", h, all)
					}
				}
				if !strings.Contains(all, p.shows) {
					t.Errorf("the answer does not say %s:\n%s", p.shows, all)
				}
				// An argument or variable is named in extensions.field too.
				if _, name, ok := strings.Cut(p.shows, `argument "`); ok && r.field() != strings.TrimSuffix(name, `"`) {
					t.Errorf("field %q, want %s", r.field(), name)
				}
				if _, name, ok := strings.Cut(p.shows, `variable "$`); ok && r.field() != strings.TrimSuffix(name, `"`) {
					t.Errorf("field %q, want %s", r.field(), name)
				}
			})
		}
	}
}

// With introspection on (locally), the same probes get gqlparser's whole
// message, suggestions included: the probes above do ask what a caller
// with the schema would be told.
func TestWithIntrospectionErrorsSayEverything(t *testing.T) {
	url, _ := probeServer(t, true)
	for _, p := range schemaProbes {
		t.Run(p.name, func(t *testing.T) {
			_, r := postTo(t, url+"/graphql", nil, p.query, p.vars)
			var msgs []string
			for _, e := range r.Errors {
				msgs = append(msgs, e.Message)
			}
			all := strings.Join(msgs, "\n")
			revealed := false
			for _, h := range p.hidden {
				revealed = revealed || strings.Contains(all, h)
			}
			if !revealed {
				t.Errorf("none of %v in the full answer:\n%s", p.hidden, all)
			}
		})
	}
}

// The withheld detail is in the log, under the request id.
func TestWithheldDetailIsLogged(t *testing.T) {
	url, logs := probeServer(t, false)
	for i, tc := range []struct {
		query  string
		vars   map[string]any
		logged string
	}{
		{`mutation { createCustomer(input: {name: "x"}) { id } }`, nil, `CreateCustomerInput.kind`},
		{`{ customer { id } }`, nil, `argument \"id\" of type \"ID!\" is required`},
		{`mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id } }`, map[string]any{"in": map[string]any{"name": "x"}}, `variable.in.kind must be defined`},
	} {
		reqID := fmt.Sprint("detail-", i)
		_, r := postTo(t, url+"/graphql", http.Header{"X-Request-Id": {reqID}}, tc.query, tc.vars)
		if len(r.Errors) == 0 {
			t.Fatal("accepted")
		}
		found := false
		for line := range strings.Lines(logs.String()) {
			found = found || (strings.Contains(line, `"requestId":"`+reqID+`"`) && strings.Contains(line, tc.logged))
		}
		if !found {
			t.Errorf("no log line with the request id %s and %q:\n%s", reqID, tc.logged, logs)
		}
	}
}
