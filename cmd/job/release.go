package main

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
)

// releaseMarkerID is the custom resource's physical id: one marker per
// stack, updated in place by every deploy.
const releaseMarkerID = "rapport-release-marker"

// isCustomResource reports whether raw is a CloudFormation custom
// resource request (template.yaml, ReleaseMarker) rather than a run.
func isCustomResource(raw json.RawMessage) (cfn.Event, bool) {
	var ev cfn.Event
	if err := json.Unmarshal(raw, &ev); err != nil || ev.RequestType == "" || ev.ResponseURL == "" {
		return cfn.Event{}, false
	}
	return ev, true
}

// releaseMarker answers the stack's ReleaseMarker: CloudFormation creates
// or updates it once the API's alias has taken all the traffic (it refers
// to the alias, whose update waits for CodeDeploy), so it records the
// version the deploy published as live, which lets data migrations run.
// Deleting it leaves the marker: the table may outlive the stack.
func (j *job) releaseMarker(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
	if ev.RequestType == cfn.RequestDelete {
		return releaseMarkerID, nil, nil
	}
	v, _ := ev.ResourceProperties["ApiVersion"].(string)
	if v == "" {
		return releaseMarkerID, nil, errors.New("the release marker has no ApiVersion property")
	}
	// A failed answer rolls the whole deploy back after its traffic has
	// shifted: a passing throttle or error gets retries first.
	var err error
	for attempt := range 6 {
		if err = j.store.MarkRelease(ctx, v, time.Now()); err == nil || ctx.Err() != nil {
			break
		}
		j.log.WarnContext(ctx, "release marker write failed, retrying", "apiVersion", v, "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(1<<attempt) * time.Second):
		}
	}
	if err != nil {
		j.log.ErrorContext(ctx, "release marker failed", "apiVersion", v, "err", err)
		return releaseMarkerID, nil, errors.New("the release marker could not be stored; see the job's log")
	}
	j.log.InfoContext(ctx, "release live", "apiVersion", v, "request", string(ev.RequestType))
	return releaseMarkerID, nil, nil
}

// migrationsMayRun reports whether the deploy that published this job's
// API version has finished: the release marker names that version. With
// no version configured (local runs) they always may.
func (j *job) migrationsMayRun(ctx context.Context) (bool, error) {
	if j.release == "" {
		return true, nil
	}
	live, err := j.store.LiveRelease(ctx)
	return live == j.release, err
}
