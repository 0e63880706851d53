package server_test

import (
	"fmt"
	"slices"
	"testing"
)

// The README's example, grade A in the north, is counted and orders by
// name through the GraphQL API, paging with its cursors; a bad order is
// refused on the argument.
func TestCustomersFilterOrderAndCountThroughTheAPI(t *testing.T) {
	e := mustEnv(t)
	for i := range 7 {
		region := []string{"north", "south"}[i%2]
		kind := []string{"PERSON", "ORGANIZATION"}[i%3/2]
		e.mustDo(t, "admin", createCustomer, map[string]any{"in": map[string]any{"kind": kind, "name": fmt.Sprintf("Api %c", 'G'-i),
			"region": region, "grade": "A", "source": "WEB", "industry": "Energy"}}, nil)
	}
	e.drain(t)
	type list struct {
		Customers struct {
			TotalCount *int
			Edges      []struct{ Node struct{ Name, Kind string } }
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	const q = `query($after: String) { customers(filter: {grade: "A", region: "north", industry: "energy", source: WEB},
		orderBy: {field: NAME, direction: DESC}, first: 2, after: $after) {
		totalCount edges { node { name kind } } pageInfo { hasNextPage endCursor } } }`
	var names []string
	var after any
	for {
		var l list
		e.mustDo(t, "admin", q, map[string]any{"after": after}, &l)
		if l.Customers.TotalCount == nil || *l.Customers.TotalCount != 4 {
			t.Fatalf("totalCount = %v, want 4", l.Customers.TotalCount)
		}
		for _, ed := range l.Customers.Edges {
			names = append(names, ed.Node.Name)
		}
		if !l.Customers.PageInfo.HasNextPage {
			break
		}
		if len(l.Customers.Edges) != 2 {
			t.Fatalf("a page of %d claims a next one", len(l.Customers.Edges))
		}
		after = l.Customers.PageInfo.EndCursor
	}
	if want := []string{"Api G", "Api E", "Api C", "Api A"}; !slices.Equal(names, want) {
		t.Fatalf("north's grade A by name, descending: %v, want %v", names, want)
	}
	var persons list
	e.mustDo(t, "admin", `{ customers(filter: {kind: PERSON}, orderBy: {field: CREATED_AT, direction: ASC}) { totalCount edges { node { name kind } } } }`, nil, &persons)
	if n := persons.Customers.TotalCount; n == nil || *n != len(persons.Customers.Edges) || *n == 0 {
		t.Fatalf("persons: totalCount %v for %d listed", n, len(persons.Customers.Edges))
	}
	var oldestFirst []string
	for _, ed := range persons.Customers.Edges {
		oldestFirst = append(oldestFirst, ed.Node.Name)
	}
	if want := []string{"Api G", "Api F", "Api D", "Api C", "Api A"}; !slices.Equal(oldestFirst, want) {
		t.Fatalf("persons, oldest first: %v, want %v", oldestFirst, want)
	}
	if r := e.do(t, "admin", `{ customers(filter: {valueTier: GOLD}) { totalCount } }`, nil); r.code() != "GRAPHQL_VALIDATION_FAILED" && r.code() != "BAD_USER_INPUT" {
		t.Fatalf("an unknown tier: %+v", r.Errors)
	}
}
