package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/infra/ddbmeter"
)

const warmUp = 30

// pathOrders are the orders in which overhead's three paths run.
var pathOrders = [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}

// overhead times reads through the whole path (HTTP on loopback, token
// check, GraphQL, resolvers, dataloaders, the store) against the very
// DynamoDB calls they make, replayed by clients of their own (one reading
// the answers with the SDK's deserializer, one with dynamo.FastReads, as
// the server does): the calls are recorded from one request, then the
// three paths run interleaved, runs times each after warming up.
//
// With profileDir set, the measured runs of each read are CPU-profiled
// into profileDir/overhead-<read>.pprof (every path: the server's
// functions are the HTTP path's, the rest the replays').
func overhead(ctx context.Context, e *env, runs int, profileDir string, out io.Writer) error {
	b := &benchState{e: e}
	if err := b.discover(ctx); err != nil {
		return err
	}
	cases := []struct {
		key, name string
		who       caller
		doc       string
		vars      map[string]any
	}{
		// What any request pays before it reads anything: the floor
		// under the ratios below.
		{"floor", "no read: { __typename }", seller, `{ __typename }`, nil},
		{"360", "customer360, 10 recent", seller, q360, map[string]any{"id": b.owned[0].ID}},
		{"list", "customers, 50: grade, latest interaction", "admin", qList, map[string]any{"first": 50}},
	}
	// Both paths make their calls as production does: the meter asks for
	// no consumed capacity (which DynamoDB Local would work out and send).
	e.meter.Set(false, true)
	var dials, parts []string
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "read\tDynamoDB calls\tHTTP p50\traw p50\tratio\tHTTP p90\traw p90\tratio\traw, FastReads p50\tratio\t")
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
		e.meter.Set(false, true)
		if err != nil {
			return err
		}
		waves := concurrent(rec)
		raw := func() error { return replay(ctx, e.replay, waves) }
		rawFast := func() error { return replay(ctx, e.replayFast, waves) }
		for range warmUp {
			if err := errors.Join(raw(), rawFast()); err != nil {
				return fmt.Errorf("%s, raw: %w", c.name, err)
			}
		}
		stopProfile, err := startProfile(profileDir, c.key)
		if err != nil {
			return err
		}
		conns := e.conns.Load()
		// The server's own time over each request, and its calls' (the
		// meter records the spans of the server's calls only).
		e.handled.take()
		e.meter.Set(true, true)
		e.meter.Take()
		var httpTimes, rawTimes, fastTimes []time.Duration
		var sent []ddbmeter.Span // each HTTP request, as the client saw it
		all := []func() error{viaHTTP, raw, rawFast}
		allTimes := []*[]time.Duration{&httpTimes, &rawTimes, &fastTimes}
		for i := range runs {
			// Go through the six orders of the paths, so none always
			// meets a warmer database or follows the same path.
			var paths []func() error
			var times []*[]time.Duration
			for _, k := range pathOrders[i%len(pathOrders)] {
				paths, times = append(paths, all[k]), append(times, allTimes[k])
			}
			for j, p := range paths {
				began := time.Now()
				if err := p(); err != nil {
					return fmt.Errorf("%s: %w", c.name, err)
				}
				ended := time.Now()
				*times[j] = append(*times[j], ended.Sub(began))
				if times[j] == &httpTimes {
					sent = append(sent, ddbmeter.Span{Start: began, End: ended})
				}
			}
		}
		if err := stopProfile(); err != nil {
			return err
		}
		handled, served := e.handled.take(), e.meter.Take()
		e.meter.Set(false, true)
		parts = append(parts, split(c.name, sent, handled, served))
		dials = append(dials, fmt.Sprintf("%s %d", c.key, e.conns.Load()-conns))
		h50, h90 := percentiles(httpTimes)
		r50, r90 := percentiles(rawTimes)
		f50, _ := percentiles(fastTimes)
		if rec.CallCount() == 0 {
			fmt.Fprintf(w, "%s\tnone\t%s\t–\t–\t%s\t–\t–\t–\t–\t\n", c.name, ms(h50), ms(h90))
			continue
		}
		calls := callsOf(rec)
		if len(waves) < rec.CallCount() {
			calls += fmt.Sprintf(" in %d steps", len(waves))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.2f×\t%s\t%s\t%.2f×\t%s\t%.2f×\t\n", c.name, calls, ms(h50), ms(r50), float64(h50)/float64(r50),
			ms(h90), ms(r90), float64(h90)/float64(r90), ms(f50), float64(h50)/float64(f50))
	}
	_ = w.Flush()
	fmt.Fprintln(out, "\nWhere the HTTP path's time goes (p50 of each request's parts):")
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "read\tHTTP\toutside the handler\tin the handler\tbefore its calls\tits DynamoDB calls\tafter them\t")
	for _, p := range parts {
		fmt.Fprintln(w, p)
	}
	_ = w.Flush()
	fmt.Fprintf(out, "\n%d runs per path after %d of warm-up, interleaved; raw: the same DynamoDB calls, replayed with their recorded inputs\n"+
		"by a client with the same options (no consumed capacity asked on either side), calls that overlapped in the request\n"+
		"at once (\"in N steps\"), read by the SDK's own deserializer; \"raw, FastReads\": the same replay read as the server reads\n"+
		"it (dynamo.FastReads). Calls: Q Query, BG BatchGetItem, G GetItem. \"no read\": the path alone, with no call to replay.\n"+
		"Connections the server accepted during the measured runs (0: every request reused one): %s.\n", runs, warmUp, strings.Join(dials, ", "))
	return nil
}

