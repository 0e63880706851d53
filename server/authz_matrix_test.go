package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/generated"
	"github.com/rapportcrm/rapport/webhooks"
)

// The authorization matrix of the roles: every root field of Query and
// Mutation, called by every role on every kind of object, against the
// outcome the rules ask for (crm/authz.go, docs/partners.md, the schema's
// descriptions). A new root field without a row fails
// TestAuthorizationMatrixCoversEveryRootField.
//
// Each role is played by one principal: admin, manager (team north),
// sales1 (team north), service1 (team north), auditor, and a partner
// principal of organization P (a real API key on /partner/graphql). Seen
// from them, the customers are:
//
//	OWN      owned by sales1, team north, shared with P
//	TEAM     owned by sales2, team north, shared with nobody
//	FOREIGN  owned by sales3, team south, shared with nobody
//	POOL     owned by nobody (the public pool), team north
//
// A customer row's cells give per role a letter per target, in that order
// (OWN, TEAM, FOREIGN, POOL); the other rows give one letter per role:
//
//	A  allowed
//	F  FORBIDDEN
//	N  NOT_FOUND, or null from a nullable lookup; always checked to look
//	   exactly like the answer for an id that does not exist, so ids cannot
//	   be probed
//	C  CONFLICT
//	H  the call succeeds but its answer leaves the target out (lists)
//	-  not applicable (the cell is not run)
//
// Masking and the nested fields a partner reaches are covered in depth by
// TestPartnerSeesSharedCustomersOnlyOnEveryPath (partner_test.go); here the
// customer row selects contacts, interactions and cases on each target.

// matrixRoles are the columns of cells, each with the staff user who plays
// it ("" for the partner principal).
var matrixRoles = [...]struct{ role, user string }{
	{"ADMIN", "admin"}, {"MANAGER", "manager"}, {"SALES", "sales1"},
	{"SERVICE", "service1"}, {"AUDITOR", "auditor"}, {"PARTNER", ""},
}

// cells holds a row's expectations: ADMIN, MANAGER, SALES, SERVICE,
// AUDITOR, PARTNER.
type cells [len(matrixRoles)]string

type target int

const (
	own target = iota
	teamMate
	foreign
	pool
)

var targetNames = [...]string{"OWN", "TEAM", "FOREIGN", "POOL"}

// need says what a row's target customer must carry.
type need uint16

const (
	needContact need = 1 << iota
	needInteraction
	needOpenCase
	needProposedCase
	needArchived
	// needOwnOwner: owned by a user of its own, a leaver whose portfolio
	// can be handed over without touching anyone else's.
	needOwnOwner
	// needNoTarget: the call makes its own object from the target's owner
	// and team, so it never needs a fresh target.
	needNoTarget
	// needTwin: a second customer like the target (merges).
	needTwin
	// needTask: an open task, assigned to the admin.
	needTask
	// needDeal: an opportunity at version 1, owned by the customer's owner
	// (the pool's by the manager).
	needDeal
	// needContract: a contract at version 1 (signed without a deal),
	// credited to the customer's owner (the pool's to the manager).
	needContract

	needAll = needContact | needInteraction | needOpenCase | needProposedCase | needTwin | needTask | needDeal | needContract
)

// obj is what a cell calls on: a customer and what hangs on it, or for the
// other rows a template, organization or API key (ID and Version).
type obj struct {
	ID, Name, Owner, Team string
	Version               int
	// Contact, interaction and open case are at version 1.
	ContactID, InteractionID, CaseID string
	TaskID                           string
	ProposedCaseID                   string
	ProposedCaseVersion              int
	DealID                           string
	// LeadID is a lead on the customer ID.
	LeadID     string
	ContractID string
	// Twin is a customer like this one, without history.
	Twin *obj
	// Phone and Email are the customer's own, unique to it (screen pops).
	Phone, Email string
}

type matrixRow struct {
	field string // the root field
	name  string // what the row checks, when a field has several rows
	query string
	vars  func(w *matrixWorld, o *obj) map[string]any
	// need: customer rows, what the target must carry.
	need need
	// object: other rows, what to call on (nil: nothing). fresh asks for an
	// object of the cell's own, which a cell whose write succeeds changes.
	object func(t *testing.T, w *matrixWorld, fresh bool) *obj
	// absent is the outcome when the call succeeds but its data does not
	// name the target: H for lists, N for nullable lookups. "" means A.
	absent string
	// rowOutcome, for a call that answers per row (importCustomers), reads
	// the outcome from a successful call's data.
	rowOutcome func(data json.RawMessage) string
	want       cells
}

func (r *matrixRow) writes() bool { return strings.HasPrefix(r.query, "mutation") }

func (r *matrixRow) title() string {
	if r.name == "" {
		return r.field
	}
	return r.field + "/" + r.name
}

func byID(_ *matrixWorld, o *obj) map[string]any       { return map[string]any{"id": o.ID} }
func byCustomer(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID} }
func byIDVersion(_ *matrixWorld, o *obj) map[string]any {
	return map[string]any{"id": o.ID, "v": o.Version}
}
func noVars(*matrixWorld, *obj) map[string]any     { return nil }
func byLead(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.LeadID} }

