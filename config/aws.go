package config

import (
	"cmp"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// LambdaAWS builds the AWS SDK configuration of a Lambda function from
// what Lambda puts in its environment: the region (AWS_REGION) and the
// function role's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), which last as long as the execution environment.
// That is what config.LoadDefaultConfig finds there too, but its chain
// (shared files, SSO, STS web identity, container and IMDS credentials,
// and their clients' endpoint tables) is code every cold start would
// load and initialise for nothing. (Local tools talk to DynamoDB Local
// with a configuration of their own, infra/ddblocal.) The SDK's defaults
// stand for everything else: the HTTP client, and Rapport's retry policy
// set on the client (dynamo).
func LambdaAWS(getenv func(string) string) (aws.Config, error) {
	region, creds, err := lambdaCredentials(getenv)
	if err != nil {
		return aws.Config{}, err
	}
	return aws.Config{
		Region: region,
		// As LoadDefaultConfig labels credentials from the environment.
		Credentials: credentials.StaticCredentialsProvider{
			Value: creds, Source: []aws.CredentialSource{aws.CredentialSourceEnvVars},
		},
	}, nil
}

// lambdaCredentials reads the region and the role's credentials from the
// environment Lambda sets.
func lambdaCredentials(getenv func(string) string) (string, aws.Credentials, error) {
	region := cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	creds := aws.Credentials{
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		AccountID:       getenv("AWS_ACCOUNT_ID"),
		Source:          "EnvConfigCredentials",
	}
	if region == "" || creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return "", aws.Credentials{}, fmt.Errorf("configuration: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required (Lambda sets them)")
	}
	return region, creds, nil
}
