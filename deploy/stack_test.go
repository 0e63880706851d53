package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// These tests read the transformed template as a team deploying Rapport
// into its own account would: what would fail on a first deploy, alert no
// one, or lose data on `sam delete`.

func alarms(tpl map[string]any) map[string]map[string]any {
	return resources(tpl, "AWS::CloudWatch::Alarm")
}

// TestAlarmTopicCanReceiveAlarms: CloudWatch cannot publish to a topic under
// the AWS managed key alias/aws/sns (its policy cannot grant CloudWatch),
// so the topic must be unencrypted or under a key of the stack's whose
// policy lets CloudWatch encrypt.
func TestAlarmTopicCanReceiveAlarms(t *testing.T) {
	tpl := MustTransform(t)
	topic := props(resources(tpl, "AWS::SNS::Topic")["AlarmTopic"])
	ref, _ := topic["KmsMasterKeyId"].(map[string]any)["Ref"].(string)
	if ref == "" {
		t.Fatalf("AlarmTopic KmsMasterKeyId %v: want the stack's own key", topic["KmsMasterKeyId"])
	}
	key, ok := resources(tpl, "AWS::KMS::Key")[ref]
	if !ok {
		t.Fatalf("AlarmTopic key %s is not a KMS key of the stack", ref)
	}
	kp := props(key)
	if kp["EnableKeyRotation"] != true {
		t.Error("the alarm key is not rotated")
	}
	granted := map[string]bool{}
	for _, s := range kp["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		s := s.(map[string]any)
		if p, _ := s["Principal"].(map[string]any); p["Service"] == "cloudwatch.amazonaws.com" && s["Effect"] == "Allow" {
			for _, a := range strs(s["Action"]) {
				granted[a] = true
			}
			if !strings.Contains(mustJSON(t, s["Condition"]), "aws:SourceAccount") {
				t.Errorf("CloudWatch may use the key for any account's alarms: %v", s["Condition"])
			}
		}
	}
	if !granted["kms:Decrypt"] || !granted["kms:GenerateDataKey*"] {
		t.Errorf("the key policy grants CloudWatch %v; it needs kms:Decrypt and kms:GenerateDataKey*", granted)
	}
	publish := false
	for _, p := range resources(tpl, "AWS::SNS::TopicPolicy") {
		doc := mustJSON(t, props(p))
		publish = publish || (strings.Contains(doc, `"cloudwatch.amazonaws.com"`) && strings.Contains(doc, `"sns:Publish"`) &&
			strings.Contains(doc, `"AlarmTopic"`))
	}
	if !publish {
		t.Error("no topic policy lets CloudWatch publish to AlarmTopic")
	}
}

// TestEveryAlarmNotifiesWhenItFiresAndWhenItClears, and the alarms a
// running stack needs exist: every function's errors and throttles, the
// API's and the job's durations, the stream's iterator age and dead
// letters, and the job's incomplete grading runs.
func TestEveryAlarmNotifiesWhenItFiresAndWhenItClears(t *testing.T) {
	tpl := MustTransform(t)
	topic := []any{map[string]any{"Ref": "AlarmTopic"}}
	watched := map[string]bool{}
	for id, a := range alarms(tpl) {
		p := props(a)
		if !slices.EqualFunc(p["AlarmActions"].([]any), topic, func(a, b any) bool { return mustJSON(t, a) == mustJSON(t, b) }) ||
			mustJSON(t, p["OKActions"]) != mustJSON(t, topic) {
			t.Errorf("%s: AlarmActions %v OKActions %v, want both the alarm topic", id, p["AlarmActions"], p["OKActions"])
		}
		// What each alarm watches: metric name and the resources it names.
		watch := func(metric string, dims any) {
			for _, d := range dims.([]any) {
				watched[metric+" "+mustJSON(t, d.(map[string]any)["Value"])] = true
			}
			watched[metric] = true
		}
		if m, ok := p["MetricName"].(string); ok {
			watch(m, p["Dimensions"])
		}
		for _, m := range asList(p["Metrics"]) {
			if ms, ok := m.(map[string]any)["MetricStat"].(map[string]any); ok {
				metric := ms["Metric"].(map[string]any)
				watch(metric["MetricName"].(string), metric["Dimensions"])
			}
		}
	}
	var want []string
	for _, fn := range functions {
		ref := mustJSON(t, map[string]any{"Ref": fn})
		want = append(want, "Errors "+ref, "Throttles "+ref)
	}
	want = append(want,
		`Duration {"Ref":"ApiFunction"}`, `Duration {"Ref":"JobFunction"}`,
		`IteratorAge {"Ref":"StreamFunction"}`, "ApproximateNumberOfMessagesVisible",
		"GradingIncomplete", "ReadThrottleEvents", "WriteThrottleEvents", "5xx")
	for _, w := range want {
		if !watched[w] {
			t.Errorf("no alarm on %s", w)
		}
	}
}

