// Package scalar holds Rapport's custom GraphQL scalars.
package scalar

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/rapportcrm/rapport/crm"
)

// MarshalDateTime writes t in RFC 3339 with milliseconds, in UTC.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format("2006-01-02T15:04:05.000Z07:00")))
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
