package tables

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Changing a table's global secondary indexes in a deployed stack is
// constrained: CloudFormation creates or deletes at most one GSI per stack
// update, and an index's keys or projection cannot change in place (a
// changed index is a new index under a new name, and the old one deleted).
// A release that changes more than one index therefore ships an upgrade
// plan: the order in which operators deploy one index change at a time
// (docs/access-patterns.md, "Upgrading the table's indexes"). The index
// guard test compares template.yaml with the indexes of the last release
// (released.json) and fails when they differ by more than one change
// without a plan that leads from one to the other.

// Index is one global secondary index as a table definition declares it.
type Index struct {
	// Keys are the partition key and, if any, the sort key.
	Keys []string `json:"keys"`
	// Projection is ALL, KEYS_ONLY or INCLUDE (with NonKey).
	Projection string   `json:"projection"`
	NonKey     []string `json:"nonKey,omitempty"`
}

func (i Index) same(j Index) bool {
	a, b := slices.Clone(i.NonKey), slices.Clone(j.NonKey)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(i.Keys, j.Keys) && i.Projection == j.Projection && slices.Equal(a, b)
}

// Described reads the global secondary indexes of a table as DynamoDB
// describes it.
func Described(t *types.TableDescription) map[string]Index {
	out := map[string]Index{}
	for _, g := range t.GlobalSecondaryIndexes {
		idx := Index{}
		if g.Projection != nil {
			idx.Projection, idx.NonKey = string(g.Projection.ProjectionType), slices.Clone(g.Projection.NonKeyAttributes)
		}
		for _, k := range g.KeySchema {
			idx.Keys = append(idx.Keys, aws.ToString(k.AttributeName))
		}
		out[aws.ToString(g.IndexName)] = idx
	}
	return out
}

// Indexes reads the global secondary indexes of a table definition.
func Indexes(in *dynamodb.CreateTableInput) map[string]Index {
	out := map[string]Index{}
	for _, g := range in.GlobalSecondaryIndexes {
		idx := Index{}
		for _, k := range g.KeySchema {
			idx.Keys = append(idx.Keys, aws.ToString(k.AttributeName))
		}
		if p := g.Projection; p != nil {
			idx.Projection = string(p.ProjectionType)
			idx.NonKey = slices.Clone(p.NonKeyAttributes)
		}
		out[aws.ToString(g.IndexName)] = idx
	}
	return out
}

// IndexChanges lists what turns one set of indexes into another: the
// indexes to delete (gone, or redefined) and to create (new, or
// redefined), each sorted by name. Each is one stack update.
func IndexChanges(from, to map[string]Index) (deletes, creates []string) {
	for name, f := range from {
		if t, ok := to[name]; !ok || !t.same(f) {
			deletes = append(deletes, name)
		}
	}
	for name, t := range to {
		if f, ok := from[name]; !ok || !t.same(f) {
			creates = append(creates, name)
		}
	}
	slices.Sort(deletes)
	slices.Sort(creates)
	return deletes, creates
}

// Released is the committed snapshot of the last release's indexes.
type Released struct {
	// Release names the release the snapshot was taken from.
	Release string `json:"release"`
	// Tables maps a template logical id to its indexes by name.
	Tables map[string]map[string]Index `json:"tables"`
}

// UpgradeStep creates or deletes one index, or switches the code to the
// index set named by Reads: one stack update.
type UpgradeStep struct {
	Create string `json:"create,omitempty"`
	Delete string `json:"delete,omitempty"`
	// Reads names the index set the code reads from this step on
	// (TABLE_INDEXES); the table does not change.
	Reads string `json:"reads,omitempty"`
	// Note says what else the step needs, e.g. the code release that stops
	// reading an index before it is deleted.
	Note string `json:"note,omitempty"`
}

func (s UpgradeStep) String() string {
	switch {
	case s.Create != "":
		return "create " + s.Create
	case s.Reads != "":
		return "read index set " + s.Reads
	}
	return "delete " + s.Delete
}

// UpgradePlan is the order in which a table goes from the last release's
// indexes to the template's, one index per stack update.
type UpgradePlan struct {
	// Table is the template logical id.
	Table string `json:"table"`
	// From is the release the plan starts from (Released.Release).
	From string `json:"from"`
	// Doc is the repository path of the operators' note for this upgrade.
	Doc   string        `json:"doc"`
	Steps []UpgradeStep `json:"steps"`
}

