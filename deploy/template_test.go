package deploy_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestCfnLint(t *testing.T) {
	lint := MustLookPath(t, "cfn-lint", "pip install cfn-lint")
	out, err := exec.Command(lint, filepath.Join(root, "template.yaml")).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

// resources returns the template's resources of type typ, by logical id.
func resources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

func TestSAMTransform(t *testing.T) {
	t.Run("CognitoUserPool", func(t *testing.T) {
		tpl := MustTransform(t)
		fns := resources(tpl, "AWS::Lambda::Function")
		for _, id := range functions {
			fn, ok := fns[id]
			if !ok {
				t.Errorf("no function %s", id)
				continue
			}
			p := props(fn)
			if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || !slices.Equal(p["Architectures"].([]any), []any{"arm64"}) {
				t.Errorf("%s: runtime %v handler %v architectures %v", id, p["Runtime"], p["Handler"], p["Architectures"])
			}
			if md, _ := fn["Metadata"].(map[string]any); md["BuildMethod"] != "makefile" {
				t.Errorf("%s: BuildMethod %v, want makefile", id, md["BuildMethod"])
			}
		}
		if len(resources(tpl, "AWS::ApiGatewayV2::Api")) != 1 || len(resources(tpl, "AWS::ApiGatewayV2::Stage")) != 1 {
			t.Error("want one HTTP API with one stage")
		}
		if n := len(resources(tpl, "AWS::Cognito::UserPoolGroup")); n != 5 {
			t.Errorf("%d Cognito groups, want 5", n)
		}
		var groups []string
		for _, g := range resources(tpl, "AWS::Cognito::UserPoolGroup") {
			groups = append(groups, props(g)["GroupName"].(string))
		}
		sort.Strings(groups)
		if want := []string{"ADMIN", "AUDITOR", "MANAGER", "SALES", "SERVICE"}; !slices.Equal(groups, want) {
			t.Errorf("groups %v, want %v", groups, want)
		}
		esm := resources(tpl, "AWS::Lambda::EventSourceMapping")
		if len(esm) != 1 {
			t.Fatalf("%d event source mappings, want 1 (the table stream)", len(esm))
		}
		for _, m := range esm {
			if rt := props(m)["FunctionResponseTypes"]; !slices.Equal(rt.([]any), []any{"ReportBatchItemFailures"}) {
				t.Errorf("stream mapping FunctionResponseTypes %v", rt)
			}
		}
		// The job's two schedules: the frequent run (JobSchedule) and the
		// daily regrading ({"task": "grading"} on GradingSchedule); and the
		// webhook deliveries' (WebhookSchedule).
		rules := resources(tpl, "AWS::Events::Rule")
		var inputs []string
		for _, r := range rules {
			for _, target := range props(r)["Targets"].([]any) {
				in, _ := target.(map[string]any)["Input"].(string)
				inputs = append(inputs, in)
			}
		}
		sort.Strings(inputs)
		if len(rules) != 3 || !slices.Equal(inputs, []string{"", "", `{"task": "grading"}`}) {
			t.Errorf("%d EventBridge rules with inputs %q, want the job's two schedules (frequent, and grading) and the webhooks'", len(rules), inputs)
		}
		// Every function logs to a group of its own with a retention.
		groupsWithRetention := resources(tpl, "AWS::Logs::LogGroup")
		for id, fn := range fns {
			lc, _ := props(fn)["LoggingConfig"].(map[string]any)
			ref, _ := lc["LogGroup"].(map[string]any)
			lg, ok := groupsWithRetention[ref["Ref"].(string)]
			if !ok || props(lg)["RetentionInDays"] == nil {
				t.Errorf("%s: log group %v has no retention", id, ref)
			}
		}
		outs := tpl["Outputs"].(map[string]any)
		for _, o := range []string{"GraphQLUrl", "PartnerGraphQLUrl", "UserPoolId", "UserPoolClientId", "CrmTableName"} {
			if outs[o] == nil {
				t.Errorf("no output %s", o)
			}
		}
	})
	t.Run("ExternalIssuer", func(t *testing.T) {
		MustTransform(t, "CreateUserPool=false", "OidcIssuer=https://login.example.com", "OidcAudience=rapport",
			"CorsAllowedOrigins=https://crm.example.com,https://admin.example.com")
	})
}

// starResourceAllowed lists the only actions allowed on Resource "*",
// each because AWS offers no resource-level permission for it.
var starResourceAllowed = []string{
	"xray:PutTraceSegments",    // X-Ray: no resource types
	"xray:PutTelemetryRecords", // X-Ray: no resource types
	// CodeDeploy's role (DeploymentRole) reads the state of the alarms that
	// stop a rollout; read-only, and what AWS's own policy for it grants.
	"cloudwatch:DescribeAlarms",
}

func TestLeastPrivilege(t *testing.T) {
	tpl := MustTransform(t)
	roles := resources(tpl, "AWS::IAM::Role")
	if len(roles) == 0 {
		t.Fatal("no IAM roles")
	}
	var docs []map[string]any
	for id, r := range roles {
		p := props(r)
		if arns := p["ManagedPolicyArns"]; arns != nil {
			// AWS managed policies such as AWSLambdaBasicExecutionRole
			// grant logs on Resource "*".
			t.Errorf("%s: managed policies %v; write the statements out instead", id, arns)
		}
		pols, _ := p["Policies"].([]any)
		for _, pol := range pols {
			docs = append(docs, map[string]any{"id": id, "doc": pol.(map[string]any)["PolicyDocument"]})
		}
	}
	for id, r := range resources(tpl, "AWS::IAM::Policy") {
		docs = append(docs, map[string]any{"id": id, "doc": props(r)["PolicyDocument"]})
	}
	for _, d := range docs {
		id := d["id"].(string)
		stmts, _ := d["doc"].(map[string]any)["Statement"].([]any)
		for _, s := range stmts {
			s := s.(map[string]any)
			if s["Effect"] != "Allow" {
				continue
			}
			actions := strs(s["Action"])
			for _, a := range actions {
				if strings.Contains(a, "*") {
					t.Errorf("%s: wildcard action %q", id, a)
				}
				if a == "dynamodb:Scan" && (id != "JobFunctionRole" || !slices.Equal(resourceIDs(s["Resource"]), []string{"CrmTable"})) {
					// The job's data migrations read every item; nothing
					// else scans, and nothing scans an index.
					t.Errorf("%s: dynamodb:Scan granted on %v; only the job's migrations scan, and only the table", id, s["Resource"])
				}
			}
			if slices.Contains(strs(s["Resource"]), "*") {
				for _, a := range actions {
					if !slices.Contains(starResourceAllowed, a) {
						t.Errorf("%s: %s on Resource \"*\"", id, a)
					}
				}
			}
		}
	}
}

// strs reads an IAM Action or Resource: a string or a list; intrinsics
// (maps) are kept as "" so they never equal "*".
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return []string{""}
}

// resourceIDs names the resources of an IAM Resource list written as
// !GetAtt X.Arn (the transformed template's {"Fn::GetAtt": [X, "Arn"]});
// anything else is "?".
func resourceIDs(v any) []string {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []string
	for _, e := range list {
		id := "?"
		if m, ok := e.(map[string]any); ok {
			if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 && ga[1] == "Arn" {
				id, _ = ga[0].(string)
			}
		}
		out = append(out, id)
	}
	return out
}