// TestUniqueNamesComeFromTheStackName: a name that must be unique in the
// account and region is derived from the stack name, never from Stage
// alone, so a second stack of the same Stage deploys; resources whose
// names need not be unique are left to CloudFormation.
func TestUniqueNamesComeFromTheStackName(t *testing.T) {
	tpl := MustTransform(t)
	named := map[string]string{
		"AWS::CloudWatch::Alarm":     "AlarmName",
		"AWS::CloudWatch::Dashboard": "DashboardName",
		"AWS::Logs::LogGroup":        "LogGroupName",
		"AWS::KMS::Alias":            "AliasName",
	}
	for typ, prop := range named {
		for id, r := range resources(tpl, typ) {
			name := mustJSON(t, props(r)[prop])
			if !strings.Contains(name, "${AWS::StackName}") || strings.Contains(name, "${Stage}") {
				t.Errorf("%s %s %s: want a name derived from the stack name", id, prop, name)
			}
		}
	}
	generated := map[string]string{
		"AWS::SNS::Topic": "TopicName", "AWS::SQS::Queue": "QueueName", "AWS::Lambda::Function": "FunctionName",
		"AWS::DynamoDB::Table": "TableName", "AWS::IAM::Role": "RoleName", "AWS::SecretsManager::Secret": "Name",
	}
	for typ, prop := range generated {
		for id, r := range resources(tpl, typ) {
			if v, set := props(r)[prop]; set {
				t.Errorf("%s sets %s %v: leave it to CloudFormation, or a second stack collides", id, prop, v)
			}
		}
	}
}

// TestJobReservesNoConcurrencyByDefault: a new account's concurrency quota
// of 10 leaves nothing to reserve (Lambda keeps 10 unreserved), so a
// reservation must be asked for.
func TestJobReservesNoConcurrencyByDefault(t *testing.T) {
	tpl := MustTransform(t)
	for id, fn := range resources(tpl, "AWS::Lambda::Function") {
		rc, set := props(fn)["ReservedConcurrentExecutions"]
		if !set {
			continue
		}
		if want := `{"Fn::If":["ReserveJobConcurrency",{"Ref":"JobReservedConcurrency"},{"Ref":"AWS::NoValue"}]}`; mustJSON(t, rc) != want {
			t.Errorf("%s reserves concurrency %s unconditionally", id, mustJSON(t, rc))
		}
	}
	param := tpl["Parameters"].(map[string]any)["JobReservedConcurrency"].(map[string]any)
	cond := mustJSON(t, tpl["Conditions"].(map[string]any)["ReserveJobConcurrency"])
	if mustJSON(t, param["Default"]) != "0" || cond != `{"Fn::Not":[{"Fn::Equals":[{"Ref":"JobReservedConcurrency"},"0"]}]}` {
		t.Errorf("JobReservedConcurrency default %v, condition %s: want off by default", param["Default"], cond)
	}
}

