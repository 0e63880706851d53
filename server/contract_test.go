package server_test

import (
	"strings"
	"testing"
)

// Contracts through GraphQL: decimal strings, the field a refusal names,
// payments allocated oldest instalment first, and the receivables aged.
func TestContractsThroughGraphQL(t *testing.T) {
	e := mustEnv(t)
	const team = "contracts-gql"
	var c struct{ CreateCustomer struct{ ID string } }
	e.mustDo(t, "admin", createCustomer, map[string]any{"in": map[string]any{"kind": "ORGANIZATION", "name": "Acme Machinery",
		"ownerId": "sales1", "team": team}}, &c)
	id := c.CreateCustomer.ID
	const create = `mutation($in: CreateContractInput!) { createContract(input: $in) { id version amount currency outstanding approval { status exceeded } } }`
	plan := []map[string]any{{"dueDate": "2026-02-05", "amount": "3000"}, {"dueDate": "2099-01-01", "amount": "2000"}}
	for _, tt := range []struct {
		name, field string
		in          map[string]any
	}{
		{"ErrPlanDoesNotSum", "input.instalments", map[string]any{"amount": "5000.01", "instalments": plan}},
		{"ErrDueDate", "input.instalments[1].dueDate", map[string]any{"amount": "5000",
			"instalments": []map[string]any{plan[0], {"dueDate": "01/01/2099", "amount": "2000"}}}},
		{"ErrSignedDate", "input.signedDate", map[string]any{"amount": "5000", "instalments": plan, "signedDate": "5 Jan 2026"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.in["customerId"], tt.in["title"], tt.in["ownerId"], tt.in["endDate"] = id, "Pumps", "sales1", "2026-12-31"
			if tt.in["signedDate"] == nil {
				tt.in["signedDate"] = "2026-01-05"
			}
			if r := e.do(t, "admin", create, map[string]any{"in": tt.in}); r.code() != "BAD_USER_INPUT" || r.field() != tt.field {
				t.Fatalf("got %s on %q (%+v), want BAD_USER_INPUT on %s", r.code(), r.field(), r.Errors, tt.field)
			}
		})
	}
	var made struct {
		CreateContract struct {
			ID, Amount, Currency, Outstanding string
			Version                           int
			Approval                          *struct {
				Status   string
				Exceeded []string
			}
		}
	}
	e.mustDo(t, "sales1", create, map[string]any{"in": map[string]any{"customerId": id, "title": "Pumps", "ownerId": "sales1",
		"amount": "5000", "signedDate": "2026-01-05", "endDate": "2026-12-31", "instalments": plan}}, &made)
	k := made.CreateContract
	if k.Amount != "5000.00" || k.Currency != "CNY" || k.Outstanding != "5000.00" || k.Version != 1 {
		t.Fatalf("recorded %+v", k)
	}
	// Its last instalment, due in 2099, is far beyond a new customer's
	// credit days: it waits for a manager or an admin, not its owner.
	if k.Approval == nil || k.Approval.Status != "PENDING_APPROVAL" || len(k.Approval.Exceeded) != 1 ||
		!strings.HasPrefix(k.Approval.Exceeded[0], "terms: the plan gives 26628 credit days, credit level BBB allows 100 (26528 over)") {
		t.Fatalf("approval %+v, want PENDING_APPROVAL over the terms", k.Approval)
	}
	const approve = `mutation($c: ID!, $k: ID!) { approveContract(input: {customerId: $c, id: $k, expectedVersion: 1}) { version approval { status decidedBy } } }`
	if r := e.do(t, "sales1", approve, map[string]any{"c": id, "k": k.ID}); r.code() != "FORBIDDEN" {
		t.Fatalf("its owner approves: %+v, want FORBIDDEN", r.Errors)
	}
	var approved struct {
		ApproveContract struct {
			Version  int
			Approval struct{ Status, DecidedBy string }
		}
	}
	e.mustDo(t, "admin", approve, map[string]any{"c": id, "k": k.ID}, &approved)
	if a := approved.ApproveContract; a.Version != 2 || a.Approval.Status != "APPROVED" || a.Approval.DecidedBy != "admin" {
		t.Fatalf("approved %+v", a)
	}
	const pay = `mutation($c: ID!, $k: ID!, $a: String!) { recordPayment(input: {customerId: $c, contractId: $k, amount: $a, paidDate: "2026-02-10"}) {
		paid outstanding overdue instalments { dueDate paid outstanding paidDate agingBucket } } }`
	if r := e.do(t, "sales1", pay, map[string]any{"c": id, "k": k.ID, "a": "5000.01"}); r.code() != "BAD_USER_INPUT" || r.field() != "input.amount" {
		t.Fatalf("an overpayment: %+v", r.Errors)
	}
	var paid struct {
		RecordPayment struct {
			Paid, Outstanding, Overdue string
			Instalments                []struct {
				DueDate, Paid, Outstanding string
				PaidDate, AgingBucket      *string
			}
		}
	}
	e.mustDo(t, "sales1", pay, map[string]any{"c": id, "k": k.ID, "a": "1000.5"}, &paid)
	p := paid.RecordPayment
	if p.Paid != "1000.50" || p.Outstanding != "3999.50" || p.Overdue != "1999.50" || len(p.Instalments) != 2 ||
		p.Instalments[0].Outstanding != "1999.50" || p.Instalments[0].PaidDate != nil || p.Instalments[0].AgingBucket == nil ||
		*p.Instalments[0].AgingBucket != "DAYS_OVER_90" || p.Instalments[1].AgingBucket == nil || *p.Instalments[1].AgingBucket != "CURRENT" {
		t.Fatalf("after a payment of 1000.50: %+v", p)
	}
	var aging struct {
		ReceivablesAging struct {
			Currencies []struct {
				Currency, Total, Overdue string
				Buckets                  []struct{ Bucket, Amount string }
			}
		}
	}
	e.mustDo(t, "admin", `query($t: String) { receivablesAging(team: $t) { currencies { currency total overdue buckets { bucket amount } } } }`,
		map[string]any{"t": team}, &aging)
	if cs := aging.ReceivablesAging.Currencies; len(cs) != 1 || cs[0].Currency != "CNY" || cs[0].Total != "3999.50" || cs[0].Overdue != "1999.50" ||
		len(cs[0].Buckets) != 4 || cs[0].Buckets[0].Amount != "2000.00" || cs[0].Buckets[3].Amount != "1999.50" {
		t.Fatalf("the team's aging %+v", aging.ReceivablesAging)
	}
	var revenue struct {
		Revenue []struct {
			Month     string
			Contracts int
			Booked    []struct{ Amount string }
			Collected []struct{ Amount string }
		}
	}
	e.mustDo(t, "admin", `query($t: String) { revenue(team: $t, from: "2026-01", to: "2026-02") { month contracts booked { amount } collected { amount } } }`,
		map[string]any{"t": team}, &revenue)
	if r := revenue.Revenue; len(r) != 2 || r[0].Month != "2026-01" || r[0].Contracts != 1 || len(r[0].Booked) != 1 || r[0].Booked[0].Amount != "5000.00" ||
		len(r[1].Collected) != 1 || r[1].Collected[0].Amount != "1000.50" {
		t.Fatalf("the team's revenue %+v", revenue.Revenue)
	}
}
