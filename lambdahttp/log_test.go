package lambdahttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/rapportcrm/rapport/lambdahttp"
)

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(lambdahttp.LogHandler(slog.NewJSONHandler(&buf, nil))).With("fn", "api")
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-9"})
	log.InfoContext(ctx, "hello")
	log.Info("no context")

	dec := json.NewDecoder(&buf)
	var first, second map[string]any
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&second); err != nil {
		t.Fatal(err)
	}
	if first["lambdaRequestId"] != "req-9" || first["fn"] != "api" {
		t.Errorf("first record = %v", first)
	}
	if _, ok := second["lambdaRequestId"]; ok {
		t.Errorf("second record = %v, want no request id", second)
	}
}
