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
// the answer holds, for a transaction (addContact) and for the single puts
// of a logged interaction alike: a write whose responses were all lost is
// sent again (a transaction with its client request token, a put to find
// its own item), which settles it; when that goes unanswered too it is
// UNKNOWN (and may have been applied: retrying with the same idempotency
// key returns the one result); one that never reached DynamoDB is NO (and
// is not applied later).
func TestUncertainWriteOutcomes(t *testing.T) {
	type outcome struct {
		code, applied string
		stored        int // results stored afterwards
	}
	type subject struct {
		name, op string
		write    func(svc *crm.Service, customerID string) (string, error)
		stored   func(t *testing.T, svc *crm.Service, customerID string) []string
	}
	subjects := []subject{
		{"AContactAdded", "TransactWriteItems", func(svc *crm.Service, customerID string) (string, error) {
			c, err := svc.AddContact(as(admin), customerID, crm.ContactInput{Name: "Maybe", IdempotencyKey: "uncertain-contact-1"})
			if err != nil {
				return "", err
			}
			return c.ID, nil
		}, func(t *testing.T, svc *crm.Service, customerID string) []string {
			cs, err := svc.Contacts(as(admin), customerID)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range cs {
				ids = append(ids, c.ID)
			}
			return ids
		}},
		{"AnInteractionLogged", "PutItem", func(svc *crm.Service, customerID string) (string, error) {
			it, err := svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: customerID, Channel: crm.ChannelPhone,
				Type: crm.TypeComplaint, Subject: "maybe", IdempotencyKey: "uncertain-call-1"})
			if err != nil {
				return "", err
			}
			return it.ID, nil
		}, func(t *testing.T, svc *crm.Service, customerID string) []string {
			p, err := svc.Interactions(as(admin), customerID, crm.TimeRange{}, crm.PageRequest{First: 10})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range p.Items {
				ids = append(ids, it.ID)
			}
			return ids
		}},
	}
	tests := []struct {
		name   string
		faults func(op string, sent *atomic.Int64) ddbfault.Faults
		want   map[string]outcome // by subject; else want
	}{
		{"EveryResponseOfTheCallLostAndTheResendAnswered", func(op string, sent *atomic.Int64) ddbfault.Faults {
			// The call's every attempt applies and loses its answer; the
			// resend gets one.
			return ddbfault.Faults{After: ddbfault.Only(op, func(op string) error {
				if sent.Add(1) > dynamo.MaxAttempts {
					return nil
				}
				return ddbfault.InternalServerError(op)
			})}
		}, map[string]outcome{"AContactAdded": {"", "", 1}, "AnInteractionLogged": {"", "", 1}}},
		// Every successful attempt loses its answer. A put's own retry
		// finds the item it wrote (its condition fails, which is an
		// answer): settled, where a transaction's retries and resend all
		// succeed unheard.
		{"EveryAnswerLost", func(op string, _ *atomic.Int64) ddbfault.Faults {
			return ddbfault.Faults{After: ddbfault.Only(op, ddbfault.InternalServerError)}
		}, map[string]outcome{"AContactAdded": {crm.EUNAVAILABLE, crm.AppliedUnknown, 1},
			"AnInteractionLogged": {"", "", 1}}},
		{"NothingSent", func(op string, _ *atomic.Int64) ddbfault.Faults {
			return ddbfault.Faults{Before: ddbfault.Only(op, ddbfault.Throttle)}
		}, map[string]outcome{"AContactAdded": {crm.EUNAVAILABLE, crm.AppliedNo, 0},
			"AnInteractionLogged": {crm.EUNAVAILABLE, crm.AppliedNo, 0}}},
	}
	for _, sub := range subjects {
		for _, tt := range tests {
			t.Run(sub.name+"/"+tt.name, func(t *testing.T) {
				var sent atomic.Int64
				e := mustFaultyEnv(t, tt.faults(sub.op, &sent))
				c, err := e.clean.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Uncertain", Team: "north"})
				if err != nil {
					t.Fatal(err)
				}
				_, err = sub.write(e.svc, c.ID)
				var de *crm.Error
				errors.As(err, &de)
				got := outcome{code: crm.ErrorCode(err)}
				if de != nil {
					got.applied = de.Applied
				}
				got.stored = len(sub.stored(t, e.clean, c.ID))
				if want := tt.want[sub.name]; got != want {
					t.Fatalf("%s: %v (applied %q), %d stored; want %+v", sub.name, err, got.applied, got.stored, want)
				}
				// The client retries with the same key, as the docs tell
				// it: one result in all.
				retried, err := sub.write(e.clean, c.ID)
				if stored := sub.stored(t, e.clean, c.ID); err != nil || len(stored) != 1 || stored[0] != retried {
					t.Fatalf("retried with the same key: %v, %s returned, %v stored", err, retried, stored)
				}
			})
		}
	}
}
