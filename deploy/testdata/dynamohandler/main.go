// Command dynamohandler is an aws-lambda-go function that only builds a
// DynamoDB client at init, as Rapport's do (config.LambdaAWS and
// dynamo.NewClient): the floor under any function that talks to DynamoDB,
// which BenchmarkColdStart prints beside the empty handler.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/dynamo"
)

func main() {
	awsCfg, err := config.LambdaAWS(os.Getenv)
	if err != nil {
		panic(err)
	}
	db := dynamo.NewClient(awsCfg, os.Getenv("DYNAMODB_ENDPOINT"))
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { _ = db; return "", nil })
}