// customerRows call on a customer: OWN, TEAM, FOREIGN, POOL per role.
var customerRows = []matrixRow{
	// Reads: everyone reads what canRead allows; the rest is NOT_FOUND.
	{field: "customer", query: `query($id: ID!) { customer(id: $id) { id contacts { id }
		interactions(first: 5) { edges { node { id customer { id } } } } cases(first: 5) { edges { node { id } } } } }`,
		vars: byID, absent: "N",
		want: cells{"AAAA", "AANA", "ANNA", "AANA", "AAAA", "ANNN"}},
	{field: "customer360", query: `query($id: ID!) { customer360(id: $id) { customer { id } contacts { id } recentInteractions { id } } }`,
		vars: byID,
		want: cells{"AAAA", "AANA", "ANNA", "AANA", "AAAA", "ANNN"}},
	// The screen pop: whoever takes the call sees the caller, within their
	// reach or not (audited then); partners never pop.
	{field: "customerByPhone", query: `query($p: String!) { customerByPhone(phone: $p) { customer { id } contacts { id } recentInteractions { id } } }`,
		vars: func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"p": o.Phone} }, absent: "N",
		want: cells{"AAAA", "AAAA", "AAAA", "AAAA", "AAAA", "FFFF"}},
	{field: "customerByEmail", query: `query($e: String!) { customerByEmail(email: $e) { customer { id } } }`,
		vars: func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"e": o.Email} }, absent: "N",
		want: cells{"AAAA", "AAAA", "AAAA", "AAAA", "AAAA", "FFFF"}},
	{field: "interactions", query: `query($c: ID!) { interactions(customerId: $c) { totalCount edges { node { id } } } }`,
		vars: byCustomer,
		want: cells{"AAAA", "AANA", "ANNA", "AANA", "AAAA", "ANNN"}},
	// Lists hold what the caller may read; SALES lists their own customers
	// unless they ask for the pool.
	{field: "customers", name: "unfiltered", query: `{ customers(first: 100) { edges { node { id } } } }`,
		vars: noVars, absent: "H",
		want: cells{"AAAA", "AAHA", "AHHH", "AAHA", "AAAA", "AHHH"}},
	// A search holds what the caller may read, composed with the filter
	// as customers does.
	{field: "searchCustomers", query: `query($q: String!) { searchCustomers(query: $q, first: 100) { edges { node { id } } } }`,
		vars: func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"q": o.Name} }, absent: "H",
		want: cells{"AAAA", "AAHA", "AHHH", "AAHA", "AAAA", "AHHH"}},
	{field: "customers", name: "pool", query: `{ customers(filter: {pool: true}, first: 100) { edges { node { id } } } }`,
		vars: noVars, absent: "H",
		want: cells{"HHHA", "HHHA", "HHHA", "HHHA", "HHHA", "HHHH"}},
	// Asking for another team's customers is FORBIDDEN to those bound to teams.
	{field: "customers", name: "target's team", query: `query($team: String) { customers(filter: {team: $team}, first: 100) { edges { node { id } } } }`,
		vars: func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"team": o.Team} }, absent: "H",
		want: cells{"AAAA", "AAFA", "AHHH", "AAFA", "AAAA", "AHHH"}},
	// The change feed names what the caller may read: the read rules, unit
	// by unit (crm/sync.go).
	{field: "changes", query: `{ changes(first: 100) { edges { node { customerId customer { id } } } } }`,
		vars: noVars, absent: "H",
		want: cells{"AAAA", "AAHA", "AHHA", "AAHA", "AAAA", "AHHH"}},
	{field: "duplicateCandidates", query: `query($name: String!) { duplicateCandidates(name: $name, first: 100) { candidates { customer { id } } } }`,
		vars: func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"name": o.Name} }, absent: "H",
		want: cells{"AAAA", "AAHA", "AHHA", "AAHA", "AAAA", "AHHH"}},

	// Analytics by allowlist: lists for ADMIN, AUDITOR, MANAGER
	// (their teams) and SALES (their own, or the pool); SERVICE reads case
	// figures only; partners nothing.
	{field: "analytics", name: "followUpsDue", query: `{ analytics { followUpsDue(dueBefore: "2100-01-01T00:00:00Z", first: 100) { edges { node { id } } } } }`,
		vars: noVars, absent: "H",
		want: cells{"AAAH", "AAHH", "AHHH", "FFFF", "AAAH", "FFFF"}},
	// The pool has no follow-ups (its customers have no owner to follow
	// them up): the pool's list is empty for whoever may ask for it.
	{field: "analytics", name: "followUpsDue in the pool", query: `{ analytics { followUpsDue(scope: {pool: true}, dueBefore: "2100-01-01T00:00:00Z", first: 100) {
		edges { node { id } } } } }`,
		vars: noVars, absent: "H",
		want: cells{"HHHH", "HHHH", "HHHH", "FFFF", "HHHH", "FFFF"}},
	{field: "analytics", name: "activity of the target's team", query: `query($team: String) { analytics { activity(scope: {team: $team},
		period: {from: "2026-01-01T00:00:00Z", to: "2026-12-31T00:00:00Z", granularity: MONTH}) { total { cases { opened } } } } }`,
		vars: func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"team": o.Team} },
		want: cells{"AAAA", "AAFA", "AAAA", "AAFA", "AAAA", "FFFF"}},

	// Creating: the input describes a customer like the target.
	{field: "createCustomer", need: needNoTarget,
		query: `mutation($owner: ID, $team: String) { createCustomer(input: {kind: PERSON, name: "Created", ownerId: $owner, team: $team}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"owner": o.Owner, "team": o.Team} },
		want:  cells{"AAAA", "AAFA", "AFFF", "FFFF", "FFFF", "FFFF"}},
	// A grade given at creation is set by hand, as with setGrade.
	{field: "createCustomer", name: "with a grade", need: needNoTarget,
		query: `mutation($owner: ID, $team: String) { createCustomer(input: {kind: PERSON, name: "Graded", ownerId: $owner, team: $team, grade: "A"}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"owner": o.Owner, "team": o.Team} },
		want:  cells{"AAAA", "AAFA", "FFFF", "FFFF", "FFFF", "FFFF"}},
	// Importing: each row is created as createCustomer creates it, with
	// the same rights; a row the caller may not create is REJECTED as
	// FORBIDDEN in its result. An empty owner cell means what no ownerId
	// means to createCustomer: a salesperson owns it.
	{field: "importCustomers", need: needNoTarget,
		query: `mutation($id: ID!, $owner: ID, $team: String) { importCustomers(input: {importId: $id, rows: [
			{row: 2, kind: "PERSON", name: "Imported", ownerId: $owner, team: $team}]}) { rows { status problems { code } } } }`,
		vars:       importVars,
		rowOutcome: importOutcome,
		want:       cells{"AAAA", "AAFA", "AFFA", "FFFF", "FFFF", "FFFF"}},
	{field: "importCustomers", name: "with a grade", need: needNoTarget,
		query: `mutation($id: ID!, $owner: ID, $team: String) { importCustomers(input: {importId: $id, rows: [
			{row: 2, kind: "PERSON", name: "Imported", ownerId: $owner, team: $team, grade: "A"}]}) { rows { status problems { code } } } }`,
		vars:       importVars,
		rowOutcome: importOutcome,
		want:       cells{"AAAA", "AAFA", "FFFF", "FFFF", "FFFF", "FFFF"}},
	// Changing the owner is assigning, also through updateCustomer.
	{field: "updateCustomer", name: "owner", query: `mutation($id: ID!, $v: Int!) { updateCustomer(id: $id, expectedVersion: $v, input: {ownerId: "successor"}) { id } }`,
		vars: byIDVersion,
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},

	// Editing the profile and contacts (canEdit): the owner, the team's
	// manager, an admin.
	{field: "updateCustomer", query: `mutation($id: ID!, $v: Int!) { updateCustomer(id: $id, expectedVersion: $v, input: {industry: "energy"}) { id } }`,
		vars: byIDVersion,
		want: cells{"AAAA", "AANA", "ANNF", "FFNF", "FFFF", "FNNN"}},
	{field: "changeCustomerTags", query: `mutation($c: ID!) { changeCustomerTags(input: {customerId: $c, add: ["audited"], remove: ["old"]}) { id } }`,
		vars: byCustomer,
		want: cells{"AAAA", "AANA", "ANNF", "FFNF", "FFFF", "FNNN"}},
	{field: "archiveCustomer", query: `mutation($id: ID!, $v: Int!) { archiveCustomer(id: $id, expectedVersion: $v) { id } }`,
		vars: byIDVersion,
		want: cells{"AAAA", "AANA", "ANNF", "FFNF", "FFFF", "FNNN"}},
	// Restoring is for those who assign (canAssign), not the owner.
	{field: "restoreCustomer", need: needArchived, query: `mutation($id: ID!, $v: Int!) { restoreCustomer(id: $id, expectedVersion: $v) { id } }`,
		vars: byIDVersion,
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},
	{field: "changeStage", query: `mutation($c: ID!) { changeStage(input: {customerId: $c, stage: FORMATION, reason: "first deal"}) { id } }`,
		vars: byCustomer,
		want: cells{"AAAA", "AANA", "ANNF", "FFNF", "FFFF", "FNNN"}},
	{field: "addContact", query: `mutation($c: ID!) { addContact(customerId: $c, input: {name: "Wang Wu"}) { id } }`,
		vars: byCustomer,
		want: cells{"AAAA", "AANA", "ANNF", "FFNF", "FFFF", "FNNN"}},
	{field: "updateContact", need: needContact,
		query: `mutation($c: ID!, $id: ID!) { updateContact(customerId: $c, contactId: $id, expectedVersion: 1, input: {title: "CTO"}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.ContactID} },
		want:  cells{"AAAA", "AANA", "ANNF", "FFNF", "FFFF", "FNNN"}},
	{field: "removeContact", need: needContact,
		query: `mutation($c: ID!, $id: ID!) { removeContact(customerId: $c, contactId: $id, expectedVersion: 1) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.ContactID} },
		want:  cells{"AAAA", "AANA", "ANNF", "FFNF", "FFFF", "FNNN"}},
	{field: "releaseCustomer", query: `mutation($c: ID!) { releaseCustomer(customerId: $c) { id } }`,
		vars: byCustomer,
		want: cells{"AAAC", "AANC", "ANNF", "FFNF", "FFFF", "FNNN"}},
	// To a colleague of the customer's team; a pool customer is claimed or
	// assigned, not handed over.
	{field: "handOverCustomer", query: `mutation($c: ID!, $to: ID!) { handOverCustomer(input: {customerId: $c, toUserId: $to, reason: "covering her region"}) { id } }`,
		vars: func(_ *matrixWorld, o *obj) map[string]any {
			to := "successor"
			if o.Owner == "sales3" {
				to = "sales-s"
			}
			return map[string]any{"c": o.ID, "to": to}
		},
		want: cells{"AAAC", "AANC", "ANNF", "FFNF", "FFFF", "FNNN"}},

	// Working the customer (canWork): SERVICE too, on their team's customers.
	{field: "logInteraction", query: `mutation($c: ID!) { logInteraction(input: {customerId: $c, channel: PHONE, type: CALL, subject: "follow-up"}) { id } }`,
		vars: byCustomer,
		want: cells{"AAAA", "AANA", "ANNF", "AANA", "FFFF", "FNNN"}},
	// Tasks: as for logging an interaction (canWork).
	{field: "createTask", query: `mutation($c: ID!) { createTask(input: {customerId: $c, type: CALL_BACK, dueAt: "2027-06-01T00:00:00Z"}) { id } }`,
		vars: byCustomer,
		want: cells{"AAAA", "AANA", "ANNF", "AANA", "FFFF", "FNNN"}},
	{field: "updateTask", need: needTask,
		query: `mutation($c: ID!, $k: ID!) { updateTask(input: {customerId: $c, taskId: $k, expectedVersion: 1, notes: "bring the brochure"}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "k": o.TaskID} },
		want:  cells{"AAAA", "AANA", "ANNF", "AANA", "FFFF", "FNNN"}},
	{field: "cancelTask", need: needTask,
		query: `mutation($c: ID!, $k: ID!) { cancelTask(input: {customerId: $c, taskId: $k, expectedVersion: 1}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "k": o.TaskID} },
		want:  cells{"AAAA", "AANA", "ANNF", "AANA", "FFFF", "FNNN"}},
	{field: "completeTask", need: needTask,
		query: `mutation($c: ID!, $k: ID!) { completeTask(input: {customerId: $c, taskId: $k, expectedVersion: 1, outcome: "called"}) { task { id } } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "k": o.TaskID} },
		want:  cells{"AAAA", "AANA", "ANNF", "AANA", "FFFF", "FNNN"}},
	{field: "updateInteraction", need: needInteraction,
		query: `mutation($c: ID!, $id: ID!) { updateInteraction(customerId: $c, id: $id, expectedVersion: 1, input: {subject: "corrected"}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.InteractionID} },
		want:  cells{"AAAA", "AANA", "ANNF", "AANA", "FFFF", "FNNN"}},
	// An owner evaluates none of their own customers (conflict of interest).
	{field: "submitEvaluation", query: `mutation($c: ID!, $t: ID!) { submitEvaluation(input: {customerId: $c, templateId: $t, kind: CUSTOMER_SURVEY,
		scores: [{key: "satisfaction", value: 4}]}) { id } }`,
		vars: func(w *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "t": w.template.ID} },
		want: cells{"AAAA", "AANA", "FNNF", "AANA", "FFFF", "FNNN"}},
	// A third party's evaluation is entered by an admin or the team's manager.
	{field: "submitEvaluation", name: "thirdParty", query: `mutation($c: ID!, $t: ID!) { submitEvaluation(input: {customerId: $c, templateId: $t,
		kind: THIRD_PARTY, thirdParty: "Dagong Credit Rating", scores: [{key: "satisfaction", value: 4}]}) { id } }`,
		vars: func(w *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "t": w.template.ID} },
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},
	{field: "moveCase", name: "triage", need: needOpenCase,
		query: `mutation($c: ID!, $case: ID!) { moveCase(input: {customerId: $c, caseId: $case, expectedVersion: 1, to: TRIAGED}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "case": o.CaseID} },
		want:  cells{"AAAA", "AANA", "ANNF", "AANA", "FFFF", "FNNN"}},
	// Approving a handling plan is a manager's.
	{field: "moveCase", name: "approve", need: needProposedCase,
		query: `mutation($c: ID!, $case: ID!, $v: Int!) { moveCase(input: {customerId: $c, caseId: $case, expectedVersion: $v, to: APPROVED}) { id } }`,
		vars: func(_ *matrixWorld, o *obj) map[string]any {
			return map[string]any{"c": o.ID, "case": o.ProposedCaseID, "v": o.ProposedCaseVersion}
		},
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},

	// Assigning owners and grades, sharing (canAssign): the team's manager
	// and an admin.
	{field: "setGrade", query: `mutation($c: ID!) { setGrade(input: {customerId: $c, level: "A", reason: "strategic account"}) { id } }`,
		vars: byCustomer,
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},
	{field: "regradeCustomer", query: `mutation($c: ID!) { regradeCustomer(customerId: $c, force: true) { id } }`,
		vars: byCustomer,
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},
	{field: "assignCustomer", query: `mutation($c: ID!, $to: ID!) { assignCustomer(customerId: $c, ownerId: $to) { id } }`,
		vars: func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "to": "sales2"} },
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},
	{field: "shareCustomer", query: `mutation($c: ID!, $p: ID!) { shareCustomer(customerId: $c, partnerId: $p) { id } }`,
		vars: func(w *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "p": w.q} },
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},
	{field: "unshareCustomer", query: `mutation($c: ID!, $p: ID!) { unshareCustomer(customerId: $c, partnerId: $p) { id } }`,
		vars: func(w *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "p": w.p} },
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},
	// Handing over the portfolio of the target's owner (a leaver of its
	// own); a manager's handover leaves other teams' customers alone. Pool
	// customers are in nobody's portfolio.
	{field: "handOverPortfolio", need: needOwnOwner,
		query: `mutation($from: ID!) { handOverPortfolio(fromUserId: $from, toUserId: "successor") { moved } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"from": o.Owner} }, absent: "H",
		want: cells{"AAA-", "AAH-", "FFF-", "FFF-", "FFF-", "FFF-"}},
	// Reviewing data is for those who assign ("marked verified by a reviewer").
	{field: "verifyCustomerFields", query: `mutation($id: ID!, $v: Int!) { verifyCustomerFields(id: $id, fields: [NAME], expectedVersion: $v) { id } }`,
		vars: byIDVersion,
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},
	{field: "unverifyCustomerFields", query: `mutation($id: ID!, $v: Int!) { unverifyCustomerFields(id: $id, fields: [NAME], expectedVersion: $v) { id } }`,
		vars: byIDVersion,
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},
	// Merging the target into its twin: ADMIN, or a MANAGER of both teams.
	{field: "mergeCustomers", need: needTwin,
		query: `mutation($s: ID!, $m: ID!, $sv: Int!, $mv: Int!) { mergeCustomers(input: {survivorId: $s, mergedId: $m,
			expectedSurvivorVersion: $sv, expectedMergedVersion: $mv, reason: "the same company"}) { movedItems } }`,
		vars: func(_ *matrixWorld, o *obj) map[string]any {
			return map[string]any{"s": o.Twin.ID, "sv": o.Twin.Version, "m": o.ID, "mv": o.Version}
		},
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FNNN"}},
	// The sales pipeline: deals follow their customer's team and owner;
	// partners have no part in it (FORBIDDEN, whatever the customer). A
	// deal opened without an owner is the caller's when they sell (or
	// manage a pool customer), else the customer's owner's; an admin
	// must name one for a pool customer (BAD_USER_INPUT: not run).
	{field: "createOpportunity", need: needNoTarget,
		query: `mutation($c: ID!) { createOpportunity(input: {customerId: $c, title: "Pumps", amount: "5000", expectedCloseDate: "2026-06-30"}) { id } }`,
		vars:  byCustomer,
		want:  cells{"AAA-", "AANA", "ANNF", "FFNF", "FFFF", "FFFF"}},
	{field: "opportunity", need: needDeal,
		query: `query($c: ID!, $id: ID!) { opportunity(customerId: $c, id: $id) { id amount history { to } } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.DealID} },
		want:  cells{"AAAA", "AANA", "ANNN", "AANA", "AAAA", "FFFF"}},
	{field: "customer", name: "opportunities", need: needDeal,
		query: `query($id: ID!) { customer(id: $id) { id opportunities { edges { node { id } } } } }`,
		vars:  byID, absent: "N",
		want: cells{"AAAA", "AANA", "ANNA", "AANA", "AAAA", "FNNN"}},
	{field: "moveOpportunity", need: needDeal,
		query: `mutation($c: ID!, $id: ID!) { moveOpportunity(input: {customerId: $c, id: $id, expectedVersion: 1, stage: "PROPOSAL"}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.DealID} },
		want:  cells{"AAAA", "AANA", "ANNN", "FFNF", "FFFF", "FFFF"}},
	{field: "updateOpportunity", need: needDeal,
		query: `mutation($c: ID!, $id: ID!) { updateOpportunity(input: {customerId: $c, id: $id, expectedVersion: 1, amount: "7500.25"}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.DealID} },
		want:  cells{"AAAA", "AANA", "ANNN", "FFNF", "FFFF", "FFFF"}},
	// Contracts follow the pipeline's rules: their customer's team and
	// owner; partners have no part in them.
	{field: "createContract", need: needNoTarget,
		query: `mutation($c: ID!) { createContract(input: {customerId: $c, title: "Pumps", amount: "5000", signedDate: "2026-01-05",
			endDate: "2026-12-31", instalments: [{dueDate: "2026-02-05", amount: "5000"}]}) { id } }`,
		vars: byCustomer,
		want: cells{"AAA-", "AANA", "ANNF", "FFNF", "FFFF", "FFFF"}},
	{field: "contract", need: needContract,
		query: `query($c: ID!, $id: ID!) { contract(customerId: $c, id: $id) { id amount instalments { outstanding } } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.ContractID} },
		want:  cells{"AAAA", "AANA", "ANNN", "AANA", "AAAA", "FFFF"}},
	{field: "customer", name: "contracts", need: needContract,
		query: `query($id: ID!) { customer(id: $id) { id contracts { edges { node { id } } } } }`,
		vars:  byID, absent: "N",
		want: cells{"AAAA", "AANA", "ANNA", "AANA", "AAAA", "FNNN"}},
	// Credit levels: read with the customer, set by ADMIN and the team's
	// MANAGER; a contract's approval is for ADMIN or a MANAGER of its team
	// other than its owner and who recorded it (here the admin recorded
	// it; the pool customer's contract is the manager's own), and answers
	// CONFLICT on a contract that does not wait.
	{field: "customer", name: "credit",
		query: `query($id: ID!) { customer(id: $id) { id credit { level terms { limit } } creditHistory { edges { node { id } } } } }`,
		vars:  byID, absent: "N",
		want: cells{"AAAA", "AANA", "ANNA", "AANA", "AAAA", "FNNN"}},
	{field: "setCreditLevel",
		query: `mutation($c: ID!) { setCreditLevel(input: {customerId: $c, level: "A", reason: "pays by letter of credit"}) { level } }`,
		vars:  byCustomer,
		want:  cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FFFF"}},
	{field: "clearCreditLevel",
		query: `mutation($c: ID!) { setCreditLevel(input: {customerId: $c, level: "A", reason: "r"}) { level }
			clearCreditLevel(input: {customerId: $c, reason: "letter of credit ended"}) { level } }`,
		vars: byCustomer,
		want: cells{"AAAA", "AANA", "FNNF", "FFNF", "FFFF", "FFFF"}},
	{field: "approveContract", need: needContract,
		query: `mutation($c: ID!, $id: ID!) { approveContract(input: {customerId: $c, id: $id, expectedVersion: 1}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.ContractID} },
		want:  cells{"FFFF", "CCNF", "FNNN", "FFNF", "FFFF", "FFFF"}},
	{field: "rejectContract", need: needContract,
		query: `mutation($c: ID!, $id: ID!) { rejectContract(input: {customerId: $c, id: $id, expectedVersion: 1, reason: "over the limit"}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.ContractID} },
		want:  cells{"FFFF", "CCNF", "FNNN", "FFNF", "FFFF", "FFFF"}},
	{field: "recordPayment", need: needContract,
		query: `mutation($c: ID!, $id: ID!) { recordPayment(input: {customerId: $c, contractId: $id, amount: "1"}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.ContractID} },
		want:  cells{"AAAA", "AANA", "ANNN", "FFNF", "FFFF", "FFFF"}},
	{field: "updateContract", need: needContract,
		query: `mutation($c: ID!, $id: ID!) { updateContract(input: {customerId: $c, id: $id, expectedVersion: 1, title: "Pumps and valves"}) { id } }`,
		vars:  func(_ *matrixWorld, o *obj) map[string]any { return map[string]any{"c": o.ID, "id": o.ContractID} },
		want:  cells{"AAAA", "AANA", "ANNN", "FFNF", "FFFF", "FFFF"}},
	// Claiming is for salespeople, from the pool only. Someone else's
	// customer is NOT_FOUND, like a missing id (only a claim that saw it
	// in the pool and lost the race hears CONFLICT: crm/pool.go).
	{field: "claimCustomer", query: `mutation($c: ID!) { claimCustomer(customerId: $c) { id } }`,
		vars: byCustomer,
		want: cells{"FFFF", "FFFF", "CNNA", "FFFF", "FFFF", "FFFF"}},
	// Leads (提单) are made by a salesperson on a customer they hold, handed
	// to a colleague (no LEAD_TEAMS: of the customer's team); a pool
	// customer is claimed first (CONFLICT). Partners have no part in leads.
	{field: "createLead", need: needNoTarget,
		query: `mutation($c: ID!) { createLead(input: {customerId: $c, need: "A new line", handedTo: "sales2"}) { id } }`,
		vars:  byCustomer,
		want:  cells{"FFFF", "FFFF", "ANNC", "FFFF", "FFFF", "FFFF"}},
}

func importVars(w *matrixWorld, o *obj) map[string]any {
	return map[string]any{"id": fmt.Sprintf("imp-matrix-%d", w.seq.Add(1)), "owner": o.Owner, "team": o.Team}
}

// importOutcome reads an import call's one row: A when it was created, F
// when it was rejected as FORBIDDEN.
func importOutcome(data json.RawMessage) string {
	var out struct {
		ImportCustomers struct {
			Rows []struct {
				Status   string
				Problems []struct{ Code string }
			}
		}
	}
	if err := json.Unmarshal(data, &out); err != nil || len(out.ImportCustomers.Rows) != 1 {
		return "unreadable " + string(data)
	}
	r := out.ImportCustomers.Rows[0]
	switch {
	case r.Status == "CREATED":
		return "A"
	case r.Status == "REJECTED" && len(r.Problems) == 1 && r.Problems[0].Code == crm.EFORBIDDEN:
		return "F"
	}
	return "row " + string(data)
}

// otherRows call on objects that are not customers: one letter per role.
var otherRows = []matrixRow{
	{field: "me", query: `{ me { id } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "A"}},
	{field: "gradeLevels", query: `{ gradeLevels { code } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "A"}},
	{field: "gradingPolicy", query: `{ gradingPolicy { version } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "templates", query: `{ templates { totalCount } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "template", query: `query($id: ID!) { template(id: $id) { id } }`, vars: byID, absent: "N",
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.template },
		want:   cells{"A", "A", "A", "A", "A", "F"}},
	{field: "auditLog", query: `query($c: ID!) { auditLog(filter: {customerId: $c}) { edges { node { id } } } }`, vars: byCustomer,
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return w.shared[own] },
		want:   cells{"A", "F", "F", "F", "A", "F"}},
	{field: "analytics", name: "gradeDistribution", query: `{ analytics { gradeDistribution { total } } }`, vars: noVars,
		want: cells{"A", "A", "F", "F", "A", "F"}},
	{field: "analytics", name: "customersAtRisk", query: `{ analytics { customersAtRisk(reason: DECLINE) { totalCount } } }`, vars: noVars,
		want: cells{"A", "A", "A", "F", "A", "F"}},
	{field: "openOpportunities", query: `{ openOpportunities(first: 100) { edges { node { id } } } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "pipelineStages", query: `{ pipelineStages { code probability open } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "pipeline", query: `{ pipeline { open { count amounts { amount weighted } } winRate } }`, vars: noVars,
		want: cells{"A", "A", "A", "F", "A", "F"}},
	{field: "creditLevels", query: `{ creditLevels { code terms limit } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "receivablesAging", query: `{ receivablesAging { asOf currencies { total buckets { bucket amount } } } }`, vars: noVars,
		want: cells{"A", "A", "A", "F", "A", "F"}},
	{field: "revenue", query: `{ revenue { month booked { amount } collected { amount } } }`, vars: noVars,
		want: cells{"A", "A", "A", "F", "A", "F"}},
	{field: "forecast", query: `{ forecast { asOf overdue { count } months { month amounts { amount weighted } } } }`, vars: noVars,
		want: cells{"A", "A", "A", "F", "A", "F"}},
	// Staff performance: ADMIN and AUDITOR any team, a MANAGER their
	// teams, SALES their own row; targets are set by ADMIN and the team's
	// MANAGER (a new month each call: expectedVersion 0 creates it).
	{field: "performance", query: `{ performance(team: "north", period: "2026-Q1") { rows { userId } total { targetMonths } } }`, vars: noVars,
		want: cells{"A", "A", "A", "F", "A", "F"}},
	{field: "setSalesTarget", query: `mutation($m: String!) { setSalesTarget(input: {team: "north", userId: "sales1", month: $m, revenue: "1000", expectedVersion: 0}) { version } }`,
		vars: func(w *matrixWorld, _ *obj) map[string]any {
			return map[string]any{"m": fmt.Sprintf("%d-01", 2100+w.seq.Add(1))}
		},
		want: cells{"A", "A", "F", "F", "F", "F"}},
	{field: "partnerOrganizations", query: `{ partnerOrganizations { totalCount } }`, vars: noVars,
		want: cells{"A", "A", "F", "F", "A", "F"}},
	{field: "partnerOrganization", name: "its own", query: `query($id: ID!) { partnerOrganization(id: $id) { id } }`, vars: byID, absent: "N",
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &obj{ID: w.p} },
		want:   cells{"A", "A", "F", "F", "A", "A"}},
	{field: "partnerOrganization", name: "another", query: `query($id: ID!) { partnerOrganization(id: $id) { id } }`, vars: byID, absent: "N",
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &obj{ID: w.q} },
		want:   cells{"A", "A", "F", "F", "A", "N"}},
	{field: "partnerOrganization", name: "API keys", query: `query($id: ID!) { partnerOrganization(id: $id) { apiKeys { edges { node { id } } } } }`, vars: byID,
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &obj{ID: w.p} },
		want:   cells{"A", "F", "F", "F", "A", "F"}},
	// Partner webhooks: ADMIN manages them; ADMIN and the organization's
	// own principal read its endpoints and delivery log and replay from it.
	{field: "webhookEndpoints", name: "its own", query: `query($id: ID!) { webhookEndpoints(partnerId: $id) { id deliveries { edges { node { id } } } } }`, vars: byID,
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &obj{ID: w.p} },
		want:   cells{"A", "F", "F", "F", "F", "A"}},
	{field: "webhookEndpoints", name: "another", query: `query($id: ID!) { webhookEndpoints(partnerId: $id) { id } }`, vars: byID,
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &obj{ID: w.q} },
		want:   cells{"A", "F", "F", "F", "F", "N"}},
	{field: "webhookEndpoint", name: "its own", query: `query($id: ID!) { webhookEndpoint(id: $id) { id deliveries { edges { node { id status attempts } } } } }`, vars: byID, absent: "N",
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.endpointP },
		want:   cells{"A", "F", "F", "F", "F", "A"}},
	{field: "webhookEndpoint", name: "another", query: `query($id: ID!) { webhookEndpoint(id: $id) { id } }`, vars: byID, absent: "N",
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.endpointQ },
		want:   cells{"A", "F", "F", "F", "F", "N"}},

	// The user directory: staff read it (SALES and SERVICE its active users
	// only), partners nothing; an ADMIN manages it (docs/security.md).
	// Everyone's own day and work queues; someone else's for an admin and
	// the manager of their team.
	{field: "agenda", query: `{ agenda { items { kind } complete } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "agenda", name: "a team member's", query: `{ agenda(userId: "sales2") { items { kind } } }`, vars: noVars,
		want: cells{"A", "A", "F", "F", "F", "F"}},
	{field: "taskQueue", query: `{ taskQueue { totalCount } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "taskQueue", name: "a team member's", query: `{ taskQueue(assigneeId: "sales2") { totalCount } }`, vars: noVars,
		want: cells{"A", "A", "F", "F", "F", "F"}},
	{field: "caseQueue", query: `{ caseQueue { totalCount } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "caseQueue", name: "a team member's", query: `{ caseQueue(assigneeId: "service1", overdue: true) { edges { node { id } } } }`, vars: noVars,
		want: cells{"A", "A", "F", "A", "F", "F"}},
	// A department's queue: its team's managers and service staff (the desk).
	{field: "caseQueue", name: "a department's", query: `query($id: ID!) { caseQueue(departmentId: $id, unassigned: true) { totalCount edges { node { id } } } }`,
		vars: byID, object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.desk },
		want: cells{"A", "A", "F", "A", "F", "F"}},
	// Everyone's own inbox only, an ADMIN's too; partners have none.
	{field: "notifications", name: "sales1's notice", query: `{ notifications(first: 100) { edges { node { id } } } }`, vars: noVars, absent: "H",
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.notice },
		want:   cells{"H", "H", "A", "H", "H", "F"}},
	{field: "changesCursor", query: `{ changesCursor }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "A"}},
	{field: "unreadNotificationCount", query: `{ unreadNotificationCount }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "markNotificationRead", name: "sales1's notice", query: `mutation($id: ID!) { markNotificationRead(id: $id) { id } }`, vars: byID, absent: "N",
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.notice },
		want:   cells{"N", "N", "A", "N", "N", "F"}},
	{field: "markAllNotificationsRead", query: `mutation { markAllNotificationsRead { marked } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "users", query: `{ users(first: 100) { edges { node { id } } } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "users", name: "deactivated", query: `{ users(filter: {active: false}) { totalCount } }`, vars: noVars,
		want: cells{"A", "A", "F", "F", "A", "F"}},
	{field: "user", query: `query($id: ID!) { user(id: $id) { id name } }`, vars: byID, absent: "N",
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.colleague },
		want:   cells{"A", "A", "A", "A", "A", "F"}},
	{field: "user", name: "deactivated", query: `query($id: ID!) { user(id: $id) { id name } }`, vars: byID, absent: "N",
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.gone },
		want:   cells{"A", "A", "N", "N", "A", "F"}},
	{field: "user", name: "workload", query: `query($id: ID!) { user(id: $id) { workload { customers openCases } } }`, vars: byID,
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.colleague },
		want:   cells{"A", "A", "F", "F", "A", "F"}},
	{field: "departments", query: `{ departments { id name } }`, vars: noVars,
		want: cells{"A", "A", "A", "A", "A", "F"}},
	{field: "department", query: `query($id: ID!) { department(id: $id) { id } }`, vars: byID, absent: "N",
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.dept },
		want:   cells{"A", "A", "A", "A", "A", "F"}},
	{field: "createUser", query: `mutation { createUser(input: {id: "matrix-created", name: "Created", roles: [SALES]}) { id } }`, vars: noVars,
		want: cells{"A", "F", "F", "F", "F", "F"}},
	{field: "updateUser", query: `mutation($id: ID!, $v: Int!) { updateUser(id: $id, expectedVersion: $v, input: {name: "Renamed"}) { id } }`,
		vars:   byIDVersion,
		object: func(t *testing.T, w *matrixWorld, fresh bool) *obj { return w.userObject(t, fresh, false) },
		want:   cells{"A", "F", "F", "F", "F", "F"}},
	{field: "deactivateUser", query: `mutation($id: ID!, $v: Int!) { deactivateUser(id: $id, expectedVersion: $v) { id workload { customers } } }`,
		vars:   byIDVersion,
		object: func(t *testing.T, w *matrixWorld, fresh bool) *obj { return w.userObject(t, fresh, false) },
		want:   cells{"A", "F", "F", "F", "F", "F"}},
	{field: "reactivateUser", query: `mutation($id: ID!, $v: Int!) { reactivateUser(id: $id, expectedVersion: $v) { id } }`,
		vars:   byIDVersion,
		object: func(t *testing.T, w *matrixWorld, fresh bool) *obj { return w.userObject(t, fresh, true) },
		want:   cells{"A", "F", "F", "F", "F", "F"}},
	{field: "createDepartment", query: `mutation { createDepartment(input: {name: "Matrix Created"}) { id } }`, vars: noVars,
		want: cells{"A", "F", "F", "F", "F", "F"}},
	{field: "updateDepartment", query: `mutation($id: ID!, $v: Int!) { updateDepartment(id: $id, expectedVersion: $v, input: {team: "south"}) { id } }`,
		vars: byIDVersion,
		object: func(t *testing.T, w *matrixWorld, fresh bool) *obj {
			if fresh {
				return w.mustDepartment(t, fmt.Sprint("Fresh ", w.seq.Add(1)))
			}
			return &w.dept
		},
		want: cells{"A", "F", "F", "F", "F", "F"}},

	{field: "createTemplate", query: `mutation { createTemplate(input: {name: "NPS", indicators: [
		{key: "nps", name: "Recommend", dimension: LOYALTY, weight: 1, scaleMin: 0, scaleMax: 10}]}) { id } }`, vars: noVars,
		want: cells{"A", "F", "F", "F", "F", "F"}},
	{field: "createTemplateVersion", query: `mutation($id: ID!, $v: Int!) { createTemplateVersion(templateId: $id, expectedLatestVersion: $v, input: {name: "Review 2",
		indicators: [{key: "satisfaction", name: "Satisfaction", dimension: SATISFACTION, weight: 1, scaleMin: 1, scaleMax: 5}]}) { id } }`,
		vars: byIDVersion,
		object: func(t *testing.T, w *matrixWorld, fresh bool) *obj {
			if fresh {
				return w.mustTemplate(t)
			}
			return &w.template
		},
		want: cells{"A", "F", "F", "F", "F", "F"}},
	// The admin writes the policy back as read, so other cells grade as before.
	{field: "updateGradingPolicy", query: `mutation($in: GradingPolicyInput!) { updateGradingPolicy(input: $in, expectedVersion: 0) { version } }`,
		vars: func(w *matrixWorld, _ *obj) map[string]any { return map[string]any{"in": w.policy} },
		want: cells{"A", "F", "F", "F", "F", "F"}},
	{field: "createPartnerOrganization", query: `mutation { createPartnerOrganization(input: {name: "Initech"}) { id } }`, vars: noVars,
		want: cells{"A", "F", "F", "F", "F", "F"}},
	{field: "updatePartnerOrganization", query: `mutation($id: ID!, $v: Int!) { updatePartnerOrganization(id: $id, expectedVersion: $v, input: {name: "Renamed"}) { id } }`,
		vars: byIDVersion,
		object: func(t *testing.T, w *matrixWorld, fresh bool) *obj {
			if fresh {
				return &obj{ID: w.mustOrg(t, "Umbrella"), Version: 1}
			}
			return &obj{ID: w.q, Version: 1}
		},
		want: cells{"A", "F", "F", "F", "F", "F"}},
	{field: "issueApiKey", query: `mutation($id: ID!) { issueApiKey(partnerId: $id, name: "portal") { key } }`, vars: byID,
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &obj{ID: w.q} },
		want:   cells{"A", "F", "F", "F", "F", "F"}},
	{field: "registerWebhookEndpoint", query: `mutation($id: ID!) { registerWebhookEndpoint(input: {partnerId: $id, url: "https://hooks.example.com/r", eventTypes: ["rapport.customer.updated"]}) { secret } }`,
		vars: byID,
		object: func(t *testing.T, w *matrixWorld, fresh bool) *obj {
			if fresh {
				return &obj{ID: w.mustOrg(t, "Hooked")}
			}
			return &obj{ID: w.q}
		},
		want: cells{"A", "F", "F", "F", "F", "F"}},
	{field: "updateWebhookEndpoint", query: `mutation($id: ID!, $v: Int!) { updateWebhookEndpoint(id: $id, expectedVersion: $v, input: {status: DISABLED}) { id } }`,
		vars: byIDVersion,
		object: func(t *testing.T, w *matrixWorld, fresh bool) *obj {
			if fresh {
				return w.mustEndpoint(t, w.mustOrg(t, "Hooked"))
			}
			return &w.endpointQ
		},
		want: cells{"A", "F", "F", "F", "F", "F"}},
	{field: "rotateWebhookSecret", query: `mutation($id: ID!) { rotateWebhookSecret(id: $id, overlapMinutes: 60) { secret } }`, vars: byID,
		object: func(t *testing.T, w *matrixWorld, fresh bool) *obj {
			if fresh {
				return w.mustEndpoint(t, w.mustOrg(t, "Hooked"))
			}
			return &w.endpointP
		},
		want: cells{"A", "F", "F", "F", "F", "F"}},
	{field: "replayWebhookDelivery", query: `mutation($e: ID!, $id: ID!) { replayWebhookDelivery(endpointId: $e, deliveryId: $id) { id replayOf } }`,
		vars:   func(w *matrixWorld, o *obj) map[string]any { return map[string]any{"e": w.endpointP.ID, "id": o.ID} },
		object: func(_ *testing.T, w *matrixWorld, _ bool) *obj { return &w.deliveryP },
		want:   cells{"A", "F", "F", "F", "F", "A"}},
	// A lead made by sales2 and handed to sales1: its recipient accepts or
	// returns it; its maker's team's manager, ADMIN and AUDITOR read it;
	// nobody else learns that it exists.
	{field: "lead", query: `query($c: ID!, $id: ID!) { lead(customerId: $c, id: $id) { id need history { to } } }`, vars: byLead,
		object: func(t *testing.T, w *matrixWorld, _ bool) *obj { return w.mustLead(t, teamMate, "sales1", false) },
		want:   cells{"A", "A", "A", "N", "A", "F"}},
	{field: "acceptLead", query: `mutation($c: ID!, $id: ID!) { acceptLead(input: {customerId: $c, id: $id, expectedVersion: 1}) { id } }`, vars: byLead,
		object: func(t *testing.T, w *matrixWorld, _ bool) *obj { return w.mustLead(t, teamMate, "sales1", false) },
		want:   cells{"F", "F", "A", "N", "F", "F"}},
	{field: "returnLead", query: `mutation($c: ID!, $id: ID!) { returnLead(input: {customerId: $c, id: $id, expectedVersion: 1, reason: "not ours"}) { id } }`, vars: byLead,
		object: func(t *testing.T, w *matrixWorld, _ bool) *obj { return w.mustLead(t, teamMate, "sales1", false) },
		want:   cells{"F", "F", "A", "N", "F", "F"}},
	// A lead made by sales1, handed to sales2 (and returned): its maker
	// hands it again or withdraws it.
	{field: "handLead", query: `mutation($c: ID!, $id: ID!) { handLead(input: {customerId: $c, id: $id, expectedVersion: 2, handedTo: "sales2"}) { id } }`, vars: byLead,
		object: func(t *testing.T, w *matrixWorld, _ bool) *obj { return w.mustLead(t, own, "sales2", true) },
		want:   cells{"F", "F", "A", "N", "F", "F"}},
	{field: "withdrawLead", query: `mutation($c: ID!, $id: ID!) { withdrawLead(input: {customerId: $c, id: $id, expectedVersion: 1}) { id } }`, vars: byLead,
		object: func(t *testing.T, w *matrixWorld, _ bool) *obj { return w.mustLead(t, own, "sales2", false) },
		want:   cells{"F", "F", "A", "N", "F", "F"}},
	// Refusals are tried on a spare key of P, never the one the partner
	// cells sign in with.
	{field: "revokeApiKey", query: `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, vars: byID,
		object: func(t *testing.T, w *matrixWorld, fresh bool) *obj {
			if fresh {
				id, _ := w.mustKey(t, w.q)
				return &obj{ID: id}
			}
			return &obj{ID: w.spareKey}
		},
		want: cells{"A", "F", "F", "F", "F", "F"}},
}

