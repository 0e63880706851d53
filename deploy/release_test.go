package deploy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/dynamo"
)

// TestMigrationsWaitForTheReleaseMarker runs the job's bootstrap as the
// stack configures it (RELEASE_API_VERSION, the version the deploy
// publishes): its runs leave migrations alone until CloudFormation's
// ReleaseMarker request, sent once the API's alias took all the traffic,
// records that version as live; the request is answered SUCCESS at its
// response URL, and one without a version FAILED.
func TestMigrationsWaitForTheReleaseMarker(t *testing.T) {
	endpoint, db := MustDynamo(t)
	table := MustTable(t, db, "CrmTable")
	const version = "arn:aws:lambda:us-east-1:123456789012:function:rapport-api:7"

	answers := make(chan map[string]any, 4)
	cfnSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ans map[string]any
		if r.Method != http.MethodPut || json.Unmarshal(body, &ans) != nil {
			t.Errorf("CloudFormation answered with %s %q, want a PUT of JSON", r.Method, body)
		}
		answers <- ans
	}))
	defer cfnSrv.Close()

	path := MustMakeBootstrap(t, "JobFunction", hostArch)
	api := NewRuntimeAPI(t)
	b := MustStartBootstrap(t, path, api, map[string]string{
		"TABLE_NAME":            table,
		"DYNAMODB_ENDPOINT":     endpoint,
		"RELEASE_API_VERSION":   version,
		"AWS_ACCESS_KEY_ID":     "local",
		"AWS_SECRET_ACCESS_KEY": "local",
	})
	scheduled := `{"version":"0","id":"e-1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-01-02T03:04:05Z","resources":["arn:aws:events:us-east-1:123456789012:rule/rapport-job"],"detail":{}}`
	invoke := func(id, ev string) {
		t.Helper()
		if res := api.MustInvoke(t, id, []byte(ev), b.Exited); res.Error {
			t.Fatalf("%s failed: %s\n%s", id, res.Body, b.Output())
		}
	}
	customResource := func(id, requestType, props string) map[string]any {
		t.Helper()
		invoke(id, `{"RequestType":"`+requestType+`","ResponseURL":"`+cfnSrv.URL+`/answer","StackId":"arn:aws:cloudformation:us-east-1:123456789012:stack/rapport/1",`+
			`"RequestId":"`+id+`","LogicalResourceId":"ReleaseMarker","ResourceType":"Custom::RapportRelease","PhysicalResourceId":"rapport-release-marker",`+
			`"ResourceProperties":{"ServiceToken":"arn:aws:lambda:us-east-1:123456789012:function:rapport-job"`+props+`}}`)
		return <-answers
	}

	invoke("job-1", scheduled)
	if !b.WaitOutput(`"lambdaRequestId":"job-1"`, `"migrationsWaitForRelease":"`+version+`"`) || strings.Contains(b.Output(), `"migrationsPending"`) {
		t.Fatalf("a run before the release marker: want migrations waiting for %s, none run:\n%s", version, b.Output())
	}

	if ans := customResource("cfn-1", "Update", ""); ans["Status"] != "FAILED" || !strings.Contains(ans["Reason"].(string), "no ApiVersion") {
		t.Errorf("a marker request without a version answered %v, want FAILED naming ApiVersion", ans)
	}
	ans := customResource("cfn-2", "Update", `,"ApiVersion":"`+version+`","ApiAlias":"arn:aws:lambda:us-east-1:123456789012:function:rapport-api:live"`)
	if ans["Status"] != "SUCCESS" || ans["PhysicalResourceId"] != "rapport-release-marker" || ans["RequestId"] != "cfn-2" {
		t.Fatalf("the marker request answered %v, want SUCCESS for the one marker", ans)
	}
	if live, err := dynamo.New(db, table, nil).LiveRelease(t.Context()); err != nil || live != version {
		t.Fatalf("live release %q (%v), want %s", live, err, version)
	}

	invoke("job-2", scheduled)
	if !b.WaitOutput(`"lambdaRequestId":"job-2"`, `"migrationsPending":0`) {
		t.Fatalf("a run after the release marker: want the migrations run, none pending on a new table:\n%s", b.Output())
	}
	if ans := customResource("cfn-3", "Delete", ""); ans["Status"] != "SUCCESS" {
		t.Errorf("deleting the marker answered %v, want SUCCESS (the marker stays with the table)", ans)
	}
}

// TestReleaseMarkerFollowsTheTrafficShift: the stack's ReleaseMarker is
// answered by the job, names the version the job waits for, and refers to
// the API's alias, so CloudFormation sends it only after CodeDeploy has
// shifted the alias to that version.
func TestReleaseMarkerFollowsTheTrafficShift(t *testing.T) {
	tpl := MustTransform(t)
	marker := props(resources(tpl, "Custom::RapportRelease")["ReleaseMarker"])
	if marker == nil {
		t.Fatal("no ReleaseMarker custom resource")
	}
	job := mustJSON(t, props(resources(tpl, "AWS::Lambda::Function")["JobFunction"])["Environment"])
	version := mustJSON(t, marker["ApiVersion"])
	if !strings.HasPrefix(version, `{"Ref":"ApiFunctionVersion`) || !strings.Contains(job, `"RELEASE_API_VERSION":`+version) {
		t.Errorf("the marker names %s and the job waits for %s; want the same published API version", version, job)
	}
	if got := mustJSON(t, marker["ApiAlias"]); got != `{"Ref":"ApiFunctionAliaslive"}` {
		t.Errorf("the marker refers to %s, want the alias CodeDeploy shifts", got)
	}
	if got := mustJSON(t, marker["ServiceToken"]); got != `{"Fn::GetAtt":["JobFunction","Arn"]}` {
		t.Errorf("the marker is answered by %s, want the job", got)
	}
}
