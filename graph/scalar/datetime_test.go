package scalar

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

func TestMarshalDateTimeIsQuotedRFC3339InUTC(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name string
		in   time.Time
	}{
		{"UTC", time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)},
		{"OtherZone", time.Date(2026, 3, 1, 9, 30, 0, 123456789, shanghai)},
		{"Zero", time.Time{}},
		{"FarYear", time.Date(12026, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{"NegativeYear", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			MarshalDateTime(tt.in).MarshalGQL(&b)
			if want := strconv.Quote(tt.in.UTC().Format(dateTimeLayout)); b.String() != want {
				t.Fatalf("got %s, want %s", b.String(), want)
			}
		})
	}
}

// A writer with spare capacity (bytes.Buffer, bufio.Writer) and one
// without get the same bytes after what they held.
func TestMarshalDateTimeAppends(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	var b bytes.Buffer
	b.Grow(64)
	b.WriteString(`{"at":`)
	MarshalDateTime(at).MarshalGQL(&b)
	var plain plainWriter
	plain.b = append(plain.b, `{"at":`...)
	MarshalDateTime(at).MarshalGQL(&plain)
	want := `{"at":"2026-03-01T09:30:00.000Z"`
	if b.String() != want || string(plain.b) != want {
		t.Fatalf("got %s and %s, want %s", b.String(), plain.b, want)
	}
}

type plainWriter struct{ b []byte }

func (w *plainWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
