package server_test

import (
	"fmt"
	"testing"

	"github.com/rapportcrm/rapport/crm"
)

func TestMergeAndFieldVerificationThroughGraphQL(t *testing.T) {
	e := mustEnv(t)
	sv := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": "Huaxin Telecom", "team": "north", "phones": []string{"+8613300000001"}})
	m := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": "Huaxn Telecom", "team": "north",
		"phones": []string{"+8613300000002"}, "industry": "telecom"})
	for i := range 3 {
		e.mustLog(t, m, fmt.Sprint("call ", i))
	}
	e.mustLog(t, sv, "survivor call")
	e.drain(t) // the counts and grades follow from the stream
	version := func(id string) int {
		var out struct{ Customer struct{ Version int } }
		e.mustDo(t, "admin", `query($id: ID!) { customer(id: $id) { version } }`, map[string]any{"id": id}, &out)
		return out.Customer.Version
	}
	mv := version(m)

	verify := `mutation($id: ID!, $v: Int!) { verifyCustomerFields(id: $id, fields: [NAME, INDUSTRY], expectedVersion: $v) {
		verification fieldVerifications { field by } version } }`
	if r := e.do(t, "sales1", verify, map[string]any{"id": m, "v": mv}); r.code() != crm.EFORBIDDEN {
		t.Fatalf("SALES verified: %+v", r.Errors)
	}
	var v struct {
		VerifyCustomerFields struct {
			Verification       string
			FieldVerifications []struct{ Field, By string }
			Version            int
		}
	}
	e.mustDo(t, "manager", verify, map[string]any{"id": m, "v": mv}, &v)
	if got := v.VerifyCustomerFields; got.Verification != "UNVERIFIED" || len(got.FieldVerifications) != 2 ||
		got.FieldVerifications[1].Field != "INDUSTRY" || got.FieldVerifications[1].By != "manager" {
		t.Fatalf("marks: %+v (the phones are still unchecked)", got)
	}

	merge := `mutation($in: MergeCustomersInput!) { mergeCustomers(input: $in) {
		survivor { id interactionCount phones industry fieldVerifications { field } }
		merged { id status mergedInto }
		movedItems } }`
	in := map[string]any{"survivorId": sv, "mergedId": m, "expectedSurvivorVersion": version(sv), "expectedMergedVersion": version(m), "reason": "typo in the name"}
	if r := e.do(t, "sales1", merge, map[string]any{"in": in}); r.code() != crm.EFORBIDDEN {
		t.Fatalf("SALES merged: %+v", r.Errors)
	}
	var out struct {
		MergeCustomers struct {
			Survivor struct {
				ID                 string
				InteractionCount   int
				Phones             []string
				Industry           string
				FieldVerifications []struct{ Field string }
			}
			Merged     struct{ ID, Status, MergedInto string }
			MovedItems int
		}
	}
	e.mustDo(t, "manager", merge, map[string]any{"in": in}, &out)
	got := out.MergeCustomers
	if got.Survivor.InteractionCount != 4 || len(got.Survivor.Phones) != 2 || got.Survivor.Industry != "telecom" ||
		len(got.Survivor.FieldVerifications) != 1 || got.Merged.Status != "MERGED" || got.Merged.MergedInto != sv ||
		got.MovedItems < 4 { // 3 interactions and the grade change
		t.Fatalf("merge result: %+v", got)
	}
	var hist struct {
		Customer struct {
			Merges struct {
				Edges []struct {
					Node struct {
						MergedID, Reason string
						Interactions     int
						Phones           []string
					}
				}
			}
		}
	}
	e.mustDo(t, "manager", `query($id: ID!) { customer(id: $id) { merges { edges { node { mergedId reason interactions phones } } } } }`,
		map[string]any{"id": sv}, &hist)
	if h := hist.Customer.Merges.Edges; len(h) != 1 || h[0].Node.MergedID != m || h[0].Node.Reason != "typo in the name" ||
		h[0].Node.Interactions != 3 || len(h[0].Node.Phones) != 1 {
		t.Fatalf("merge history: %+v", h)
	}

	// Reading the tombstone shows where to go; writing to it names the survivor.
	var tomb struct {
		Customer struct{ Status, MergedInto string }
	}
	e.mustDo(t, "manager", `query($id: ID!) { customer(id: $id) { status mergedInto } }`, map[string]any{"id": m}, &tomb)
	if tomb.Customer.Status != "MERGED" || tomb.Customer.MergedInto != sv {
		t.Fatalf("tombstone: %+v", tomb)
	}
	// The tombstone names its survivor whatever version a write sends:
	// reloading would not make it writable.
	for _, v := range []int{version(m), version(m) - 1} {
		r := e.do(t, "admin", `mutation($id: ID!, $v: Int!) { updateCustomer(id: $id, expectedVersion: $v, input: {name: "x"}) { id } }`,
			map[string]any{"id": m, "v": v})
		if r.code() != crm.ECONFLICT || r.Errors[0].Extensions["existingId"] != sv {
			t.Fatalf("write to the tombstone at version %d: %+v", v, r.Errors)
		}
	}
	r := e.do(t, "admin", `mutation($id: ID!, $v: Int!) { archiveCustomer(id: $id, expectedVersion: $v) { id } }`,
		map[string]any{"id": m, "v": version(m) - 1})
	if r.code() != crm.ECONFLICT || r.Errors[0].Extensions["existingId"] != sv {
		t.Fatalf("archiving the tombstone at a stale version: %+v", r.Errors)
	}
	r = e.do(t, "admin", createCustomer, map[string]any{"in": map[string]any{"kind": "PERSON", "name": "Late", "phones": []string{"+8613300000002"}}})
	if r.code() != crm.EDUPLICATE || r.Errors[0].Extensions["existingId"] != sv {
		t.Fatalf("the merged phone: %+v", r.Errors)
	}
}
