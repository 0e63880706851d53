package config_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/config"
)

func TestLambdaAWSTakesRegionAndRoleCredentialsFromTheEnvironment(t *testing.T) {
	cfg, err := config.LambdaAWS(lambdaEnv(""))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || creds.AccessKeyID != "AKIDTEST" || creds.SecretAccessKey != "secret" || creds.SessionToken != "session-token" {
		t.Errorf("config %q, credentials %+v", cfg.Region, creds)
	}
	for _, missing := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		env := lambdaEnv("")
		without := func(k string) string {
			if k == missing {
				return ""
			}
			return env(k)
		}
		if _, err := config.LambdaAWS(without); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s: %v", missing, err)
		}
	}
}
