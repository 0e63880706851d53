package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/server"
	"github.com/rapportcrm/rapport/stream"
	"github.com/rapportcrm/rapport/stream/streamtest"
	"github.com/rapportcrm/rapport/webhooks"
)

var users = map[string]*crm.User{
	"admin":   {ID: "admin", Roles: []crm.Role{crm.RoleAdmin}},
	"auditor": {ID: "auditor", Roles: []crm.Role{crm.RoleAuditor}},
	"manager": {ID: "manager", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"north"}},
	"sales1":  {ID: "sales1", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"north"}},
	"sales2":  {ID: "sales2", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"north"}},
	// service1 plays SERVICE in the authorization matrix (authz_matrix_test.go).
	// planner, a second admin, proposes its cases' handling plans, so that
	// whoever approves one is someone else (separation of duties).
	"planner":  {ID: "planner", Roles: []crm.Role{crm.RoleAdmin}},
	"service1": {ID: "service1", Roles: []crm.Role{crm.RoleService}, Teams: []string{"north"}},
}

// headerAuth stands in for the OIDC verifier (tested in oidc/): the
// X-Test-User header names the caller.
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request) (*crm.User, error) {
	if u, ok := users[r.Header.Get("X-Test-User")]; ok {
		return u, nil
	}
	return nil, crm.Errorf(crm.EUNAUTHORIZED, "missing bearer token")
}

type env struct {
	srv *httptest.Server
	svc *crm.Service
	// ops records the DynamoDB operations made since the last reset.
	mu   sync.Mutex
	ops  []string
	logs *bytes.Buffer
	// consumer applies the table's stream (on a client of its own, so its
	// calls are not the requests').
	consumer *streamtest.Consumer
}

// drain applies what the writes so far imply (activity, grades,
// counters, analytics), as the stream function does within seconds.
func (e *env) drain(tb testing.TB) {
	tb.Helper()
	e.consumer.Drain(tb)
}

// mustEnv serves a fresh table whose directory knows the test users.
func mustEnv(tb testing.TB) *env {
	e := mustEnvOnTable(tb, ddbtest.NewTable(tb, "CrmTable"))
	mustDirectory(tb, e.svc)
	return e
}

func mustEnvOnTable(tb testing.TB, table string, opts ...func(*dynamodb.Options)) *env {
	tb.Helper()
	e := &env{logs: &bytes.Buffer{}}
	db := dynamodb.New(ddbtest.Client(tb).Options(), append(opts, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					e.mu.Lock()
					e.ops = append(e.ops, awsmiddleware.GetOperationName(ctx))
					e.mu.Unlock()
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	})...)
	svc := crm.NewService(dynamo.New(db, table, []byte(strings.Repeat("s", 32))))
	// The call-count tests count DynamoDB operations; a slow setup must not
	// let the cached grading policy expire between setup and count.
	svc.PolicyTTL = time.Hour
	if table != missingTable {
		clean := dynamo.New(ddbtest.Client(tb), table, []byte(strings.Repeat("s", 32)))
		e.consumer = streamtest.New(tb, ddbtest.Client(tb), table, clean, crm.NewService(clean))
		// The change feed's logs, as the stack's stream function writes them.
		e.consumer.Handlers = append(e.consumer.Handlers, &stream.ChangeLog{Store: clean})
	}
	// The tests drain the stream before they read the change feed: no
	// write is under way that the feed must wait for.
	svc.ChangeSettle = 0
	svc.DirectoryTTL = time.Hour
	e.svc = svc
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: e.logs}, nil))
	// Partner webhooks are served as in the stack; nothing is delivered.
	sealer, err := webhooks.NewSealer([]byte(strings.Repeat("w", 32)))
	if err != nil {
		tb.Fatal(err)
	}
	served := testOptions
	served.Webhooks = &webhooks.Service{Store: svc.Store.(*dynamo.Store), Sealer: sealer, Now: time.Now}
	e.srv = httptest.NewServer(server.New(svc, headerAuth{}, log, served))
	tb.Cleanup(e.srv.Close)
	return e
}

func (e *env) resetOps() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ops = nil
}

func (e *env) takeOps() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	ops := e.ops
	e.ops = nil
	return ops
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Data   json.RawMessage `json:"data"` // nil when the response has no data entry
	Errors []gqlError      `json:"errors"`
	status int
	header http.Header
}

