package dynamo_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	pnames "github.com/rapportcrm/rapport/names"
)

// The search and screen pop at scale (make bench-search): N customers
// loaded with bulkCreate (the items CreateCustomer writes, and what the
// stream consumer derives from them: search keys, caller lookup,
// activity, counters), checked with CheckInvariants, then searches and
// screen pops timed and their DynamoDB calls counted. It prints figures
// and asserts nothing about them.

// scaleBrand, scaleTrade, scalePlace and scaleForm make Chinese company
// names: a place (or none), a brand of two characters, a trade and a
// legal form, 北京华信科技有限公司 and the like.
var (
	scaleBrand = []rune("华信金龙东方海天恒泰盛达鑫源宏博中新星辰瑞丰嘉和安康德永兴隆富荣昌明光宇航通远广大成汇融创智联万佳美正阳晨云峰润泽森林铭誉卓越凯腾飞锦百千鼎盈利诚")
	scaleTrade = []string{"科技", "贸易", "物流", "电子", "建设", "食品", "医药", "服装", "机械", "化工", "传媒", "咨询", "软件", "能源", "环保", "装饰"}
	scalePlace = []string{"", "", "", "北京", "上海", "广东省深圳市", "浙江杭州", "江苏省南京市", "四川成都", "湖北武汉", "天津市", "重庆"}
	scaleForm  = []string{"有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司"}
	scaleLatin = []string{"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Hooli", "Vandelay", "Soylent", "Tyrell", "Cyberdyne"}
	scaleWord  = []string{"Trading", "Logistics", "Power", "Foods", "Systems", "Textiles", "Holdings", "Electronics"}
	scaleSurn  = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	scaleGiven = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚")
)

// scaleCustomers makes n customers, the same for the same n: 85% Chinese
// organizations, 10% people, 5% organizations with Latin names; each has
// one mobile number of its own, and is in team north or south, owned by
// sales-1, sales-2, sales-south or no one (the pool).
func scaleCustomers(n int) []crm.CustomerInput {
	r := rand.New(rand.NewPCG(11, uint64(n)))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	owners := []string{"sales-1", "sales-2", "sales-south", ""}
	ins := make([]crm.CustomerInput, n)
	for i := range ins {
		in := crm.CustomerInput{Kind: crm.KindOrganization, Phones: []string{fmt.Sprintf("+86 139 %04d %04d", i/10000, i%10000)}}
		switch k := r.IntN(20); {
		case k < 17:
			brand := string(scaleBrand[r.IntN(len(scaleBrand))]) + string(scaleBrand[r.IntN(len(scaleBrand))])
			in.Name = pick(scalePlace) + brand + pick(scaleTrade) + pick(scaleForm)
		case k < 19:
			in.Kind = crm.KindPerson
			in.Name = string(scaleSurn[r.IntN(len(scaleSurn))]) + string(scaleGiven[r.IntN(len(scaleGiven))]) + string(scaleGiven[r.IntN(len(scaleGiven))])
		default:
			in.Name = pick(scaleLatin) + " " + pick(scaleWord) + " " + strconv.Itoa(r.IntN(1000)) + " Co., Ltd."
		}
		switch o := owners[r.IntN(len(owners))]; o {
		case "sales-south":
			in.OwnerID, in.Team = &o, "south"
		case "":
			in.Team = "north"
		default:
			in.OwnerID, in.Team = &o, "north"
		}
		in.Region = in.Team
		ins[i] = in
	}
	return ins
}

// scaleQuery is one kind of search, and the strings of it to time.
type scaleQuery struct {
	kind    string
	queries []string
}