// matrixWorld is the fixture every cell shares: the partner organizations
// P (the partner principal's) and Q, a template, and a customer of each
// target kind carrying a contact, an interaction, an open and a proposed
// case. Cells refused by the rules call on these shared objects (a refusal
// writes nothing); a cell whose write succeeds gets objects of its own.
type matrixWorld struct {
	e        *partnerEnv
	p, q     string // partner organizations
	key      string // P's key, the partner principal's
	spareKey string // the id of another key of P
	template obj
	policy   map[string]any // the grading policy in force, as input
	shared   [len(targetNames)]*obj
	seq      atomic.Int64
	// colleague is an active user of the directory, gone a deactivated
	// one (both at version 1 and 2), dept a department.
	colleague, gone, dept obj
	// desk is a department of team north.
	desk obj
	// endpointP and endpointQ are webhook endpoints of P and Q; deliveryP
	// is one of P's deliveries (the share of OWN).
	endpointP, endpointQ, deliveryP obj
	// notice is a notification of sales1's inbox.
	notice obj
}

func mustMatrixWorld(t *testing.T) *matrixWorld {
	t.Helper()
	w := &matrixWorld{e: mustPartnerEnv(t)}
	w.p, w.q = w.mustOrg(t, "Partner P"), w.mustOrg(t, "Partner Q")
	_, w.key = w.mustKey(t, w.p)
	w.spareKey, _ = w.mustKey(t, w.p)
	w.template = *w.mustTemplate(t)
	w.colleague = *w.mustUser(t, "matrix-colleague", false)
	w.gone = *w.mustUser(t, "matrix-gone", true)
	w.dept = *w.mustDepartment(t, "Matrix Desk")
	var desk struct{ CreateDepartment obj }
	w.admin(t, `mutation { createDepartment(input: {name: "Matrix Service Desk", team: "north"}) { id } }`, nil, &desk)
	w.desk = desk.CreateDepartment
	w.endpointP, w.endpointQ = *w.mustEndpoint(t, w.p), *w.mustEndpoint(t, w.q)
	var pol struct{ GradingPolicy map[string]any }
	w.e.staff(t, "admin", policyQuery, nil, &pol)
	w.policy = policyInput(t, pol.GradingPolicy)
	for tg := range w.shared {
		w.shared[tg] = w.mustCustomer(t, target(tg), needAll, "Matrix "+targetNames[tg])
	}
	// A customer assigned to sales1 tells them (their inbox's notice).
	handed := w.mustCustomer(t, teamMate, 0, "Matrix Handed")
	var assigned struct{}
	w.admin(t, `mutation($c: ID!) { assignCustomer(customerId: $c, ownerId: "sales1") { id } }`, map[string]any{"c": handed.ID}, &assigned)
	// The watch lists and counters follow from the stream; what it settles
	// (a grade from the calls logged) moves the customers' versions.
	w.e.drain(t)
	var log struct {
		WebhookEndpoint struct {
			Deliveries struct{ Edges []struct{ Node obj } }
		}
	}
	w.admin(t, `query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 1) { edges { node { id } } } } }`, map[string]any{"id": w.endpointP.ID}, &log)
	if d := log.WebhookEndpoint.Deliveries.Edges; len(d) == 1 {
		w.deliveryP = d[0].Node
	} else {
		t.Errorf("P's endpoint has %d deliveries after OWN was shared with P", len(d))
	}
	var inbox struct {
		Notifications struct{ Edges []struct{ Node obj } }
	}
	if w.setupAs(t, "sales1", `{ notifications(first: 1) { edges { node { id } } } }`, nil, &inbox) && len(inbox.Notifications.Edges) == 1 {
		w.notice = inbox.Notifications.Edges[0].Node
	} else {
		t.Errorf("sales1 was not told of the customer assigned to them: %+v", inbox)
	}
	for _, o := range w.shared {
		for _, x := range []*obj{o, o.Twin} {
			if x == nil || x.ID == "" {
				continue
			}
			var read struct{ Customer struct{ Version int } }
			w.admin(t, `query($id: ID!) { customer(id: $id) { version } }`, map[string]any{"id": x.ID}, &read)
			x.Version = read.Customer.Version
		}
	}
	return w
}

