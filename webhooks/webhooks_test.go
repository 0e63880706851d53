package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/events"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/stream/streamtest"
	"github.com/rapportcrm/rapport/webhooks"
)

var (
	admin   = &crm.User{ID: "admin-1", Roles: []crm.Role{crm.RoleAdmin}}
	manager = &crm.User{ID: "mgr-1", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"north"}}
)

func as(u *crm.User) context.Context { return crm.NewContextWithUser(context.Background(), u) }

func partner(org *crm.PartnerOrg) *crm.User {
	return &crm.User{ID: "key-" + org.ID, Roles: []crm.Role{crm.RolePartner}, PartnerOrgID: org.ID, Masked: org.Masked}
}

// clock is the tests' time, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// received is one request the receiver took.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a local endpoint that answers with status (200 unless set).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: b})
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setStatus(s int) { r.mu.Lock(); r.status = s; r.mu.Unlock() }
func (r *receiver) take() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

type env struct {
	svc      *crm.Service
	store    *dynamo.Store
	consumer *streamtest.Consumer
	hooks    *webhooks.Service
	deliver  *webhooks.Deliverer
	clock    *clock
	events   string
	made     int
	// db and table, for tests that write the table directly.
	db    *dynamodb.Client
	table string
}

// The local receiver is on loopback: the tests allow http and loopback
// explicitly, as only a local setting may.
var local = webhooks.Guard{AllowHTTP: true, AllowLoopback: true}

