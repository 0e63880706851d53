package generated

import (
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/graph/internal/listmarshal"
	gqlparser "github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// Which lists of real operations are marshalled in the request's
// goroutine: those under which nothing waits on a loader or a resolver.
// A list the table wrongly leaves concurrent, or wrongly lets run in place
// (its elements' fields loading through a batch loader), fails here.
func TestListsRunInPlaceOnlyWithoutConcurrentFields(t *testing.T) {
	const view = `query($id: ID!) { customer360(id: $id, recentInteractions: 10) {
		customer { id grade { level { code } } openCases { id status } recentEvaluations { id overall } }
		contacts { id name phones }
		recentInteractions { id subject %s } } }`
	for _, tt := range []struct {
		name, query, list string
		concurrent        bool
	}{
		{"ViewInteractions", strings.Replace(view, "%s", "occurredAt", 1), "recentInteractions", false},
		{"ViewContacts", strings.Replace(view, "%s", "", 1), "contacts", false},
		{"ViewOpenCases", strings.Replace(view, "%s", "", 1), "openCases", false},
		{"ViewEvaluations", strings.Replace(view, "%s", "", 1), "recentEvaluations", false},
		{"InteractionsWithTheirCustomer", strings.Replace(view, "%s", "customer { name }", 1), "recentInteractions", true},
		{"InteractionsWithTheirCustomerInAFragment", strings.Replace(view, "%s", "...withCustomer", 1) + " fragment withCustomer on Interaction { customer { name } }", "recentInteractions", true},
		{"PageWithLatestInteraction", `{ customers(first: 50) { edges { node { name latestInteraction { subject } } } } }`, "edges", true},
		{"PageOfProfiles", `{ customers(first: 50) { edges { cursor node { name stage } } } }`, "edges", false},
		{"UsersWithTheirDepartment", `{ users { edges { node { name department { name } } } } }`, "edges", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(parsedSchema, tt.query)
			if errs != nil {
				t.Fatal(errs)
			}
			sel := selectionOf(doc.Operations[0].SelectionSet, tt.list)
			if sel == nil {
				t.Fatalf("no list %s", tt.list)
			}
			if got := listmarshal.Concurrent(sel, concurrentFields); got != tt.concurrent {
				t.Fatalf("%s concurrent: %v, want %v", tt.list, got, tt.concurrent)
			}
		})
	}
}

// selectionOf finds the selection set of the field named name.
func selectionOf(set ast.SelectionSet, name string) ast.SelectionSet {
	for _, s := range set {
		if f, ok := s.(*ast.Field); ok {
			if f.Name == name {
				return f.SelectionSet
			}
			if found := selectionOf(f.SelectionSet, name); found != nil {
				return found
			}
		}
	}
	return nil
}
