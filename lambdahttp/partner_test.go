package lambdahttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/lambdahttp"
)

func TestPartnerUserFromAuthorizerContext(t *testing.T) {
	u := &crm.User{ID: "apikey:abc", Name: "Acme", Roles: []crm.Role{crm.RolePartner}, PartnerOrgID: "org1",
		Masked: []crm.MaskField{crm.MaskPhones, crm.MaskAttributes}}
	// Through JSON, as API Gateway carries it.
	var passed map[string]any
	b, _ := json.Marshal(lambdahttp.AuthorizerContext(u))
	if err := json.Unmarshal(b, &passed); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		ctx    map[string]any
		masked []crm.MaskField
		ok     bool
	}{
		{"RoundTrips", passed, u.Masked, true},
		{"EmptyPolicyMasksNothing", map[string]any{"principal": "p", "partnerId": "o", "masked": ""}, nil, true},
		{"MissingPolicyMasksEverything", map[string]any{"principal": "p", "partnerId": "o"}, crm.MaskFields, true},
		{"NoOrganizationIsRefused", map[string]any{"principal": "p", "masked": ""}, nil, false},
		{"NoPrincipalIsRefused", map[string]any{"partnerId": "o"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lambdahttp.PartnerUser(tt.ctx)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			if !got.IsPartner() || !slices.Equal(got.Roles, []crm.Role{crm.RolePartner}) || !slices.Equal(got.Masked, tt.masked) {
				t.Fatalf("user %+v", got)
			}
		})
	}
}

func TestHandlerTurnsTheLambdaAuthorizerContextIntoThePartner(t *testing.T) {
	var seen *crm.User
	h := lambdahttp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = crm.UserFromContext(r.Context())
	}), lambdahttp.Options{})
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/partner/graphql"}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		Lambda: map[string]any{"principal": "apikey:abc", "partnerId": "org1", "masked": "PHONES"}}
	if _, err := h(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if seen == nil || seen.PartnerOrgID != "org1" || seen.HasRole(crm.RoleAdmin) || !slices.Equal(seen.Masked, []crm.MaskField{crm.MaskPhones}) {
		t.Fatalf("user %+v", seen)
	}
	// A context that names no partner yields no user (the server answers 401).
	seen = nil
	ev.RequestContext.Authorizer.Lambda = map[string]any{"masked": ""}
	if _, err := h(context.Background(), ev); err != nil || seen != nil {
		t.Fatalf("user %+v err %v", seen, err)
	}
}

// TestShowAmountsCrossesTheAuthorizerFailingClosed: the organization's
// amounts policy reaches the API function; a context without it, or with
// anything but "true", hides amounts.
func TestShowAmountsCrossesTheAuthorizerFailingClosed(t *testing.T) {
	shows := &crm.User{ID: "apikey:abc", Roles: []crm.Role{crm.RolePartner}, PartnerOrgID: "org1", ShowAmounts: true}
	var passed map[string]any
	b, _ := json.Marshal(lambdahttp.AuthorizerContext(shows))
	if err := json.Unmarshal(b, &passed); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		ctx  map[string]any
		want bool
	}{
		{"RoundTrips", passed, true},
		{"MissingHides", map[string]any{"principal": "p", "partnerId": "o"}, false},
		{"OtherValueHides", map[string]any{"principal": "p", "partnerId": "o", "showAmounts": "yes"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lambdahttp.PartnerUser(tt.ctx)
			if err != nil || got.ShowAmounts != tt.want {
				t.Fatalf("user %+v, %v; want showAmounts %v", got, err, tt.want)
			}
		})
	}
}
