package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

const warmUp = 30

// overhead times reads through the whole path (HTTP on loopback, token
// check, GraphQL, resolvers, dataloaders, the store) against the very
// DynamoDB calls they make, replayed by a client of their own: the calls
// are recorded from one request, then both paths run interleaved, runs
// times each after warming up.
func overhead(ctx context.Context, e *env, runs int, out io.Writer) error {
	b := &benchState{e: e}
	if err := b.discover(ctx); err != nil {
		return err
	}
	cases := []struct {
		name string
		who  caller
		doc  string
		vars map[string]any
	}{
		{"customer360, 10 recent", seller, q360, map[string]any{"id": b.owned[0].ID}},
		{"customers, 50: grade, latest interaction", "admin", qList, map[string]any{"first": 50}},
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "read\tDynamoDB calls\tHTTP p50\traw p50\tratio\tHTTP p90\traw p90\tratio\t")
	for _, c := range cases {
		viaHTTP := func() error { return e.gql(ctx, c.who, c.doc, c.vars, nil) }
		for range warmUp {
			if err := viaHTTP(); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
		}
		e.meter.Set(true, true)
		e.meter.Take()
		err := viaHTTP()
		rec := e.meter.Take()
		e.meter.Set(false, false)
		if err != nil {
			return err
		}
		raw := func() error { return replay(ctx, e.raw, rec.Inputs) }
		for range warmUp {
			if err := raw(); err != nil {
				return fmt.Errorf("%s, raw: %w", c.name, err)
			}
		}
		var httpTimes, rawTimes []time.Duration
		for i := range runs {
			// Alternate which path goes first, so neither always meets a
			// warmer database.
			paths := []func() error{viaHTTP, raw}
			times := []*[]time.Duration{&httpTimes, &rawTimes}
			if i%2 == 1 {
				slices.Reverse(paths)
				slices.Reverse(times)
			}
			for j, p := range paths {
				began := time.Now()
				if err := p(); err != nil {
					return fmt.Errorf("%s: %w", c.name, err)
				}
				*times[j] = append(*times[j], time.Since(began))
			}
		}
		h50, h90 := percentiles(httpTimes)
		r50, r90 := percentiles(rawTimes)
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.2f×\t%s\t%s\t%.2f×\t\n", c.name, callsOf(rec), ms(h50), ms(r50), float64(h50)/float64(r50),
			ms(h90), ms(r90), float64(h90)/float64(r90))
	}
	_ = w.Flush()
	fmt.Fprintf(out, "\n%d runs per path after %d of warm-up, interleaved; raw: the same DynamoDB calls, replayed with their recorded inputs\n"+
		"by a client with the same options (no consumed capacity asked on either side). Calls: Q Query, BG BatchGetItem, G GetItem.\n", runs, warmUp)
	return nil
}

// replay makes the recorded calls again, in order.
func replay(ctx context.Context, db *dynamodb.Client, inputs []any) error {
	for _, in := range inputs {
		var err error
		switch in := in.(type) {
		case *dynamodb.QueryInput:
			_, err = db.Query(ctx, in)
		case *dynamodb.GetItemInput:
			_, err = db.GetItem(ctx, in)
		case *dynamodb.BatchGetItemInput:
			_, err = db.BatchGetItem(ctx, in)
		default:
			err = fmt.Errorf("cannot replay a %T", in)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func percentiles(d []time.Duration) (p50, p90 time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)*9/10]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
