// Command migrate runs the pending data migrations of a table until they
// are done (dynamo.Store.Migrate), printing where each stands: the on-demand
// counterpart of the scheduled job's bounded runs. It reads TABLE_NAME
// (and DYNAMODB_ENDPOINT for DynamoDB Local) like the functions, and the
// AWS credentials of the environment:
//
//	TABLE_NAME=<table> make migrate
//
// Interrupted, it is run again and resumes where the migration stands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/rapportcrm/rapport/config"
	"github.com/rapportcrm/rapport/dynamo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	// An operator's tool: credentials from the environment, profiles or
	// SSO, as the AWS CLI finds them.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	db := dynamo.NewClient(awsCfg, cfg.DynamoEndpoint)
	store := dynamo.New(db, cfg.TableName, nil).UseIndexes(dynamo.IndexesNumbered(cfg.TableIndexes))
	status, err := store.Migrate(ctx, func() bool { return ctx.Err() == nil })
	for _, m := range status {
		fmt.Printf("%s: done %v, %d pages, %d items changed\n", m.Name, m.Done, m.Pages, m.Changed)
	}
	return err
}