// TestSignInIsHardenedAndSurvivesDelete: MFA is required (a pool-wide
// setting, the only way Cognito requires it of ADMIN), USER_PASSWORD_AUTH
// only when a parameter asks for it, Cognito's mail through SES when an
// identity is given, and `sam delete` keeps the pool with its client and
// groups, so users keep their roles.
func TestSignInIsHardenedAndSurvivesDelete(t *testing.T) {
	tpl := MustTransform(t)
	pool := props(resources(tpl, "AWS::Cognito::UserPool")["UserPool"])
	if pool["MfaConfiguration"] != "ON" || !slices.Contains(strs(pool["EnabledMfas"]), "SOFTWARE_TOKEN_MFA") {
		t.Errorf("MFA %v %v: want ON with TOTP", pool["MfaConfiguration"], pool["EnabledMfas"])
	}
	client := props(resources(tpl, "AWS::Cognito::UserPoolClient")["UserPoolClient"])
	flows := client["ExplicitAuthFlows"].(map[string]any)["Fn::If"].([]any)
	if flows[0] != "PasswordAuth" || slices.Contains(strs(flows[2]), "ALLOW_USER_PASSWORD_AUTH") ||
		!slices.Contains(strs(flows[1]), "ALLOW_USER_PASSWORD_AUTH") {
		t.Errorf("auth flows %v: USER_PASSWORD_AUTH only when PasswordAuth", flows)
	}
	if d := tpl["Parameters"].(map[string]any)["AllowPasswordAuth"].(map[string]any)["Default"]; d != "false" {
		t.Errorf("AllowPasswordAuth defaults to %v", d)
	}
	if email := mustJSON(t, pool["EmailConfiguration"]); !strings.Contains(email, `"DEVELOPER"`) || !strings.Contains(email, "CognitoEmailSourceArn") {
		t.Errorf("EmailConfiguration %s: want SES (DEVELOPER) when CognitoEmailSourceArn is set", email)
	}
	for _, typ := range []string{"AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup"} {
		for id, r := range resources(tpl, typ) {
			if r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
				t.Errorf("%s: DeletionPolicy %v UpdateReplacePolicy %v, want Retain", id, r["DeletionPolicy"], r["UpdateReplacePolicy"])
			}
		}
	}
}

// TestCursorSecretIsReadNotPassed: no function carries the cursor key in
// its environment; the API function gets the secret's ARN and its role may
// read that secret alone, and no other role may read secrets.
func TestCursorSecretIsReadNotPassed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "{{resolve:secretsmanager") {
		t.Error("a dynamic reference puts a secret's value into the template's resources")
	}
	tpl := MustTransform(t)
	for id, fn := range resources(tpl, "AWS::Lambda::Function") {
		vars := mustJSON(t, props(fn)["Environment"])
		if strings.Contains(vars, `"CURSOR_SECRET"`) {
			t.Errorf("%s has CURSOR_SECRET in its environment", id)
		}
		if got := strings.Contains(vars, `"CURSOR_SECRET_ARN":{"Ref":"CursorSecret"}`); got != (id == "ApiFunction") {
			t.Errorf("%s: CURSOR_SECRET_ARN given %v; only the API function hands out cursors", id, got)
		}
		if strings.Contains(vars, `"WEBHOOK_KEY"`) || strings.Contains(vars, `"WEBHOOK_ALLOW_HTTP"`) || strings.Contains(vars, `"WEBHOOK_ALLOW_LOOPBACK"`) {
			t.Errorf("%s: a webhook key in the environment, or http or loopback targets allowed in a deployed stack", id)
		}
	}
	for id, r := range resources(tpl, "AWS::IAM::Role") {
		for _, pol := range props(r)["Policies"].([]any) {
			for _, s := range pol.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				s := s.(map[string]any)
				for _, a := range strs(s["Action"]) {
					if !strings.HasPrefix(a, "secretsmanager:") {
						continue
					}
					res := mustJSON(t, s["Resource"])
					cursor := id == "ApiFunctionRole" && res == `{"Ref":"CursorSecret"}`
					// The webhook key: the API seals, the delivery function opens.
					webhook := (id == "ApiFunctionRole" || id == "WebhookFunctionRole") && res == `{"Ref":"WebhookKeySecret"}`
					if a != "secretsmanager:GetSecretValue" || !(cursor || webhook) {
						t.Errorf("%s: %s on %v; only the API function reads the cursor secret, and it and the delivery function the webhook key", id, a, s["Resource"])
					}
				}
			}
		}
	}
}