// scaleQueries samples what people type, from the customers loaded.
func scaleQueries(ins []crm.CustomerInput, per int) []scaleQuery {
	r := rand.New(rand.NewPCG(7, uint64(len(ins))))
	var orgs []string
	for _, in := range ins {
		if in.Kind == crm.KindOrganization && !strings.ContainsFunc(in.Name, func(c rune) bool { return c < 0x80 && c != ' ' }) {
			orgs = append(orgs, in.Name)
		}
	}
	add := func(kind string, f func() string) scaleQuery {
		q := scaleQuery{kind: kind}
		for range per {
			q.queries = append(q.queries, f())
		}
		return q
	}
	org := func() string { return orgs[r.IntN(len(orgs))] }
	core := func() string { return pnames.Core(org()) }
	reading := func() pnames.Reading { return pnames.Pinyin(core(), false)[0] }
	phone := func() string { return ins[r.IntN(len(ins))].Phones[0] }
	return []scaleQuery{
		add("brand, 2 characters (华信)", func() string { return string([]rune(core())[:2]) }),
		add("core name (华信科技)", core),
		add("whole name", org),
		add("pinyin, 6 letters (huaxin)", func() string { return reading().Full[:min(6, len(reading().Full))] }),
		add("initials (hxkj)", func() string { return reading().Initials }),
		add("last 4 digits", func() string { p := phone(); return p[len(p)-4:] }),
		add("whole number (139 …)", func() string { return strings.TrimPrefix(phone(), "+86 ") }),
	}
}

// scaleStats are the figures of one kind of request.
type scaleStats struct {
	took  []time.Duration
	calls []int
	found int
}

// run times one request and counts its DynamoDB calls; f reports
// whether it found something.
func (s *scaleStats) run(e *env, f func() (bool, error)) error {
	before := e.calls.Load()
	start := time.Now()
	found, err := f()
	s.took = append(s.took, time.Since(start))
	s.calls = append(s.calls, int(e.calls.Load()-before))
	if found {
		s.found++
	}
	return err
}

func (s *scaleStats) print(w io.Writer, name string) {
	slices.Sort(s.took)
	slices.Sort(s.calls)
	p := func(q float64) time.Duration { return s.took[min(len(s.took)-1, int(q*float64(len(s.took))))] }
	total := 0
	for _, c := range s.calls {
		total += c
	}
	fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %.2f | %d | %d |\n", name, len(s.took),
		ms(p(0.5)), ms(p(0.9)), ms(p(0.99)), float64(total)/float64(len(s.calls)), s.calls[len(s.calls)-1], s.found)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// loadScale loads ins and, when check, checks the table's invariants,
// printing how long each took.
func loadScale(tb testing.TB, e *env, ins []crm.CustomerInput, workers int, check bool, w io.Writer) {
	tb.Helper()
	bulkTimes = [3]atomic.Int64{}
	start := time.Now()
	bulkCreate(tb, e, admin, ins, workers)
	took := time.Since(start)
	fmt.Fprintf(w, "loaded %d customers in %s (%.0f a second, %d workers; worker time making them %s, writing them %s, applying their stream records %s)\n",
		len(ins), took.Round(time.Second), float64(len(ins))/took.Seconds(), workers, time.Duration(bulkTimes[0].Load()).Round(time.Second),
		time.Duration(bulkTimes[1].Load()).Round(time.Second), time.Duration(bulkTimes[2].Load()).Round(time.Second))
	if !check {
		return
	}
	start = time.Now()
	broken, err := dynamo.CheckInvariants(tb.Context(), e.db, e.table)
	if err != nil || len(broken) > 0 {
		tb.Fatalf("the loaded table breaks its invariants: %v %v", err, broken[:min(len(broken), 10)])
	}
	fmt.Fprintf(w, "CheckInvariants over the whole table: held (%s)\n", time.Since(start).Round(time.Second))
}

// TestScaleLoaderKeepsTheInvariants runs the benchmark's loader and one
// of each request on a few customers, so that make bench-search does not
// rot.
func TestScaleLoaderKeepsTheInvariants(t *testing.T) {
	e := mustEnv(t)
	ins := scaleCustomers(120)
	loadScale(t, e, ins[:40], 2, false, io.Discard)
	loadScale(t, e, ins[40:], 2, true, io.Discard) // loaded in steps, as the benchmark does
	for _, q := range scaleQueries(ins, 1) {
		page, err := e.svc.SearchCustomers(as(admin), q.queries[0], crm.CustomerFilter{}, crm.PageRequest{First: 20})
		if err != nil || len(page.Items) == 0 {
			t.Errorf("%s %q: %v, %v", q.kind, q.queries[0], page, err)
		}
	}
	got, err := e.svc.CustomerByPhone(as(admin), ins[7].Phones[0], 10)
	if err != nil || got == nil || got.Customer.Name != ins[7].Name {
		t.Fatalf("screen pop of %s: %+v %v", ins[7].Phones[0], got, err)
	}
}

