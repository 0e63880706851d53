package dynamo

import (
	"bytes"
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// FastReads has a client read the responses to Query, GetItem and
// BatchGetItem with wirejson.go's reader instead of the SDK's deserializer,
// which decodes every response into interface{} values first; pass it to
// dynamodb.NewFromConfig or dynamodb.New, beside Retries. The results are
// the SDK's to the last field. Any response the reader declines (an error
// status, a member it does not read such as keys left unprocessed,
// anything malformed) goes to the SDK's own deserializer,
// unchanged, so errors, retries and their messages stay the SDK's. The
// consumed capacity Metered asks for (TOTAL) it reads; capacity split by
// index (INDEXES, which only the benchmarks ask for) goes to the SDK. A
// response it reads opens no "OperationDeserializer" tracing span and
// records no deserialization time in the SDK's metrics; Rapport sets no
// tracer or meter provider on its clients.
func FastReads(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		var read func([]byte) (any, bool)
		switch st.ID() {
		case "Query":
			read = func(b []byte) (any, bool) { return readQueryOutput(b) }
		case "GetItem":
			read = func(b []byte) (any, bool) { return readGetItemOutput(b) }
		case "BatchGetItem":
			read = func(b []byte) (any, bool) { return readBatchGetItemOutput(b) }
		default:
			return nil
		}
		sdk, ok := st.Deserialize.Get(operationDeserializer)
		if !ok {
			return nil
		}
		_, err := st.Deserialize.Swap(operationDeserializer, &fastDeserializer{sdk: sdk, read: read})
		return err
	})
}

// operationDeserializer is the id under which the SDK's deserializer of an
// operation sits in the Deserialize step.
const operationDeserializer = "OperationDeserializer"

type fastDeserializer struct {
	sdk  middleware.DeserializeMiddleware
	read func([]byte) (any, bool)
}

func (*fastDeserializer) ID() string { return operationDeserializer }

func (d *fastDeserializer) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 || resp.Body == nil {
		return d.sdk.HandleDeserialize(ctx, in, answered{out, md})
	}
	body, readErr := io.ReadAll(resp.Body)
	if readErr == nil {
		if result, ok := d.read(body); ok {
			smithyhttp.CloseResponseBody(ctx, resp, false, nil)
			out.Result = result
			return out, md, nil
		}
	}
	// The SDK reads the same bytes, and meets the same read error after
	// them, as it would have from the connection; it closes the body.
	rest := io.Reader(bytes.NewReader(body))
	if readErr != nil {
		rest = io.MultiReader(rest, failingReader{readErr})
	}
	resp.Body = replayedBody{Reader: rest, Closer: resp.Body}
	return d.sdk.HandleDeserialize(ctx, in, answered{out, md})
}

// answered hands the SDK's deserializer the response already received,
// in place of the transport.
type answered struct {
	out middleware.DeserializeOutput
	md  middleware.Metadata
}

func (a answered) HandleDeserialize(context.Context, middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
	return a.out, a.md, nil
}

type replayedBody struct {
	io.Reader
	io.Closer
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
