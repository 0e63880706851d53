package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/stream/streamtest"
)

// partnerEnv is a service over a fresh table whose name the test knows,
// with a clock the test moves.
type partnerEnv struct {
	svc      *crm.Service
	store    *dynamo.Store
	db       *dynamodb.Client
	table    string
	now      time.Time
	consumer *streamtest.Consumer
}

func mustPartnerEnv(tb testing.TB) *partnerEnv {
	tb.Helper()
	e := &partnerEnv{db: ddbtest.Client(tb), table: ddbtest.NewTable(tb, "CrmTable"), now: time.Now().UTC().Truncate(time.Second)}
	e.store = dynamo.New(e.db, e.table, []byte(strings.Repeat("k", 32)))
	e.svc = crm.NewService(e.store)
	e.svc.Now = func() time.Time { return e.now }
	e.consumer = streamtest.New(tb, e.db, e.table, e.store, e.svc)
	return e
}

func mustPartnerOrg(tb testing.TB, svc *crm.Service, name string, masked []crm.MaskField) *crm.PartnerOrg {
	tb.Helper()
	o, err := svc.CreatePartnerOrg(as(admin), crm.PartnerOrgInput{Name: name, Masked: masked})
	if err != nil {
		tb.Fatalf("create partner %q: %v", name, err)
	}
	return o
}

// scanAll reads the whole table: tests only, never on a request path.
func (e *partnerEnv) scanAll(tb testing.TB) []map[string]types.AttributeValue {
	tb.Helper()
	var out []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(e.db, &dynamodb.ScanInput{TableName: &e.table})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, page.Items...)
	}
	return out
}

