package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/crm"
)

// The authorizer denies every refused key alike (API Gateway then answers
// 403 without a body of ours) and logs why, with the key's hint only.
func TestRefusedKeysAreDeniedAlikeAndLoggedApart(t *testing.T) {
	refused := func(why string) error {
		return &crm.Error{Code: crm.EUNAUTHORIZED, Message: "invalid API key", Err: errors.New(why)}
	}
	reasons := []string{"malformed key", "no key 0123", "key 0123 (rpk_…Zz9a) of organization o1 was revoked at 2026-03-01T09:00:00Z by admin",
		"key 0123: organization o1 (Acme) is SUSPENDED"}
	var logs bytes.Buffer
	var answers []events.APIGatewayV2CustomAuthorizerSimpleResponse
	for _, why := range reasons {
		a := &authorizer{log: slog.New(slog.NewJSONHandler(&logs, nil)),
			verify: func(context.Context, string) (*crm.User, error) { return nil, refused(why) }}
		key := "rpk_" + strings.Repeat("k", 39) + "Zz9a"
		res, err := a.handle(context.Background(), events.APIGatewayV2CustomAuthorizerV2Request{Headers: map[string]string{"x-api-key": key}})
		if err != nil {
			t.Fatalf("%s: %v", why, err)
		}
		answers = append(answers, res)
		if strings.Contains(logs.String(), key) {
			t.Fatal("the key was logged")
		}
	}
	for i, res := range answers {
		if res.IsAuthorized || !reflect.DeepEqual(res, answers[0]) {
			t.Errorf("%s: answer %+v, the first's %+v", reasons[i], res, answers[0])
		}
		if !strings.Contains(logs.String(), `"reason":"`+reasons[i]+`"`) {
			t.Errorf("reason %q not logged:\n%s", reasons[i], logs.String())
		}
	}
}
