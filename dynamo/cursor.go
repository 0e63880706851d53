package dynamo

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/rapportcrm/rapport/crm"
)

// A cursor is the key to resume after, sealed with XChaCha20-Poly1305 under
// a key derived from CURSOR_SECRET, with the list it came from (its name
// holds the filter and the caller's visibility) as additional data. It is
// opaque: no key attribute, list name or filter shows through. It is
// authenticated: a cursor the store did not seal, or sealed for another
// list or another caller's narrowed list, does not open.
//
//	base64url(version || nonce[24] || seal(json{attribute: value}))
//
// The nonce is random: 192 bits never repeat by chance, however many
// cursors a key seals.

const cursorVersion = 1

// cursorInfo names the key derived from the secret, so that the same
// secret used elsewhere yields an unrelated key.
const cursorInfo = "rapport pagination cursor v1 XChaCha20-Poly1305"

// newCursorAEAD derives the cursor key from secret. A store without a
// secret (the authorizer's, which lists nothing) seals under a random key
// of its own, so that its cursors are never forgeable, only short-lived.
func newCursorAEAD(secret []byte) cipher.AEAD {
	var key []byte
	if len(secret) == 0 {
		key = make([]byte, chacha20poly1305.KeySize)
		_, _ = rand.Read(key) // never fails (crypto/rand)
	} else {
		// HKDF-SHA256 of a secret of at least 32 bytes cannot fail.
		key, _ = hkdf.Key(sha256.New, secret, nil, cursorInfo, chacha20poly1305.KeySize)
	}
	aead, _ := chacha20poly1305.NewX(key) // a key of KeySize is always accepted
	return aead
}

func (s *Store) encodeCursor(list string, key map[string]types.AttributeValue) string {
	attrs := make(map[string]string, len(key))
	for k, v := range key {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			attrs[k] = sv.Value
		}
	}
	plain, _ := json.Marshal(attrs) // a map of strings always marshals
	out := make([]byte, 1+s.cursors.NonceSize(), 1+s.cursors.NonceSize()+len(plain)+s.cursors.Overhead())
	out[0] = cursorVersion
	_, _ = rand.Read(out[1:])
	out = s.cursors.Seal(out, out[1:], plain, cursorAD(list))
	return base64.RawURLEncoding.EncodeToString(out)
}

// decodeCursor returns the start key a cursor names; "" means the start.
func (s *Store) decodeCursor(list, cursor string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	bad := crm.Invalid("after", "invalid cursor: use the cursor of a page of this same list")
	// Strict: one spelling per cursor (the decoder would skip line breaks).
	if strings.ContainsAny(cursor, "\r\n") {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	n := s.cursors.NonceSize()
	if err != nil || len(raw) < 1+n+s.cursors.Overhead() || raw[0] != cursorVersion {
		return nil, bad
	}
	plain, err := s.cursors.Open(nil, raw[1:1+n], raw[1+n:], cursorAD(list))
	if err != nil {
		return nil, bad
	}
	var attrs map[string]string
	if err := json.Unmarshal(plain, &attrs); err != nil || len(attrs) == 0 {
		return nil, bad
	}
	key := make(map[string]types.AttributeValue, len(attrs))
	for k, v := range attrs {
		key[k] = &types.AttributeValueMemberS{Value: v}
	}
	return key, nil
}

// cursorAD is the data a cursor is bound to: its format and its list.
func cursorAD(list string) []byte {
	return append([]byte{cursorVersion}, list...)
}
