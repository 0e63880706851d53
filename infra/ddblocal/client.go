package ddblocal

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

// NewClient returns a DynamoDB client for a DynamoDB Local endpoint.
//
// The config is built by hand instead of with config.LoadDefaultConfig so a
// developer's AWS_PROFILE, ~/.aws files, AWS_ENDPOINT_URL or an EC2 metadata
// lookup can never redirect tests at a real account or slow them down.
// DynamoDB Local accepts any credentials; it only uses the access key and
// region to pick a database when -sharedDb is off. optFns apply after the
// defaults (e.g. dynamo.Retries for the production retry policy).
func NewClient(ctx context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ddblocal: new client: %w", err)
	}
	if endpoint == "" {
		return nil, fmt.Errorf("ddblocal: new client: empty endpoint")
	}
	return dynamodb.NewFromConfig(localConfig(), append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}}, optFns...)...), nil
}

// NewStreamsClient returns a DynamoDB Streams client for a DynamoDB Local
// endpoint, built like NewClient's.
func NewStreamsClient(endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(localConfig(), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

func localConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:  awshttp.NewBuildableClient(),
		Retryer: func() aws.Retryer {
			// Local never throttles for capacity, but a JVM busy with GC
			// or many parallel tests can time out; a few quick retries
			// absorb that without hiding real failures for long.
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 5
				o.MaxBackoff = 2 * time.Second
			})
		},
	}
}