// admin runs a setup step as the admin. It reports a refusal with Errorf
// and goes on: the cell that needed the step then fails too.
func (w *matrixWorld) admin(t testing.TB, query string, vars map[string]any, out any) bool {
	t.Helper()
	return w.setupAs(t, "admin", query, vars, out)
}

// setupAs runs a setup step as user, like admin.
func (w *matrixWorld) setupAs(t testing.TB, user, query string, vars map[string]any, out any) bool {
	t.Helper()
	r := w.e.call(t, "/graphql", as(user), query, vars)
	if len(r.Errors) > 0 {
		t.Errorf("setup %s: %+v", query, r.Errors)
		return false
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Errorf("setup %s: %v", query, err)
		return false
	}
	return true
}

func (w *matrixWorld) mustOrg(t testing.TB, name string) string {
	var out struct{ CreatePartnerOrganization struct{ ID string } }
	w.admin(t, `mutation($n: String!) { createPartnerOrganization(input: {name: $n}) { id } }`, map[string]any{"n": name}, &out)
	return out.CreatePartnerOrganization.ID
}

// mustKey issues a key for org and returns its id and the key itself.
func (w *matrixWorld) mustKey(t testing.TB, org string) (id, key string) {
	var out struct {
		IssueAPIKey struct {
			Key    string
			APIKey struct{ ID string }
		}
	}
	w.admin(t, `mutation($p: ID!) { issueApiKey(partnerId: $p, name: "portal") { key apiKey { id } } }`, map[string]any{"p": org}, &out)
	return out.IssueAPIKey.APIKey.ID, out.IssueAPIKey.Key
}

