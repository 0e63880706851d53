// Package scalar holds Rapport's custom GraphQL scalars.
package scalar

import (
	"io"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/rapportcrm/rapport/crm"
)

// dateTimeLayout is RFC 3339 with milliseconds; in UTC it ends in Z.
const dateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalDateTime writes t in RFC 3339 with milliseconds, in UTC, as a
// JSON string. The layout writes only digits and -:.TZ+, which need no
// escaping, so the quotes are added around it as strconv.Quote would. The
// bytes are formatted straight into the writer's spare capacity when it
// offers it (gqlgen writes a response into a bytes.Buffer), with no string
// made on the way: a response writes a date-time for every item of a list.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		var b []byte
		if a, ok := w.(interface{ AvailableBuffer() []byte }); ok {
			b = a.AvailableBuffer()
		}
		b = append(b, '"')
		b = t.UTC().AppendFormat(b, dateTimeLayout)
		b = append(b, '"')
		_, _ = w.Write(b)
	})
}

// UnmarshalDateTime reads an RFC 3339 date-time. A malformed one is the
// caller's mistake, so it is BAD_USER_INPUT; the error presenter names the
// argument from the error's path.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &crm.Error{Code: crm.EINVALID, Message: "must be an RFC 3339 date-time such as 2026-03-01T09:30:00Z"}
}
