package dynamo_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

var salesSouth = &crm.User{ID: "sales-south", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"south"}}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// setClock moves the test clock to 9:00 UTC of a date.
func setClock(clk *clock, y int, m time.Month, d int) {
	clk.mu.Lock()
	defer clk.mu.Unlock()
	clk.t = day(y, m, d).Add(9 * time.Hour)
}

func mustPay(t *testing.T, e *env, u *crm.User, c *crm.Contract, amount string) *crm.Contract {
	t.Helper()
	next, err := e.svc.RecordPayment(as(u), crm.PaymentInput{CustomerID: c.CustomerID, ContractID: c.ID, Amount: amount})
	if err != nil {
		t.Fatalf("pay %s on %s: %v", amount, c.Title, err)
	}
	return next
}

// agingLine writes a scope's aging as "CUR current/1-30/31-90/90+".
func agingLine(t *testing.T, e *env, u *crm.User, q crm.PipelineQuery) string {
	t.Helper()
	a, err := e.svc.ReceivablesAging(as(u), q)
	if err != nil {
		t.Fatalf("aging %+v as %s: %v", q, u.ID, err)
	}
	var parts []string
	for _, c := range a.Currencies {
		parts = append(parts, fmt.Sprintf("%s %s/%s/%s/%s", c.Currency, c.Buckets[0], c.Buckets[1], c.Buckets[2], c.Buckets[3]))
	}
	return strings.Join(parts, " ")
}

func instalmentLines(c *crm.Contract) []string {
	var out []string
	for _, in := range c.Schedule() {
		paidOn := "-"
		if in.PaidOn != nil {
			paidOn = in.PaidOn.Format(time.DateOnly)
		}
		out = append(out, fmt.Sprintf("%s %s paid %s on %s", in.DueOn.Format(time.DateOnly), in.Amount, in.Paid, paidOn))
	}
	return out
}

