package server

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// writeResponse skips json.Marshal's pass over the data; what it writes
// must be what Marshal writes.
func TestWriteResponseWritesWhatMarshalWrites(t *testing.T) {
	yes := true
	withCode := gqlerror.Errorf("no <access> & more")
	withCode.Extensions = map[string]any{"code": "FORBIDDEN"}
	withCode.Path = ast.Path{ast.PathName("customer"), ast.PathIndex(2)}
	tests := []struct {
		name string
		resp *graphql.Response
	}{
		{"Data", &graphql.Response{Data: json.RawMessage(`{"customer":{"id":"c1","name":"A <b> & \u2028 \"q\" 华信 ` + "\u2028\u2029" + `"}}`)}},
		{"NoData", &graphql.Response{}},
		{"NullData", &graphql.Response{Data: json.RawMessage(`null`)}},
		{"Errors", &graphql.Response{Errors: gqlerror.List{withCode, gqlerror.Errorf("second")}, Data: json.RawMessage(`{"customer":null}`)}},
		{"ErrorsWithoutData", &graphql.Response{Errors: gqlerror.List{withCode}}},
		{"Extensions", &graphql.Response{Data: json.RawMessage(`{}`), Extensions: map[string]any{"applied": "UNKNOWN", "n": 1}}},
		{"Incremental", &graphql.Response{Data: json.RawMessage(`{"a":1}`), Label: "l", Path: ast.Path{ast.PathName("a")}, HasNext: &yes}},
		{"EmptyErrors", &graphql.Response{Errors: gqlerror.List{}, Data: json.RawMessage(`[]`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.resp)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			writeResponse(rec, tt.resp)
			if got := rec.Body.String(); got != string(want) || rec.Code != 200 {
				t.Errorf("wrote %d %s\nMarshal: %s", rec.Code, got, want)
			}
		})
	}
}