// mustEndpoint registers a webhook endpoint of org, sent every event type.
func (w *matrixWorld) mustEndpoint(t testing.TB, org string) *obj {
	var out struct {
		RegisterWebhookEndpoint struct{ Endpoint obj }
	}
	w.admin(t, `mutation($p: ID!, $t: [String!]!) { registerWebhookEndpoint(input: {partnerId: $p, url: "https://hooks.example.com/rapport", eventTypes: $t}) { endpoint { id version } } }`,
		map[string]any{"p": org, "t": webhookTypes()}, &out)
	return &out.RegisterWebhookEndpoint.Endpoint
}

func webhookTypes() []string {
	out := make([]string, len(webhooks.Types))
	for i, t := range webhooks.Types {
		out[i] = string(t)
	}
	return out
}

func (w *matrixWorld) mustTemplate(t testing.TB) *obj {
	var out struct{ CreateTemplate obj }
	w.admin(t, `mutation { createTemplate(input: {name: "Review", indicators: [
		{key: "satisfaction", name: "Satisfaction", dimension: SATISFACTION, weight: 1, scaleMin: 1, scaleMax: 5}]}) { id version } }`, nil, &out)
	return &out.CreateTemplate
}

// mustUser adds a SALES user of team north to the directory, deactivated
// when gone.
func (w *matrixWorld) mustUser(t testing.TB, id string, gone bool) *obj {
	var out struct{ CreateUser obj }
	w.admin(t, `mutation($id: ID!, $n: String!) { createUser(input: {id: $id, name: $n, roles: [SALES], teams: ["north"]}) { id version } }`,
		map[string]any{"id": id, "n": id}, &out)
	if gone {
		var d struct{ DeactivateUser obj }
		w.admin(t, `mutation($id: ID!) { deactivateUser(id: $id, expectedVersion: 1) { id version } }`, map[string]any{"id": id}, &d)
		return &d.DeactivateUser
	}
	return &out.CreateUser
}

