package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/phone"
	"github.com/rapportcrm/rapport/webhooks"
)

// The documents of the reads measured by both benchmarks, with the fields
// a client shows.
const (
	q360 = `query($id: ID!) { customer360(id: $id, recentInteractions: 10) {
		customer { id name version stage grade { level { code label } reason } openCases { id status dueAt }
			recentEvaluations { id overall evaluatedAt } lastInteractionAt nextFollowUpAt }
		contacts { id name title phones }
		recentInteractions { id channel type subject occurredAt } } }`
	// The screen pop shows what the 360 shows.
	qPop = `query($phone: String!) { customerByPhone(phone: $phone, recentInteractions: 10) {
		customer { id name version stage grade { level { code label } reason } openCases { id status dueAt }
			recentEvaluations { id overall evaluatedAt } lastInteractionAt nextFollowUpAt }
		contacts { id name title phones }
		recentInteractions { id channel type subject occurredAt } } }`
	qList = `query($f: CustomerFilter, $first: Int) { customers(filter: $f, first: $first) {
		edges { node { id name grade { level { code label } } latestInteraction { id channel subject occurredAt } } }
		pageInfo { hasNextPage endCursor } } }`
	qListTotal = `query($f: CustomerFilter) { customers(filter: $f, first: 50) { totalCount edges { node { id name } } } }`
)

// qAgenda is the mobile app's morning screen.
const qAgenda = `{ agenda { items { kind at overdue priority customer { id name grade { level { code } } }
	task { id title type } case { id subject status } } complete } }`

const qCreateTask = `mutation($c: ID!, $d: DateTime!) { createTask(input: {customerId: $c, type: CALL_BACK, title: "Renewal call", dueAt: $d}) { id } }`

type prepared = func(ctx context.Context) (caller, string, map[string]any, error)

// fixed is an operation that needs nothing made first.
func fixed(who caller, doc string, vars map[string]any) prepared {
	return func(context.Context) (caller, string, map[string]any, error) { return who, doc, vars, nil }
}

// onCustomer is an operation on customer id at its current version
// (variable $v).
func (b *benchState) onCustomer(who caller, id, doc string, vars map[string]any) prepared {
	return func(ctx context.Context) (caller, string, map[string]any, error) {
		v, err := b.version(ctx, id)
		out := map[string]any{"id": id, "v": v}
		for k, x := range vars {
			out[k] = x
		}
		return who, doc, out, err
	}
}

