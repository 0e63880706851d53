package tables_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

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

// The template's IndexUpgradeStep parameter and the upgrade plan agree:
// step 0 has the last release's indexes, each step n the plan's after n
// steps (one index change, or none, from the step before), the code reads
// the new indexes (TABLE_INDEXES=2) from the plan's switch on, and the
// default is the plan's end.
func TestTemplateStepsFollowTheUpgradePlan(t *testing.T) {
	template := filepath.Join("..", "..", "template.yaml")
	var snap tables.Released
	var plan tables.UpgradePlan
	if err := tables.ReadJSON(releasedPath, &snap); err != nil {
		t.Fatal(err)
	}
	if err := tables.ReadJSON(planPath, &plan); err != nil {
		t.Fatal(err)
	}
	final, err := tables.FromTemplate(template)
	if err != nil {
		t.Fatal(err)
	}
	from, to := snap.Tables[plan.Table], tables.Indexes(final[plan.Table])
	reads := slices.IndexFunc(plan.Steps, func(s tables.UpgradeStep) bool { return s.Reads != "" }) + 1
	if reads == 0 {
		t.Fatal("the plan never switches the code to the new indexes")
	}
	steps := []string{"done"}
	for n := 0; n <= len(plan.Steps); n++ {
		steps = append(steps, fmt.Sprint(n))
	}
	for _, step := range steps {
		params := map[string]string{"IndexUpgradeStep": step}
		defs, err := tables.FromTemplateWith(template, params)
		if err != nil {
			t.Fatal(err)
		}
		n := len(plan.Steps)
		if step != "done" {
			n, _ = strconv.Atoi(step)
		}
		if d, c := tables.IndexChanges(plan.After(from, to, n), tables.Indexes(defs[plan.Table])); len(d)+len(c) > 0 {
			t.Errorf("IndexUpgradeStep %s: the template deletes %v and creates %v against the plan after %d steps", step, d, c, n)
		}
		newSet, err := tables.Condition(template, params, "IndexStepAtLeast8")
		if err != nil {
			t.Fatal(err)
		}
		if newSet != (n >= reads) {
			t.Errorf("IndexUpgradeStep %s: the code reads the new indexes: %v, want %v (the plan switches at step %d)", step, newSet, n >= reads, reads)
		}
	}
}

// The upgrade plan, applied step by step to a table on DynamoDB Local
// made as the last release had it (IndexUpgradeStep 0), one index per
// update as the stack updates do, leaves after each step exactly the
// table that step's template defines, and at the end the template's; a
// table stopped halfway resumes where it stands.
func TestUpgradePlanAppliesOnDynamoDBLocal(t *testing.T) {
	db := ddbtest.Client(t)
	template := filepath.Join("..", "..", "template.yaml")
	var plan tables.UpgradePlan
	if err := tables.ReadJSON(planPath, &plan); err != nil {
		t.Fatal(err)
	}
	at := func(step string) *dynamodb.CreateTableInput {
		defs, err := tables.FromTemplateWith(template, map[string]string{"IndexUpgradeStep": step})
		if err != nil {
			t.Fatal(err)
		}
		return defs[plan.Table]
	}
	name := fmt.Sprintf("upgrade-%d", time.Now().UnixNano())
	if err := tables.Create(t.Context(), db, name, at("0")); err != nil {
		t.Fatal(err)
	}
	final := at("done")
	current := func() map[string]tables.Index {
		out, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &name})
		if err != nil {
			t.Fatal(err)
		}
		got := tables.Described(out.Table)
		return got
	}
	from := tables.Indexes(at("0"))
	deploy := func(stop int) func(ctx context.Context, n int, s tables.UpgradeStep) error {
		return func(ctx context.Context, n int, s tables.UpgradeStep) error {
			if n > stop {
				return errors.New("interrupted")
			}
			if err := tables.ApplyStep(ctx, db, name, s, final); err != nil {
				return err
			}
			if d, c := tables.IndexChanges(tables.Indexes(at(fmt.Sprint(n))), current()); len(d)+len(c) > 0 {
				t.Errorf("after step %d the table deletes %v and creates %v against the template of step %d", n, d, c, n)
			}
			return nil
		}
	}
	if err := plan.Run(t.Context(), 0, deploy(9)); err == nil {
		t.Fatal("an interrupted upgrade reported success")
	}
	done, ok := plan.StepOf(from, tables.Indexes(final), current())
	if !ok || done != 9 {
		t.Fatalf("an upgrade stopped after step 9 stands at step %d (%v)", done, ok)
	}
	if err := plan.Run(t.Context(), done, deploy(len(plan.Steps))); err != nil {
		t.Fatal(err)
	}
	got, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if d := tables.Diff(final, got.Table); len(d) > 0 {
		t.Errorf("after the plan the table differs from the template:\n%s", strings.Join(d, "\n"))
	}
}
