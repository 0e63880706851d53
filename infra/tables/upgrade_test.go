package tables_test

import (
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/infra/ddbtest"
	"github.com/rapportcrm/rapport/infra/tables"
)

// At a release, the snapshot is retaken from template.yaml:
//
//	go test ./infra/tables -run TestIndexGuard -release <name>
var release = flag.String("release", "", "retake released.json from template.yaml, naming the release")

const (
	releasedPath = "released.json"
	planPath     = "upgrade-plan.json"
)

// The GSI upgrade guard: template.yaml may differ from the last release's
// indexes (released.json) by one index created or deleted, which one stack
// update does; more needs upgrade-plan.json, a plan that leads from the
// release to the template one index at a time, with its operators' note.
func TestIndexGuard(t *testing.T) {
	defs, err := tables.FromTemplate(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if *release != "" {
		snap := tables.Released{Release: *release, Tables: map[string]map[string]tables.Index{}}
		for id, in := range defs {
			snap.Tables[id] = tables.Indexes(in)
		}
		b, _ := json.MarshalIndent(snap, "", "  ")
		if err := os.WriteFile(releasedPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s for release %s", releasedPath, *release)
		return
	}
	var snap tables.Released
	if err := tables.ReadJSON(releasedPath, &snap); err != nil {
		t.Fatal(err)
	}
	var plan *tables.UpgradePlan
	if err := tables.ReadJSON(planPath, &plan); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for id, in := range defs {
		from, to := snap.Tables[id], tables.Indexes(in)
		deletes, creates := tables.IndexChanges(from, to)
		if len(deletes)+len(creates) <= 1 {
			continue
		}
		if plan == nil || plan.Table != id || plan.From != snap.Release {
			t.Errorf("%s: template.yaml deletes %v and creates %v against release %s: more than one stack update "+
				"(CloudFormation changes one index per update). Write %s with the steps and their note "+
				"(docs/access-patterns.md, \"Upgrading the table's indexes\").", id, deletes, creates, snap.Release, planPath)
			continue
		}
		if err := plan.Check(from, to); err != nil {
			t.Errorf("%s: %s: %v", id, planPath, err)
		}
		if _, err := os.Stat(filepath.Join("..", "..", plan.Doc)); plan.Doc == "" || err != nil {
			t.Errorf("%s: %s: the operators' note %q is missing", id, planPath, plan.Doc)
		}
	}
	if plan != nil && plan.From != snap.Release {
		t.Errorf("%s starts from release %s, but the last release is %s: retire or redo it", planPath, plan.From, snap.Release)
	}
}

func TestUpgradePlanCheck(t *testing.T) {
	all := func(keys ...string) tables.Index { return tables.Index{Keys: keys, Projection: "ALL"} }
	keysOnly := func(keys ...string) tables.Index { return tables.Index{Keys: keys, Projection: "KEYS_ONLY"} }
	from := map[string]tables.Index{"byOwner": all("gOwner", "gSort"), "byDue": keysOnly("gDue", "gDueAt")}
	to := map[string]tables.Index{"byOwnerKeys": keysOnly("gOwner", "gSort"), "byDue": keysOnly("gDue", "gDueAt")}
	tests := []struct {
		name  string
		steps []tables.UpgradeStep
		err   string
	}{
		{"OK", []tables.UpgradeStep{{Create: "byOwnerKeys"}, {Delete: "byOwner"}}, ""},
		{"ErrStepDoesTwoThings", []tables.UpgradeStep{{Create: "byOwnerKeys", Delete: "byOwner"}}, "exactly one"},
		{"ErrCreatesUnknownIndex", []tables.UpgradeStep{{Create: "byGrade"}}, "does not define"},
		{"ErrDeletesMissingIndex", []tables.UpgradeStep{{Delete: "byName"}}, "does not exist"},
		{"ErrRedefinesInPlace", []tables.UpgradeStep{{Create: "byDue"}}, "cannot change in place"},
		{"ErrStopsShort", []tables.UpgradeStep{{Create: "byOwnerKeys"}}, "still differs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tables.UpgradePlan{Steps: tt.steps}.Check(from, to)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("Check = %v, want %q", err, tt.err)
			}
		})
	}
	if d, c := tables.IndexChanges(from, to); len(d) != 1 || len(c) != 1 {
		t.Errorf("IndexChanges = delete %v create %v, want one each", d, c)
	}
}

// An upgrade plan applied step by step to a table on DynamoDB Local, one
// index per update as CloudFormation would, leaves exactly the wanted
// table: here, the template's customer lists by owner and by grade moved
// to keys-only indexes under new names.
func TestUpgradePlanAppliesOnDynamoDBLocal(t *testing.T) {
	db := ddbtest.Client(t)
	name := ddbtest.NewTable(t, "CrmTable")
	defs, err := tables.FromTemplate(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := *defs["CrmTable"]
	want.GlobalSecondaryIndexes = nil
	renamed := map[string]string{"byOwner": "byOwnerKeys", "byGrade": "byGradeKeys"}
	for _, g := range defs["CrmTable"].GlobalSecondaryIndexes {
		if to, ok := renamed[aws.ToString(g.IndexName)]; ok {
			g.IndexName, g.Projection = aws.String(to), &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}
		}
		want.GlobalSecondaryIndexes = append(want.GlobalSecondaryIndexes, g)
	}
	plan := tables.UpgradePlan{Table: "CrmTable", Steps: []tables.UpgradeStep{
		{Create: "byOwnerKeys"}, {Create: "byGradeKeys"}, {Delete: "byOwner", Note: "after the code reads byOwnerKeys"}, {Delete: "byGrade"},
	}}
	if err := plan.Check(tables.Indexes(defs["CrmTable"]), tables.Indexes(&want)); err != nil {
		t.Fatal(err)
	}
	for _, s := range plan.Steps {
		if err := tables.ApplyStep(t.Context(), db, name, s, &want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if d := tables.Diff(&want, got.Table); len(d) > 0 {
		t.Errorf("after the plan the table differs from the wanted one:\n%s", strings.Join(d, "\n"))
	}
}
