package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// The operations, with their share of the mix. Workers share the customers
// they create, so updates with expectedVersion meet real contention.
var mix = []struct {
	name   string
	weight int
}{
	{"createCustomer", 10},
	{"logInteraction", 30},
	{"updateCustomer", 15},
	{"customer360", 25},
	{"customers", 20},
}

const (
	qCreate = `mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id version name } }`
	qLog    = `mutation($in: LogInteractionInput!) { logInteraction(input: $in) { id } }`
	qRead   = `query($id: ID!) { customer(id: $id) { version name } }`
	qUpdate = `mutation($id: ID!, $v: Int!, $name: String!) { updateCustomer(id: $id, expectedVersion: $v, input: {name: $name}) { version name } }`
	q360    = `query($id: ID!) { customer360(id: $id, recentInteractions: 10) { customer { name version grade { level { code } } } contacts { name } recentInteractions { id subject occurredAt } } }`
	qList   = `query($r: String) { customers(first: 20, filter: {region: $r}) { totalCount edges { node { id name grade { level { code } } latestInteraction { subject } } } } }`
	qPage   = `query($id: ID!, $after: String) { interactions(customerId: $id, first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`
)

// load is one run: the client, and the ledger of acknowledged writes.
type load struct {
	t      *target
	client *http.Client

	mu           sync.Mutex
	customers    []string
	acked        map[string]*ackedCustomer
	interactions map[string][]string // customer → acknowledged interaction ids
	latencies    map[string][]time.Duration
	codes        map[string]map[string]int // op → error code → count
}

// ackedCustomer is what the API acknowledged of one customer: its highest
// acknowledged version and the name it then had, and whether an update
// was sent whose answer never came (which may have applied).
type ackedCustomer struct {
	version   int
	name      string
	uncertain bool
}

func newLoad(t *target) *load {
	return &load{
		t:      t,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		acked:  map[string]*ackedCustomer{}, interactions: map[string][]string{},
		latencies: map[string][]time.Duration{}, codes: map[string]map[string]int{},
	}
}

// gqlResponse is a GraphQL response; code is the first error's code.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r *gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	if c, ok := r.Errors[0].Extensions["code"].(string); ok {
		return c
	}
	return "NO_CODE"
}

// post sends one operation; fail is TRANSPORT or HTTP_<status> when no
// GraphQL response came back.
func (l *load) post(ctx context.Context, query string, vars map[string]any) (r *gqlResponse, fail string) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.t.graphqlURL, bytes.NewReader(body))
	if err != nil {
		return nil, "TRANSPORT"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.t.token)
	res, err := l.client.Do(req)
	if err != nil {
		return nil, "TRANSPORT"
	}
	defer res.Body.Close()
	r = &gqlResponse{}
	if err := json.NewDecoder(res.Body).Decode(r); err != nil {
		return nil, fmt.Sprintf("HTTP_%d", res.StatusCode)
	}
	return r, ""
}

// decode returns the code of a response, or decodes its data into out.
func decode(r *gqlResponse, fail string, out any) string {
	switch {
	case fail != "":
		return fail
	case r.code() != "":
		return r.code()
	case out != nil && json.Unmarshal(r.Data, out) != nil:
		return "BAD_DATA"
	}
	return ""
}

// call sends one operation, times it under op, and decodes data into out.
func (l *load) call(ctx context.Context, op, query string, vars map[string]any, out any) string {
	start := time.Now()
	r, fail := l.post(ctx, query, vars)
	return l.record(op, time.Since(start), decode(r, fail, out))
}

func (l *load) record(op string, took time.Duration, code string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.codes[op] == nil {
		l.codes[op] = map[string]int{}
	}
	l.codes[op][code]++
	if code == "" {
		l.latencies[op] = append(l.latencies[op], took)
	}
	return code
}

func (l *load) someCustomer(rng *rand.Rand) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.customers) == 0 {
		return ""
	}
	return l.customers[rng.IntN(len(l.customers))]
}

