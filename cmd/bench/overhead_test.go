package main

import (
	"testing"
	"time"

	"github.com/rapportcrm/rapport/infra/ddbmeter"
)

func TestSplitGivesEachRequestTheCallsItsHandlerMade(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	span := func(from, to int) ddbmeter.Span { return ddbmeter.Span{Start: at(from), End: at(to)} }
	for _, tc := range []struct {
		name    string
		sent    []ddbmeter.Span
		handled []ddbmeter.Span
		calls   []ddbmeter.Span
		want    string
	}{{
		name:    "one call each, one request",
		sent:    []ddbmeter.Span{span(-1, 11)},
		handled: []ddbmeter.Span{span(0, 10)},
		calls:   []ddbmeter.Span{span(2, 7)},
		want:    "r\t12.00 ms\t2.00 ms\t10.00 ms\t2.00 ms\t5.00 ms\t3.00 ms\t",
	}, {
		// Recorded out of order, one made outside any measured request,
		// and a request with an extra (retried) call.
		name:    "calls and handler spans by the span holding their start",
		sent:    []ddbmeter.Span{span(-1, 10), span(19, 30), span(39, 50), span(60, 70)},
		handled: []ddbmeter.Span{span(40, 50), span(0, 10), span(20, 30)}, // the last request's not recorded yet
		calls:   []ddbmeter.Span{span(22, 25), span(-5, -1), span(1, 9), span(41, 49), span(24, 28)},
		want:    "r\t11.00 ms\t1.00 ms\t10.00 ms\t1.00 ms\t8.00 ms\t1.00 ms\t",
	}, {
		name:    "no calls: all before",
		sent:    []ddbmeter.Span{span(-1, 2)},
		handled: []ddbmeter.Span{span(0, 2)},
		want:    "r\t3.00 ms\t1.00 ms\t2.00 ms\t2.00 ms\t0.00 ms\t0.00 ms\t",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := split("r", tc.sent, tc.handled, ddbmeter.Usage{Spans: tc.calls}); got != tc.want {
				t.Errorf("split = %q, want %q", got, tc.want)
			}
		})
	}
}