// TestAPIRollsOutGradually: the routes invoke an alias that CodeDeploy
// moves to each new version by DeploymentType, and rolls back when the new
// version's alarms fire.
func TestAPIRollsOutGradually(t *testing.T) {
	tpl := MustTransform(t)
	alias, ok := resources(tpl, "AWS::Lambda::Alias")["ApiFunctionAliaslive"]
	if !ok {
		t.Fatal("no alias live on ApiFunction (AutoPublishAlias)")
	}
	if !strings.Contains(mustJSON(t, alias["UpdatePolicy"]), "CodeDeployLambdaAliasUpdate") {
		t.Errorf("alias update policy %v", alias["UpdatePolicy"])
	}
	group := props(resources(tpl, "AWS::CodeDeploy::DeploymentGroup")["ApiFunctionDeploymentGroup"])
	if cfg := mustJSON(t, group["DeploymentConfigName"]); !strings.Contains(cfg, "Canary10Percent5Minutes") {
		t.Errorf("default deployment %s, want a canary", cfg)
	}
	if ev := strs(group["AutoRollbackConfiguration"].(map[string]any)["Events"]); !slices.Contains(ev, "DEPLOYMENT_STOP_ON_ALARM") {
		t.Errorf("no rollback on alarm: %v", ev)
	}
	ac := group["AlarmConfiguration"].(map[string]any)
	var names []string
	for _, a := range ac["Alarms"].([]any) {
		names = append(names, a.(map[string]any)["Name"].(map[string]any)["Ref"].(string))
	}
	for _, want := range []string{"ApiCanaryErrorsAlarm", "ApiCanaryInternalErrorsAlarm"} {
		if ac["Enabled"] != true || !slices.Contains(names, want) {
			t.Errorf("deployment alarms %v (enabled %v), want %s", names, ac["Enabled"], want)
		}
	}
	// The canary alarms watch the version being deployed, not the function.
	for _, id := range []string{"ApiCanaryErrorsAlarm", "ApiCanaryInternalErrorsAlarm"} {
		if dims := mustJSON(t, props(alarms(tpl)[id])["Dimensions"]); !strings.Contains(dims, "ApiFunctionVersion") {
			t.Errorf("%s dimensions %s do not name the new version", id, dims)
		}
	}
	if role := mustJSON(t, group["ServiceRoleArn"]); !strings.Contains(role, "DeploymentRole") {
		t.Errorf("CodeDeploy role %s, want the stack's DeploymentRole", role)
	}
	body := mustJSON(t, props(resources(tpl, "AWS::ApiGatewayV2::Api")["HttpApi"])["Body"])
	if !strings.Contains(body, "${ApiFunctionAliaslive}") || strings.Contains(body, "${ApiFunction.Arn}") {
		t.Error("the routes do not invoke the alias")
	}
}

// TestCustomDomainIsOptional: no domain resources by default; with a
// domain and a certificate, a regional domain mapped to the API's stage,
// and the DNS record when a hosted zone is given.
func TestCustomDomainIsOptional(t *testing.T) {
	tpl := MustTransform(t, "DomainName=api.crm.example.com",
		"CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/0000", "HostedZoneId=Z0000000000")
	want := map[string]string{"AWS::ApiGatewayV2::DomainName": "HasDomain", "AWS::ApiGatewayV2::ApiMapping": "HasDomain",
		"AWS::Route53::RecordSet": "HasDomainRecord"}
	for typ, cond := range want {
		rs := resources(tpl, typ)
		if len(rs) != 1 {
			t.Fatalf("%d %s", len(rs), typ)
		}
		for id, r := range rs {
			if r["Condition"] != cond {
				t.Errorf("%s condition %v, want %s", id, r["Condition"], cond)
			}
		}
	}
	dn := mustJSON(t, props(resources(tpl, "AWS::ApiGatewayV2::DomainName")["ApiDomain"]))
	if !strings.Contains(dn, `"REGIONAL"`) || !strings.Contains(dn, `"CertificateArn"`) {
		t.Errorf("domain %s", dn)
	}
	mapping := mustJSON(t, props(resources(tpl, "AWS::ApiGatewayV2::ApiMapping")["ApiDomainMapping"]))
	if !strings.Contains(mapping, `"HttpApiApiGatewayDefaultStage"`) {
		t.Errorf("mapping %s does not name the API's stage", mapping)
	}
	if rule := mustJSON(t, tpl["Rules"]); !strings.Contains(rule, "CertificateArn is required") {
		t.Error("no rule requires a certificate with a domain")
	}
}

