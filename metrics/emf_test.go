package metrics_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/metrics"
	"github.com/rapportcrm/rapport/metrics/emftest"
)

func TestWriterWritesOneValidEMFLinePerDocument(t *testing.T) {
	var out bytes.Buffer
	w := metrics.NewWriter(&out, "Rapport/test")
	w.Now = func() time.Time { return time.UnixMilli(1700000000123) }
	doc := metrics.Doc{
		Dimensions: map[string]string{"Service": "api", "Operation": "customers", "Code": "OK"},
		Metrics: []metrics.Metric{
			{Name: "Requests", Unit: metrics.Count, Value: 1},
			{Name: "Latency", Unit: metrics.Milliseconds, Value: 12.5},
		},
		Sets: []metrics.Set{
			{Dimensions: [][]string{{"Operation", "Code"}, {"Service"}}, Metrics: []string{"Requests"}},
			{Dimensions: [][]string{{"Service"}}, Metrics: []string{"Latency"}},
		},
		Properties: map[string]any{"requestId": "r-1"},
	}
	for range 2 {
		if err := w.Write(doc); err != nil {
			t.Fatal(err)
		}
	}
	docs, err := emftest.Lines(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || bytes.Count(out.Bytes(), []byte("\n")) != 2 {
		t.Fatalf("%d documents in %q, want 2 lines", len(docs), out.String())
	}
	d := docs[0]
	if d.Timestamp != 1700000000123 || d.Directives[0].Namespace != "Rapport/test" {
		t.Errorf("timestamp %d namespace %q", d.Timestamp, d.Directives[0].Namespace)
	}
	for _, c := range []struct {
		metric string
		dims   []string
		want   bool
	}{
		{"Requests", []string{"Code", "Operation"}, true},
		{"Requests", []string{"Service"}, true},
		{"Latency", []string{"Service"}, true},
		{"Latency", []string{"Operation", "Code"}, false},
	} {
		if d.Has(c.metric, c.dims...) != c.want {
			t.Errorf("%s by %v published: %v, want %v", c.metric, c.dims, !c.want, c.want)
		}
	}
	if d.Root["requestId"] != "r-1" || d.Root["Latency"] != 12.5 {
		t.Errorf("root %v", d.Root)
	}
}

func TestWriterRefusesASetNamingWhatTheDocumentLacks(t *testing.T) {
	w := metrics.NewWriter(&bytes.Buffer{}, "Rapport/test")
	for name, d := range map[string]metrics.Doc{
		"MissingDimension": {Metrics: []metrics.Metric{{Name: "Requests", Unit: metrics.Count, Value: 1}},
			Sets: []metrics.Set{{Dimensions: [][]string{{"Code"}}, Metrics: []string{"Requests"}}}},
		"MissingMetric": {Dimensions: map[string]string{"Code": "OK"},
			Sets: []metrics.Set{{Dimensions: [][]string{{"Code"}}, Metrics: []string{"Requests"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := w.Write(d); err == nil {
				t.Error("written")
			}
		})
	}
}
