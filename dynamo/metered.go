package dynamo

import (
	"context"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/rapportcrm/rapport/metrics"
)

// Metered counts every DynamoDB call made for a request whose context
// carries a metrics.Usage, with the capacity it consumed: it asks DynamoDB
// for the call's total consumed capacity (ReturnConsumedCapacity TOTAL,
// which costs nothing) and adds the answer to the usage. Calls without a
// Usage in their context (the job, the authorizer) are left as they are.
// Pass it to dynamodb.New or dynamodb.NewFromConfig; a call is counted once
// however many times the retryer sends it.
func Metered(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(meter{}, middleware.After)
	})
}

type meter struct{}

func (meter) ID() string { return "RapportMeter" }

func (meter) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	u := metrics.UsageFrom(ctx)
	if u == nil {
		return next.HandleInitialize(ctx, in)
	}
	in.Parameters = withTotalCapacity(in.Parameters)
	out, md, err := next.HandleInitialize(ctx, in)
	read, write := consumed(out.Result)
	if isRead(in.Parameters) {
		read, write = read+write, 0
	}
	u.AddCall(read, write)
	return out, md, err
}

// withTotalCapacity returns a copy of a call's input that asks for its
// consumed capacity; the caller's input is not changed. Every DynamoDB
// operation that consumes capacity has the field.
func withTotalCapacity(p any) any {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return p
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	f := c.Elem().FieldByName("ReturnConsumedCapacity")
	if !f.IsValid() || f.Type() != reflect.TypeFor[types.ReturnConsumedCapacity]() {
		return p
	}
	f.Set(reflect.ValueOf(types.ReturnConsumedCapacityTotal))
	return c.Interface()
}

func isRead(p any) bool {
	switch p.(type) {
	case *dynamodb.GetItemInput, *dynamodb.BatchGetItemInput, *dynamodb.QueryInput,
		*dynamodb.ScanInput, *dynamodb.TransactGetItemsInput:
		return true
	}
	return false
}

// consumed sums the capacity an output reports (its ConsumedCapacity, one
// or a list): read and write units where DynamoDB splits them, else the
// total as written (isRead moves a read call's total to reads). A failed
// call reports none.
func consumed(result any) (read, write float64) {
	v := reflect.ValueOf(result)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0, 0
	}
	var cs []types.ConsumedCapacity
	switch f := v.Elem().FieldByName("ConsumedCapacity"); {
	case !f.IsValid():
	case f.Type() == reflect.TypeFor[*types.ConsumedCapacity]():
		if c := f.Interface().(*types.ConsumedCapacity); c != nil {
			cs = []types.ConsumedCapacity{*c}
		}
	case f.Type() == reflect.TypeFor[[]types.ConsumedCapacity]():
		cs = f.Interface().([]types.ConsumedCapacity)
	}
	for _, c := range cs {
		r, w := val(c.ReadCapacityUnits), val(c.WriteCapacityUnits)
		if r == 0 && w == 0 {
			w = val(c.CapacityUnits)
		}
		read += r
		write += w
	}
	return read, write
}

func val(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}