// userObject is the user a directory row changes: one of the cell's own
// when its write succeeds.
func (w *matrixWorld) userObject(t testing.TB, fresh, gone bool) *obj {
	switch {
	case fresh:
		return w.mustUser(t, fmt.Sprint("matrix-user-", w.seq.Add(1)), gone)
	case gone:
		return &w.gone
	}
	return &w.colleague
}

func (w *matrixWorld) mustDepartment(t testing.TB, name string) *obj {
	var out struct{ CreateDepartment obj }
	w.admin(t, `mutation($n: String!) { createDepartment(input: {name: $n}) { id version } }`, map[string]any{"n": name}, &out)
	return &out.CreateDepartment
}

// mustCustomer makes a customer of kind tg carrying what n asks for.
func (w *matrixWorld) mustCustomer(t testing.TB, tg target, n need, name string) *obj {
	t.Helper()
	o := &obj{Name: name, Owner: "sales1", Team: "north"}
	switch tg {
	case teamMate:
		o.Owner = "sales2"
	case foreign:
		o.Owner, o.Team = "sales3", "south"
	case pool:
		o.Owner = ""
	}
	if n&needOwnOwner != 0 && tg != pool {
		o.Owner = w.mustUser(t, fmt.Sprint("leaver-", w.seq.Add(1)), false).ID
	}
	if n&needTwin != 0 {
		o.Twin = w.mustCustomer(t, tg, 0, name+" twin")
	}
	n7 := w.seq.Add(1)
	o.Phone, o.Email = fmt.Sprintf("+86 139 %04d %04d", n7/10000, n7%10000), fmt.Sprintf("m%d@matrix.example.cn", n7)
	var created struct{ CreateCustomer struct{ ID string } }
	if !w.admin(t, createCustomer, map[string]any{"in": map[string]any{"kind": "ORGANIZATION", "name": o.Name,
		"ownerId": o.Owner, "team": o.Team, "region": o.Team, "phones": []string{o.Phone}, "emails": []string{o.Email}}}, &created) {
		return o
	}
	o.ID = created.CreateCustomer.ID
	c := map[string]any{"c": o.ID}
	var ok struct{}
	if tg == own {
		w.admin(t, `mutation($c: ID!, $p: ID!) { shareCustomer(customerId: $c, partnerId: $p) { id } }`, map[string]any{"c": o.ID, "p": w.p}, &ok)
	}
	if n&needContact != 0 {
		var out struct{ AddContact struct{ ID string } }
		w.admin(t, `mutation($c: ID!) { addContact(customerId: $c, input: {name: "Zhang San", primary: true}) { id } }`, c, &out)
		o.ContactID = out.AddContact.ID
	}
	logged := func(typ, more string) string {
		var out struct{ LogInteraction struct{ ID string } }
		w.admin(t, `mutation($c: ID!, $type: InteractionType!) { logInteraction(input: {customerId: $c, channel: PHONE, type: $type, subject: "call"`+more+`}) { id } }`,
			map[string]any{"c": o.ID, "type": typ}, &out)
		return out.LogInteraction.ID
	}
	if n&needInteraction != 0 {
		// with a follow-up due, for the follow-up lists of analytics
		o.InteractionID = logged("CALL", `, nextFollowUpAt: "2030-01-01T00:00:00Z"`)
	}
	if n&needOpenCase != 0 {
		o.CaseID = logged("COMPLAINT", "") // a case's id is its interaction's
	}
	if n&needProposedCase != 0 {
		o.ProposedCaseID = logged("FAULT_REPORT", "")
		for v, move := range []string{`to: TRIAGED`, `to: ASSIGNED, assignTo: "service1"`, `to: PROPOSED, plan: "replace the meter"`} {
			var out struct{ MoveCase struct{ Version int } }
			w.setupAs(t, "planner", `mutation($c: ID!, $case: ID!, $v: Int!) { moveCase(input: {customerId: $c, caseId: $case, expectedVersion: $v, `+move+`}) { version } }`,
				map[string]any{"c": o.ID, "case": o.ProposedCaseID, "v": v + 1}, &out)
			o.ProposedCaseVersion = out.MoveCase.Version
		}
	}
	if n&needTask != 0 {
		var out struct{ CreateTask struct{ ID string } }
		w.admin(t, `mutation($c: ID!) { createTask(input: {customerId: $c, type: VISIT, dueAt: "2027-06-01T00:00:00Z"}) { id } }`, c, &out)
		o.TaskID = out.CreateTask.ID
	}
	if n&needDeal != 0 {
		owner := o.Owner
		if owner == "" {
			owner = "manager"
		}
		var out struct{ CreateOpportunity struct{ ID string } }
		w.admin(t, `mutation($c: ID!, $o: String!) { createOpportunity(input: {customerId: $c, ownerId: $o, title: "Pumps",
			amount: "5000", expectedCloseDate: "2026-06-30"}) { id } }`, map[string]any{"c": o.ID, "o": owner}, &out)
		o.DealID = out.CreateOpportunity.ID
	}
	if n&needContract != 0 {
		owner := o.Owner
		if owner == "" {
			owner = "manager"
		}
		var out struct{ CreateContract struct{ ID string } }
		w.admin(t, `mutation($c: ID!, $o: String!) { createContract(input: {customerId: $c, ownerId: $o, title: "Pumps", amount: "5000",
			signedDate: "2026-01-05", endDate: "2026-12-31", instalments: [{dueDate: "2026-02-05", amount: "5000"}]}) { id } }`,
			map[string]any{"c": o.ID, "o": owner}, &out)
		o.ContractID = out.CreateContract.ID
	}
	var read struct{ Customer struct{ Version int } }
	w.admin(t, `query($id: ID!) { customer(id: $id) { version } }`, map[string]any{"id": o.ID}, &read)
	o.Version = read.Customer.Version
	if n&needArchived != 0 {
		var out struct{ ArchiveCustomer struct{ Version int } }
		w.admin(t, `mutation($id: ID!, $v: Int!) { archiveCustomer(id: $id, expectedVersion: $v) { version } }`, map[string]any{"id": o.ID, "v": o.Version}, &out)
		o.Version = out.ArchiveCustomer.Version
	}
	return o
}

