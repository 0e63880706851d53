package dynamo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// A cursor is the key to resume after, bound to the list it came from and
// signed, so clients can neither forge a position nor reuse a cursor on
// another list (or another caller's narrowed list).
//
//	base64url(json{l: list, k: key}) "." base64url(hmac-sha256[:16])

type cursorBody struct {
	List string            `json:"l"`
	Key  map[string]string `json:"k"`
}

const macLen = 16

func (s *Store) encodeCursor(list string, key map[string]types.AttributeValue) string {
	b := cursorBody{List: list, Key: make(map[string]string, len(key))}
	for k, v := range key {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			b.Key[k] = sv.Value
		}
	}
	payload, _ := json.Marshal(b) // a map of strings always marshals
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.mac(payload))
}

func (s *Store) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, s.cursorKey)
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}

// decodeCursor returns the start key a cursor names; "" means the start.
func (s *Store) decodeCursor(list, cursor string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	bad := crm.Invalid("after", "invalid cursor: use the cursor of a page of this same list")
	p, m, ok := strings.Cut(cursor, ".")
	if !ok {
		return nil, bad
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, s.mac(payload)) {
		return nil, bad
	}
	var b cursorBody
	if err := json.Unmarshal(payload, &b); err != nil || b.List != list || len(b.Key) == 0 {
		return nil, bad
	}
	key := make(map[string]types.AttributeValue, len(b.Key))
	for k, v := range b.Key {
		key[k] = &types.AttributeValueMemberS{Value: v}
	}
	return key, nil
}