// TestWonDealsContractIsPaidLateInPartAndAged wins a deal, records its
// contract with three instalments, pays the first on time and the second
// late and in part, and checks the instalments, the receivables aging on
// given dates and the revenue by month against hand-computed values.
func TestWonDealsContractIsPaidLateInPartAndAged(t *testing.T) {
	e, clk := poolEnv(t) // 2026-03-01
	owner := sales1.ID
	acme := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery", OwnerID: &owner, Team: "north", Industry: "Manufacturing"})
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: acme.ID, Type: crm.TypeCall, Subject: "Needs a new line"})
	deal := mustDeal(t, e, sales1, crm.OpportunityInput{CustomerID: acme.ID, Title: "Line automation", Amount: "120000", Stage: "NEGOTIATION"})
	plan := []crm.InstalmentInput{
		{DueOn: day(2026, 3, 31), Amount: "40000"}, {DueOn: day(2026, 6, 30), Amount: "40000"}, {DueOn: day(2026, 9, 30), Amount: "40000"},
	}
	in := crm.ContractInput{CustomerID: acme.ID, OpportunityID: deal.ID, SignedOn: day(2026, 3, 1), EndsOn: day(2027, 2, 28),
		Instalments: plan, IdempotencyKey: "contract-line-automation"}
	if _, err := e.svc.CreateContract(as(sales1), in); code(err) != crm.EINVALID || !strings.Contains(err.Error(), "WON") {
		t.Fatalf("a contract of an open deal: %v, want BAD_USER_INPUT (the deal is not won)", err)
	}
	deal = mustMove(t, e, sales1, deal, crm.OpportunityMoveInput{Stage: crm.StageWon})

	short := in
	short.IdempotencyKey = ""
	short.Instalments = []crm.InstalmentInput{plan[0], plan[1], {DueOn: day(2026, 9, 30), Amount: "39999.99"}}
	var ce *crm.Error
	if _, err := e.svc.CreateContract(as(sales1), short); !asErr(err, &ce) || ce.Code != crm.EINVALID || ce.Field != "input.instalments" ||
		!strings.Contains(ce.Message, "119999.99") {
		t.Fatalf("instalments summing to 119999.99: %v, want BAD_USER_INPUT on input.instalments naming the sum", err)
	}

	clk.Advance(time.Hour)
	k, err := e.svc.CreateContract(as(sales1), in)
	if err != nil {
		t.Fatal(err)
	}
	if k.Amount.String() != "120000.00" || k.Currency != "CNY" || k.Title != "Line automation" || k.OwnerID != sales1.ID || k.Team != "north" {
		t.Fatalf("contract %+v: want the deal's 120000.00 CNY, title, owner and team", k)
	}
	again, err := e.svc.CreateContract(as(sales1), in)
	if err != nil || again.ID != k.ID {
		t.Fatalf("a retried create: %v, %v; want the first contract %s", again, err, k.ID)
	}
	second := in
	second.IdempotencyKey = ""
	if _, err := e.svc.CreateContract(as(sales1), second); !asErr(err, &ce) || ce.Code != crm.ECONFLICT || ce.Field != "input.opportunityId" {
		t.Fatalf("a second contract of the deal: %v, want CONFLICT on input.opportunityId", err)
	}
	got := mustCustomer(t, e, acme.ID)
	if got.Grade.Level != "O" || got.Grade.Rule != "existing-customer" || !strings.Contains(got.Grade.Reason, "transactionCount") ||
		got.Transactions.Count != 1 {
		t.Fatalf("after the won deal and its contract: grade %+v, %d deals; want O by existing-customer, one deal (the contract adds none)",
			got.Grade, got.Transactions.Count)
	}

	// The first instalment paid on time, the second late and in part.
	setClock(clk, 2026, 3, 30)
	k = mustPay(t, e, sales1, k, "40000")
	setClock(clk, 2026, 7, 20)
	k = mustPay(t, e, manager, k, "15000")
	want := []string{"2026-03-31 40000.00 paid 40000.00 on 2026-03-30", "2026-06-30 40000.00 paid 15000.00 on -",
		"2026-09-30 40000.00 paid 0.00 on -"}
	if got := instalmentLines(k); !slices.Equal(got, want) {
		t.Fatalf("instalments %v, want %v", got, want)
	}
	if _, err := e.svc.RecordPayment(as(sales1), crm.PaymentInput{CustomerID: acme.ID, ContractID: k.ID, Amount: "65000.01"}); !asErr(err, &ce) ||
		ce.Code != crm.EINVALID || ce.Field != "input.amount" {
		t.Fatalf("an overpayment of 65000.01 when 65000.00 is outstanding: %v, want BAD_USER_INPUT on input.amount", err)
	}

	// Hand-computed aging: on 20 July the second instalment's 25000 is 20
	// days overdue and the third's 40000 not yet due; on 15 August 46 days;
	// on 5 October 97 days, and the third 5 days.
	for _, c := range []struct {
		y       int
		m       time.Month
		d       int
		want    string
		overdue int
	}{
		{2026, 7, 20, "CNY 40000.00/25000.00/0.00/0.00", 20},
		{2026, 8, 15, "CNY 40000.00/0.00/25000.00/0.00", 46},
		{2026, 10, 5, "CNY 0.00/40000.00/0.00/25000.00", 97},
	} {
		setClock(clk, c.y, c.m, c.d)
		for _, q := range []struct {
			u *crm.User
			q crm.PipelineQuery
		}{{manager, crm.PipelineQuery{Team: "north"}}, {sales1, crm.PipelineQuery{}}, {admin, crm.PipelineQuery{}}} {
			if got := agingLine(t, e, q.u, q.q); got != c.want {
				t.Errorf("aging on %d-%02d-%02d for %s %+v: %s, want %s", c.y, c.m, c.d, q.u.ID, q.q, got, c.want)
			}
		}
		if d := crm.DaysOverdue(k.Instalments[1].DueOn, clk.Now()); d != c.overdue {
			t.Errorf("the second instalment on %d-%02d-%02d is %d days overdue, want %d", c.y, c.m, c.d, d, c.overdue)
		}
	}

	months, err := e.svc.Revenue(as(manager), crm.PipelineQuery{Team: "north"}, day(2026, 3, 1), day(2026, 7, 1))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range months {
		line := fmt.Sprintf("%s %d", m.Month, m.Contracts)
		for _, a := range m.Booked {
			line += " booked " + a.Amount.String()
		}
		for _, a := range m.Collected {
			line += " collected " + a.Amount.String()
		}
		lines = append(lines, line)
	}
	if want := []string{"2026-03 1 booked 120000.00 collected 40000.00", "2026-04 0", "2026-05 0", "2026-06 0", "2026-07 0 collected 15000.00"}; !slices.Equal(lines, want) {
		t.Fatalf("north's revenue %v, want %v", lines, want)
	}

	audit, err := e.svc.AuditLog(as(admin), crm.AuditFilter{CustomerID: acme.ID}, crm.PageRequest{First: 50})
	if err != nil {
		t.Fatal(err)
	}
	payments := 0
	for _, a := range audit.Items {
		for _, c := range a.Changes {
			if c.Entity == "contract" && c.ID == k.ID && c.Action == crm.AuditUpdate &&
				slices.ContainsFunc(c.Fields, func(f crm.FieldChange) bool { return f.Name == "payments" }) {
				payments++
			}
		}
	}
	if payments != 2 {
		t.Fatalf("%d audit entries record a payment on the contract, want 2", payments)
	}
	mustHoldInvariants(t, e)
}

