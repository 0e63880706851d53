package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbfault"
	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/server"
)

const (
	prodTable = "arn:aws:dynamodb:eu-west-1:123456789012:table/rapport-prod-CrmTable"
	prodRole  = "arn:aws:sts::123456789012:assumed-role/rapport-prod-ApiFunctionRole/rapport-prod-ApiFunction"
)

// What DynamoDB says when things go wrong names tables, indexes, roles and
// accounts. The client gets none of it: INTERNAL with "internal error" and
// the request id, or UNAVAILABLE with a retry hint for what retrying can
// fix; the whole error goes to the log under the request id.
func TestDynamoDBErrorsReachClientsOnlyAsCodeAndRequestID(t *testing.T) {
	tests := []struct {
		name    string
		fault   ddbfault.Fault
		code    string
		message string
		logged  string
	}{
		{"ResourceNotFound", func(string) error {
			return &types.ResourceNotFoundException{Message: aws("Requested resource not found: Table: " + prodTable + " not found")}
		}, crm.EINTERNAL, "internal error", prodTable},
		{"AccessDenied", func(op string) error {
			return &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: " + prodRole +
				" is not authorized to perform: dynamodb:" + op + " on resource: " + prodTable + "/index/byOwner"}
		}, crm.EINTERNAL, "internal error", prodRole},
		{"ValidationOfAnIndex", func(string) error {
			return &smithy.GenericAPIError{Code: "ValidationException", Message: "The table does not have the specified index: byOwner (" + prodTable + ")"}
		}, crm.EINTERNAL, "internal error", "specified index"},
		{"PlainError", ddbfault.Errorf("unexpected EOF reading dynamodb.eu-west-1.amazonaws.com response for %s", prodTable),
			crm.EINTERNAL, "internal error", "unexpected EOF"},
		{"Throttling", ddbfault.Throttle, crm.EUNAVAILABLE, "the service is busy; retry shortly", "ProvisionedThroughputExceeded"},
		{"ServerFault", ddbfault.InternalServerError, crm.EUNAVAILABLE, "the database failed; retry shortly", "InternalServerError"},
	}
	operations := map[string]string{
		"Read":  `{ customers(filter: {ownerId: "x"}) { totalCount edges { node { id } } } }`,
		"Write": `mutation { createCustomer(input: {kind: PERSON, name: "Leak test"}) { id } }`,
	}
	for _, tt := range tests {
		for opName, op := range operations {
			t.Run(tt.name+"/"+opName, func(t *testing.T) {
				t.Parallel()
				srv, logs := mustFaultyServer(t, ddbfault.Faults{Before: tt.fault})
				reqID := fmt.Sprintf("req-%s-%s", tt.name, opName)
				h := as("admin")
				h.Set("X-Request-Id", reqID)
				_, r := post(t, srv, h, op)
				if r.code() != tt.code || r.Errors[0].Message != tt.message || r.Errors[0].Extensions["requestId"] != reqID {
					t.Fatalf("got %+v, want %s %q with the request id", r.Errors, tt.code, tt.message)
				}
				raw, _ := json.Marshal(r)
				for _, secret := range []string{"arn:", "123456789012", "rapport-prod", "dynamodb", "exception", "byowner",
					"amazonaws", "operation error", "goroutine", ".go:", "provisioned", "eof"} {
					if strings.Contains(strings.ToLower(string(raw)), secret) {
						t.Errorf("response leaks %q: %s", secret, raw)
					}
				}
				logged := false
				for line := range strings.Lines(logs.String()) {
					if strings.Contains(line, `"requestId":"`+reqID+`"`) && strings.Contains(line, tt.logged) && strings.Contains(line, `"level":"ERROR"`) {
						logged = true
					}
				}
				if !logged {
					t.Errorf("no error log line with the request id and %q:\n%s", tt.logged, logs)
				}
			})
		}
	}
}

// mustFaultyServer serves the API over a fresh table whose DynamoDB client
// has the production retry policy and the given faults, injected once the
// test users have signed in (so that the faults meet the operation, not
// the sign-in).
func mustFaultyServer(tb testing.TB, faults ddbfault.Faults) (*httptest.Server, *bytes.Buffer) {
	tb.Helper()
	table := ddbtest.NewTable(tb, "CrmTable")
	var armed atomic.Bool
	for _, f := range []*ddbfault.Fault{&faults.Before, &faults.After} {
		if fault := *f; fault != nil {
			*f = func(op string) error {
				if !armed.Load() {
					return nil
				}
				return fault(op)
			}
		}
	}
	db := dynamodb.New(ddbtest.Client(tb).Options(), dynamo.Retries, faults.Option)
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil))
	svc := crm.NewService(dynamo.New(db, table, []byte(strings.Repeat("s", 32))))
	svc.DirectoryTTL = time.Hour
	mustDirectory(tb, svc)
	armed.Store(true)
	srv := httptest.NewServer(server.New(svc, headerAuth{}, log, testOptions))
	tb.Cleanup(srv.Close)
	return srv, logs
}

func aws(s string) *string { return &s }
