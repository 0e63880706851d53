package dynamo_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbfault"
)

// A write that ends UNAVAILABLE says whether it may have been applied, and
// the answer holds: a transaction whose responses were all lost is asked
// about again with its client request token, which settles it; when that
// goes unanswered too it is UNKNOWN (and was applied: retrying with the
// same idempotency key returns it); one that never reached DynamoDB is NO
// (and is not applied later).
func TestUncertainWriteOutcomes(t *testing.T) {
	type outcome struct {
		code, applied string
		stored        int // interactions stored afterwards
	}
	tests := []struct {
		name   string
		faults func(sent *atomic.Int64) ddbfault.Faults
		want   outcome
	}{
		{"EveryResponseOfTheCallLostAndTheResendAnswered", func(sent *atomic.Int64) ddbfault.Faults {
			// The call's every attempt applies and loses its answer; the
			// resend gets one.
			return ddbfault.Faults{After: ddbfault.Only("TransactWriteItems", func(op string) error {
				if sent.Add(1) > dynamo.MaxAttempts {
					return nil
				}
				return ddbfault.InternalServerError(op)
			})}
		}, outcome{"", "", 1}},
		{"EveryAnswerLost", func(*atomic.Int64) ddbfault.Faults {
			return ddbfault.Faults{After: ddbfault.Only("TransactWriteItems", ddbfault.InternalServerError)}
		}, outcome{crm.EUNAVAILABLE, crm.AppliedUnknown, 1}},
		{"NothingSent", func(*atomic.Int64) ddbfault.Faults {
			return ddbfault.Faults{Before: ddbfault.Only("TransactWriteItems", ddbfault.Throttle)}
		}, outcome{crm.EUNAVAILABLE, crm.AppliedNo, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent atomic.Int64
			e := mustFaultyEnv(t, tt.faults(&sent))
			c, err := e.clean.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Uncertain", Team: "north"})
			if err != nil {
				t.Fatal(err)
			}
			in := crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone, Type: crm.TypeCall, Subject: "maybe",
				IdempotencyKey: "uncertain-call-1"}
			_, err = e.svc.LogInteraction(as(admin), in)
			var de *crm.Error
			errors.As(err, &de)
			got := outcome{code: crm.ErrorCode(err)}
			if de != nil {
				got.applied = de.Applied
			}
			stored := func() int {
				p, err := e.clean.Interactions(as(admin), c.ID, crm.TimeRange{}, crm.PageRequest{First: 10})
				if err != nil {
					t.Fatal(err)
				}
				return len(p.Items)
			}
			got.stored = stored()
			if got != tt.want {
				t.Fatalf("logInteraction: %v (applied %q), %d stored; want %+v", err, got.applied, got.stored, tt.want)
			}
			// The client retries with the same key, as the docs tell it:
			// one interaction in all.
			retried, err := e.clean.LogInteraction(as(admin), in)
			if err != nil || stored() != 1 {
				t.Fatalf("retried with the same key: %v, %d stored", err, stored())
			}
			if tt.want.stored == 1 {
				p, _ := e.clean.Interactions(as(admin), c.ID, crm.TimeRange{}, crm.PageRequest{First: 10})
				if p.Items[0].ID != retried.ID {
					t.Fatalf("the retry returned %s, not the interaction stored (%s)", retried.ID, p.Items[0].ID)
				}
			}
		})
	}
}