func TestAPIKeys(t *testing.T) {
	e := mustPartnerEnv(t)
	org := mustPartnerOrg(t, e.svc, "Acme Agency", nil)
	if !slices.Equal(org.Masked, crm.MaskFields) {
		t.Fatalf("a new organization masks %v, want every field", org.Masked)
	}

	issued, err := e.svc.IssueAPIKey(as(admin), org.ID, "portal production")
	if err != nil {
		t.Fatal(err)
	}
	secret, k := issued.Secret, issued.Key
	if !strings.HasPrefix(secret, crm.APIKeyPrefix) || len(secret) != 47 || k.Last4 != secret[43:] || k.OrgID != org.ID || k.CreatedBy != admin.ID {
		t.Fatalf("issued %q %+v", secret, k)
	}

	t.Run("StoredOnlyAsAHash", func(t *testing.T) {
		var keyItems int
		for _, item := range e.scanAll(t) {
			if strings.Contains(fmt.Sprint(dump(item)), secret) || strings.Contains(fmt.Sprint(dump(item)), secret[len(crm.APIKeyPrefix):]) {
				t.Fatalf("the plaintext key is stored: %v", dump(item))
			}
			if strings.HasPrefix(dump(item)["pk"], "APIKEY#") {
				keyItems++
			}
		}
		if keyItems != 1 {
			t.Fatalf("%d key items, want 1", keyItems)
		}
	})

	t.Run("VerifiesToThePartnerPrincipal", func(t *testing.T) {
		u, err := e.svc.VerifyAPIKey(context.Background(), secret)
		if err != nil {
			t.Fatal(err)
		}
		if u.PartnerOrgID != org.ID || !u.HasRole(crm.RolePartner) || u.HasRole(crm.RoleAdmin) || !slices.Equal(u.Masked, crm.MaskFields) || u.ID != crm.PartnerUserID(k.ID) {
			t.Fatalf("principal %+v", u)
		}
	})

	t.Run("LastUsedIsWrittenAtMostOncePerMinute", func(t *testing.T) {
		first := lastUsed(t, e, k.ID)
		if first == nil || !first.Equal(e.now) {
			t.Fatalf("last used %v, want %v", first, e.now)
		}
		e.now = e.now.Add(30 * time.Second)
		mustVerify(t, e, secret)
		if got := lastUsed(t, e, k.ID); !got.Equal(*first) {
			t.Fatalf("last used moved to %v within a minute", got)
		}
		e.now = e.now.Add(31 * time.Second)
		mustVerify(t, e, secret)
		if got := lastUsed(t, e, k.ID); !got.Equal(e.now) {
			t.Fatalf("last used %v after a minute, want %v", got, e.now)
		}
	})

	t.Run("RefusedKeys", func(t *testing.T) {
		for name, key := range map[string]string{
			"Empty": "", "Malformed": "Bearer abc", "Unknown": "rpk_" + strings.Repeat("A", 43),
			"Truncated": secret[:46], "Altered": secret[:10] + flip(secret[10]) + secret[11:],
		} {
			if _, err := e.svc.VerifyAPIKey(context.Background(), key); code(err) != crm.EUNAUTHORIZED {
				t.Errorf("%s: err = %v, want UNAUTHENTICATED", name, err)
			}
		}
	})

	t.Run("OnlyAnAdminIssuesAndRevokes", func(t *testing.T) {
		if _, err := e.svc.IssueAPIKey(as(manager), org.ID, "x"); code(err) != crm.EFORBIDDEN {
			t.Errorf("manager issues: %v", err)
		}
		if _, err := e.svc.RevokeAPIKey(as(manager), k.ID); code(err) != crm.EFORBIDDEN {
			t.Errorf("manager revokes: %v", err)
		}
		if _, err := e.svc.IssueAPIKey(as(admin), "01NOSUCHORG0000000000000000", "x"); code(err) != crm.ENOTFOUND {
			t.Errorf("issue for a missing organization: %v", err)
		}
	})

	t.Run("RotateThenRevoke", func(t *testing.T) {
		next, err := e.svc.IssueAPIKey(as(admin), org.ID, "portal production 2")
		if err != nil {
			t.Fatal(err)
		}
		revoked, err := e.svc.RevokeAPIKey(as(admin), k.ID)
		if err != nil || revoked.RevokedAt == nil || revoked.RevokedBy != admin.ID {
			t.Fatalf("revoke: %+v %v", revoked, err)
		}
		if _, err := e.svc.VerifyAPIKey(context.Background(), secret); code(err) != crm.EUNAUTHORIZED {
			t.Fatalf("revoked key verifies: %v", err)
		}
		mustVerify(t, e, next.Secret)
		again, err := e.svc.RevokeAPIKey(as(admin), k.ID)
		if err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
			t.Fatalf("revoking again: %+v %v", again, err)
		}
		list, err := e.svc.APIKeys(as(auditor), org.ID, crm.PageRequest{First: crm.DefaultPageSize})
		if err != nil || len(list.Items) != 2 || list.Items[0].ID != next.Key.ID || list.Items[1].RevokedAt == nil {
			t.Fatalf("keys listed %+v %v", list, err)
		}
		for _, it := range list.Items {
			if it.Hint() != crm.APIKeyPrefix+"…"+it.Last4 {
				t.Errorf("hint %q", it.Hint())
			}
		}
		if _, err := e.svc.APIKeys(as(manager), org.ID, crm.PageRequest{First: crm.DefaultPageSize}); code(err) != crm.EFORBIDDEN {
			t.Errorf("a manager lists keys: %v", err)
		}
	})

	t.Run("SuspendedOrganizationIsRefused", func(t *testing.T) {
		other := mustPartnerOrg(t, e.svc, "Globex", []crm.MaskField{})
		key, err := e.svc.IssueAPIKey(as(admin), other.ID, "desk")
		if err != nil {
			t.Fatal(err)
		}
		if u := mustVerify(t, e, key.Secret); len(u.Masked) != 0 {
			t.Fatalf("an empty policy masks %v", u.Masked)
		}
		st := crm.PartnerSuspended
		if _, err := e.svc.UpdatePartnerOrg(as(admin), other.ID, other.Version, crm.PartnerOrgUpdate{Status: &st}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.VerifyAPIKey(context.Background(), key.Secret); code(err) != crm.EUNAUTHORIZED {
			t.Fatalf("key of a suspended organization: %v", err)
		}
		if _, err := e.svc.IssueAPIKey(as(admin), other.ID, "more"); code(err) != crm.ECONFLICT {
			t.Fatalf("issue for a suspended organization: %v", err)
		}
		if _, err := e.svc.UpdatePartnerOrg(as(admin), other.ID, other.Version, crm.PartnerOrgUpdate{Status: &st}); code(err) != crm.ECONFLICT {
			t.Fatalf("stale version: %v", err)
		}
	})
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func mustVerify(tb testing.TB, e *partnerEnv, key string) *crm.User {
	tb.Helper()
	u, err := e.svc.VerifyAPIKey(context.Background(), key)
	if err != nil {
		tb.Fatalf("verify: %v", err)
	}
	return u
}

func lastUsed(tb testing.TB, e *partnerEnv, id string) *time.Time {
	tb.Helper()
	k, err := e.svc.Store.APIKey(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return k.LastUsedAt
}

// dump flattens an item's string and number attributes, nested ones too.
func dump(item map[string]types.AttributeValue) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v types.AttributeValue)
	walk = func(prefix string, v types.AttributeValue) {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out[prefix] = v.Value
		case *types.AttributeValueMemberN:
			out[prefix] = v.Value
		case *types.AttributeValueMemberB:
			out[prefix] = string(v.Value)
		case *types.AttributeValueMemberL:
			for i, e := range v.Value {
				walk(fmt.Sprintf("%s[%d]", prefix, i), e)
			}
		case *types.AttributeValueMemberM:
			for k, e := range v.Value {
				walk(prefix+"."+k, e)
			}
		case *types.AttributeValueMemberSS:
			out[prefix] = strings.Join(v.Value, ",")
		}
	}
	for k, v := range item {
		walk(k, v)
	}
	return out
}

