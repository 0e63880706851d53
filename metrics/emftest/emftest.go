// Package emftest checks lines against the CloudWatch embedded metric format
// specification, for tests of the code that writes them.
package emftest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Units CloudWatch accepts.
var units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
	"Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
	"Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// Directive is one entry of _aws.CloudWatchMetrics.
type Directive struct {
	Namespace  string
	Dimensions [][]string
	Metrics    []struct{ Name, Unit string }
}

// Doc is a parsed EMF document: its directives and its root members.
type Doc struct {
	Timestamp  int64
	Directives []Directive
	Root       map[string]any
}

// Has reports whether the document publishes metric under exactly the
// dimension set dims (in any order).
func (d Doc) Has(metric string, dims ...string) bool {
	want := slices.Sorted(slices.Values(dims))
	for _, dir := range d.Directives {
		names := make([]string, len(dir.Metrics))
		for i, m := range dir.Metrics {
			names[i] = m.Name
		}
		if !slices.Contains(names, metric) {
			continue
		}
		for _, set := range dir.Dimensions {
			if slices.Equal(slices.Sorted(slices.Values(set)), want) {
				return true
			}
		}
	}
	return false
}

// Parse checks one line against the specification and returns it.
func Parse(line []byte) (Doc, error) {
	var root map[string]any
	if err := json.Unmarshal(line, &root); err != nil {
		return Doc{}, fmt.Errorf("not a JSON object: %v", err)
	}
	aws, ok := root["_aws"].(map[string]any)
	if !ok {
		return Doc{}, fmt.Errorf("no _aws object")
	}
	ts, ok := aws["Timestamp"].(float64)
	if !ok || ts <= 0 || ts != float64(int64(ts)) {
		return Doc{}, fmt.Errorf("_aws.Timestamp %v is not milliseconds since the epoch", aws["Timestamp"])
	}
	raw, _ := json.Marshal(aws["CloudWatchMetrics"])
	var dirs []Directive
	if err := json.Unmarshal(raw, &dirs); err != nil || len(dirs) == 0 {
		return Doc{}, fmt.Errorf("_aws.CloudWatchMetrics is not a list of directives: %s", raw)
	}
	for _, d := range dirs {
		if strings.TrimSpace(d.Namespace) == "" || len(d.Namespace) > 1024 {
			return Doc{}, fmt.Errorf("namespace %q", d.Namespace)
		}
		if len(d.Metrics) == 0 || len(d.Metrics) > 100 {
			return Doc{}, fmt.Errorf("directive has %d metrics, want 1 to 100", len(d.Metrics))
		}
		for _, set := range d.Dimensions {
			if len(set) == 0 || len(set) > 30 {
				return Doc{}, fmt.Errorf("dimension set %v: want 1 to 30 dimensions", set)
			}
			for _, name := range set {
				if v, ok := root[name].(string); !ok || v == "" {
					return Doc{}, fmt.Errorf("dimension %q is not a non-empty string member (%v)", name, root[name])
				}
			}
		}
		for _, m := range d.Metrics {
			if m.Name == "" || len(m.Name) > 1024 {
				return Doc{}, fmt.Errorf("metric name %q", m.Name)
			}
			if m.Unit != "" && !slices.Contains(units, m.Unit) {
				return Doc{}, fmt.Errorf("metric %s: unit %q is not a CloudWatch unit", m.Name, m.Unit)
			}
			switch v := root[m.Name].(type) {
			case float64:
			case []any:
				if len(v) == 0 || len(v) > 100 {
					return Doc{}, fmt.Errorf("metric %s: %d values, want 1 to 100", m.Name, len(v))
				}
			default:
				return Doc{}, fmt.Errorf("metric %s has no numeric member (%v)", m.Name, root[m.Name])
			}
		}
	}
	return Doc{Timestamp: int64(ts), Directives: dirs, Root: root}, nil
}

// Lines parses every EMF line of out (lines with an _aws member); other
// lines (ordinary logs) are skipped.
func Lines(out string) ([]Doc, error) {
	var docs []Doc
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !strings.Contains(string(line), `"_aws"`) {
			continue
		}
		d, err := Parse(line)
		if err != nil {
			return docs, fmt.Errorf("%v in %s", err, line)
		}
		docs = append(docs, d)
	}
	return docs, sc.Err()
}
