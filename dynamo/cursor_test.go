package dynamo

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

func testStore() *Store { return New(nil, "t", []byte(strings.Repeat("k", 32))) }

func TestCursorRoundTripsOnlyOnItsOwnList(t *testing.T) {
	s := testStore()
	key := map[string]types.AttributeValue{"pk": str("CUST#1"), "sk": str(skProfile)}
	c := s.encodeCursor("customers/a", key)
	got, err := s.decodeCursor("customers/a", c)
	if err != nil || got["pk"].(*types.AttributeValueMemberS).Value != "CUST#1" {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if _, err := s.decodeCursor("customers/b", c); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("cursor accepted on another list: %v", err)
	}
	other := New(nil, "t", []byte(strings.Repeat("x", 32)))
	if _, err := other.decodeCursor("customers/a", c); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("cursor accepted under another secret: %v", err)
	}
}

// FuzzDecodeCursor: no input panics, and the only inputs accepted are
// cursors the store itself signed.
func FuzzDecodeCursor(f *testing.F) {
	s := testStore()
	good := s.encodeCursor("l", map[string]types.AttributeValue{"pk": str("CUST#1"), "sk": str("~P")})
	for _, seed := range []string{"", ".", "a.b", good, good + "x", strings.Replace(good, "e", "f", 1), "%%%.%%%"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		key, err := s.decodeCursor("l", in)
		if err != nil {
			if e, ok := err.(*crm.Error); !ok || e.Code != crm.EINVALID || e.Field != "after" {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if in == "" {
			return
		}
		if s.encodeCursor("l", key) != in {
			// Map ordering is canonical in encoding/json, so a valid
			// cursor re-encodes to itself; anything else was forged.
			t.Fatalf("accepted a cursor the store did not sign: %q", in)
		}
	})
}
