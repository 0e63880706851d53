package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Signing as the Standard Webhooks specification (v1) says: the
// signature is the base64 HMAC-SHA256, under the secret's bytes, of
// "<webhook-id>.<webhook-timestamp>.<body>"; the webhook-signature header
// lists "v1,<signature>" once per secret that signs, space-separated. A
// secret is shown as "whsec_" and the base64 of its bytes.

// SecretPrefix starts every signing secret as shown.
const SecretPrefix = "whsec_"

// secretBytes is the length of a new secret.
const secretBytes = 32

// NewSecret returns a new secret's bytes and how it is shown.
func NewSecret() ([]byte, string) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		panic("webhooks: no randomness: " + err.Error())
	}
	return b, SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ParseSecret reads a shown secret ("whsec_…") back into its bytes.
func ParseSecret(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if err != nil || len(b) == 0 {
		return nil, errors.New("webhooks: a secret is whsec_ followed by base64")
	}
	return b, nil
}

// Sign is one signature: "v1,<base64 HMAC-SHA256>".
func Sign(secret []byte, id string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Tolerance is how far a webhook-timestamp may be from the receiver's
// clock for Verify to take it.
const Tolerance = 5 * time.Minute

// Verify is what a receiver does (docs/partners.md shows it): it checks
// the timestamp is within Tolerance of now and that one of the header's
// signatures is the secret's.
func Verify(secret string, id, timestamp, signatures string, body []byte, now time.Time) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("webhooks: bad webhook-timestamp")
	}
	ts := time.Unix(sec, 0)
	if now.Sub(ts) > Tolerance || ts.Sub(now) > Tolerance {
		return errors.New("webhooks: webhook-timestamp too far from now")
	}
	want := Sign(key, id, ts, body)
	for _, sig := range strings.Fields(signatures) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("webhooks: no matching signature")
}