// TestContractWithoutDealMakesTheCustomerO records a contract signed
// without an opportunity: it is the customer's first deal, which makes it
// O by the grading policy's rule, explained.
func TestContractWithoutDealMakesTheCustomerO(t *testing.T) {
	e, _ := poolEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Fjord Logistics", OwnerID: &owner, Team: "north", Industry: "Manufacturing"})
	mustLog(t, e, sales1, crm.InteractionInput{CustomerID: c.ID, Type: crm.TypeCall, Subject: "Wants a service contract"})
	if got := mustCustomer(t, e, c.ID); got.Grade.Level == "O" {
		t.Fatalf("before any deal the customer is already O: %+v", got.Grade)
	}
	k, err := e.svc.CreateContract(as(sales1), crm.ContractInput{CustomerID: c.ID, Title: "Service contract", Amount: "30000.50",
		SignedOn: day(2026, 2, 20), EndsOn: day(2027, 2, 19), Instalments: []crm.InstalmentInput{{DueOn: day(2026, 3, 20), Amount: "30000.50"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := mustCustomer(t, e, c.ID)
	if got.Grade.Level != "O" || got.Grade.Rule != "existing-customer" || !strings.Contains(got.Grade.Reason, "transactionCount") ||
		got.Transactions.Count != 1 || got.Transactions.Total != 30000.5 {
		t.Fatalf("after the contract: grade %+v, transactions %+v; want O by existing-customer from one deal of 30000.50", got.Grade, got.Transactions)
	}
	contracts, err := e.svc.CustomerContracts(as(manager), c.ID, crm.PageRequest{First: 10})
	if err != nil || len(contracts.Items) != 1 || contracts.Items[0].ID != k.ID {
		t.Fatalf("Fjord's contracts %v, %v; want the one signed", contracts, err)
	}
	mustHoldInvariants(t, e)
}

// TestConcurrentPaymentsAreAllKept records payments on one contract at
// once: none is lost, and the counters hold them all.
func TestConcurrentPaymentsAreAllKept(t *testing.T) {
	e, clk := poolEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Harbour Tools", OwnerID: &owner, Team: "north"})
	k, err := e.svc.CreateContract(as(sales1), crm.ContractInput{CustomerID: c.ID, Title: "Cranes", Amount: "10000",
		SignedOn: day(2026, 3, 1), EndsOn: day(2026, 12, 31), Instalments: []crm.InstalmentInput{
			{DueOn: day(2026, 4, 1), Amount: "5000"}, {DueOn: day(2026, 5, 1), Amount: "5000"}}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			u := []*crm.User{sales1, manager, admin}[i%3]
			_, errs[i] = e.svc.RecordPayment(as(u), crm.PaymentInput{CustomerID: c.ID, ContractID: k.ID, Amount: "1000",
				IdempotencyKey: fmt.Sprintf("pay-cranes-%d", i)})
		}()
	}
	start.Done()
	done.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("payment %d: %v", i, err)
		}
	}
	// A retried payment records nothing more.
	if _, err := e.svc.RecordPayment(as(sales1), crm.PaymentInput{CustomerID: c.ID, ContractID: k.ID, Amount: "1000",
		IdempotencyKey: "pay-cranes-0"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Contract(as(admin), crm.ContractKey{CustomerID: c.ID, ID: k.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Payments) != n || got.Paid().String() != "6000.00" || got.Version != 1+n {
		t.Fatalf("after %d concurrent payments of 1000: %d payments, %s paid, version %d", n, len(got.Payments), got.Paid(), got.Version)
	}
	setClock(clk, 2026, 5, 2) // the first instalment paid, the second's 4000 one day overdue
	if got := agingLine(t, e, manager, crm.PipelineQuery{Team: "north"}); got != "CNY 0.00/4000.00/0.00/0.00" {
		t.Fatalf("north's aging %s, want 4000.00 1–30 days overdue", got)
	}

	// The rest paid; its retry is answered with the contract, not refused
	// as an overpayment; the same key for another amount is a CONFLICT.
	rest := crm.PaymentInput{CustomerID: c.ID, ContractID: k.ID, Amount: "4000", IdempotencyKey: "pay-cranes-rest"}
	for range 2 {
		got, err := e.svc.RecordPayment(as(sales1), rest)
		if err != nil || got.Outstanding() != 0 || len(got.Payments) != n+1 {
			t.Fatalf("paying the rest: %v; want it paid once", err)
		}
	}
	rest.Amount = "1"
	if _, err := e.svc.RecordPayment(as(sales1), rest); code(err) != crm.ECONFLICT {
		t.Fatalf("the key again for another amount: %v, want CONFLICT", err)
	}
	if got := agingLine(t, e, manager, crm.PipelineQuery{Team: "north"}); got != "CNY 0.00/0.00/0.00/0.00" && got != "" {
		t.Fatalf("north's aging once paid: %s, want nothing outstanding", got)
	}
	mustHoldInvariants(t, e)
}

// TestContractAccess checks who may record, read and pay contracts and
// read receivables: partners nothing, salespeople their own, managers
// their teams'.
func TestContractAccess(t *testing.T) {
	e, _ := poolEnv(t)
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery", OwnerID: &owner, Team: "north"})
	in := crm.ContractInput{CustomerID: c.ID, Title: "Line", Amount: "1000", SignedOn: day(2026, 3, 1), EndsOn: day(2026, 12, 31),
		Instalments: []crm.InstalmentInput{{DueOn: day(2026, 4, 1), Amount: "1000"}}}
	k, err := e.svc.CreateContract(as(sales1), in)
	if err != nil {
		t.Fatal(err)
	}
	key := crm.ContractKey{CustomerID: c.ID, ID: k.ID}
	read := func(u *crm.User) error { _, err := e.svc.Contract(as(u), key); return err }
	pay := func(u *crm.User) error {
		_, err := e.svc.RecordPayment(as(u), crm.PaymentInput{CustomerID: c.ID, ContractID: k.ID, Amount: "1"})
		return err
	}
	tests := []struct {
		name string
		u    *crm.User
		call func(*crm.User) error
		want string
	}{
		{"PartnerCannotRead", partnerUser, read, crm.EFORBIDDEN},
		{"PartnerCannotPay", partnerUser, pay, crm.EFORBIDDEN},
		{"PartnerCannotList", partnerUser, func(u *crm.User) error {
			_, err := e.svc.CustomerContracts(as(u), c.ID, crm.PageRequest{First: 10})
			return err
		}, crm.EFORBIDDEN},
		{"PartnerCannotReadAging", partnerUser, func(u *crm.User) error { _, err := e.svc.ReceivablesAging(as(u), crm.PipelineQuery{}); return err }, crm.EFORBIDDEN},
		{"PartnerCannotRecord", partnerUser, func(u *crm.User) error { _, err := e.svc.CreateContract(as(u), in); return err }, crm.EFORBIDDEN},
		{"OtherTeamsSalesCannotSee", salesSouth, read, crm.ENOTFOUND},
		{"OtherTeamsSalesCannotPay", salesSouth, pay, crm.ENOTFOUND},
		{"OtherTeamsSalesCannotRecord", salesSouth, func(u *crm.User) error { _, err := e.svc.CreateContract(as(u), in); return err }, crm.ENOTFOUND},
		{"OtherTeamsSalesCannotReadTheTeamsAging", salesSouth, func(u *crm.User) error {
			_, err := e.svc.ReceivablesAging(as(u), crm.PipelineQuery{Team: "north"})
			return err
		}, crm.EFORBIDDEN},
		{"ColleagueCannotSee", sales2, read, crm.ENOTFOUND},
		{"OtherTeamsManagerCannotSee", managerSouth, read, crm.ENOTFOUND},
		{"OtherTeamsManagerCannotReadRevenue", managerSouth, func(u *crm.User) error {
			_, err := e.svc.Revenue(as(u), crm.PipelineQuery{Team: "north"}, time.Time{}, time.Time{})
			return err
		}, crm.EFORBIDDEN},
		{"ServiceReadsTheTeams", serviceUser, read, ""},
		{"ServiceCannotPay", serviceUser, pay, crm.EFORBIDDEN},
		{"AuditorCannotPay", auditorUser, pay, crm.EFORBIDDEN},
		{"ManagerPays", manager, pay, ""},
		{"StaleVersionConflicts", sales1, func(u *crm.User) error {
			title := "Line 2"
			_, err := e.svc.UpdateContract(as(u), key, 99, crm.ContractUpdate{Title: &title})
			return err
		}, crm.ECONFLICT},
		{"SalesCannotCreditAnother", sales1, func(u *crm.User) error {
			got, err := e.svc.Contract(as(u), key)
			if err != nil {
				return err
			}
			other := sales2.ID
			_, err = e.svc.UpdateContract(as(u), key, got.Version, crm.ContractUpdate{OwnerID: &other})
			return err
		}, crm.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := crm.ErrorCode(tt.call(tt.u)); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestContractInputIsChecked refuses bad input naming the field.
func TestContractInputIsChecked(t *testing.T) {
	e, _ := poolEnv(t) // 2026-03-01
	owner := sales1.ID
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery", OwnerID: &owner, Team: "north"})
	one := []crm.InstalmentInput{{DueOn: day(2026, 4, 1), Amount: "1000"}}
	tests := []struct {
		name  string
		in    crm.ContractInput
		field string
	}{
		{"ErrAmountNotDecimal", crm.ContractInput{Amount: "1e3", Instalments: one}, "input.amount"},
		{"ErrSignedInTheFuture", crm.ContractInput{Amount: "1000", SignedOn: day(2026, 3, 2), Instalments: one}, "input.signedDate"},
		{"ErrEndsBeforeSigned", crm.ContractInput{Amount: "1000", EndsOn: day(2026, 2, 1), Instalments: one}, "input.endDate"},
		{"ErrNoPlan", crm.ContractInput{Amount: "1000"}, "input.instalments"},
		{"ErrInstalmentBeforeSigned", crm.ContractInput{Amount: "1000", Instalments: []crm.InstalmentInput{{DueOn: day(2026, 1, 1), Amount: "1000"}}}, "input.instalments[0].dueDate"},
		{"ErrInstalmentZero", crm.ContractInput{Amount: "1000", Instalments: []crm.InstalmentInput{{DueOn: day(2026, 4, 1), Amount: "0"}}}, "input.instalments[0].amount"},
		{"ErrPlanOverTheAmount", crm.ContractInput{Amount: "1000", Instalments: []crm.InstalmentInput{{DueOn: day(2026, 4, 1), Amount: "600"}, {DueOn: day(2026, 5, 1), Amount: "600"}}}, "input.instalments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.CustomerID, tt.in.Title = c.ID, "Line"
			if tt.in.SignedOn.IsZero() {
				tt.in.SignedOn = day(2026, 3, 1)
			}
			if tt.in.EndsOn.IsZero() {
				tt.in.EndsOn = day(2026, 12, 31)
			}
			_, err := e.svc.CreateContract(as(sales1), tt.in)
			var ce *crm.Error
			if !asErr(err, &ce) || ce.Code != crm.EINVALID || ce.Field != tt.field {
				t.Fatalf("got %v, want BAD_USER_INPUT on %s", err, tt.field)
			}
		})
	}
}

// TestMergeMovesTheContractsToTheSurvivor: a merged customer's contract
// goes to the survivor as it was, payable there, and the receivables hold
// it once.
func TestMergeMovesTheContractsToTheSurvivor(t *testing.T) {
	e, _ := poolEnv(t)
	owner := sales1.ID
	sv := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery", OwnerID: &owner, Team: "north"})
	m := mustCreate(t, e, admin, crm.CustomerInput{Name: "Acme Machinery Co", OwnerID: &owner, Team: "north"})
	k, err := e.svc.CreateContract(as(sales1), crm.ContractInput{CustomerID: m.ID, Title: "Line", Amount: "3000", SignedOn: day(2026, 3, 1),
		EndsOn: day(2026, 12, 31), Instalments: []crm.InstalmentInput{{DueOn: day(2026, 4, 1), Amount: "3000"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	sv, m = mustCustomer(t, e, sv.ID), mustCustomer(t, e, m.ID)
	mustMerge(t, e, admin, sv, m)
	if _, err := e.svc.Contract(as(sales1), crm.ContractKey{CustomerID: m.ID, ID: k.ID}); code(err) != crm.ENOTFOUND {
		t.Fatalf("the contract under the merged customer: %v, want NOT_FOUND", err)
	}
	paid, err := e.svc.RecordPayment(as(sales1), crm.PaymentInput{CustomerID: sv.ID, ContractID: k.ID, Amount: "1000"})
	if err != nil || paid.CustomerID != sv.ID || paid.Outstanding().String() != "2000.00" {
		t.Fatalf("paying the moved contract: %+v, %v", paid, err)
	}
	if got := agingLine(t, e, sales1, crm.PipelineQuery{}); got != "CNY 2000.00/0.00/0.00/0.00" {
		t.Fatalf("sales-1's aging after the merge %s, want the contract's 2000.00 once", got)
	}
	mustHoldInvariants(t, e)
}
