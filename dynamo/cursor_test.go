package dynamo

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

func testStore() *Store { return New(nil, "t", []byte(strings.Repeat("k", 32))) }

// listKey is a position on a filtered list, as a byList page leaves it.
var listKey = map[string]types.AttributeValue{"pk": str("CUST#01JABCDEF"), "sk": str(skProfile),
	"gList": str("OWNER#sales-li"), "gSort": str("2026-03-01T09:00:00Z")}

const filteredList = "customers/owner/3f2a9c0d11e4b7a8"

func TestCursorRoundTripsOnlyOnItsOwnList(t *testing.T) {
	s := testStore()
	c := s.encodeCursor(filteredList, listKey)
	got, err := s.decodeCursor(filteredList, c)
	if err != nil || len(got) != len(listKey) || got["gList"].(*types.AttributeValueMemberS).Value != "OWNER#sales-li" {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if _, err := s.decodeCursor("customers/owner/0000000000000000", c); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("cursor accepted on another list (another filter or caller): %v", err)
	}
	other := New(nil, "t", []byte(strings.Repeat("x", 32)))
	if _, err := other.decodeCursor(filteredList, c); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("cursor accepted under another secret: %v", err)
	}
	// A store without a secret seals under a key of its own.
	bare, bare2 := New(nil, "t", nil), New(nil, "t", nil)
	if _, err := bare2.decodeCursor(filteredList, bare.encodeCursor(filteredList, listKey)); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("cursor of a store without a secret opened elsewhere: %v", err)
	}
}

// Nothing of the key, the list or the filter shows through a cursor, in
// its text or its bytes, and the same position never gives the same
// cursor twice.
func TestCursorIsOpaque(t *testing.T) {
	s := testStore()
	c := s.encodeCursor(filteredList, listKey)
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		t.Fatal(err)
	}
	// Strings of six bytes or more: shorter ones turn up in random bytes.
	for _, readable := range []string{`"gList"`, `"gSort"`, `"pk":`, "CUST#01JABCDEF", "OWNER#sales-li", "2026-03-01T09:00:00Z",
		filteredList, "3f2a9c0d11e4b7a8"} {
		if strings.Contains(c, readable) || strings.Contains(string(raw), readable) {
			t.Errorf("cursor shows %q: %s", readable, c)
		}
	}
	if again := s.encodeCursor(filteredList, listKey); again == c {
		t.Error("the same position sealed twice gives the same cursor")
	}
}

// Every change to a cursor's bytes, every truncation and every extension
// is refused as BAD_USER_INPUT on after.
func TestTamperedCursorsAreRefused(t *testing.T) {
	s := testStore()
	raw, _ := base64.RawURLEncoding.DecodeString(s.encodeCursor(filteredList, listKey))
	var cursors []string
	for i := 1; i < len(raw); i++ {
		flipped := append([]byte(nil), raw...)
		flipped[i] ^= 0x01
		cursors = append(cursors, base64.RawURLEncoding.EncodeToString(flipped), base64.RawURLEncoding.EncodeToString(raw[:i]))
	}
	good := base64.RawURLEncoding.EncodeToString(raw)
	raw[0] ^= 0x01
	cursors = append(cursors, base64.RawURLEncoding.EncodeToString(raw), good+"A", good[:len(good)/2]+"\n"+good[len(good)/2:], "forged", "%%%", strings.Repeat("A", 300))
	for _, c := range cursors {
		if _, err := s.decodeCursor(filteredList, c); !isBadAfter(err) {
			t.Fatalf("%q: got %v, want BAD_USER_INPUT on after", c, err)
		}
	}
}

func isBadAfter(err error) bool {
	e, ok := err.(*crm.Error)
	return ok && e.Code == crm.EINVALID && e.Field == "after"
}

// FuzzDecodeCursor: no input panics, every refusal is BAD_USER_INPUT on
// after, and the only inputs accepted are cursors sealed under the
// store's secret for this list: here, only ever listKey's.
func FuzzDecodeCursor(f *testing.F) {
	s := testStore()
	for _, list := range []string{"l", filteredList} {
		c := s.encodeCursor(list, listKey)
		for _, seed := range []string{c, c + "x", strings.Replace(c, "e", "f", 1), c[:len(c)-1]} {
			f.Add(seed)
		}
	}
	for _, seed := range []string{"", ".", "a.b", "%%%.%%%", "AQ"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		key, err := s.decodeCursor(filteredList, in)
		switch {
		case err != nil && !isBadAfter(err):
			t.Fatalf("unexpected error %v", err)
		case err == nil && in != "" && !sameKey(key, listKey):
			t.Fatalf("accepted a cursor the store did not seal for this list: %q", in)
		}
	})
}

func sameKey(a, b map[string]types.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		av, ok := a[k].(*types.AttributeValueMemberS)
		if !ok || av.Value != v.(*types.AttributeValueMemberS).Value {
			return false
		}
	}
	return true
}
