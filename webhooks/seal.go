package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Sealer encrypts signing secrets at rest. HMAC signing needs the secret
// itself, so it cannot be stored hashed as API keys are: it is stored
// sealed with AES-256-GCM under a key the deployment provides
// (WEBHOOK_KEY, or the Secrets Manager secret WEBHOOK_KEY_ARN names in
// the stack; docs/security.md), bound to its endpoint's id so a sealed
// secret copied to another endpoint does not open.
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives the sealing key from key material of at least 32
// bytes.
func NewSealer(material []byte) (*Sealer, error) {
	if len(material) < 32 {
		return nil, errors.New("webhooks: the sealing key needs at least 32 bytes")
	}
	k := sha256.Sum256(append([]byte("rapport webhook secrets v1\x00"), material...))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts secret for endpoint.
func (s *Sealer) Seal(endpoint string, secret []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("webhooks: no randomness: " + err.Error())
	}
	return s.aead.Seal(nonce, nonce, secret, []byte(endpoint))
}

// Open decrypts what Seal sealed for endpoint.
func (s *Sealer) Open(endpoint string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("webhooks: sealed secret too short")
	}
	b, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(endpoint))
	if err != nil {
		return nil, fmt.Errorf("webhooks: open the secret of endpoint %s: %w", endpoint, err)
	}
	return b, nil
}