// mustLead makes a customer of target kind tg and a lead on it, made by
// its owner and handed to to (then returned by them when returned).
func (w *matrixWorld) mustLead(t testing.TB, tg target, to string, returned bool) *obj {
	t.Helper()
	o := w.mustCustomer(t, tg, 0, fmt.Sprint("Matrix Lead ", w.seq.Add(1)))
	var out struct{ CreateLead struct{ ID string } }
	w.setupAs(t, o.Owner, `mutation($c: ID!, $to: String!) { createLead(input: {customerId: $c, need: "A new line", handedTo: $to}) { id } }`,
		map[string]any{"c": o.ID, "to": to}, &out)
	o.LeadID = out.CreateLead.ID
	if returned {
		w.setupAs(t, to, `mutation($c: ID!, $id: ID!) { returnLead(input: {customerId: $c, id: $id, expectedVersion: 1, reason: "not now"}) { id } }`,
			map[string]any{"c": o.ID, "id": o.LeadID}, &struct{}{})
	}
	return o
}

// call runs a row's operation on o as the role in column ri.
func (w *matrixWorld) call(t testing.TB, ri int, rw *matrixRow, o *obj) *response {
	t.Helper()
	vars := rw.vars(w, o)
	if matrixRoles[ri].user == "" {
		return w.e.partner(t, w.key, rw.query, vars)
	}
	return w.e.call(t, "/graphql", as(matrixRoles[ri].user), rw.query, vars)
}