// Check verifies that the plan's steps, applied in order to from, each
// create or delete exactly one index and end with exactly to: creations
// name indexes of to, deletions indexes then present.
func (p UpgradePlan) Check(from, to map[string]Index) error {
	cur := map[string]Index{}
	for name, idx := range from {
		cur[name] = idx
	}
	for i, s := range p.Steps {
		kinds := 0
		for _, v := range []string{s.Create, s.Delete, s.Reads} {
			if v != "" {
				kinds++
			}
		}
		switch {
		case kinds != 1:
			return fmt.Errorf("step %d: must create or delete exactly one index, or switch the code's index set", i+1)
		case s.Reads != "":
		case s.Create != "":
			idx, ok := to[s.Create]
			if !ok {
				return fmt.Errorf("step %d: creates %s, which the template does not define", i+1, s.Create)
			}
			if _, ok := cur[s.Create]; ok {
				return fmt.Errorf("step %d: creates %s, which exists then (delete it first: an index cannot change in place)", i+1, s.Create)
			}
			cur[s.Create] = idx
		default:
			if _, ok := cur[s.Delete]; !ok {
				return fmt.Errorf("step %d: deletes %s, which does not exist then", i+1, s.Delete)
			}
			delete(cur, s.Delete)
		}
	}
	if deletes, creates := IndexChanges(cur, to); len(deletes)+len(creates) > 0 {
		return fmt.Errorf("after its %d steps the plan still differs from the template: delete %v, create %v", len(p.Steps), deletes, creates)
	}
	return nil
}

// After returns the indexes a table has after the plan's first n steps,
// starting from from.
func (p UpgradePlan) After(from map[string]Index, to map[string]Index, n int) map[string]Index {
	cur := map[string]Index{}
	for name, idx := range from {
		cur[name] = idx
	}
	for _, s := range p.Steps[:min(n, len(p.Steps))] {
		switch {
		case s.Create != "":
			cur[s.Create] = to[s.Create]
		case s.Delete != "":
			delete(cur, s.Delete)
		}
	}
	return cur
}

// StepOf returns how many of the plan's steps a table whose indexes are
// current has made: the first step count after which the plan's indexes
// are the table's (a step that changes no index is made again, which
// changes nothing); ok is false when no step count matches.
func (p UpgradePlan) StepOf(from, to, current map[string]Index) (int, bool) {
	for n := 0; n <= len(p.Steps); n++ {
		if d, c := IndexChanges(p.After(from, to, n), current); len(d)+len(c) == 0 {
			return n, true
		}
	}
	return 0, false
}

// Run makes the plan's steps after the first done, in order, one at a
// time: deploy makes step n (1-based) and returns once the table has
// finished it (a stack update with IndexUpgradeStep=n and a wait for
// ACTIVE indexes, or ApplyStep on a local table).
func (p UpgradePlan) Run(ctx context.Context, done int, deploy func(ctx context.Context, n int, s UpgradeStep) error) error {
	for n := done + 1; n <= len(p.Steps); n++ {
		if err := deploy(ctx, n, p.Steps[n-1]); err != nil {
			return fmt.Errorf("tables: upgrade step %d (%s): %w", n, p.Steps[n-1], err)
		}
	}
	return nil
}

// WaitForStep waits until a table has finished a step made by a stack
// update: a created index ACTIVE (its backfill done), a deleted one gone.
func WaitForStep(ctx context.Context, client *dynamodb.Client, name string, step UpgradeStep) error {
	if step.Delete != "" {
		if err := waitIndexGone(ctx, client, name, step.Delete); err != nil {
			return err
		}
	}
	return waitActive(ctx, client, name)
}

// ReadJSON decodes a JSON file, refusing unknown fields.
func ReadJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("tables: %s: %w", path, err)
	}
	return nil
}