func mustEnv(t *testing.T) *env {
	t.Helper()
	table := ddbtest.NewTable(t, "CrmTable")
	db := ddbtest.Client(t)
	store := dynamo.New(db, table, []byte(strings.Repeat("k", 32)))
	svc := crm.NewService(store)
	e := &env{svc: svc, store: store, clock: &clock{t: time.Now().UTC()}, db: db, table: table}
	e.consumer = streamtest.New(t, db, table, store, svc)
	e.consumer.Handlers = append(e.consumer.Handlers, &webhooks.Fanout{Store: store, Source: "rapport/test"})
	sealer, err := webhooks.NewSealer([]byte(strings.Repeat("w", 32)))
	if err != nil {
		t.Fatal(err)
	}
	e.hooks = &webhooks.Service{Store: store, Sealer: sealer, Guard: local, Now: e.clock.Now}
	e.events = filepath.Join(t.TempDir(), "events.jsonl")
	e.deliver = &webhooks.Deliverer{Store: store, Sealer: sealer, Client: local.Client(), Now: e.clock.Now,
		Rand: func() float64 { return 0.5 }, Events: &events.FileSink{Path: e.events}, Source: "rapport/test"}
	for _, u := range []*crm.User{admin, manager} {
		if _, err := svc.SignIn(as(u), u); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *env) org(t *testing.T, name string, masked ...crm.MaskField) *crm.PartnerOrg {
	t.Helper()
	o, err := e.svc.CreatePartnerOrg(as(admin), crm.PartnerOrgInput{Name: name, Masked: masked})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (e *env) register(t *testing.T, org *crm.PartnerOrg, url string, types ...events.Type) *webhooks.Registered {
	t.Helper()
	if len(types) == 0 {
		types = webhooks.Types
	}
	r, err := e.hooks.RegisterEndpoint(as(admin), webhooks.EndpointInput{OrgID: org.ID, URL: url, Types: types})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) customer(t *testing.T, name string) *crm.Customer {
	t.Helper()
	e.made++
	c, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindOrganization, Name: name, Region: "north", Team: "north",
		Phones: []string{fmt.Sprintf("+86 10 6552 %04d", 1233+e.made)}, Emails: []string{fmt.Sprintf("li.wei%d@example.com", e.made)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run drains the stream and makes one delivery run, at the test's time
// or, when the writes have overtaken it, now: a delivery is due at its
// event's time, the stream record's, which the clock set at the start
// does not reach on a loaded machine.
func (e *env) run(t *testing.T) webhooks.Report {
	t.Helper()
	e.consumer.Drain(t)
	if now := time.Now().UTC(); now.After(e.clock.Now()) {
		e.clock.Set(now)
	}
	rep, err := e.deliver.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// verified decodes the messages, each checked against the secrets.
func verified(t *testing.T, got []received, now time.Time, secrets ...string) []webhooks.Message {
	t.Helper()
	var out []webhooks.Message
	for _, r := range got {
		for _, s := range secrets {
			if err := webhooks.Verify(s, r.header.Get("webhook-id"), r.header.Get("webhook-timestamp"), r.header.Get("webhook-signature"), r.body, now); err != nil {
				t.Errorf("signature of %s under %s…: %v", r.header.Get("webhook-id"), s[:10], err)
			}
		}
		var m webhooks.Message
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func types(ms []webhooks.Message) []events.Type {
	var out []events.Type
	for _, m := range ms {
		out = append(out, m.Type)
	}
	return out
}

// A partner is sent, signed, the events of the customers shared with it
// while they are, masked by its policy: shared, their changes, unshared,
// and nothing of a customer never shared or after the unshare.
func TestAPartnerIsSentSignedMaskedEventsOfItsSharedCustomersOnly(t *testing.T) {
	e := mustEnv(t)
	rx := newReceiver(t)
	other := newReceiver(t)
	acme := e.org(t, "Acme Agency", crm.MaskPhones, crm.MaskEmails)
	initech := e.org(t, "Initech")
	reg := e.register(t, acme, rx.URL+"/hook")
	e.register(t, initech, other.URL+"/hook")
	// The fan-out runs twice on every batch, as on a batch delivered
	// again: it writes no delivery twice.
	e.consumer.Handlers = append(e.consumer.Handlers, e.consumer.Handlers[len(e.consumer.Handlers)-1])

	secret := e.customer(t, "Never Shared")
	shared := e.customer(t, "Shared Co")
	if _, err := e.svc.ShareCustomer(as(admin), shared.ID, acme.ID); err != nil {
		t.Fatal(err)
	}
	cur, _ := e.store.Customer(as(admin), shared.ID)
	tags := []string{"vip"}
	if _, err := e.svc.UpdateCustomer(as(admin), shared.ID, cur.Version, crm.CustomerUpdate{Tags: tags}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: shared.ID, Channel: crm.ChannelPhone,
		Direction: crm.Outbound, Type: crm.TypeCall, Subject: "Quarterly call", Content: "They want a discount"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateCustomer(as(admin), secret.ID, secret.Version, crm.CustomerUpdate{Tags: tags}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UnshareCustomer(as(admin), shared.ID, acme.ID); err != nil {
		t.Fatal(err)
	}
	cur, _ = e.store.Customer(as(admin), shared.ID)
	if _, err := e.svc.UpdateCustomer(as(admin), shared.ID, cur.Version, crm.CustomerUpdate{Tags: []string{"vip", "later"}}); err != nil {
		t.Fatal(err)
	}
	e.consumer.Drain(t) // a settling write may follow the first batch
	rep := e.run(t)

	got := verified(t, rx.take(), e.clock.Now(), reg.Secret)
	want := []events.Type{webhooks.CustomerShared, events.CustomerUpdated, events.InteractionLogged, webhooks.CustomerUnshared}
	if g := types(got); !equalTypes(g, want) {
		t.Fatalf("acme got %v, want %v (run %+v)", g, want, rep)
	}
	for _, m := range got {
		if m.Subject != shared.ID || m.Data.PartnerID != acme.ID {
			t.Errorf("%s about %s for %s", m.Type, m.Subject, m.Data.PartnerID)
		}
		body, _ := json.Marshal(m)
		if strings.Contains(string(body), secret.ID) || strings.Contains(string(body), initech.ID) || strings.Contains(string(body), "discount") {
			t.Errorf("%s says more than its customer: %s", m.Type, body)
		}
	}
	if c := got[0].Data.Customer; c == nil || c.Phones[0] != crm.MaskPhone(shared.Phones[0]) || c.Phones[0] == shared.Phones[0] || c.Emails[0] != crm.MaskEmail(shared.Emails[0]) || c.Name != "Shared Co" {
		t.Errorf("shared carries %+v, want the customer masked as the partner API masks it", got[0].Data.Customer)
	}
	if got[3].Data.Customer != nil {
		t.Errorf("unshared carries the customer: %+v", got[3].Data.Customer)
	}
	if n := len(other.take()); n != 0 {
		t.Errorf("initech, which nothing is shared with, got %d deliveries", n)
	}

	// The delivery log: ADMIN and acme read it; initech does not see
	// acme's endpoint; staff other than ADMIN may not.
	page, err := e.hooks.Deliveries(as(partner(acme)), reg.Endpoint.ID, crm.PageRequest{First: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 4 {
		t.Fatalf("acme's log has %d deliveries, want 4", len(page.Items))
	}
	for _, d := range page.Items {
		if d.Status != webhooks.DeliveryDelivered || d.Attempts != 1 || d.ResponseCode != 200 || d.LastAttemptAt == nil {
			t.Errorf("delivery %+v", d)
		}
	}
	_, missing := e.hooks.Deliveries(as(partner(initech)), "01M8T0000000000000000000ZZ", crm.PageRequest{First: 20})
	_, theirs := e.hooks.Deliveries(as(partner(initech)), reg.Endpoint.ID, crm.PageRequest{First: 20})
	if crm.ErrorCode(theirs) != crm.ENOTFOUND || strings.ReplaceAll(crm.ErrorMessage(theirs), reg.Endpoint.ID, "X") != strings.ReplaceAll(crm.ErrorMessage(missing), "01M8T0000000000000000000ZZ", "X") {
		t.Errorf("another organization's endpoint reads %v, a missing one %v: they must look alike", theirs, missing)
	}
	for _, c := range []struct {
		who  *crm.User
		code string
	}{{partner(initech), crm.ENOTFOUND}, {manager, crm.EFORBIDDEN}, {admin, ""}} {
		_, err := e.hooks.Deliveries(as(c.who), reg.Endpoint.ID, crm.PageRequest{First: 20})
		if crm.ErrorCode(err) != c.code && !(c.code == "" && err == nil) {
			t.Errorf("%s reads acme's log: %v, want %s", c.who.ID, err, c.code)
		}
		eps, err := e.hooks.Endpoints(as(c.who), acme.ID)
		if c.code == "" && (err != nil || len(eps) != 1) || c.code != "" && crm.ErrorCode(err) != c.code {
			t.Errorf("%s lists acme's endpoints: %d, %v", c.who.ID, len(eps), err)
		}
	}
}

func equalTypes(a, b []events.Type) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Only ADMIN registers, changes and rotates endpoints; a partner cannot,
// even for itself.
func TestOnlyAnAdminManagesEndpoints(t *testing.T) {
	e := mustEnv(t)
	acme := e.org(t, "Acme Agency")
	reg := e.register(t, acme, "https://hooks.example.com/rapport")
	in := webhooks.EndpointInput{OrgID: acme.ID, URL: "https://hooks.example.com/2", Types: []events.Type{events.CustomerUpdated}}
	for _, u := range []*crm.User{manager, partner(acme)} {
		if _, err := e.hooks.RegisterEndpoint(as(u), in); crm.ErrorCode(err) != crm.EFORBIDDEN {
			t.Errorf("%s registers: %v, want FORBIDDEN", u.ID, err)
		}
		if _, err := e.hooks.RotateSecret(as(u), reg.Endpoint.ID, time.Hour); crm.ErrorCode(err) != crm.EFORBIDDEN {
			t.Errorf("%s rotates: %v, want FORBIDDEN", u.ID, err)
		}
		url := "https://evil.example.com"
		if _, err := e.hooks.UpdateEndpoint(as(u), reg.Endpoint.ID, reg.Endpoint.Version, webhooks.EndpointUpdate{URL: &url}); crm.ErrorCode(err) != crm.EFORBIDDEN {
			t.Errorf("%s updates: %v, want FORBIDDEN", u.ID, err)
		}
	}
	if !strings.HasPrefix(reg.Secret, "whsec_") {
		t.Errorf("secret %q", reg.Secret)
	}
	stored, err := e.store.Endpoint(context.Background(), reg.Endpoint.ID)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := webhooks.ParseSecret(reg.Secret)
	if strings.Contains(string(stored.Secrets[0].Sealed), string(key)) {
		t.Error("the secret is stored as it is")
	}
	if _, err := e.hooks.RegisterEndpoint(as(admin), webhooks.EndpointInput{OrgID: acme.ID, URL: "https://x.example.com",
		Types: []events.Type{"rapport.customer.nope"}}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("an unknown type: %v, want BAD_USER_INPUT", err)
	}
	// The staff's own workflow is not a partner's business.
	for _, typ := range []events.Type{events.CustomerClaimExpiring, events.CaseAssigned, events.TaskDue} {
		if _, err := e.hooks.RegisterEndpoint(as(admin), webhooks.EndpointInput{OrgID: acme.ID, URL: "https://x.example.com",
			Types: []events.Type{typ}}); crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("subscribing to %s: %v, want BAD_USER_INPUT", typ, err)
		}
	}
}

// Targets that are not HTTPS, or that are, or resolve at connect time to,
// loopback, private, link-local or metadata addresses are refused.
func TestDeliveriesRefuseInternalTargets(t *testing.T) {
	deployed := webhooks.Guard{}
	refused := []string{
		"http://hooks.example.com/x",
		"https://127.0.0.1/x", "https://localhost:8443/x", "https://[::1]/x",
		"https://10.0.0.5/x", "https://172.16.3.4/x", "https://192.168.1.1/x", "https://[fd00::1]/x",
		"https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/x", "https://100.64.0.1/x",
		"https://0.0.0.0/x", "https://[::ffff:127.0.0.1]/x", "https://[64:ff9b::a9fe:a9fe]/x",
		"https://user:pw@hooks.example.com/x", "ftp://hooks.example.com/x", "hooks.example.com/x",
	}
	for _, u := range refused {
		if err := deployed.CheckURL(u); err == nil {
			t.Errorf("%s is taken", u)
		}
	}
	for _, u := range []string{"https://hooks.example.com/rapport", "https://203.0.113.10:8443/x"} {
		if err := deployed.CheckURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	if err := (webhooks.Guard{AllowHTTP: true}).CheckURL("http://127.0.0.1:8080/x"); err == nil {
		t.Error("http without loopback allowed takes loopback")
	}

	// At connect time: a name that resolves to loopback, and the
	// receiver's own address, are refused by the dialer itself.
	rx := newReceiver(t)
	client := webhooks.Guard{AllowHTTP: true}.Client()
	port := rx.URL[strings.LastIndex(rx.URL, ":"):]
	for _, u := range []string{rx.URL, "http://localhost" + port} {
		res, err := client.Post(u, "application/json", strings.NewReader("{}"))
		if err == nil {
			res.Body.Close()
		}
		if !errors.Is(err, webhooks.ErrRefused) {
			t.Errorf("POST %s: %v, want refused", u, err)
		}
	}
	if n := len(rx.take()); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}

	// The service refuses such URLs as bad input.
	e := mustEnv(t)
	e.hooks.Guard = deployed
	acme := e.org(t, "Acme Agency")
	_, err := e.hooks.RegisterEndpoint(as(admin), webhooks.EndpointInput{OrgID: acme.ID, URL: "https://169.254.169.254/",
		Types: []events.Type{events.CustomerUpdated}})
	if crm.ErrorCode(err) != crm.EINVALID || !strings.Contains(crm.ErrorMessage(err), "input.url") {
		t.Errorf("metadata endpoint: %v, want BAD_USER_INPUT on input.url", err)
	}
}

// share makes one delivery to acme's endpoint and returns the customer.
func (e *env) share(t *testing.T, org *crm.PartnerOrg, name string) *crm.Customer {
	t.Helper()
	c := e.customer(t, name)
	if _, err := e.svc.ShareCustomer(as(admin), c.ID, org.ID); err != nil {
		t.Fatal(err)
	}
	e.consumer.Drain(t)
	return c
}

// A failing endpoint is retried with growing, jittered delays for a day;
// then the delivery is dead, the endpoint disabled, and ADMIN told (the
// audit log and an event). Enabled again, a replay delivers the message
// with its webhook-id.
func TestAFailingEndpointIsRetriedForADayThenDisabledAndReplayable(t *testing.T) {
	e := mustEnv(t)
	// Two more admins, one of them gone: the active ones are told.
	admin2 := &crm.User{ID: "admin-2", Roles: []crm.Role{crm.RoleAdmin}}
	gone := &crm.User{ID: "admin-gone", Roles: []crm.Role{crm.RoleAdmin}}
	for _, u := range []*crm.User{admin2, gone} {
		if _, err := e.svc.SignIn(as(u), u); err != nil {
			t.Fatal(err)
		}
	}
	if d, err := e.svc.User(as(admin), gone.ID); err != nil {
		t.Fatal(err)
	} else if _, err := e.svc.DeactivateUser(as(admin), gone.ID, d.Version); err != nil {
		t.Fatal(err)
	}
	rx := newReceiver(t)
	rx.setStatus(http.StatusServiceUnavailable)
	acme := e.org(t, "Acme Agency")
	reg := e.register(t, acme, rx.URL)
	e.share(t, acme, "Flaky Co")

	start := e.clock.Now()
	var delays []time.Duration
	var d *webhooks.Delivery
	for i := 0; i < 100; i++ {
		rep := e.run(t)
		page, err := e.hooks.Deliveries(as(admin), reg.Endpoint.ID, crm.PageRequest{First: 5})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("log: %v %v (run %+v)", page, err, rep)
		}
		d = page.Items[0]
		if d.Status != webhooks.DeliveryPending {
			break
		}
		if d.ResponseCode != http.StatusServiceUnavailable || d.LastError == "" {
			t.Fatalf("attempt %d recorded %+v", d.Attempts, d)
		}
		delays = append(delays, d.NextAttemptAt.Sub(*d.LastAttemptAt))
		e.clock.Set(*d.NextAttemptAt)
	}
	if d.Status != webhooks.DeliveryDead {
		t.Fatalf("after %d attempts the delivery is %s", d.Attempts, d.Status)
	}
	if last := *d.LastAttemptAt; last.Sub(d.CreatedAt) < webhooks.RetryFor {
		t.Errorf("dead after %v of retries, want at least %v", last.Sub(d.CreatedAt), webhooks.RetryFor)
	}
	for i := 1; i < len(delays); i++ {
		if delays[i] < delays[i-1] {
			t.Errorf("delay %d (%v) shorter than the one before (%v)", i, delays[i], delays[i-1])
		}
	}
	if delays[0] != webhooks.Backoff(1, 0.5) || delays[len(delays)-1] > webhooks.MaxDelay {
		t.Errorf("delays %v", delays)
	}
	if got := len(rx.take()); got != d.Attempts {
		t.Errorf("the receiver saw %d attempts, the log says %d", got, d.Attempts)
	}
	t.Logf("%d attempts over %v", d.Attempts, e.clock.Now().Sub(start))

	ep, err := e.hooks.Endpoint(as(admin), reg.Endpoint.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ep.Status != webhooks.EndpointDisabled || ep.DisabledReason == "" {
		t.Errorf("endpoint %s (%q), want DISABLED", ep.Status, ep.DisabledReason)
	}
	evs, err := events.ReadFile(e.events)
	if err != nil || len(evs) != 1 || evs[0].Type != webhooks.TypeEndpointDisabled || evs[0].Subject != ep.ID {
		t.Errorf("events %+v (%v), want one endpoint_disabled", evs, err)
	}
	audit, err := e.svc.AuditLog(as(admin), crm.AuditFilter{Operation: "job:webhook-delivery", Day: time.Now()}, crm.PageRequest{First: 10})
	if err != nil {
		t.Fatal(err)
	}
	disabled := false
	for _, a := range audit.Items {
		for _, c := range a.Changes {
			for _, f := range c.Fields {
				disabled = disabled || c.Entity == "webhookEndpoint" && f.Name == "status" && strings.Contains(f.After, "DISABLED")
			}
		}
	}
	if !disabled {
		t.Errorf("no audit entry disables the endpoint: %+v", audit.Items)
	}
	// Every active admin has one notice of it in their inbox, written with
	// the disable; further runs add none.
	told := func(step string) {
		t.Helper()
		for _, c := range []struct {
			u    *crm.User
			want int
		}{{admin, 1}, {admin2, 1}, {gone, 0}, {manager, 0}} {
			page, err := e.svc.Notifications(as(c.u), true, crm.PageRequest{First: 10})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, x := range page.Items {
				if x.Kind == crm.NoticeWebhookEndpointDisabled {
					n++
					if x.EndpointID != ep.ID || x.Actor != crm.SystemUserID || !strings.Contains(x.Message, acme.ID) {
						t.Errorf("%s: %s's notice %+v", step, c.u.ID, x)
					}
				}
			}
			if n != c.want {
				t.Errorf("%s: %s has %d notices of the disabled endpoint, want %d", step, c.u.ID, n, c.want)
			}
		}
	}
	told("disabled")
	e.clock.Set(e.clock.Now().Add(time.Hour))
	e.run(t)
	told("a run later")

	// New events are not queued for a disabled endpoint; a replay is
	// refused until ADMIN enables it again.
	if _, err := e.hooks.Replay(as(admin), ep.ID, d.ID); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Errorf("replay to a disabled endpoint: %v, want CONFLICT", err)
	}
	active := webhooks.EndpointActive
	if _, err := e.hooks.UpdateEndpoint(as(admin), ep.ID, ep.Version, webhooks.EndpointUpdate{Status: &active}); err != nil {
		t.Fatal(err)
	}
	rx.setStatus(http.StatusNoContent)
	r, err := e.hooks.Replay(as(partner(acme)), ep.ID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep := e.run(t); rep.Delivered != 1 {
		t.Fatalf("replay run %+v", rep)
	}
	got := rx.take()
	if len(got) != 1 || got[0].header.Get("webhook-id") != d.MessageID {
		t.Fatalf("replay sent %d with id %v, want the message id %s", len(got), got, d.MessageID)
	}
	verified(t, got, e.clock.Now(), reg.Secret)
	after, err := e.store.Delivery(context.Background(), ep.ID, r.ID)
	if err != nil || after.Status != webhooks.DeliveryDelivered || after.ReplayOf != d.ID || after.ResponseCode != http.StatusNoContent {
		t.Errorf("replay %+v (%v)", after, err)
	}
}

// A rotated secret keeps signing beside the new one for the overlap, and
// stops after it.
func TestARotatedSecretSignsBesideTheNewOneForTheOverlap(t *testing.T) {
	e := mustEnv(t)
	rx := newReceiver(t)
	acme := e.org(t, "Acme Agency")
	reg := e.register(t, acme, rx.URL)
	rot, err := e.hooks.RotateSecret(as(admin), reg.Endpoint.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if rot.Secret == reg.Secret {
		t.Fatal("the rotation kept the secret")
	}
	e.share(t, acme, "Rotating Co")
	e.run(t)
	got := rx.take()
	if len(got) != 1 || len(strings.Fields(got[0].header.Get("webhook-signature"))) != 2 {
		t.Fatalf("during the overlap: %d deliveries, signatures %v", len(got), got)
	}
	verified(t, got, e.clock.Now(), reg.Secret, rot.Secret)

	e.clock.Set(e.clock.Now().Add(2 * time.Hour))
	c := e.share(t, acme, "Later Co")
	_ = c
	e.run(t)
	got = rx.take()
	if len(got) != 1 || len(strings.Fields(got[0].header.Get("webhook-signature"))) != 1 {
		t.Fatalf("after the overlap: %d deliveries, %v", len(got), got)
	}
	verified(t, got, e.clock.Now(), rot.Secret)
	r := got[0]
	if webhooks.Verify(reg.Secret, r.header.Get("webhook-id"), r.header.Get("webhook-timestamp"), r.header.Get("webhook-signature"), r.body, e.clock.Now()) == nil {
		t.Error("the old secret still verifies after the overlap")
	}
}

// readCounter counts the fan-out's reads of customers' shares.
type readCounter struct {
	webhooks.Store
	reads atomic.Int64
}

func (r *readCounter) Customers(ctx context.Context, ids []string) (map[string]*crm.Customer, error) {
	r.reads.Add(1)
	return r.Store.Customers(ctx, ids)
}

// A stack without an endpoint reads no shares for a batch's appends (only
// the marker that says there is none); the first endpoint registered is
// seen by the next batch, and its partner is sent the append.
func TestTheFanoutReadsNoSharesWhileNoEndpointExists(t *testing.T) {
	e := mustEnv(t)
	counter := &readCounter{Store: e.store}
	e.consumer.Handlers[len(e.consumer.Handlers)-1] = &webhooks.Fanout{Store: counter, Source: "rapport/test"}
	if _, err := e.store.Migrate(as(admin), func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	acme := e.org(t, "Acme Agency")
	c := e.share(t, acme, "Quiet Partner Co")
	logCall := func() {
		t.Helper()
		if _, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone,
			Direction: crm.Outbound, Type: crm.TypeCall, Subject: "check-in"}); err != nil {
			t.Fatal(err)
		}
		e.consumer.Drain(t)
	}
	logCall()
	if n := counter.reads.Load(); n != 0 {
		t.Fatalf("%d reads of shares with no endpoint in the stack", n)
	}
	rx := newReceiver(t)
	e.register(t, acme, rx.URL, events.InteractionLogged)
	logCall()
	if n := counter.reads.Load(); n != 1 {
		t.Fatalf("%d reads of shares once an endpoint exists, want 1", n)
	}
	if rep := e.run(t); rep.Delivered != 1 {
		t.Fatalf("run %+v, want the call delivered", rep)
	}
	if got := types(verified(t, rx.take(), e.clock.Now())); !slices.Equal(got, []events.Type{events.InteractionLogged}) {
		t.Fatalf("sent %v", got)
	}
}

// The marker says no endpoint exists only when the table holds none: an
// endpoint registered before the marker counted them (its count lost
// here) is found by the migration, and until the migration is done an
// absent marker answers yes.
func TestTheEndpointMarkerNeverHidesAnEndpoint(t *testing.T) {
	e := mustEnv(t)
	exists := func(step string, want bool) {
		t.Helper()
		if got, err := e.store.EndpointsExist(context.Background()); err != nil || got != want {
			t.Fatalf("%s: endpoints exist %v (%v), want %v", step, got, err, want)
		}
	}
	exists("a table not migrated yet", true)
	if _, err := e.store.Migrate(as(admin), func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	exists("migrated, no endpoint", false)
	e.register(t, e.org(t, "Acme Agency"), "https://hooks.example.com/rapport")
	exists("one registered", true)

	// Stored as the release before stored it: no marker, and the
	// migration not run.
	old := mustEnv(t)
	old.register(t, old.org(t, "Acme Agency"), "https://hooks.example.com/rapport")
	db, table := old.db, old.table
	for _, k := range []string{"WEBHOOKS|ENDPOINTS", "MIGRATION#2026-12-webhook-endpoints|PROGRESS"} {
		pk, sk, _ := strings.Cut(k, "|")
		if _, err := db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &table, Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "sk": &ddbtypes.AttributeValueMemberS{Value: sk}}}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := old.store.EndpointsExist(context.Background()); err != nil || !got {
		t.Fatalf("before the migration: %v (%v), want yes", got, err)
	}
	for range 2 {
		if _, err := old.store.Migrate(as(admin), func() bool { return true }); err != nil {
			t.Fatal(err)
		}
		if got, err := old.store.EndpointsExist(context.Background()); err != nil || !got {
			t.Fatalf("after the migration: %v (%v), want yes", got, err)
		}
	}
}
