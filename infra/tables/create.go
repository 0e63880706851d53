package tables

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Create creates a table from in under name and waits until it is active.
// A table that already exists under that name is left as it is.
func Create(ctx context.Context, db *dynamodb.Client, name string, in *dynamodb.CreateTableInput) error {
	req := *in
	req.TableName = &name
	_, err := db.CreateTable(ctx, &req)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &name}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	return nil
}

// EnsureAll creates every table of the template at path, naming each with
// nameFor(logical id).
func EnsureAll(ctx context.Context, db *dynamodb.Client, path string, nameFor func(logicalID string) string) error {
	all, err := FromTemplate(path)
	if err != nil {
		return err
	}
	for id, in := range all {
		if err := Create(ctx, db, nameFor(id), in); err != nil {
			return err
		}
	}
	return nil
}