// ApplyStep makes one step of an upgrade plan on an existing table named
// name, whose wanted definition is want, and waits until the table and its
// indexes are ACTIVE (and a deleted index gone): what CloudFormation does
// for one stack update, for local tables and the plan's test.
func ApplyStep(ctx context.Context, client *dynamodb.Client, name string, step UpgradeStep, want *dynamodb.CreateTableInput) error {
	in := &dynamodb.UpdateTableInput{TableName: aws.String(name)}
	switch {
	case step.Create != "":
		i := slices.IndexFunc(want.GlobalSecondaryIndexes, func(g types.GlobalSecondaryIndex) bool { return aws.ToString(g.IndexName) == step.Create })
		if i < 0 {
			return fmt.Errorf("tables: %s: no index %s to create", name, step.Create)
		}
		g := want.GlobalSecondaryIndexes[i]
		in.GlobalSecondaryIndexUpdates = []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection, ProvisionedThroughput: g.ProvisionedThroughput,
		}}}
		for _, k := range g.KeySchema {
			j := slices.IndexFunc(want.AttributeDefinitions, func(a types.AttributeDefinition) bool {
				return aws.ToString(a.AttributeName) == aws.ToString(k.AttributeName)
			})
			if j < 0 {
				return fmt.Errorf("tables: %s: index %s: key %s has no attribute definition", name, step.Create, aws.ToString(k.AttributeName))
			}
			in.AttributeDefinitions = append(in.AttributeDefinitions, want.AttributeDefinitions[j])
		}
	case step.Delete != "":
		in.GlobalSecondaryIndexUpdates = []types.GlobalSecondaryIndexUpdate{{Delete: &types.DeleteGlobalSecondaryIndexAction{IndexName: aws.String(step.Delete)}}}
	case step.Reads != "":
		return nil // the code's configuration changes, not the table
	default:
		return errors.New("tables: an upgrade step creates or deletes one index")
	}
	if _, err := client.UpdateTable(ctx, in); err != nil {
		return fmt.Errorf("tables: %s: %s: %w", name, step, err)
	}
	if step.Delete != "" {
		if err := waitIndexGone(ctx, client, name, step.Delete); err != nil {
			return err
		}
	}
	return waitActive(ctx, client, name)
}

func waitIndexGone(ctx context.Context, client *dynamodb.Client, name, index string) error {
	ctx, cancel := context.WithTimeout(ctx, activeTimeout)
	defer cancel()
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("tables: describe %s: %w", name, err)
		}
		if !slices.ContainsFunc(out.Table.GlobalSecondaryIndexes, func(g types.GlobalSecondaryIndexDescription) bool {
			return strings.EqualFold(aws.ToString(g.IndexName), index)
		}) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tables: %s: index %s still there: %w", name, index, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// UpgradeLocal brings a local table made by an earlier release (a
// developer's .local data) to the indexes of the template's table
// logicalID, along the upgrade plan at planPath from the release
// snapshot at releasedPath, one step at a time as the stack updates do.
// It returns how many steps it made: none when the table already has the
// template's indexes.
func UpgradeLocal(ctx context.Context, client *dynamodb.Client, name, templatePath, logicalID, planPath, releasedPath string) (int, error) {
	defs, err := FromTemplate(templatePath)
	if err != nil {
		return 0, err
	}
	want := defs[logicalID]
	if want == nil {
		return 0, fmt.Errorf("tables: %s has no table %s", templatePath, logicalID)
	}
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return 0, fmt.Errorf("tables: describe %s: %w", name, err)
	}
	current := Described(out.Table)
	to := Indexes(want)
	if d, c := IndexChanges(current, to); len(d)+len(c) == 0 {
		return 0, nil
	}
	var plan UpgradePlan
	var snap Released
	if err := ReadJSON(planPath, &plan); err != nil {
		return 0, fmt.Errorf("tables: %s's indexes differ from the template's and there is no upgrade plan: %w", name, err)
	}
	if err := ReadJSON(releasedPath, &snap); err != nil {
		return 0, err
	}
	done, ok := plan.StepOf(snap.Tables[logicalID], to, current)
	if !ok {
		return 0, fmt.Errorf("tables: %s's indexes are neither the last release's nor a step of the upgrade plan", name)
	}
	steps := 0
	err = plan.Run(ctx, done, func(ctx context.Context, _ int, s UpgradeStep) error {
		steps++
		return ApplyStep(ctx, client, name, s, want)
	})
	return steps, err
}