// drive runs workers until they made operations operations (0: until
// ctx ends). Operations follow the mix in a fixed order (sequence), so a
// run of n operations makes the same number of each whatever the timing.
func (l *load) drive(ctx context.Context, workers, operations int) *results {
	order := sequence()
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for ctx.Err() == nil {
				n := int(next.Add(1)) - 1
				if operations > 0 && n >= operations {
					return
				}
				// Requests are not cut off when ctx ends: each ends
				// with its answer, so every write is known.
				l.step(context.WithoutCancel(ctx), rng, order[n%len(order)], w, n)
			}
		})
	}
	wg.Wait()
	return l.results(time.Since(start))
}

// sequence spreads the mix's operations evenly over one cycle of their
// weights (smooth weighted round robin): every operation comes early, and
// each cycle holds each in proportion to its weight.
func sequence() []string {
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	current := make([]int, len(mix))
	order := make([]string, 0, total)
	for range total {
		best := 0
		for i, m := range mix {
			current[i] += m.weight
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		order = append(order, mix[best].name)
	}
	return order
}

func (l *load) step(ctx context.Context, rng *rand.Rand, op string, worker, n int) {
	id := l.someCustomer(rng)
	if id == "" {
		op = "createCustomer"
	}
	switch op {
	case "createCustomer":
		var out struct {
			CreateCustomer struct {
				ID      string
				Version int
				Name    string
			}
		}
		in := map[string]any{"kind": "ORGANIZATION", "name": fmt.Sprintf("Load %d-%d", worker, n),
			"region": []string{"north", "south", "east"}[rng.IntN(3)], "grade": []string{"A", "B", "C"}[rng.IntN(3)],
			"emails": []string{fmt.Sprintf("load-%d-%d@example.test", worker, n)}}
		if l.call(ctx, op, qCreate, map[string]any{"in": in}, &out) == "" {
			c := out.CreateCustomer
			l.mu.Lock()
			l.customers = append(l.customers, c.ID)
			l.acked[c.ID] = &ackedCustomer{version: c.Version, name: c.Name}
			l.mu.Unlock()
		}
	case "logInteraction":
		var out struct{ LogInteraction struct{ ID string } }
		in := map[string]any{"customerId": id, "channel": "PHONE", "type": "CALL", "direction": "INBOUND", "subject": fmt.Sprintf("call %d-%d", worker, n)}
		if l.call(ctx, op, qLog, map[string]any{"in": in}, &out) == "" {
			l.mu.Lock()
			l.interactions[id] = append(l.interactions[id], out.LogInteraction.ID)
			l.mu.Unlock()
		}
	case "updateCustomer":
		var cur struct{ Customer struct{ Version int } }
		if l.call(ctx, "customer", qRead, map[string]any{"id": id}, &cur) != "" {
			return
		}
		var out struct {
			UpdateCustomer struct {
				Version int
				Name    string
			}
		}
		name := fmt.Sprintf("Load %d-%d renamed", worker, n)
		code := l.call(ctx, op, qUpdate, map[string]any{"id": id, "v": cur.Customer.Version, "name": name}, &out)
		l.mu.Lock()
		defer l.mu.Unlock()
		a := l.acked[id]
		switch {
		case code == "" && out.UpdateCustomer.Version > a.version:
			a.version, a.name = out.UpdateCustomer.Version, out.UpdateCustomer.Name
		case code == "":
		case code != "CONFLICT" && code != "BAD_USER_INPUT":
			a.uncertain = true
		}
	case "customer360":
		l.call(ctx, op, q360, map[string]any{"id": id}, nil)
	case "customers":
		l.call(ctx, op, qList, map[string]any{"r": []string{"north", "south", "east"}[rng.IntN(3)]}, nil)
	}
}

// results are the figures of a run.
type results struct {
	elapsed  time.Duration
	rows     []row
	internal int
}

type row struct {
	op                 string
	ok                 int
	errs               map[string]int
	p50, p90, p99, max time.Duration
}

func (l *load) results(elapsed time.Duration) *results {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := &results{elapsed: elapsed}
	ops := make([]string, 0, len(l.codes))
	for op := range l.codes {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		lat := slices.Clone(l.latencies[op])
		slices.Sort(lat)
		rw := row{op: op, ok: l.codes[op][""], errs: map[string]int{}}
		for code, n := range l.codes[op] {
			if code != "" {
				rw.errs[code] = n
			}
			if code == "INTERNAL" {
				r.internal += n
			}
		}
		if len(lat) > 0 {
			rw.p50, rw.p90, rw.p99, rw.max = pct(lat, 50), pct(lat, 90), pct(lat, 99), lat[len(lat)-1]
		}
		r.rows = append(r.rows, rw)
	}
	return r
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)-1, (len(sorted)*p+99)/100-1)]
}

