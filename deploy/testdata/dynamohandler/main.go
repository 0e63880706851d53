// Command dynamohandler is an aws-lambda-go function that only builds a
// DynamoDB client at init, as Rapport's do (dynamo.NewClient): the floor
// under any function that talks to DynamoDB, which BenchmarkColdStart
// prints beside the empty handler.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rapportcrm/rapport/dynamo"
)

func main() {
	db, err := dynamo.NewClient(context.Background(), os.Getenv("DYNAMODB_ENDPOINT"))
	if err != nil {
		panic(err)
	}
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { _ = db; return "", nil })
}
