// Command upgrade takes a deployed stack's table through the index upgrade
// plan (infra/tables/upgrade-plan.json), one stack update per step:
//
//	go run ./infra/tables/cmd/upgrade -table <physical table name> -config-env prod \
//		-params "Stage=prod AlarmEmail=ops@example.com"
//
// It reads where the table stands from its indexes, then for each step
// left runs `sam deploy --config-env <env> --parameter-overrides "<params>
// IndexUpgradeStep=<n>"` and waits until the table has finished the step
// (a new index ACTIVE, its backfill done; a deleted one gone) before the
// next. The last deploy is with IndexUpgradeStep=done. Interrupted, it is
// run again and resumes where the table stands. -dry-run prints the steps.
// (docs/deploy.md, "Upgrading the table's indexes".)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/tables"
)

func main() {
	table := flag.String("table", "", "the stack's table (physical name)")
	env := flag.String("config-env", "default", "samconfig.toml environment to deploy")
	params := flag.String("params", "", "the stack's other parameter overrides, as sam deploy takes them")
	dry := flag.Bool("dry-run", false, "print the steps left, deploy nothing")
	flag.Parse()
	if err := run(context.Background(), *table, *env, *params, *dry); err != nil {
		fmt.Fprintln(os.Stderr, "upgrade:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, table, env, params string, dry bool) error {
	if table == "" {
		return fmt.Errorf("-table is required")
	}
	var plan tables.UpgradePlan
	var snap tables.Released
	if err := tables.ReadJSON("infra/tables/upgrade-plan.json", &plan); err != nil {
		return fmt.Errorf("no upgrade plan (run from the repository root): %w", err)
	}
	if err := tables.ReadJSON("infra/tables/released.json", &snap); err != nil {
		return err
	}
	defs, err := tables.FromTemplate("template.yaml")
	if err != nil {
		return err
	}
	// An operator's tool: credentials from the environment, profiles or
	// SSO, as the AWS CLI finds them.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	db := dynamo.NewClient(awsCfg, "")
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return err
	}
	current := tables.Described(out.Table)
	done, ok := plan.StepOf(snap.Tables[plan.Table], tables.Indexes(defs[plan.Table]), current)
	if !ok {
		return fmt.Errorf("table %s has indexes of no step of the plan", table)
	}
	fmt.Printf("table %s stands at step %d of %d\n", table, done, len(plan.Steps))
	deploy := func(ctx context.Context, step string) error {
		args := []string{"deploy", "--config-env", env, "--no-confirm-changeset", "--no-fail-on-empty-changeset",
			"--parameter-overrides", strings.TrimSpace(params + " IndexUpgradeStep=" + step)}
		fmt.Println("sam", strings.Join(args, " "))
		if dry {
			return nil
		}
		cmd := exec.CommandContext(ctx, "sam", args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}
	err = plan.Run(ctx, done, func(ctx context.Context, n int, s tables.UpgradeStep) error {
		fmt.Printf("step %d: %s (%s)\n", n, s, s.Note)
		if err := deploy(ctx, fmt.Sprint(n)); err != nil || dry {
			return err
		}
		return tables.WaitForStep(ctx, db, table, s)
	})
	if err != nil {
		return err
	}
	return deploy(ctx, "done")
}
