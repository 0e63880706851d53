package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Authorizer is the configuration of the partner-key authorizer
// (cmd/authorizer). It reads only key and partner organization items and
// signs no cursors, so it needs no CURSOR_SECRET (the stack does not give
// it one).
type Authorizer struct {
	TableName      string     // TABLE_NAME
	DynamoEndpoint string     // DYNAMODB_ENDPOINT
	LogLevel       slog.Level // LOG_LEVEL
	// KeyRequestsPerMinute is how many requests one partner API key may
	// make per minute (PARTNER_KEY_REQUESTS_PER_MINUTE); 0 counts nothing.
	KeyRequestsPerMinute int
}

// AuthorizerFromEnv reads the authorizer's configuration through getenv.
func AuthorizerFromEnv(getenv func(string) string) (Authorizer, error) {
	c := Authorizer{TableName: getenv("TABLE_NAME"), DynamoEndpoint: getenv("DYNAMODB_ENDPOINT")}
	var errs []string
	if c.TableName == "" {
		errs = append(errs, "TABLE_NAME is required")
	}
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("LOG_LEVEL"), "info"))); err != nil {
		errs = append(errs, "LOG_LEVEL must be debug, info, warn or error")
	}
	n, err := strconv.Atoi(or(getenv("PARTNER_KEY_REQUESTS_PER_MINUTE"), "0"))
	if err != nil || n < 0 {
		errs = append(errs, "PARTNER_KEY_REQUESTS_PER_MINUTE must be a whole number, 0 or more")
	}
	c.KeyRequestsPerMinute = n
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}