// operations lists what the capacity benchmark measures: the main reads,
// then every mutation of the schema.
func (b *benchState) operations() []operation {
	busy, c := b.owned[0].ID, b.owned
	now := time.Now().UTC()
	month := map[string]any{"from": now.AddDate(0, 0, -29).Format(time.RFC3339), "to": now.Format(time.RFC3339), "granularity": "DAY"}
	year := map[string]any{"from": now.AddDate(0, -11, 0).Format(time.RFC3339), "to": now.Format(time.RFC3339), "granularity": "MONTH"}
	const activity = `query($p: PeriodInput!) { analytics { activity(period: $p) { total {
		customers { gained wonBack lost } interactions { total byChannel { channel count } byOwner { ownerId count } }
		cases { opened resolved slaBreaches } evaluations { count averageOverall nps } } } } }`
	followUp := now.Add(72 * time.Hour)
	return []operation{
		{"customer360, 10 recent", fixed(seller, q360, map[string]any{"id": busy})},
		{"customerByPhone (screen pop), 10 recent", fixed(seller, qPop, map[string]any{"phone": domestic(c[0].Phones)})},
		{"customerByPhone, outside the caller's reach (audited)", fixed("sales-liu", qPop, map[string]any{"phone": domestic(c[0].Phones)})},
		{"customer by id", fixed(seller, `query($id: ID!) { customer(id: $id) { id name version grade { level { code } } } }`, map[string]any{"id": busy})},
		{"customers, 50: grade, latest interaction", fixed("admin", qList, map[string]any{"first": 50})},
		{"customers of an owner, 50", fixed(seller, qList, map[string]any{"first": 50, "f": map[string]any{"ownerId": string(seller)}})},
		{"customers of a grade, 50", fixed("admin", qList, map[string]any{"first": 50, "f": map[string]any{"grade": "C"}})},
		{"customers with a tag, 50", fixed("admin", qList, map[string]any{"first": 50, "f": map[string]any{"tag": "vip"}})},
		{"customers of a partner, 50", fixed(partner, qList, map[string]any{"first": 50})},
		{"customers of an owner + totalCount", fixed(seller, qListTotal, map[string]any{"f": map[string]any{"ownerId": string(seller)}})},
		{"interactions of a customer, 20", fixed(seller, `query($id: ID!) { interactions(customerId: $id, first: 20) { edges { node { id subject occurredAt } } } }`, map[string]any{"id": busy})},
		{"auditLog of a customer, 20", fixed("admin", `query($id: ID!) { auditLog(filter: {customerId: $id}, first: 20) { edges { node { id at actor operation } } } }`, map[string]any{"id": busy})},
		{"analytics: activity, 30 days", fixed("admin", activity, map[string]any{"p": month})},
		{"analytics: activity, 12 months", fixed("admin", activity, map[string]any{"p": year})},
		{"analytics: gradeDistribution", fixed("admin", `{ analytics { gradeDistribution { total grades { grade count } tiers { tier count } } } }`, nil)},
		{"analytics: customersAtRisk, 50", fixed("admin", `{ analytics { customersAtRisk(reason: NO_CONTACT, quietDays: 30, first: 50) { edges { node { id name lastInteractionAt } } } } }`, nil)},
		{"analytics: followUpsDue, 50", fixed("admin", `{ analytics { followUpsDue(first: 50) { edges { node { id nextFollowUpAt } } } } }`, nil)},
		{"duplicateCandidates", fixed("admin", `{ duplicateCandidates(name: "Huaxin Logistics") { complete candidates { score customer { id name } } } }`, nil)},
		{"searchCustomers, 20: a word's start", fixed("admin", `{ searchCustomers(query: "huaxin", first: 20) { edges { node { id name } } } }`, nil)},
		{"searchCustomers, 20: a salesperson's own", fixed(seller, `{ searchCustomers(query: "huaxin", first: 20) { edges { node { id name } } } }`, nil)},
		{"users of a team, 20, with department", fixed(seller, `{ users(filter: {team: "north"}) { edges { node { id name roles department { name } } } } }`, nil)},
		{"agenda of a salesperson", fixed(seller, qAgenda, nil)},
		{"taskQueue, 20", fixed(seller, `{ taskQueue { totalCount edges { node { id title dueAt customerId } } } }`, nil)},
		{"user with workload", fixed("manager-north", `{ user(id: "sales-li") { id name workload { customers openCases } } }`, nil)},

		{"createCustomer: name, a phone, an email", func(context.Context) (caller, string, map[string]any, error) {
			// The common form: a salesperson's own customer, team theirs.
			b.n++
			in := map[string]any{"kind": "PERSON", "name": fmt.Sprintf("Wang Bench %d", b.n),
				"phones": []string{fmt.Sprintf("+86 138 4444 %04d", b.n)}, "emails": []string{fmt.Sprintf("wang%d@bench.example.com", b.n)}}
			return seller, `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id version } }`, map[string]any{"in": in}, nil
		}},
		{"createCustomer (2 phones, 1 email, 2 tags, address)", func(context.Context) (caller, string, map[string]any, error) {
			b.n++
			in := customerInput(fmt.Sprintf("Bench Created %d", b.n), 5000+b.n)
			in["ownerId"] = string(seller)
			return "admin", `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id version } }`, map[string]any{"in": in}, nil
		}},
		{"createCustomer, idempotency key", func(context.Context) (caller, string, map[string]any, error) {
			b.n++
			in := customerInput(fmt.Sprintf("Bench Created %d", b.n), 5000+b.n)
			in["ownerId"], in["idempotencyKey"] = string(seller), fmt.Sprintf("bench-create-%d", b.n)
			return "admin", `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id version } }`, map[string]any{"in": in}, nil
		}},
		{"importCustomers: a call of one row", func(context.Context) (caller, string, map[string]any, error) {
			b.n++
			row := map[string]any{"row": 2, "kind": "企业", "name": fmt.Sprintf("Bench Imported %d", b.n),
				"phones": []string{fmt.Sprintf("+86 10 5556 %04d", b.n), fmt.Sprintf("+86 139 0001 %04d", b.n)},
				"emails": []string{fmt.Sprintf("imported%d@bench.example.com", b.n)}, "industry": "logistics", "region": "north",
				"team": "north", "ownerId": string(seller), "tags": []string{"vip", "renewal-due"}, "annualRevenue": "1250万"}
			return "admin", `mutation($in: ImportCustomersInput!) { importCustomers(input: $in) { rows { status customerId } } }`,
				map[string]any{"in": map[string]any{"importId": fmt.Sprintf("bench-import-%d", b.n), "fileName": "bench.xlsx", "rows": []any{row}}}, nil
		}},
		{"updateCustomer: name", b.onCustomer(seller, c[1].ID, `mutation($id: ID!, $v: Int!) { updateCustomer(id: $id, expectedVersion: $v, input: {name: "Renamed Bench Customer"}) { version } }`, nil)},
		{"updateCustomer: tags", b.onCustomer(seller, c[1].ID, `mutation($id: ID!, $v: Int!) { updateCustomer(id: $id, expectedVersion: $v, input: {tags: ["vip", "price-sensitive"]}) { version } }`, nil)},
		{"updateCustomer: industry", b.onCustomer(seller, c[0].ID, `mutation($id: ID!, $v: Int!) { updateCustomer(id: $id, expectedVersion: $v, input: {industry: "Logistics"}) { version } }`, nil)},
		{"updateCustomer: e-mails, replaced by one", b.onCustomer(seller, c[0].ID, `mutation($id: ID!, $v: Int!) { updateCustomer(id: $id, expectedVersion: $v, input: {emails: ["buyer@renamed-bench.example.com"]}) { version } }`, nil)},
		{"changeCustomerTags: one added, one removed", fixed(seller, `mutation($id: ID!) { changeCustomerTags(input: {customerId: $id, add: ["green-channel"], remove: ["vip"]}) { version } }`,
			map[string]any{"id": c[1].ID})},
		{"logInteraction: call", fixed(seller, qLog, map[string]any{"in": logInput(c[2].ID, "CALL", nil)})},
		{"logInteraction: call + follow-up", fixed(seller, qLog, map[string]any{"in": logInput(c[2].ID, "CALL", &followUp)})},
		{"logInteraction: complaint (opens a case)", fixed(seller, qLog, map[string]any{"in": logInput(c[3].ID, "COMPLAINT", nil)})},
		{"updateInteraction", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.interaction(ctx, c[4].ID, "CALL")
			return seller, `mutation($c: ID!, $id: ID!) { updateInteraction(customerId: $c, id: $id, expectedVersion: 1, input: {subject: "Renewal terms, corrected"}) { version } }`,
				map[string]any{"c": c[4].ID, "id": id}, err
		}},
		{"moveCase: OPEN → TRIAGED", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.interaction(ctx, c[5].ID, "COMPLAINT")
			return "admin", `mutation($c: ID!, $id: ID!) { moveCase(input: {customerId: $c, caseId: $id, expectedVersion: 1, to: TRIAGED, note: "Billing team"}) { version } }`,
				map[string]any{"c": c[5].ID, "id": id}, err
		}},
		{"addContact", fixed(seller, qAddContact, map[string]any{"c": c[6].ID, "in": contactInput(1)})},
		{"updateContact", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.contact(ctx, c[6].ID, 2)
			return seller, `mutation($c: ID!, $id: ID!) { updateContact(customerId: $c, contactId: $id, expectedVersion: 1, input: {title: "Head of Purchasing"}) { version } }`,
				map[string]any{"c": c[6].ID, "id": id}, err
		}},
		{"removeContact", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.contact(ctx, c[6].ID, 3)
			return seller, `mutation($c: ID!, $id: ID!) { removeContact(customerId: $c, contactId: $id, expectedVersion: 1) { id } }`,
				map[string]any{"c": c[6].ID, "id": id}, err
		}},
		{"openOpportunities of an owner, 20", fixed(seller, `{ openOpportunities { edges { node { id title amount stage expectedCloseDate } } } }`, nil)},
		{"pipeline of a team", fixed("manager-north", `{ pipeline(team: "north") { stages { stage count amounts { currency amount weighted } } won lost winRate } }`, nil)},
		{"pipeline of everything", fixed("admin", `{ pipeline { open { count amounts { currency amount weighted } } won lost winRate } }`, nil)},
		{"createOpportunity", func(context.Context) (caller, string, map[string]any, error) {
			b.n++
			return seller, qOpenDeal, map[string]any{"c": c[8].ID, "k": fmt.Sprintf("bench-deal-%d", b.n)}, nil
		}},
		{"updateOpportunity: amount", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.deal(ctx, c[8].ID)
			return seller, `mutation($c: ID!, $id: ID!) { updateOpportunity(input: {customerId: $c, id: $id, expectedVersion: 1, amount: "52000.00"}) { version } }`,
				map[string]any{"c": c[8].ID, "id": id}, err
		}},
		{"moveOpportunity: QUALIFY → PROPOSAL", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.deal(ctx, c[8].ID)
			return seller, `mutation($c: ID!, $id: ID!) { moveOpportunity(input: {customerId: $c, id: $id, expectedVersion: 1, stage: "PROPOSAL"}) { version } }`,
				map[string]any{"c": c[8].ID, "id": id}, err
		}},
		{"moveOpportunity: → WON (logs the deal)", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.deal(ctx, c[8].ID)
			return seller, `mutation($c: ID!, $id: ID!) { moveOpportunity(input: {customerId: $c, id: $id, expectedVersion: 1, stage: "WON"}) { version } }`,
				map[string]any{"c": c[8].ID, "id": id}, err
		}},
		{"createContract (without a deal: logs it)", fixed(seller, qContract, map[string]any{"c": c[8].ID})},
		{"updateContract: the term", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.contract(ctx, c[8].ID)
			return seller, `mutation($c: ID!, $id: ID!) { updateContract(input: {customerId: $c, id: $id, expectedVersion: 1, endDate: "2027-12-31"}) { version } }`,
				map[string]any{"c": c[8].ID, "id": id}, err
		}},
		{"recordPayment", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.contract(ctx, c[8].ID)
			return seller, `mutation($c: ID!, $id: ID!) { recordPayment(input: {customerId: $c, contractId: $id, amount: "24000"}) { outstanding } }`,
				map[string]any{"c": c[8].ID, "id": id}, err
		}},
		{"approveContract (over the credit limit: books it)", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.pendingContract(ctx, c[8].ID)
			return "manager-north", `mutation($c: ID!, $id: ID!) { approveContract(input: {customerId: $c, id: $id, expectedVersion: 1}) { version } }`,
				map[string]any{"c": c[8].ID, "id": id}, err
		}},
		{"rejectContract", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.pendingContract(ctx, c[8].ID)
			return "manager-north", `mutation($c: ID!, $id: ID!) { rejectContract(input: {customerId: $c, id: $id, expectedVersion: 1, reason: "Beyond what we lend"}) { version } }`,
				map[string]any{"c": c[8].ID, "id": id}, err
		}},
		{"setCreditLevel", fixed("manager-north", `mutation($c: ID!) { setCreditLevel(input: {customerId: $c, level: "A", reason: "Guaranteed by its parent company"}) { level version } }`,
			map[string]any{"c": c[8].ID})},
		{"clearCreditLevel", fixed("manager-north", `mutation($c: ID!) { clearCreditLevel(input: {customerId: $c, reason: "The guarantee ended"}) { level version } }`,
			map[string]any{"c": c[8].ID})},
		{"setSalesTarget", fixed("manager-north", `mutation { setSalesTarget(input: {team: "north", userId: "sales-li", month: "2030-01", revenue: "400000",
			collected: "300000", customers: 1, expectedVersion: 0}) { version } }`, nil)},
		{"contract with its instalments and payments", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.contract(ctx, c[8].ID)
			return seller, `query($c: ID!, $id: ID!) { contract(customerId: $c, id: $id) { amount outstanding instalments { dueDate outstanding agingBucket } payments { amount } } }`,
				map[string]any{"c": c[8].ID, "id": id}, err
		}},
		{"receivablesAging of a team", fixed("manager-north", `{ receivablesAging(team: "north") { currencies { total overdue buckets { bucket amount } } } }`, nil)},
		{"revenue of a team by month", fixed("manager-north", `{ revenue(team: "north") { month contracts booked { amount } collected { amount } } }`, nil)},
		{"changeStage", func(ctx context.Context) (caller, string, map[string]any, error) {
			stage, err := b.field(ctx, c[7].ID, "stage")
			to := "STABILITY"
			if stage == to {
				to = "DECLINE"
			}
			return seller, `mutation($id: ID!, $s: LifecycleStage!) { changeStage(input: {customerId: $id, stage: $s, reason: "Quarterly review"}) { version } }`,
				map[string]any{"id": c[7].ID, "s": to}, err
		}},
		{"setGrade", func(ctx context.Context) (caller, string, map[string]any, error) {
			var r struct {
				Customer struct {
					Grade struct {
						Level struct {
							Code string `json:"code"`
						} `json:"level"`
					} `json:"grade"`
				} `json:"customer"`
			}
			err := b.e.gql(ctx, "admin", `query($id: ID!) { customer(id: $id) { grade { level { code } } } }`, map[string]any{"id": c[8].ID}, &r)
			to := "A"
			if r.Customer.Grade.Level.Code == to {
				to = "B"
			}
			return "admin", `mutation($id: ID!, $l: String!) { setGrade(input: {customerId: $id, level: $l, reason: "Strategic account"}) { version } }`,
				map[string]any{"id": c[8].ID, "l": to}, err
		}},
		{"regradeCustomer, forced", fixed("admin", `mutation($id: ID!) { regradeCustomer(customerId: $id, force: true) { version } }`, map[string]any{"id": c[8].ID})},
		{"submitEvaluation", fixed("manager-north", `mutation($in: SubmitEvaluationInput!) { submitEvaluation(input: $in) { id overall } }`,
			map[string]any{"in": b.evaluationInput(c[9].ID)})},
		{"createTemplate", fixed("admin", qCreateTemplate, map[string]any{"in": templateInput("Bench template")})},
		{"createTemplateVersion", func(ctx context.Context) (caller, string, map[string]any, error) {
			var r struct {
				CreateTemplate struct {
					ID string `json:"id"`
				} `json:"createTemplate"`
			}
			err := b.e.gql(ctx, "admin", qCreateTemplate, map[string]any{"in": templateInput("Bench template, versioned")}, &r)
			return "admin", `mutation($id: ID!, $in: TemplateInput!) { createTemplateVersion(templateId: $id, expectedLatestVersion: 1, input: $in) { version } }`,
				map[string]any{"id": r.CreateTemplate.ID, "in": templateInput("Bench template, version 2")}, err
		}},
		{"updateGradingPolicy", func(ctx context.Context) (caller, string, map[string]any, error) {
			var r struct {
				GradingPolicy map[string]any `json:"gradingPolicy"`
			}
			err := b.e.gql(ctx, "admin", `{ gradingPolicy { version levels { code label rank description responseSlaHours followUpIntervalDays }
				rules { name level description conditions { metric op value } }
				valueFormula { recencyWeight frequencyWeight monetaryWeight assetWeight evaluationWeight recencyHorizonDays frequencyReference monetaryReference assetReference }
				tiers { keyPercent majorPercent ordinaryPercent } manualHoldDays } }`, nil, &r)
			p := r.GradingPolicy
			v := p["version"]
			delete(p, "version")
			p["manualHoldDays"] = 45
			return "admin", `mutation($in: GradingPolicyInput!, $v: Int!) { updateGradingPolicy(input: $in, expectedVersion: $v) { version } }`,
				map[string]any{"in": p, "v": v}, err
		}},
		{"createTask", fixed(seller, qCreateTask, map[string]any{"c": c[2].ID, "d": followUp.Format(time.RFC3339)})},
		{"updateTask: due time", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.task(ctx, c[2].ID, followUp)
			return seller, `mutation($c: ID!, $k: ID!, $d: DateTime!) { updateTask(input: {customerId: $c, taskId: $k, expectedVersion: 1, dueAt: $d}) { version } }`,
				map[string]any{"c": c[2].ID, "k": id, "d": followUp.Add(24 * time.Hour).Format(time.RFC3339)}, err
		}},
		{"cancelTask", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.task(ctx, c[2].ID, followUp)
			return seller, `mutation($c: ID!, $k: ID!) { cancelTask(input: {customerId: $c, taskId: $k, expectedVersion: 1, reason: "customer on holiday"}) { version } }`,
				map[string]any{"c": c[2].ID, "k": id}, err
		}},
		{"completeTask: a callback (logs the call)", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.task(ctx, c[2].ID, followUp)
			return seller, `mutation($c: ID!, $k: ID!) { completeTask(input: {customerId: $c, taskId: $k, expectedVersion: 1, outcome: "renewal agreed"}) { task { version } } }`,
				map[string]any{"c": c[2].ID, "k": id}, err
		}},
		{"claimCustomer", fixed("sales-zhao", `mutation($id: ID!) { claimCustomer(customerId: $id) { version } }`, map[string]any{"id": b.pool[0].ID})},
		{"releaseCustomer", func(ctx context.Context) (caller, string, map[string]any, error) {
			err := b.e.gql(ctx, "sales-zhao", `mutation($id: ID!) { claimCustomer(customerId: $id) { version } }`, map[string]any{"id": b.pool[1].ID}, nil)
			return "sales-zhao", `mutation($id: ID!) { releaseCustomer(customerId: $id) { version } }`, map[string]any{"id": b.pool[1].ID}, err
		}},
		{"assignCustomer", fixed("admin", `mutation($id: ID!) { assignCustomer(customerId: $id, ownerId: "sales-li") { version } }`, map[string]any{"id": b.pool[2].ID})},
		{"handOverCustomer", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, _, err := b.create(ctx, string(seller))
			return seller, `mutation($id: ID!) { handOverCustomer(input: {customerId: $id, toUserId: "sales-zhao", reason: "covering the region"}) { version } }`,
				map[string]any{"id": id}, err
		}},
		{"createLead (提单)", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, _, err := b.create(ctx, string(seller))
			return seller, qCreateLead, map[string]any{"c": id}, err
		}},
		{"acceptLead (moves the customer)", func(ctx context.Context) (caller, string, map[string]any, error) {
			vars, err := b.lead(ctx, false)
			return "sales-zhao", `mutation($c: ID!, $id: ID!) { acceptLead(input: {customerId: $c, id: $id, expectedVersion: 1}) { version } }`, vars, err
		}},
		{"returnLead", func(ctx context.Context) (caller, string, map[string]any, error) {
			vars, err := b.lead(ctx, false)
			return "sales-zhao", `mutation($c: ID!, $id: ID!) { returnLead(input: {customerId: $c, id: $id, expectedVersion: 1, reason: "no budget"}) { version } }`, vars, err
		}},
		{"handLead (a returned lead, again)", func(ctx context.Context) (caller, string, map[string]any, error) {
			vars, err := b.lead(ctx, true)
			return seller, `mutation($c: ID!, $id: ID!) { handLead(input: {customerId: $c, id: $id, expectedVersion: 2, handedTo: "sales-zhao"}) { version } }`, vars, err
		}},
		{"withdrawLead", func(ctx context.Context) (caller, string, map[string]any, error) {
			vars, err := b.lead(ctx, false)
			return seller, `mutation($c: ID!, $id: ID!) { withdrawLead(input: {customerId: $c, id: $id, expectedVersion: 1}) { version } }`, vars, err
		}},
		{"handOverPortfolio, 3 customers", func(ctx context.Context) (caller, string, map[string]any, error) {
			if _, err := b.user(ctx, "bench-leaver", false); err != nil {
				return "", "", nil, err
			}
			for range 3 {
				if _, _, err := b.create(ctx, "bench-leaver"); err != nil {
					return "", "", nil, err
				}
			}
			return "admin", `mutation { handOverPortfolio(fromUserId: "bench-leaver", toUserId: "sales-zhao") { moved } }`, nil, nil
		}},
		// The hand-overs above told sales-zhao, the assignment sales-li.
		{"markNotificationRead", func(ctx context.Context) (caller, string, map[string]any, error) {
			var inbox struct {
				Notifications struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
			err := b.e.gql(ctx, "sales-zhao", `{ notifications(unreadOnly: true, first: 1) { edges { node { id } } } }`, nil, &inbox)
			if err == nil && len(inbox.Notifications.Edges) == 0 {
				err = fmt.Errorf("sales-zhao has no unread notification to mark")
			}
			if err != nil {
				return "", "", nil, err
			}
			return "sales-zhao", `mutation($id: ID!) { markNotificationRead(id: $id) { readAt } }`,
				map[string]any{"id": inbox.Notifications.Edges[0].Node.ID}, nil
		}},
		{"markAllNotificationsRead", fixed("sales-li", `mutation { markAllNotificationsRead { marked } }`, nil)},
		{"archiveCustomer", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, v, err := b.create(ctx, string(seller))
			return "admin", `mutation($id: ID!, $v: Int!) { archiveCustomer(id: $id, expectedVersion: $v) { version } }`, map[string]any{"id": id, "v": v}, err
		}},
		{"restoreCustomer", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, v, err := b.create(ctx, string(seller))
			if err == nil {
				err = b.e.gql(ctx, "admin", `mutation($id: ID!, $v: Int!) { archiveCustomer(id: $id, expectedVersion: $v) { version } }`, map[string]any{"id": id, "v": v}, nil)
			}
			return "admin", `mutation($id: ID!, $v: Int!) { restoreCustomer(id: $id, expectedVersion: $v) { version } }`, map[string]any{"id": id, "v": v + 1}, err
		}},
		{"verifyCustomerFields: name, phones", b.onCustomer("admin", c[10].ID, `mutation($id: ID!, $v: Int!) { verifyCustomerFields(id: $id, fields: [NAME, PHONES], expectedVersion: $v) { version } }`, nil)},
		{"unverifyCustomerFields: name", b.onCustomer("admin", c[10].ID, `mutation($id: ID!, $v: Int!) { unverifyCustomerFields(id: $id, fields: [NAME], expectedVersion: $v) { version } }`, nil)},
		{"shareCustomer", fixed("manager-north", `mutation($id: ID!, $p: ID!) { shareCustomer(customerId: $id, partnerId: $p) { version } }`, map[string]any{"id": c[11].ID, "p": b.partnerID})},
		{"unshareCustomer", fixed("manager-north", `mutation($id: ID!, $p: ID!) { unshareCustomer(customerId: $id, partnerId: $p) { version } }`, map[string]any{"id": c[11].ID, "p": b.partnerID})},
		{"createPartnerOrganization", fixed("admin", qCreatePartner, map[string]any{"n": "Bench Partner"})},
		{"updatePartnerOrganization", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.partner(ctx, "Bench Partner 2")
			return "admin", `mutation($id: ID!) { updatePartnerOrganization(id: $id, expectedVersion: 1, input: {masked: [PHONES, EMAILS]}) { version } }`, map[string]any{"id": id}, err
		}},
		{"issueApiKey", fixed("admin", `mutation($p: ID!) { issueApiKey(partnerId: $p, name: "bench") { key } }`, map[string]any{"p": b.partnerID})},
		{"revokeApiKey", func(ctx context.Context) (caller, string, map[string]any, error) {
			var r struct {
				IssueAPIKey struct {
					APIKey struct {
						ID string `json:"id"`
					} `json:"apiKey"`
				} `json:"issueApiKey"`
			}
			err := b.e.gql(ctx, "admin", `mutation($p: ID!) { issueApiKey(partnerId: $p, name: "bench 2") { apiKey { id } } }`, map[string]any{"p": b.partnerID}, &r)
			return "admin", `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": r.IssueAPIKey.APIKey.ID}, err
		}},
		{"registerWebhookEndpoint", func(ctx context.Context) (caller, string, map[string]any, error) {
			org, err := b.partner(ctx, "Bench Hooks")
			return "admin", qRegisterWebhook, map[string]any{"p": org}, err
		}},
		{"updateWebhookEndpoint: disable", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.webhook(ctx)
			return "admin", `mutation($id: ID!) { updateWebhookEndpoint(id: $id, expectedVersion: 1, input: {status: DISABLED}) { version } }`, map[string]any{"id": id}, err
		}},
		{"rotateWebhookSecret", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.webhook(ctx)
			return "admin", `mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }`, map[string]any{"id": id}, err
		}},
		{"replayWebhookDelivery", func(ctx context.Context) (caller, string, map[string]any, error) {
			id, err := b.webhook(ctx)
			if err != nil {
				return "admin", "", nil, err
			}
			now := time.Now().UTC().Truncate(time.Millisecond)
			d := &webhooks.Delivery{ID: "01M8T0000000000000000000BE", EndpointID: id, MessageID: "msg_bench",
				EventID: "bench-0", Type: events.CustomerUpdated, CustomerID: c[11].ID, Payload: []byte(`{}`),
				Status: webhooks.DeliveryDead, CreatedAt: now, Version: 1}
			err = b.e.store.AddDeliveries(ctx, []*webhooks.Delivery{d})
			return "admin", `mutation($e: ID!, $id: ID!) { replayWebhookDelivery(endpointId: $e, deliveryId: $id) { id } }`, map[string]any{"e": id, "id": d.ID}, err
		}},
		{"createUser", fixed("admin", `mutation { createUser(input: {id: "bench-user", name: "Bench User", email: "bench.user@example.com",
			roles: [SALES], teams: ["north"]}) { version } }`, nil)},
		{"updateUser: name", func(ctx context.Context) (caller, string, map[string]any, error) {
			v, err := b.user(ctx, "bench-renamed", false)
			return "admin", `mutation($v: Int!) { updateUser(id: "bench-renamed", expectedVersion: $v, input: {name: "Bench Renamed"}) { version } }`,
				map[string]any{"v": v}, err
		}},
		{"deactivateUser, with workload", func(ctx context.Context) (caller, string, map[string]any, error) {
			v, err := b.user(ctx, "bench-leaving", false)
			return "admin", `mutation($v: Int!) { deactivateUser(id: "bench-leaving", expectedVersion: $v) { active workload { customers openCases } } }`,
				map[string]any{"v": v}, err
		}},
		{"reactivateUser", func(ctx context.Context) (caller, string, map[string]any, error) {
			v, err := b.user(ctx, "bench-returning", true)
			return "admin", `mutation($v: Int!) { reactivateUser(id: "bench-returning", expectedVersion: $v) { version } }`,
				map[string]any{"v": v}, err
		}},
		{"createDepartment", fixed("admin", qCreateDepartment, map[string]any{"n": "Bench Department"})},
		{"updateDepartment: name", func(ctx context.Context) (caller, string, map[string]any, error) {
			var r struct {
				CreateDepartment struct {
					ID string `json:"id"`
				} `json:"createDepartment"`
			}
			err := b.e.gql(ctx, "admin", qCreateDepartment, map[string]any{"n": "Bench Department 2"}, &r)
			return "admin", `mutation($id: ID!) { updateDepartment(id: $id, expectedVersion: 1, input: {name: "Bench Department Renamed"}) { version } }`,
				map[string]any{"id": r.CreateDepartment.ID}, err
		}},
		{"mergeCustomers, 3 interactions moved", func(ctx context.Context) (caller, string, map[string]any, error) {
			survivor, _, err := b.create(ctx, string(seller))
			if err != nil {
				return "", "", nil, err
			}
			merged, _, err := b.create(ctx, string(seller))
			for i := 0; i < 3 && err == nil; i++ {
				_, err = b.interaction(ctx, merged, "CALL")
			}
			if err == nil {
				// The versions after the stream settled what preparing
				// wrote, as the measured request meets them.
				_, err = b.e.derive(ctx)
			}
			if err != nil {
				return "", "", nil, err
			}
			sv, err := b.version(ctx, survivor)
			if err != nil {
				return "", "", nil, err
			}
			mv, err := b.version(ctx, merged)
			return "admin", `mutation($in: MergeCustomersInput!) { mergeCustomers(input: $in) { movedItems } }`,
				map[string]any{"in": map[string]any{"survivorId": survivor, "mergedId": merged, "expectedSurvivorVersion": sv,
					"expectedMergedVersion": mv, "reason": "Same company entered twice"}}, err
		}},
	}
}

const (
	qAddContact      = `mutation($c: ID!, $in: ContactInput!) { addContact(customerId: $c, input: $in) { id version } }`
	qCreateTemplate  = `mutation($in: TemplateInput!) { createTemplate(input: $in) { id version } }`
	qRegisterWebhook = `mutation($p: ID!) { registerWebhookEndpoint(input: {partnerId: $p, url: "https://hooks.example.com/bench",
		eventTypes: ["rapport.customer.updated"]}) { endpoint { id } } }`
	qCreatePartner = `mutation($n: String!) { createPartnerOrganization(input: {name: $n, masked: [PHONES]}) { id version } }`
	// A department of team north managed by its demo manager.
	qCreateDepartment = `mutation($n: String!) { createDepartment(input: {name: $n, team: "north", managerId: "manager-north"}) { id version } }`
)

func contactInput(n int) map[string]any {
	return map[string]any{"name": fmt.Sprintf("Zhang Wei %d", n), "title": "Purchasing manager", "role": "DECISION_MAKER",
		"phones": []string{fmt.Sprintf("+86 139 1111 %04d", n)}, "emails": []string{fmt.Sprintf("zhang.wei%d@bench.example.com", n)}}
}

func templateInput(name string) map[string]any {
	return map[string]any{"name": name, "description": "Satisfaction and loyalty after a service visit", "indicators": []map[string]any{
		{"key": "satisfaction", "name": "Satisfied with the visit", "dimension": "SATISFACTION", "weight": 0.5, "scaleMin": 1, "scaleMax": 5},
		{"key": "loyalty", "name": "Would buy again", "dimension": "LOYALTY", "weight": 0.3, "scaleMin": 1, "scaleMax": 5},
		{"key": "recommend", "name": "Would recommend us", "dimension": "SATISFACTION", "weight": 0.2, "scaleMin": 0, "scaleMax": 10, "nps": true},
	}}
}

func (b *benchState) evaluationInput(customer string) map[string]any {
	var scores []map[string]any
	for _, ind := range b.indicators {
		scores = append(scores, map[string]any{"key": ind.Key, "value": ind.ScaleMin + (ind.ScaleMax-ind.ScaleMin)*0.75})
	}
	return map[string]any{"customerId": customer, "templateId": b.templateID, "kind": "INTERNAL_REVIEW", "scores": scores,
		"comment": "Good relationship; asked for a faster response on complaints."}
}

// contact adds a contact and returns its id.
func (b *benchState) contact(ctx context.Context, customer string, n int) (string, error) {
	var r struct {
		AddContact struct {
			ID string `json:"id"`
		} `json:"addContact"`
	}
	err := b.e.gql(ctx, seller, qAddContact, map[string]any{"c": customer, "in": contactInput(n)}, &r)
	return r.AddContact.ID, err
}

// user adds a SALES user of team north to the directory, deactivated when
// gone, and returns their version.
func (b *benchState) user(ctx context.Context, id string, gone bool) (int, error) {
	var r struct {
		CreateUser struct {
			Version int `json:"version"`
		} `json:"createUser"`
	}
	err := b.e.gql(ctx, "admin", `mutation($id: ID!) { createUser(input: {id: $id, name: "Bench Colleague", roles: [SALES], teams: ["north"]}) { version } }`,
		map[string]any{"id": id}, &r)
	if err != nil || !gone {
		return r.CreateUser.Version, err
	}
	err = b.e.gql(ctx, "admin", `mutation($id: ID!) { deactivateUser(id: $id, expectedVersion: 1) { version } }`, map[string]any{"id": id}, nil)
	return 2, err
}

// partner creates a partner organization and returns its id.
// webhook registers an endpoint of a new partner organization (each has
// room for 5) and returns its id.
func (b *benchState) webhook(ctx context.Context) (string, error) {
	org, err := b.partner(ctx, "Bench Hooks")
	if err != nil {
		return "", err
	}
	var r struct {
		RegisterWebhookEndpoint struct {
			Endpoint struct {
				ID string `json:"id"`
			} `json:"endpoint"`
		} `json:"registerWebhookEndpoint"`
	}
	err = b.e.gql(ctx, "admin", qRegisterWebhook, map[string]any{"p": org}, &r)
	return r.RegisterWebhookEndpoint.Endpoint.ID, err
}

func (b *benchState) partner(ctx context.Context, name string) (string, error) {
	var r struct {
		CreatePartnerOrganization struct {
			ID string `json:"id"`
		} `json:"createPartnerOrganization"`
	}
	err := b.e.gql(ctx, "admin", qCreatePartner, map[string]any{"n": name}, &r)
	return r.CreatePartnerOrganization.ID, err
}

// field reads one scalar field of a customer.
func (b *benchState) field(ctx context.Context, id, name string) (string, error) {
	var r struct {
		Customer map[string]any `json:"customer"`
	}
	err := b.e.gql(ctx, "admin", `query($id: ID!) { customer(id: $id) { `+name+` } }`, map[string]any{"id": id}, &r)
	return fmt.Sprint(r.Customer[name]), err
}

// domestic writes a customer's first phone as people in China type it
// ("+8613812345678" as "138 1234 5678"); "" when it has none.
func domestic(phones []string) string {
	if len(phones) == 0 {
		return ""
	}
	n, err := phone.Parse(phones[0])
	if err != nil {
		return phones[0]
	}
	return n.Domestic()
}

const qCreateLead = `mutation($c: ID!) { createLead(input: {customerId: $c, need: "An ERP for two plants", handedTo: "sales-zhao"}) { id version } }`

// lead makes a customer of the seller and a lead on it handed to
// sales-zhao (returned by them when returned), and returns its variables.
func (b *benchState) lead(ctx context.Context, returned bool) (map[string]any, error) {
	id, _, err := b.create(ctx, string(seller))
	if err != nil {
		return nil, err
	}
	var r struct{ CreateLead struct{ ID string } }
	if err := b.e.gql(ctx, seller, qCreateLead, map[string]any{"c": id}, &r); err != nil {
		return nil, err
	}
	vars := map[string]any{"c": id, "id": r.CreateLead.ID}
	if returned {
		err = b.e.gql(ctx, "sales-zhao", `mutation($c: ID!, $id: ID!) { returnLead(input: {customerId: $c, id: $id, expectedVersion: 1, reason: "not now"}) { id } }`, vars, nil)
	}
	return vars, err
}