var auditor = &crm.User{ID: "auditor-1", Roles: []crm.Role{crm.RoleAuditor}}

func TestPartnerListIsServedByItsShareEntries(t *testing.T) {
	e := mustPartnerEnv(t)
	acme := mustPartnerOrg(t, e.svc, "Acme", []crm.MaskField{crm.MaskPhones})
	globex := mustPartnerOrg(t, e.svc, "Globex", nil)
	var shared []string
	for i := range 5 {
		c, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindOrganization, Name: fmt.Sprint("Shared ", i),
			Region: "north", Team: "north", Grade: []string{"A", "B"}[i%2], Phones: []string{fmt.Sprintf("+861380000%04d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ShareCustomer(as(manager), c.ID, acme.ID); err != nil {
			t.Fatal(err)
		}
		shared = append(shared, c.ID)
	}
	other, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Other", Team: "north"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ShareCustomer(as(admin), other.ID, globex.ID); err != nil {
		t.Fatal(err)
	}
	// Sharing twice changes nothing.
	again, err := e.svc.ShareCustomer(as(admin), shared[0], acme.ID)
	if err != nil || len(again.Partners) != 1 || again.Version != 2 {
		t.Fatalf("sharing again: %+v %v", again, err)
	}

	u, err := e.svc.VerifyAPIKey(context.Background(), mustIssue(t, e.svc, acme.ID))
	if err != nil {
		t.Fatal(err)
	}
	p := as(u)
	page, err := e.svc.Customers(p, crm.CustomerFilter{}, crm.PageRequest{First: 3})
	if err != nil {
		t.Fatal(err)
	}
	got := ids(page.Items)
	next, err := e.svc.Customers(p, crm.CustomerFilter{}, crm.PageRequest{First: 3, After: page.EndCursor})
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, ids(next.Items)...)
	slices.Sort(got)
	if !slices.Equal(got, shared) || !page.HasNext || next.HasNext {
		t.Fatalf("partner lists %v (hasNext %v %v), want %v", got, page.HasNext, next.HasNext, shared)
	}
	e.consumer.Drain(t) // the counters follow from the stream
	if n, err := page.Total(context.Background()); err != nil || n != 5 {
		t.Fatalf("totalCount %d %v, want 5", n, err)
	}
	if page.Items[0].Phones[0] == "" || !strings.Contains(page.Items[0].Phones[0], "****") {
		t.Fatalf("listed phones not masked: %v", page.Items[0].Phones)
	}
	graded, err := e.svc.Customers(p, crm.CustomerFilter{Grade: "A"}, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil || len(graded.Items) != 3 {
		t.Fatalf("grade A among shared: %d %v", len(graded.Items), err)
	}
	// Another partner's cursor does not work here.
	gu, _ := e.svc.VerifyAPIKey(context.Background(), mustIssue(t, e.svc, globex.ID))
	if _, err := e.svc.Customers(as(gu), crm.CustomerFilter{}, crm.PageRequest{First: 3, After: page.EndCursor}); code(err) != crm.EINVALID {
		t.Fatalf("foreign cursor: %v", err)
	}

	// Unsharing removes the customer from the list and its counter.
	if _, err := e.svc.UnshareCustomer(as(admin), shared[0], acme.ID); err != nil {
		t.Fatal(err)
	}
	after, err := e.svc.Customers(p, crm.CustomerFilter{}, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil || len(after.Items) != 4 || slices.Contains(ids(after.Items), shared[0]) {
		t.Fatalf("after unshare: %v %v", ids(after.Items), err)
	}
	e.consumer.Drain(t)
	if n, _ := after.Total(context.Background()); n != 4 {
		t.Fatalf("totalCount after unshare %d", n)
	}
	if _, err := e.svc.Customer(p, shared[0]); code(err) != crm.ENOTFOUND {
		t.Fatalf("unshared customer by id: %v", err)
	}
	var entries int
	for _, item := range e.scanAll(t) {
		if strings.HasPrefix(dump(item)["sk"], "#P#") {
			entries++
		}
	}
	if entries != 5 {
		t.Fatalf("%d share entries, want 5 (4 for Acme, 1 for Globex)", entries)
	}
}

func TestSharingRules(t *testing.T) {
	e := mustPartnerEnv(t)
	org := mustPartnerOrg(t, e.svc, "Acme", nil)
	south, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "South", Team: "south"})
	if err != nil {
		t.Fatal(err)
	}
	own := mustCreate(t, e.toEnv(), sales1, crm.CustomerInput{Name: "Own"})
	tests := []struct {
		name string
		u    *crm.User
		id   string
		org  string
		code string
	}{
		{"ManagerOfAnotherTeam", manager, south.ID, org.ID, crm.ENOTFOUND},
		{"SalesOwnerMayNotShare", sales1, own.ID, org.ID, crm.EFORBIDDEN},
		{"MissingOrganization", admin, south.ID, "01NOSUCHORG0000000000000000", crm.ENOTFOUND},
		{"AdminShares", admin, south.ID, org.ID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.svc.ShareCustomer(as(tt.u), tt.id, tt.org); code(err) != tt.code {
				t.Fatalf("err = %v, want %q", err, tt.code)
			}
		})
	}
	t.Run("ArchivedCustomersAreUnsharedNotShared", func(t *testing.T) {
		c, _ := e.svc.Customer(as(admin), south.ID)
		if _, err := e.svc.ArchiveCustomer(as(admin), c.ID, c.Version); err != nil {
			t.Fatal(err)
		}
		other := mustPartnerOrg(t, e.svc, "Globex", nil)
		if _, err := e.svc.ShareCustomer(as(admin), c.ID, other.ID); code(err) != crm.ECONFLICT {
			t.Fatalf("share archived: %v", err)
		}
		got, err := e.svc.UnshareCustomer(as(admin), c.ID, org.ID)
		if err != nil || len(got.Partners) != 0 {
			t.Fatalf("unshare archived: %+v %v", got, err)
		}
	})
}

// toEnv wraps the partner env's service for helpers written for env.
func (e *partnerEnv) toEnv() *env {
	return &env{svc: e.svc, store: e.store, db: e.db, table: e.table, consumer: e.consumer}
}

func mustIssue(tb testing.TB, svc *crm.Service, org string) string {
	tb.Helper()
	k, err := svc.IssueAPIKey(as(admin), org, "test")
	if err != nil {
		tb.Fatal(err)
	}
	return k.Secret
}

func ids(cs []*crm.Customer) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