// BenchmarkSearchAtScale loads RAPPORT_BENCH_CUSTOMERS customers (100,000
// by default) in steps (10,000, 25,000, 50,000, then the rest), and after
// each prints the latency percentiles and DynamoDB calls of searches and
// screen pops, as an admin (no narrowing) and as a salesperson (who
// searches their own customers: about a quarter of what matches). The table's invariants are
// checked after the first step (RAPPORT_BENCH_CHECK=all: after every
// step). Run once: make bench-search.
func BenchmarkSearchAtScale(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("RAPPORT_BENCH_CUSTOMERS"))
	if n <= 0 {
		n = 100_000
	}
	per := 100
	w := os.Stdout
	e := mustEnv(b)
	// The bench reads no stream: DynamoDB Local need not keep one.
	if _, err := e.db.UpdateTable(b.Context(), &dynamodb.UpdateTableInput{TableName: &e.table,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)}}); err != nil {
		fmt.Fprintf(w, "(the table's stream stays on: %v)\n", err)
	}
	fmt.Fprintf(w, "\nbench-search: %d customers, %s/%s, %d CPUs, %s\n", n, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format(time.DateTime))
	ins := scaleCustomers(n)
	began := time.Now()
	for b.Loop() {
		loaded := 0
		for i, step := range []int{10_000, 25_000, 50_000, n} {
			if step > n || step <= loaded {
				continue
			}
			loadScale(b, e, ins[loaded:step], 8, i == 0 || os.Getenv("RAPPORT_BENCH_CHECK") == "all", w)
			loaded = step
			scaleRequests(b, e, ins[:loaded], per, w)
			fmt.Fprintf(w, "(%s since the start)\n", time.Since(began).Round(time.Second))
		}
	}
}

// scaleRequests times per searches of each kind as an admin and as
// sales-1, and per screen pops of numbers held and not, over the loaded
// customers ins.
func scaleRequests(b *testing.B, e *env, ins []crm.CustomerInput, per int, w io.Writer) {
	fmt.Fprintf(w, "\n%d customers:\n\n| request (a first page of 20) | runs | p50 | p90 | p99 | calls, mean | calls, most | found something |\n|---|---|---|---|---|---|---|---|\n", len(ins))
	for _, who := range []*crm.User{admin, sales1} {
		for _, q := range scaleQueries(ins, per) {
			var st scaleStats
			for _, s := range q.queries {
				if err := st.run(e, func() (bool, error) {
					page, err := e.svc.SearchCustomers(as(who), s, crm.CustomerFilter{}, crm.PageRequest{First: 20})
					return err == nil && len(page.Items) > 0, err
				}); err != nil {
					b.Fatalf("search %q: %v", s, err)
				}
			}
			st.print(w, "search as "+string(who.Roles[0])+": "+q.kind)
		}
	}
	r := rand.New(rand.NewPCG(3, uint64(len(ins))))
	forms := []func(string) string{
		func(p string) string { return p },                                             // +86 139 0001 2345
		func(p string) string { return strings.ReplaceAll(p[4:], " ", "") },            // 13900012345
		func(p string) string { return "0086-" + strings.ReplaceAll(p[4:], " ", "-") }, // 0086-139-0001-2345
	}
	for _, known := range []bool{true, false} {
		var st scaleStats
		for i := range per {
			p := ins[r.IntN(len(ins))].Phones[0]
			if !known {
				p = fmt.Sprintf("+86 137 %04d %04d", r.IntN(10000), r.IntN(10000))
			}
			p = forms[i%len(forms)](p)
			if err := st.run(e, func() (bool, error) {
				got, err := e.svc.CustomerByPhone(as(admin), p, 10)
				return got != nil, err
			}); err != nil {
				b.Fatalf("screen pop %q: %v", p, err)
			}
		}
		what := "screen pop (customerByPhone), a customer's number"
		if !known {
			what = "screen pop (customerByPhone), a number no one holds"
		}
		st.print(w, what)
	}
}