// TestDashboardShowsTheStack: the dashboard body is valid JSON once its
// references are resolved, every reference names something in the stack,
// and it shows requests, errors by code, latency, DynamoDB capacity and
// throttles, the job and the stream.
func TestDashboardShowsTheStack(t *testing.T) {
	tpl := MustTransform(t)
	d := props(resources(tpl, "AWS::CloudWatch::Dashboard")["Dashboard"])
	body := d["DashboardBody"].(map[string]any)["Fn::Sub"].(string)
	refs := regexp.MustCompile(`\$\{([^}!]+)\}`)
	res := tpl["Resources"].(map[string]any)
	for _, m := range refs.FindAllStringSubmatch(body, -1) {
		name, _, _ := strings.Cut(m[1], ".")
		if _, ok := res[name]; !ok && !strings.HasPrefix(name, "AWS::") {
			t.Errorf("dashboard names %s, which the stack does not have", m[1])
		}
	}
	var dash struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(refs.ReplaceAllString(body, "X")), &dash); err != nil {
		t.Fatalf("dashboard body is not JSON: %v", err)
	}
	var titles, metricNames []string
	for _, w := range dash.Widgets {
		titles = append(titles, w.Properties.Title)
		for _, m := range w.Properties.Metrics {
			if len(m) > 1 {
				if s, ok := m[1].(string); ok {
					metricNames = append(metricNames, s)
				}
			}
		}
	}
	for _, w := range []string{"Requests", "Errors by code", "Latency (ms)", "DynamoDB capacity", "Throttles", "Scheduled job", "Stream consumer", "Alarms"} {
		if !slices.Contains(titles, w) {
			t.Errorf("no %q widget in %v", w, titles)
		}
	}
	// The embedded metrics it charts are the ones the API and the job write
	// (server/metrics.go, cmd/job).
	for _, m := range []string{"Requests", "ConsumedReadCapacity", "ConsumedWriteCapacity", "DynamoDBCalls", "GradingIncomplete",
		"IteratorAge", "ReadThrottleEvents", "Throttles", "ApproximateNumberOfMessagesVisible", "WritesLeftToStream"} {
		if !slices.Contains(metricNames, m) {
			t.Errorf("the dashboard charts no %s", m)
		}
	}
	if !strings.Contains(body, `MetricName=\"Requests\" NOT Code=\"OK\"`) {
		t.Error("no chart of errors by code")
	}
}

// TestParametersAreDocumented: every parameter is in docs/deploy.md's
// configuration table, and OidcJwksUrl is not said to stand in for a
// discovery document (API Gateway's JWT authorizer always discovers keys
// from the issuer).
func TestParametersAreDocumented(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	tpl := MustTransform(t)
	var rows []string
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| `") {
			first, _, _ := strings.Cut(line[1:], "|")
			rows = append(rows, first)
		}
	}
	for name := range tpl["Parameters"].(map[string]any) {
		if !slices.ContainsFunc(rows, func(r string) bool { return strings.Contains(r, "`"+name+"`") }) {
			t.Errorf("parameter %s is not in docs/deploy.md's configuration table", name)
		}
	}
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| `OidcJwksUrl`") && (!strings.Contains(line, "direct invocation") || !strings.Contains(line, "discovery")) {
			t.Errorf("OidcJwksUrl row: %s\nwant it to say it serves direct invocations only and cannot replace discovery", line)
		}
	}
	desc := tpl["Parameters"].(map[string]any)["OidcJwksUrl"].(map[string]any)["Description"].(string)
	if !strings.Contains(desc, "cannot replace discovery") {
		t.Errorf("OidcJwksUrl description %q", desc)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
