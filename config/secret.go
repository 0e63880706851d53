package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The stack keeps the cursor secret in Secrets Manager and gives the
// API function its ARN (CURSOR_SECRET_ARN) instead of its value, so the
// key is in no environment variable. The function reads it once per cold
// start with one GetSecretValue call, signed here with Signature Version 4
// from the credentials Lambda puts in the environment, rather than through
// the Secrets Manager SDK client: that client and its default
// configuration chain would add code and start-up work for a single call
// (and the Parameters and Secrets Lambda Extension adds a process of its
// own to every cold start). cmd/api starts the call first and builds
// everything else while it is in flight.

// SecretFetch reads a secret's string value by ARN.
type SecretFetch func(ctx context.Context, arn string) (string, error)

// CursorSecretFrom resolves the cursor secret: the CURSOR_SECRET value
// when there is one (the local server, tests), else the secret at
// CursorSecretARN read through fetch. It fails when neither is set: a
// binary that hands out cursors must seal them under the shared key.
func (c Config) CursorSecretFrom(ctx context.Context, fetch SecretFetch) ([]byte, error) {
	switch {
	case c.CursorSecret != nil:
		return c.CursorSecret, nil
	case c.CursorSecretARN == "":
		return nil, fmt.Errorf("configuration: CURSOR_SECRET or CURSOR_SECRET_ARN is required")
	}
	s, err := fetch(ctx, c.CursorSecretARN)
	if err != nil {
		return nil, fmt.Errorf("read the cursor secret: %w", err)
	}
	return decodeCursorSecret(s, "the secret at CURSOR_SECRET_ARN")
}

// WebhookKeyFrom resolves the key sealing webhook secrets as
// CursorSecretFrom does the cursor key: WEBHOOK_KEY, else the secret at
// WEBHOOK_KEY_ARN; nil, and no error, when neither is set (webhooks off).
func (c Config) WebhookKeyFrom(ctx context.Context, fetch SecretFetch) ([]byte, error) {
	switch {
	case c.Webhooks.Key != nil:
		return c.Webhooks.Key, nil
	case c.Webhooks.KeyARN == "":
		return nil, nil
	}
	s, err := fetch(ctx, c.Webhooks.KeyARN)
	if err != nil {
		return nil, fmt.Errorf("read the webhook key: %w", err)
	}
	return decodeCursorSecret(s, "the secret at WEBHOOK_KEY_ARN")
}

func decodeCursorSecret(s, name string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) < 32 {
		return nil, fmt.Errorf("configuration: %s must be base64 of at least 32 bytes", name)
	}
	return b, nil
}

// SecretsManager returns a SecretFetch that calls Secrets Manager's
// GetSecretValue through client, signed with the Lambda environment's
// credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
// for AWS_REGION. AWS_ENDPOINT_URL_SECRETS_MANAGER, the SDKs' variable for
// it, points it at another endpoint (tests).
func SecretsManager(getenv func(string) string, client *http.Client) SecretFetch {
	return func(ctx context.Context, arn string) (string, error) {
		region, creds, err := lambdaCredentials(getenv)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", arn, err)
		}
		endpoint := getenv("AWS_ENDPOINT_URL_SECRETS_MANAGER")
		if endpoint == "" {
			endpoint = "https://secretsmanager." + region + "." + dnsSuffix(region)
		}
		body, _ := json.Marshal(map[string]string{"SecretId": arn})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "secretsmanager", region, time.Now()); err != nil {
			return "", fmt.Errorf("sign GetSecretValue: %w", err)
		}
		res, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("GetSecretValue: %w", err)
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		if err != nil {
			return "", fmt.Errorf("GetSecretValue: %w", err)
		}
		var out struct {
			SecretString string
			Type         string `json:"__type"`
			Message      string `json:"message"`
		}
		_ = json.Unmarshal(raw, &out)
		if res.StatusCode != http.StatusOK {
			// The error names the failure, never the body of a success.
			return "", fmt.Errorf("GetSecretValue %s: HTTP %d %s %s", arn, res.StatusCode, out.Type, out.Message)
		}
		if out.SecretString == "" {
			return "", fmt.Errorf("GetSecretValue %s: no SecretString", arn)
		}
		return out.SecretString, nil
	}
}

// dnsSuffix is the domain of AWS endpoints in region's partition.
func dnsSuffix(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}