func (r *response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// outcome is the response's error code, "HTTP <status>" for a failure
// without one, and "" for a success.
func (r *response) outcome() string {
	if c := r.code(); c != "" || r.status == http.StatusOK {
		return c
	}
	return fmt.Sprint("HTTP ", r.status)
}

func (r *response) field() string {
	if len(r.Errors) == 0 {
		return ""
	}
	f, _ := r.Errors[0].Extensions["field"].(string)
	return f
}

// do posts an operation. It reports transport failures with tb.Errorf and
// an error response, not FailNow, so that it is safe in goroutines.
func (e *env) do(tb testing.TB, user, query string, vars map[string]any) *response {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Test-User", user)
	var out response
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		defer res.Body.Close()
		out.status = res.StatusCode
		err = json.NewDecoder(res.Body).Decode(&out)
	}
	if err != nil {
		tb.Errorf("%s: %v", query, err)
		out.Errors = []gqlError{{Message: err.Error(), Extensions: map[string]any{"code": "TRANSPORT"}}}
	}
	return &out
}

// mustDo runs an operation that must succeed and decodes its data into out.
func (e *env) mustDo(tb testing.TB, user, query string, vars map[string]any, out any) {
	tb.Helper()
	r := e.do(tb, user, query, vars)
	if len(r.Errors) > 0 {
		tb.Fatalf("%s: %+v", query, r.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			tb.Fatal(err)
		}
	}
}

const createCustomer = `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id version } }`

func (e *env) mustCreate(tb testing.TB, user string, in map[string]any) (id string) {
	tb.Helper()
	var out struct{ CreateCustomer struct{ ID string } }
	e.mustDo(tb, user, createCustomer, map[string]any{"in": in}, &out)
	return out.CreateCustomer.ID
}