// startProfile starts a CPU profile into dir/overhead-<key>.pprof, when
// dir is set; the function returned stops it.
func startProfile(dir, key string) (func() error, error) {
	if dir == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(filepath.Join(dir, "overhead-"+key+".pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// concurrent groups a request's recorded calls into waves: calls that
// overlapped in the request (a resolver's reads in parallel with another's)
// share a wave, and each wave began after the one before had ended.
func concurrent(u ddbmeter.Usage) [][]any {
	order := make([]int, len(u.Inputs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return u.Spans[a].Start.Compare(u.Spans[b].Start) })
	var waves [][]any
	var end time.Time
	for _, i := range order {
		if len(waves) == 0 || !u.Spans[i].Start.Before(end) {
			waves = append(waves, nil)
		}
		waves[len(waves)-1] = append(waves[len(waves)-1], u.Inputs[i])
		if u.Spans[i].End.After(end) {
			end = u.Spans[i].End
		}
	}
	return waves
}

// replay makes the recorded calls again: wave after wave, the calls of a
// wave at once.
func replay(ctx context.Context, db *dynamodb.Client, waves [][]any) error {
	for _, wave := range waves {
		errs := make([]error, len(wave))
		var wg sync.WaitGroup
		for i, in := range wave[1:] {
			wg.Go(func() { errs[i+1] = call(ctx, db, in) })
		}
		errs[0] = call(ctx, db, wave[0])
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

// call makes one recorded read again.
func call(ctx context.Context, db *dynamodb.Client, in any) error {
	var err error
	switch in := in.(type) {
	case *dynamodb.QueryInput:
		_, err = db.Query(ctx, in)
	case *dynamodb.GetItemInput:
		_, err = db.GetItem(ctx, in)
	case *dynamodb.BatchGetItemInput:
		_, err = db.BatchGetItem(ctx, in)
	case *dynamodb.TransactGetItemsInput:
		_, err = db.TransactGetItems(ctx, in)
	default:
		err = fmt.Errorf("cannot replay a %T", in)
	}
	return err
}

func percentiles(d []time.Duration) (p50, p90 time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)*9/10]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// split tells where each HTTP request's time went: outside the server's
// handler (client, loopback, net/http), in it before its first DynamoDB
// call (token check, parsing, validation, limits, the resolver's start), in
// its calls (first call's start to last call's end), and after them
// (decoding, the view, executing the selection, writing the response); the
// p50 of each part, as a tab-separated row. The requests ran one after
// another: a handler span is the request's whose span (as the client saw
// it) holds its start, and a call the request's whose handler span holds
// its start (a retried batch or a cache's re-read gives one request more
// calls than another). A request whose handler span was not recorded yet
// (the client can read a response whose length it knows before the
// handler returns) is left out.
func split(name string, sent, handled []ddbmeter.Span, served ddbmeter.Usage) string {
	byStart := func(a, b ddbmeter.Span) int { return a.Start.Compare(b.Start) }
	handled = slices.SortedFunc(slices.Values(handled), byStart)
	calls := slices.SortedFunc(slices.Values(served.Spans), byStart)
	var total, outside, inside, before, inCalls, after []time.Duration
	for _, r := range sent {
		for len(handled) > 0 && handled[0].Start.Before(r.Start) {
			handled = handled[1:] // not a measured request's
		}
		if len(handled) == 0 || handled[0].Start.After(r.End) {
			continue
		}
		h := handled[0]
		handled = handled[1:]
		first, last := h.End, h.End
		for len(calls) > 0 && calls[0].Start.Before(h.Start) {
			calls = calls[1:]
		}
		for j := 0; len(calls) > 0 && !calls[0].Start.After(h.End); j++ {
			if j == 0 || calls[0].Start.Before(first) {
				first = calls[0].Start
			}
			if j == 0 || calls[0].End.After(last) {
				last = calls[0].End
			}
			calls = calls[1:]
		}
		total = append(total, r.End.Sub(r.Start))
		outside = append(outside, r.End.Sub(r.Start)-h.End.Sub(h.Start))
		inside = append(inside, h.End.Sub(h.Start))
		before = append(before, first.Sub(h.Start))
		inCalls = append(inCalls, last.Sub(first))
		after = append(after, h.End.Sub(last))
	}
	if len(total) == 0 {
		return fmt.Sprintf("%s\t(no handler span recorded)\t\t\t\t\t\t", name)
	}
	p50 := func(d []time.Duration) string { m, _ := percentiles(d); return ms(m) }
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t", name, p50(total), p50(outside), p50(inside), p50(before), p50(inCalls), p50(after))
}
