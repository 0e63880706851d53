// Package metrics writes CloudWatch embedded metric format (EMF) lines: JSON
// log lines that CloudWatch Logs turns into metrics when a Lambda function
// writes them to standard output, with no agent and no PutMetricData call.
// It also carries one request's DynamoDB usage through its context, which
// dynamo.Metered fills and server's request metrics report.
package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

// The units Rapport reports in.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Metric is one value of a document.
type Metric struct {
	Name  string
	Unit  Unit
	Value float64
}

// Set says under which dimension combinations some of a document's metrics
// are published: each combination is its own metric series (and its own
// charge), so sets are chosen per metric rather than all for all.
type Set struct {
	Dimensions [][]string
	Metrics    []string
}

// Doc is one EMF document: the dimensions' values, the metrics, the sets
// that publish them, and properties that only the log line keeps (a request
// id), for CloudWatch Logs Insights.
type Doc struct {
	Dimensions map[string]string
	Metrics    []Metric
	Sets       []Set
	Properties map[string]any
}

// Writer writes documents to w, one line each, in a namespace.
type Writer struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	// Now stamps each document; time.Now by default.
	Now func() time.Time
}

// NewWriter returns a Writer of namespace's metrics to w.
func NewWriter(w io.Writer, namespace string) *Writer {
	return &Writer{w: w, namespace: namespace, Now: time.Now}
}

// Write writes d as one line. A set naming a dimension or metric that d
// does not carry is an error: CloudWatch would drop the whole document.
func (e *Writer) Write(d Doc) error {
	line, err := Encode(e.namespace, e.Now(), d)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err = e.w.Write(append(line, '\n'))
	return err
}

// Encode renders d as an EMF document stamped at t.
func Encode(namespace string, t time.Time, d Doc) ([]byte, error) {
	root := map[string]any{}
	for k, v := range d.Properties {
		root[k] = v
	}
	for k, v := range d.Dimensions {
		root[k] = v
	}
	units := map[string]Unit{}
	for _, m := range d.Metrics {
		root[m.Name] = m.Value
		units[m.Name] = m.Unit
	}
	type metricDef struct {
		Name string
		Unit Unit
	}
	type directive struct {
		Namespace  string
		Dimensions [][]string
		Metrics    []metricDef
	}
	var dirs []directive
	for _, s := range d.Sets {
		dir := directive{Namespace: namespace, Dimensions: s.Dimensions, Metrics: []metricDef{}}
		for _, dims := range s.Dimensions {
			for _, name := range dims {
				if _, ok := d.Dimensions[name]; !ok {
					return nil, fmt.Errorf("metrics: dimension %q has no value", name)
				}
			}
		}
		for _, name := range s.Metrics {
			u, ok := units[name]
			if !ok {
				return nil, fmt.Errorf("metrics: metric %q has no value", name)
			}
			dir.Metrics = append(dir.Metrics, metricDef{Name: name, Unit: u})
		}
		dirs = append(dirs, dir)
	}
	root["_aws"] = map[string]any{"Timestamp": t.UnixMilli(), "CloudWatchMetrics": dirs}
	return json.Marshal(root)
}
