// Command emptyhandler is an aws-lambda-go function that does nothing: the
// floor against which BenchmarkColdStart sets each bootstrap's init time.
// make build-EmptyHandler (infra/bench.mk) builds it with the functions'
// flags.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { return "", nil })
}
