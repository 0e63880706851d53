package config_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/config"
)

const secretARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rapport-cursor-AbCdEf"

// fakeSecretsManager answers GetSecretValue for secretARN with value, after
// checking that the request is a signed Secrets Manager JSON call.
func fakeSecretsManager(t *testing.T, value string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		switch {
		case r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" ||
			r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
			t.Errorf("not a GetSecretValue call: %s %v", r.Method, r.Header)
		case !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") ||
			!strings.Contains(auth, "/eu-west-1/secretsmanager/aws4_request") || !strings.Contains(auth, "Signature="):
			t.Errorf("not signed for Secrets Manager in eu-west-1: %q", auth)
		case r.Header.Get("X-Amz-Security-Token") != "session-token" || r.Header.Get("X-Amz-Date") == "":
			t.Errorf("session token or date missing: %v", r.Header)
		case string(body) != `{"SecretId":"`+secretARN+`"}`:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
			return
		}
		_, _ = io.WriteString(w, `{"ARN":"`+secretARN+`","Name":"rapport-cursor","SecretString":"`+value+`","VersionId":"v1"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func lambdaEnv(endpoint string) func(string) string {
	env := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "session-token", "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
	}
	return func(k string) string { return env[k] }
}

func TestCursorSecretIsReadFromSecretsManagerByARN(t *testing.T) {
	// What the stack generates: 64 alphanumerics, base64 of 48 bytes.
	value := strings.Repeat("AbCd1234", 8)
	srv := fakeSecretsManager(t, value)
	cfg := config.Config{CursorSecretARN: secretARN}
	key, err := cfg.CursorSecretFrom(context.Background(), config.SecretsManager(lambdaEnv(srv.URL), srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := base64.StdEncoding.DecodeString(value); string(key) != string(want) {
		t.Errorf("key %x, want %x", key, want)
	}
}

func TestCursorSecretFrom(t *testing.T) {
	inline := []byte(strings.Repeat("i", 32))
	fetched := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("f", 32)))
	fetch := func(value string, err error) config.SecretFetch {
		return func(context.Context, string) (string, error) { return value, err }
	}
	for _, tc := range []struct {
		name    string
		cfg     config.Config
		fetch   config.SecretFetch
		want    string
		wantErr string
	}{
		{"InlineValueWinsAndIsNotFetched", config.Config{CursorSecret: inline, CursorSecretARN: secretARN}, fetch("", errors.New("called")), string(inline), ""},
		{"FetchedByARN", config.Config{CursorSecretARN: secretARN}, fetch(fetched, nil), strings.Repeat("f", 32), ""},
		{"ErrNeitherSet", config.Config{}, fetch(fetched, nil), "", "CURSOR_SECRET or CURSOR_SECRET_ARN is required"},
		{"ErrFetchFails", config.Config{CursorSecretARN: secretARN}, fetch("", errors.New("AccessDeniedException")), "", "AccessDeniedException"},
		{"ErrTooShort", config.Config{CursorSecretARN: secretARN}, fetch(base64.StdEncoding.EncodeToString([]byte("short")), nil), "", "at least 32 bytes"},
		{"ErrNotBase64", config.Config{CursorSecretARN: secretARN}, fetch("not base64!", nil), "", "base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := tc.cfg.CursorSecretFrom(context.Background(), tc.fetch)
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one naming %q", err, tc.wantErr)
			case tc.wantErr == "" && (err != nil || string(key) != tc.want):
				t.Errorf("key %q, %v; want %q", key, err, tc.want)
			}
		})
	}
}

func TestSecretsManagerFailuresNameTheErrorNotASecret(t *testing.T) {
	srv := fakeSecretsManager(t, strings.Repeat("AbCd1234", 8))
	fetch := config.SecretsManager(lambdaEnv(srv.URL), srv.Client())
	_, err := fetch(context.Background(), secretARN+"-other")
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") || !strings.Contains(err.Error(), "400") {
		t.Errorf("error %v, want the HTTP status and the exception", err)
	}
	noCreds := func(k string) string {
		if k == "AWS_REGION" {
			return "eu-west-1"
		}
		return ""
	}
	if _, err := config.SecretsManager(noCreds, srv.Client())(context.Background(), secretARN); err == nil ||
		!strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("without credentials: %v", err)
	}
}

func TestFromEnvNeedsNoCursorSecretButChecksOneGiven(t *testing.T) {
	env := map[string]string{"TABLE_NAME": "t"}
	get := func(k string) string { return env[k] }
	if _, err := config.FromEnv(get); err != nil {
		t.Errorf("the job and the stream consumer sign no cursors: %v", err)
	}
	env["CURSOR_SECRET"] = "c2hvcnQ="
	if _, err := config.FromEnv(get); err == nil || !strings.Contains(err.Error(), "CURSOR_SECRET") {
		t.Errorf("a short CURSOR_SECRET: %v", err)
	}
}