func (r *results) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tok\tok/s\tp50\tp90\tp99\tmax\terrors\t")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
	all := 0
	for _, rw := range r.rows {
		all += rw.ok
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", rw.op, rw.ok, float64(rw.ok)/r.elapsed.Seconds(),
			ms(rw.p50), ms(rw.p90), ms(rw.p99), ms(rw.max), formatCodes(rw.errs))
	}
	fmt.Fprintf(tw, "all\t%d\t%.1f\t\t\t\t\t\t\n", all, float64(all)/r.elapsed.Seconds())
	_ = tw.Flush()
}

func formatCodes(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for _, k := range keys {
		s += fmt.Sprintf("%s %d ", k, m[k])
	}
	return s[:len(s)-1]
}

// verification is what re-reading found.
type verification struct {
	customers, interactions, updates int
	missing                          []string
}

// reread is call without the bookkeeping (verify holds l.mu).
func (l *load) reread(ctx context.Context, query string, vars map[string]any, out any) string {
	r, fail := l.post(ctx, query, vars)
	return decode(r, fail, out)
}

// verify re-reads every acknowledged customer and interaction through the
// API: each customer exists at its highest acknowledged version or later,
// with the name that version gave it unless an unanswered update may have
// applied after it; each interaction is in its customer's list.
func (l *load) verify(ctx context.Context) (*verification, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := &verification{}
	for id, a := range l.acked {
		v.customers++
		if a.version > 1 {
			v.updates++
		}
		var cur struct {
			Customer *struct {
				Version int
				Name    string
			}
		}
		if code := l.reread(ctx, qRead, map[string]any{"id": id}, &cur); code != "" {
			return nil, fmt.Errorf("re-read customer %s: %s", id, code)
		}
		switch c := cur.Customer; {
		case c == nil:
			v.missing = append(v.missing, "customer "+id)
		case c.Version < a.version:
			v.missing = append(v.missing, fmt.Sprintf("customer %s version %d (stored %d)", id, a.version, c.Version))
		case c.Name != a.name && !a.uncertain:
			v.missing = append(v.missing, fmt.Sprintf("customer %s name %q (stored %q)", id, a.name, c.Name))
		}
		listed := map[string]bool{}
		for after := ""; ; {
			var page struct {
				Interactions struct {
					Edges    []struct{ Node struct{ ID string } }
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
			vars := map[string]any{"id": id}
			if after != "" {
				vars["after"] = after
			}
			if code := l.reread(ctx, qPage, vars, &page); code != "" {
				return nil, fmt.Errorf("re-read interactions of %s: %s", id, code)
			}
			for _, e := range page.Interactions.Edges {
				listed[e.Node.ID] = true
			}
			if !page.Interactions.PageInfo.HasNextPage {
				break
			}
			after = page.Interactions.PageInfo.EndCursor
		}
		for _, it := range l.interactions[id] {
			v.interactions++
			if !listed[it] {
				v.missing = append(v.missing, fmt.Sprintf("interaction %s of customer %s", it, id))
			}
		}
	}
	return v, nil
}

func (v *verification) print(w io.Writer) {
	fmt.Fprintf(w, "acknowledged: %d customers (%d updated), %d interactions; missing: %d\n",
		v.customers, v.updates, v.interactions, len(v.missing))
	for _, m := range v.missing {
		fmt.Fprintln(w, "  missing:", m)
	}
}