func (e *env) mustLog(tb testing.TB, customerID, subject string) {
	tb.Helper()
	e.mustDo(tb, "admin", `mutation($in: LogInteractionInput!) { logInteraction(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"customerId": customerID, "channel": "PHONE", "type": "CALL", "subject": subject}}, nil)
}

func TestCustomer360IsOneDynamoDBCall(t *testing.T) {
	e := mustEnv(t)
	id := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": "Screen Pop Ltd", "grade": "B"})
	e.mustDo(t, "admin", `mutation($c: ID!) { addContact(customerId: $c, input: {name: "Li Na", primary: true}) { id } }`, map[string]any{"c": id}, nil)
	for i := range 5 {
		e.mustLog(t, id, fmt.Sprint("call ", i))
	}
	e.resetOps()
	var out struct {
		Customer360 struct {
			Customer struct {
				Grade             struct{ Level struct{ Code string } }
				LatestInteraction struct{ Subject string }
			}
			Contacts           []struct{ Name string }
			RecentInteractions []struct {
				Subject  string
				Customer struct{ Name string }
			}
		}
	}
	// latestInteraction and the interactions' customer are answered from
	// the same read.
	e.mustDo(t, "admin", `query($id: ID!) { customer360(id: $id, recentInteractions: 3) {
		customer { name grade { level { code label responseSlaHours } reason setAt } recentEvaluations { overall } satisfactionIndex
			latestInteraction { subject } }
		contacts { name primary } recentInteractions { channel subject occurredAt customer { name } } } }`, map[string]any{"id": id}, &out)
	if ops := e.takeOps(); !slices.Equal(ops, []string{"Query"}) {
		t.Fatalf("360 view made DynamoDB calls %v, want one Query", ops)
	}
	v := out.Customer360
	if v.Customer.Grade.Level.Code != "B" || len(v.Contacts) != 1 || len(v.RecentInteractions) != 3 || v.RecentInteractions[0].Subject != "call 4" ||
		v.Customer.LatestInteraction.Subject != "call 4" || v.RecentInteractions[2].Customer.Name != "Screen Pop Ltd" {
		t.Fatalf("unexpected 360 view: %+v", v)
	}
}

// The 360's lists answer the same whether their elements are marshalled
// in the request's goroutine (no field under them resolves concurrently)
// or each in its own (the interactions' customer, a resolver): same
// elements, same order, same values.
func TestCustomer360ListsAnswerTheSameInPlaceOrConcurrently(t *testing.T) {
	e := mustEnv(t)
	id := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": "Lists Ltd", "grade": "B"})
	for i := range 3 {
		e.mustDo(t, "admin", `mutation($c: ID!, $n: String!) { addContact(customerId: $c, input: {name: $n}) { id } }`, map[string]any{"c": id, "n": fmt.Sprint("Contact ", i)}, nil)
	}
	for i := range 6 {
		e.mustLog(t, id, fmt.Sprint("call ", i))
	}
	type view struct {
		Customer360 struct {
			Contacts           []struct{ ID, Name string }
			RecentInteractions []struct {
				ID, Subject, OccurredAt string
				Customer                *struct{ Name string }
			}
		}
	}
	const q = `query($id: ID!) { customer360(id: $id, recentInteractions: 5) { contacts { id name } recentInteractions { id subject occurredAt %s } } }`
	var inPlace, concurrent view
	e.mustDo(t, "admin", fmt.Sprintf(q, ""), map[string]any{"id": id}, &inPlace)
	e.mustDo(t, "admin", fmt.Sprintf(q, "customer { name }"), map[string]any{"id": id}, &concurrent)
	a, b := inPlace.Customer360, concurrent.Customer360
	if len(a.Contacts) != 3 || len(a.RecentInteractions) != 5 || a.RecentInteractions[0].Subject != "call 5" || a.RecentInteractions[4].Subject != "call 1" {
		t.Fatalf("in place: %+v", a)
	}
	if !slices.Equal(a.Contacts, b.Contacts) || len(b.RecentInteractions) != len(a.RecentInteractions) {
		t.Fatalf("in place %+v, concurrently %+v", a, b)
	}
	for i, in := range b.RecentInteractions {
		if in.Customer == nil || in.Customer.Name != "Lists Ltd" || a.RecentInteractions[i].Customer != nil {
			t.Fatalf("interaction %d: in place %+v, concurrently %+v", i, a.RecentInteractions[i], in)
		}
		in.Customer = nil
		if in != a.RecentInteractions[i] {
			t.Fatalf("interaction %d: in place %+v, concurrently %+v", i, a.RecentInteractions[i], in)
		}
	}
}

func TestListing50CustomersWithGradeAndLatestInteractionIsTwoCalls(t *testing.T) {
	e := mustEnv(t)
	for i := range 50 {
		id := e.mustCreate(t, "admin", map[string]any{"kind": "PERSON", "name": fmt.Sprint("Customer ", i), "region": "east", "grade": "C"})
		e.mustLog(t, id, fmt.Sprint("hello ", i))
	}
	e.drain(t)
	e.resetOps()
	var out struct {
		Customers struct {
			Edges []struct {
				Node struct {
					Name              string
					Grade             struct{ Level struct{ Code string } }
					LatestInteraction *struct{ Subject string }
				}
			}
		}
	}
	e.mustDo(t, "admin", `{ customers(filter: {region: "east"}, first: 50) { edges { node {
		name grade { level { code } } latestInteraction { subject occurredAt } } } } }`, nil, &out)
	if ops := e.takeOps(); !slices.Equal(ops, []string{"Query", "BatchGetItem"}) {
		t.Fatalf("listing made DynamoDB calls %v, want one Query and one BatchGetItem", ops)
	}
	if len(out.Customers.Edges) != 50 {
		t.Fatalf("listed %d customers", len(out.Customers.Edges))
	}
	for _, edge := range out.Customers.Edges {
		n := edge.Node
		if n.Grade.Level.Code != "C" || n.LatestInteraction == nil || !strings.HasPrefix(n.LatestInteraction.Subject, "hello ") {
			t.Fatalf("incomplete node %+v", n)
		}
	}
}

func TestInvalidInputIsBadUserInputNamingTheFieldAndWritesNothing(t *testing.T) {
	e := mustEnv(t)
	tpl := func(w1, w2 float64) map[string]any {
		return map[string]any{"name": "T", "indicators": []map[string]any{
			{"key": "a", "name": "A", "dimension": "TRUST", "weight": w1, "scaleMin": 1, "scaleMax": 5},
			{"key": "b", "name": "B", "dimension": "LOYALTY", "weight": w2, "scaleMin": 1, "scaleMax": 5},
		}}
	}
	tests := []struct {
		name, query string
		vars        map[string]any
		field       string
	}{
		{"BadEmail", createCustomer, map[string]any{"in": map[string]any{"kind": "PERSON", "name": "X", "emails": []string{"x@y.cn", "not-an-email"}}}, "input.emails[1]"},
		// In production a variable that does not coerce is named, not walked.
		{"UnknownEnum", createCustomer, map[string]any{"in": map[string]any{"kind": "ROBOT", "name": "X"}}, "in"},
		{"OversizedName", createCustomer, map[string]any{"in": map[string]any{"kind": "PERSON", "name": strings.Repeat("n", 201)}}, "input.name"},
		{"OversizedTagList", createCustomer, map[string]any{"in": map[string]any{"kind": "PERSON", "name": "X", "tags": strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")}}, "input.tags"},
		{"WeightsNotSummingToOne", `mutation($in: TemplateInput!) { createTemplate(input: $in) { id } }`, map[string]any{"in": tpl(0.5, 0.6)}, "input.indicators"},
		{"MalformedDateTime", `query($f: DateTime) { interactions(customerId: "x", from: $f) { totalCount } }`, map[string]any{"f": "yesterday"}, "from"},
		{"PageTooLarge", `{ customers(first: 1000) { totalCount } }`, nil, "first"},
		{"BadCursor", `{ customers(after: "forged") { totalCount } }`, nil, "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "admin", tt.query, tt.vars)
			if r.code() != crm.EINVALID || r.field() != tt.field {
				t.Fatalf("got %+v, want BAD_USER_INPUT on %s", r.Errors, tt.field)
			}
			if !strings.Contains(r.Errors[0].Message, tt.field) {
				t.Errorf("message %q does not name %s", r.Errors[0].Message, tt.field)
			}
		})
	}
	var out struct {
		Customers struct{ TotalCount int }
		Templates struct{ TotalCount int }
	}
	e.mustDo(t, "admin", `{ customers { totalCount } templates { totalCount } }`, nil, &out)
	if out.Customers.TotalCount != 0 || out.Templates.TotalCount != 0 {
		t.Fatalf("invalid input wrote something: %+v", out)
	}
}

// An argument of a field deep in the response is named by itself, not by
// the path of the object it hangs on.
func TestMalformedDateTimeOnANestedFieldNamesTheArgument(t *testing.T) {
	e := mustEnv(t)
	e.mustCreate(t, "admin", map[string]any{"kind": "PERSON", "name": "Timeline"})
	r := e.do(t, "admin", `query($to: DateTime) { customers { edges { node { interactions(from: "2026-01-01T00:00:00Z", to: $to) { totalCount } } } } }`,
		map[string]any{"to": "31/12/2026"})
	if r.code() != crm.EINVALID || r.field() != "to" || !strings.HasPrefix(r.Errors[0].Message, "to: ") {
		t.Fatalf("got %+v, want BAD_USER_INPUT on to", r.Errors)
	}
}

func TestRolesAreEnforcedPerObject(t *testing.T) {
	e := mustEnv(t)
	own := e.mustCreate(t, "sales1", map[string]any{"kind": "PERSON", "name": "Mine"})
	foreign := e.mustCreate(t, "sales2", map[string]any{"kind": "PERSON", "name": "Not mine"})

	var got struct{ Customer *struct{ ID string } }
	e.mustDo(t, "sales1", `query($id: ID!) { customer(id: $id) { id } }`, map[string]any{"id": foreign}, &got)
	if got.Customer != nil {
		t.Fatal("SALES read another owner's customer")
	}
	if r := e.do(t, "sales1", `query($id: ID!) { customer360(id: $id) { customer { id } } }`, map[string]any{"id": foreign}); r.code() != crm.ENOTFOUND {
		t.Fatalf("SALES 360 of another owner's customer: %+v", r.Errors)
	}
	update := `mutation($id: ID!) { updateCustomer(id: $id, expectedVersion: 1, input: {name: "Taken"}) { id } }`
	if r := e.do(t, "sales1", update, map[string]any{"id": foreign}); r.code() != crm.ENOTFOUND {
		t.Fatalf("SALES changed another owner's customer: %+v", r.Errors)
	}
	if r := e.do(t, "sales1", `{ customers(filter: {ownerId: "sales2"}) { totalCount } }`, nil); r.code() != crm.EFORBIDDEN {
		t.Fatalf("SALES listed another owner's customers: %+v", r.Errors)
	}
	e.mustDo(t, "sales1", update, map[string]any{"id": own}, nil)

	for name, q := range map[string]string{
		"Create": `mutation { createCustomer(input: {kind: PERSON, name: "Audited"}) { id } }`,
		"Update": update,
		"Log":    `mutation($id: ID!) { logInteraction(input: {customerId: $id, channel: PHONE, type: CALL}) { id } }`,
		"Grade":  `mutation($id: ID!) { setGrade(input: {customerId: $id, level: "A", reason: "why not"}) { id } }`,
	} {
		t.Run("AuditorCannot"+name, func(t *testing.T) {
			if r := e.do(t, "auditor", q, map[string]any{"id": foreign}); r.code() != crm.EFORBIDDEN {
				t.Fatalf("AUDITOR wrote: %+v", r.Errors)
			}
		})
	}
	var read struct{ Customer struct{ Name string } }
	e.mustDo(t, "auditor", `query($id: ID!) { customer(id: $id) { name } }`, map[string]any{"id": foreign}, &read)
	if read.Customer.Name != "Not mine" {
		t.Fatal("AUDITOR cannot read")
	}
}

func TestConcurrentUpdatesApplyOrConflictNeverLose(t *testing.T) {
	e := mustEnv(t)
	id := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": "Contended"})
	const writers = 20
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied []string
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			val := fmt.Sprint("writer-", w)
			r := e.do(t, "admin", `mutation($id: ID!, $v: Int!, $a: [AttributeInput!]) {
				updateCustomer(id: $id, expectedVersion: $v, input: {attributes: $a}) { version } }`,
				map[string]any{"id": id, "v": 1, "a": []map[string]any{{"key": "writer", "value": val}}})
			switch r.code() {
			case "":
				mu.Lock()
				applied = append(applied, val)
				mu.Unlock()
			case crm.ECONFLICT:
			default:
				t.Errorf("writer %d: %+v", w, r.Errors)
			}
		}()
	}
	wg.Wait()
	var out struct {
		Customer struct {
			Version    int
			Attributes []struct{ Key, Value string }
		}
	}
	e.mustDo(t, "admin", `query($id: ID!) { customer(id: $id) { version attributes { key value } } }`, map[string]any{"id": id}, &out)
	// All writers based their change on version 1: exactly one can apply,
	// and the stored state is exactly that one's.
	if len(applied) != 1 || out.Customer.Version != 2 || len(out.Customer.Attributes) != 1 || out.Customer.Attributes[0].Value != applied[0] {
		t.Fatalf("applied %v, stored version %d attributes %+v", applied, out.Customer.Version, out.Customer.Attributes)
	}

	// Writers that re-read and retry on CONFLICT all land, in turn, and
	// none overwrites another: each adds its own attribute to what it read.
	const query = `query($id: ID!) { customer(id: $id) { version attributes { key value } } }`
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprint("w", w)
			for range 200 {
				var cur struct {
					Customer struct {
						Version    int
						Attributes []map[string]string
					}
				}
				// Not mustDo: FailNow must not be called off the test's goroutine.
				if r := e.do(t, "admin", query, map[string]any{"id": id}); len(r.Errors) > 0 || json.Unmarshal(r.Data, &cur) != nil {
					t.Errorf("writer %d cannot read: %+v", w, r.Errors)
					return
				}
				attrs := append(cur.Customer.Attributes, map[string]string{"key": key, "value": key})
				r := e.do(t, "admin", `mutation($id: ID!, $v: Int!, $a: [AttributeInput!]) {
					updateCustomer(id: $id, expectedVersion: $v, input: {attributes: $a}) { version } }`,
					map[string]any{"id": id, "v": cur.Customer.Version, "a": attrs})
				switch r.code() {
				case "":
					return
				case crm.ECONFLICT:
				default:
					t.Errorf("writer %d: %+v", w, r.Errors)
					return
				}
			}
			t.Errorf("writer %d never applied", w)
		}()
	}
	wg.Wait()
	e.mustDo(t, "admin", query, map[string]any{"id": id}, &out)
	want := map[string]string{"writer": applied[0]}
	for w := range writers {
		want[fmt.Sprint("w", w)] = fmt.Sprint("w", w)
	}
	got := map[string]string{}
	for _, a := range out.Customer.Attributes {
		got[a.Key] = a.Value
	}
	if !maps.Equal(got, want) || out.Customer.Version != 2+writers {
		t.Fatalf("stored version %d attributes %v, want version %d attributes %v", out.Customer.Version, got, 2+writers, want)
	}
}

// missingTable names a table that does not exist.
const missingTable = "no-such-table"

func TestInternalErrorsAreMaskedWithARequestID(t *testing.T) {
	// A table that does not exist makes DynamoDB fail with a message that
	// names it; the client must see none of that.
	e := mustEnvOnTable(t, missingTable)
	r := e.do(t, "admin", `{ customers { totalCount } }`, nil)
	if r.code() != crm.EINTERNAL || r.Errors[0].Message != "internal error" || r.Errors[0].Extensions["requestId"] == "" {
		t.Fatalf("got %+v", r.Errors)
	}
	raw, _ := json.Marshal(r)
	if strings.Contains(string(raw), "no-such-table") || strings.Contains(strings.ToLower(string(raw)), "dynamodb") {
		t.Fatalf("response leaks internals: %s", raw)
	}
	if !strings.Contains(e.logs.String(), "non-existent table") {
		t.Fatalf("the cause was not logged server-side: %s", e.logs)
	}
}

func TestUnauthenticatedRequestsAreRefused(t *testing.T) {
	e := mustEnv(t)
	r := e.do(t, "", `{ me { id } }`, nil)
	if r.status != http.StatusUnauthorized || r.code() != crm.EUNAUTHORIZED {
		t.Fatalf("status %d, %+v", r.status, r.Errors)
	}
}

func TestClaimFromThePoolThroughGraphQL(t *testing.T) {
	e := mustEnv(t)
	id := e.mustCreate(t, "admin", map[string]any{"kind": "PERSON", "name": "Pooled", "ownerId": "", "region": "north", "grade": "B"})
	var out struct {
		ClaimCustomer struct {
			OwnerID string
			Claim   struct{ By, At, ExpiresAt string }
		}
	}
	e.mustDo(t, "sales1", `mutation($id: ID!) { claimCustomer(customerId: $id) { ownerId claim { by at expiresAt } } }`, map[string]any{"id": id}, &out)
	if out.ClaimCustomer.OwnerID != "sales1" || out.ClaimCustomer.Claim.By != "sales1" || out.ClaimCustomer.Claim.ExpiresAt <= out.ClaimCustomer.Claim.At {
		t.Fatalf("claim: %+v", out)
	}
	// Now sales1's, the customer is out of sales2's sight: a later claim
	// is answered as for an id that does not exist.
	claim := `mutation($id: ID!) { claimCustomer(customerId: $id) { id } }`
	second := e.do(t, "sales2", claim, map[string]any{"id": id})
	missing := e.do(t, "sales2", claim, map[string]any{"id": "01JZZZZZZZZZZZZZZZZZZZZZZZ"})
	if second.code() != crm.ENOTFOUND || strings.ReplaceAll(second.Errors[0].Message, id, "<id>") !=
		strings.ReplaceAll(missing.Errors[0].Message, "01JZZZZZZZZZZZZZZZZZZZZZZZ", "<id>") {
		t.Fatalf("second claim %+v, on a missing id %+v", second.Errors, missing.Errors)
	}
}

func TestNestedListsDoNotReReadTheirCustomer(t *testing.T) {
	e := mustEnv(t)
	for i := range 5 {
		id := e.mustCreate(t, "admin", map[string]any{"kind": "ORGANIZATION", "name": fmt.Sprint("Org ", i), "region": "west"})
		e.mustDo(t, "admin", `mutation($c: ID!) { addContact(customerId: $c, input: {name: "Li"}) { id } }`, map[string]any{"c": id}, nil)
	}
	e.resetOps()
	var out struct {
		Customers struct {
			Edges []struct {
				Node struct{ Contacts []struct{ Name string } }
			}
		}
	}
	e.mustDo(t, "admin", `{ customers(filter: {region: "west"}) { edges { node { contacts { name } } } } }`, nil, &out)
	// One Query and one BatchGetItem for the list, one Query per
	// customer's contacts: no per-customer read to authorize them.
	if ops := e.takeOps(); !slices.Equal(ops, []string{"Query", "BatchGetItem", "Query", "Query", "Query", "Query", "Query"}) {
		t.Fatalf("DynamoDB calls %v, want the list's Query and BatchGetItem and 5 Queries", ops)
	}
	for _, edge := range out.Customers.Edges {
		if len(edge.Node.Contacts) != 1 {
			t.Fatalf("contacts missing: %+v", out)
		}
	}
}
