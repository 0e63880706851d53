// Package bulktest serves the real API (server, service, DynamoDB Local
// through infra/ddbtest) on a loopback port for the tests of the import
// and export client and its command line. A bearer token is the id of one
// of Users; partners sign in with API keys issued through the service.
package bulktest

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/server"
)

// Users are who the tests sign in as, by token.
var Users = map[string]*crm.User{
	"admin":   {ID: "admin", Roles: []crm.Role{crm.RoleAdmin}},
	"manager": {ID: "manager", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"north"}},
	"sales1":  {ID: "sales1", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"north"}},
}

// Owners are users the tests' files name as owners without their ever
// calling: the owners of the shipped sample (examples/import).
var Owners = []*crm.User{
	{ID: "sales-li", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"north"}},
	{ID: "sales-liu", Roles: []crm.Role{crm.RoleSales}, Teams: []string{"south"}},
}

// tokenAuth stands in for the OIDC verifier: the bearer token is the
// user's id.
type tokenAuth struct{}

func (tokenAuth) Authenticate(r *http.Request) (*crm.User, error) {
	if u, ok := Users[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]; ok {
		return u, nil
	}
	return nil, crm.Errorf(crm.EUNAUTHORIZED, "missing bearer token")
}

// Serve starts the API on a fresh table whose user directory knows Users
// and Owners, unpaced (the tests measure nothing), with a request time far
// above production's (the machine may be loaded), and returns its service
// and address. The package's TestMain must run ddbtest.Run.
func Serve(tb testing.TB) (*crm.Service, string) {
	tb.Helper()
	table := ddbtest.NewTable(tb, "CrmTable")
	svc := crm.NewService(dynamo.New(ddbtest.Client(tb), table, []byte(strings.Repeat("s", 32))))
	svc.Import.RowsPerSecond = 0
	staff := slices.Concat(Owners, slices.Collect(maps.Values(Users)))
	for _, u := range staff {
		// As their first request would.
		if _, err := svc.SignIn(crm.NewContextWithUser(context.Background(), u), u); err != nil {
			tb.Fatalf("sign %s in: %v", u.ID, err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(server.New(svc, server.WithAPIKeys(svc.VerifyAPIKey, tokenAuth{}), log,
		server.Options{RequestTimeout: 2 * time.Minute}))
	tb.Cleanup(srv.Close)
	return svc, srv.URL
}
