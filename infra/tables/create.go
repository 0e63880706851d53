package tables

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// activeTimeout bounds the wait for a new table and its indexes. DynamoDB
// Local is instant; real DynamoDB can take minutes for many GSIs.
const activeTimeout = 5 * time.Minute

// Create creates a table named name from in and waits until it and all its
// global secondary indexes are ACTIVE. A table that already exists under
// that name is accepted as is, so Create can be rerun against a persistent
// database; use Diff to check that it matches.
func Create(ctx context.Context, client *dynamodb.Client, name string, in *dynamodb.CreateTableInput) error {
	if name == "" {
		return errors.New("tables: create: empty table name")
	}
	req := *in // shallow copy: the caller's input stays reusable for other names
	req.TableName = aws.String(name)
	if _, err := client.CreateTable(ctx, &req); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("tables: create %s: %w", name, err)
		}
	}
	return waitActive(ctx, client, name)
}

// waitActive polls rather than using dynamodb.TableExistsWaiter, whose 20 s
// minimum delay would dominate test time and which ignores index status.
func waitActive(ctx context.Context, client *dynamodb.Client, name string) error {
	ctx, cancel := context.WithTimeout(ctx, activeTimeout)
	defer cancel()
	delay := 50 * time.Millisecond
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("tables: describe %s: %w", name, err)
		}
		if active(out.Table) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tables: %s not ACTIVE (status %s): %w", name, out.Table.TableStatus, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

func active(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

// EnsureAll creates every table in the template, naming each with nameFor.
// Tables are created in logical-id order so failures are reproducible.
func EnsureAll(ctx context.Context, client *dynamodb.Client, path string, nameFor func(logicalID string) string) error {
	defs, err := FromTemplate(path)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(defs))
	for id := range defs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := Create(ctx, client, nameFor(id), defs[id]); err != nil {
			return fmt.Errorf("tables: ensure %s: %w", id, err)
		}
	}
	return nil
}