var outcomeLetters = map[string]string{crm.EFORBIDDEN: "F", crm.ENOTFOUND: "N", crm.ECONFLICT: "C"}

// outcome reads a cell's outcome from the response: the letter of the
// error code (the code itself when it has none), or whether the data
// names the target.
func outcome(r *response, absent, id string) string {
	switch {
	case len(r.Errors) > 0:
		if l, ok := outcomeLetters[r.code()]; ok {
			return l
		}
		return r.code()
	case absent != "" && !strings.Contains(string(r.Data), id):
		return absent
	}
	return "A"
}

// missingID is a well-formed id that names nothing.
const missingID = "01JZZZZZZZZZZZZZZZZZZZZZZZ"

// sameAsMissing checks that a NOT_FOUND answer on o is exactly the answer
// for an id that does not exist: same code, message, field and data.
func (w *matrixWorld) sameAsMissing(t *testing.T, ri int, rw *matrixRow, o *obj, r *response) {
	t.Helper()
	m := *o
	m.ID = missingID
	missing := w.call(t, ri, rw, &m)
	norm := func(r *response, id string) string {
		var msgs []string
		for _, e := range r.Errors {
			msgs = append(msgs, fmt.Sprintf("%v %q field=%v", e.Extensions["code"], strings.ReplaceAll(e.Message, id, "<id>"), e.Extensions["field"]))
		}
		return fmt.Sprintf("errors %v data %s", msgs, strings.ReplaceAll(string(r.Data), id, "<id>"))
	}
	if got, want := norm(r, o.ID), norm(missing, missingID); got != want {
		t.Errorf("NOT_FOUND differs from a missing id's answer:\n got     %s\n missing %s", got, want)
	}
}

// runCell calls rw on o as role ri and compares the outcome with want.
func (w *matrixWorld) runCell(t *testing.T, ri int, rw *matrixRow, o *obj, want string) {
	r := w.call(t, ri, rw, o)
	got := outcome(r, rw.absent, o.ID)
	if got == "A" && rw.rowOutcome != nil {
		got = rw.rowOutcome(r.Data)
	}
	if got != want {
		t.Fatalf("%s: got %s, want %s: data %s errors %+v", rw.title(), got, want, r.Data, r.Errors)
	}
	if want == "N" {
		w.sameAsMissing(t, ri, rw, o, r)
	}
}

func succeeds(want string) bool { return want == "A" || want == "H" }

// runRows runs the cells of rows, workers at a time: they wait on
// DynamoDB Local, not on the CPU. (t.Parallel would run only GOMAXPROCS.)
func (w *matrixWorld) runRows(t *testing.T, rows []matrixRow, workers int) {
	type cell struct {
		name string
		run  func(t *testing.T)
	}
	var all []cell
	for i := range rows {
		rw := &rows[i]
		for ri, cs := range rw.want {
			role := matrixRoles[ri].role
			if rw.object != nil || len(cs) == 1 {
				want := cs
				all = append(all, cell{rw.title() + "/" + role, func(t *testing.T) {
					o := &obj{}
					if rw.object != nil {
						o = rw.object(t, w, rw.writes() && succeeds(want))
					}
					w.runCell(t, ri, rw, o, want)
				}})
				continue
			}
			for tg, c := range cs {
				want := string(c)
				if want == "-" {
					continue
				}
				all = append(all, cell{rw.title() + "/" + role + "/" + targetNames[tg], func(t *testing.T) {
					o := w.shared[tg]
					if rw.writes() && succeeds(want) && rw.need&needNoTarget == 0 {
						o = w.mustCustomer(t, target(tg), rw.need, fmt.Sprintf("Fresh %s %d", targetNames[tg], w.seq.Add(1)))
					}
					w.runCell(t, ri, rw, o, want)
				}})
			}
		}
	}
	next := make(chan cell)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				t.Run(c.name, c.run)
			}
		}()
	}
	for _, c := range all {
		next <- c
	}
	close(next)
	wg.Wait()
}

func TestAuthorizationMatrix(t *testing.T) {
	checkMatrixCells(t)
	w := mustMatrixWorld(t)
	if t.Failed() {
		t.FailNow()
	}
	var reads, writes []matrixRow
	for _, rw := range slices.Concat(customerRows, otherRows) {
		if rw.writes() {
			writes = append(writes, rw)
		} else {
			reads = append(reads, rw)
		}
	}
	// Reads first: the lists then hold the shared customers only.
	t.Run("Query", func(t *testing.T) { w.runRows(t, reads, 4) })
	t.Run("Mutation", func(t *testing.T) { w.runRows(t, writes, 4) })
}

// checkMatrixCells checks the table itself: a letter per target in
// customer rows, one per role elsewhere, all from the legend.
func checkMatrixCells(t *testing.T) {
	for _, rows := range []struct {
		rows []matrixRow
		n    int
	}{{customerRows, len(targetNames)}, {otherRows, 1}} {
		for _, rw := range rows.rows {
			for ri, cs := range rw.want {
				if len(cs) != rows.n || strings.Trim(cs, "AFNCH-") != "" {
					t.Errorf("%s: %s cell %q: want %d of A F N C H -", rw.title(), matrixRoles[ri].role, cs, rows.n)
				}
			}
		}
	}
}

// Every root field of the served schema has a row, so a new operation
// cannot ship without its authorization being written down and tested.
func TestAuthorizationMatrixCoversEveryRootField(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	rows := map[string]bool{}
	for _, rw := range slices.Concat(customerRows, otherRows) {
		rows[rw.field] = true
	}
	inSchema := map[string]bool{}
	for _, def := range []struct {
		name   string
		fields []string
	}{{"Query", fieldNames(schema.Query.Fields)}, {"Mutation", fieldNames(schema.Mutation.Fields)}} {
		for _, f := range def.fields {
			if strings.HasPrefix(f, "__") || f == "_noop" {
				continue
			}
			inSchema[f] = true
			if !rows[f] {
				t.Errorf("%s.%s has no row in the authorization matrix (authz_matrix_test.go)", def.name, f)
			}
		}
	}
	for f := range rows {
		if !inSchema[f] {
			t.Errorf("the authorization matrix has a row for %s, which is no root field", f)
		}
	}
}

func fieldNames(fields ast.FieldList) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}
