package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/rapportcrm/rapport/bulk"
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/infra/ddbmeter"
	"github.com/rapportcrm/rapport/sheet"
)

// importBenchOptions are the import benchmark's flags.
type importBenchOptions struct {
	rows, sampleEvery int
	rate              float64
	// stream runs the stream consumer beside the import, as a deployed
	// stack does: without it the search index holds no imported customer,
	// so name look-ups read less than they would, and the consumer's
	// writes go unbilled.
	stream bool
}

// importBench imports generated rows, with errors and duplicates sprinkled
// in as real files have them, through the local server as `rapport import`
// does, and prints rows per second, the request units a row costs and the
// report's counts. Every sampleEvery-th call is billed (the meter reads the
// items each write touches before and after it, which would slow every
// call); the others only count their DynamoDB calls.
func importBench(ctx context.Context, e *env, o importBenchOptions, prices [2]float64, out io.Writer) error {
	rows, sampleEvery, rate := o.rows, o.sampleEvery, o.rate
	e.svc.Import.RowsPerSecond = rate
	dir, err := os.MkdirTemp("", "rapport-bench-import")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "customers.xlsx")
	holders, err := e.demoPhones(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Writing %d generated rows to an .xlsx file…\n", rows)
	planted, err := writeBenchFile(path, rows, holders)
	if err != nil {
		return err
	}
	paced := "unpaced"
	if rate > 0 {
		paced = fmt.Sprintf("paced at %.0f rows/s", rate)
	}
	fmt.Fprintf(out, "Importing them as admin through %s (%s, duplicates: skip)…\n", e.base, paced)
	meter := &sampler{meter: e.meter, every: sampleEvery, next: http.DefaultTransport,
		audit: auditUnits}
	e.meter.Set(false, true)
	e.meter.Take()
	var consumer *streamBeside
	if o.stream {
		consumer = e.consumeBeside(ctx, out)
	}
	c := &bulk.Client{BaseURL: e.base, Token: e.tokens["admin"], HTTP: &http.Client{Transport: meter, Timeout: 5 * time.Minute},
		Notify: func(s string) { fmt.Fprintln(out, "  client:", s) }}
	sum, err := bulk.Import(ctx, c, bulk.ImportOptions{File: path, Lang: "en", Progress: bulk.NewProgress(out, 30*time.Second), Log: out})
	if err != nil && (ctx.Err() == nil || sum == nil || sum.Sent == 0) {
		if consumer != nil {
			consumer.stopped()
		}
		return err
	}
	if err != nil {
		// Interrupted (Ctrl-C): the figures of the rows imported so far.
		fmt.Fprintf(out, "\nInterrupted after %d of %d rows: the figures below are those rows'.\n", sum.Sent, rows)
	}
	printImportBench(out, sum, planted, meter, meter.total.Plus(e.meter.Take()), prices)
	if consumer != nil {
		consumer.finish(ctx, out, sum, prices)
	}
	return nil
}

// streamBeside is the stream consumer running beside an import, on its
// own metered client (e.streamMeter), as the stream function does beside
// the api.
type streamBeside struct {
	e       *env
	stop    chan struct{}
	done    chan struct{}
	records int
	failed  int
}

func (e *env) consumeBeside(ctx context.Context, out io.Writer) *streamBeside {
	e.streamMeter.Take()
	b := &streamBeside{e: e, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for {
			n, err := e.poller.Pass(ctx)
			if err == nil {
				b.records += n
			} else if ctx.Err() == nil {
				// The records stay in the stream and are read again, as
				// Lambda retries a failed batch (and are counted then).
				b.failed++
				fmt.Fprintln(out, "  stream:", err)
			}
			if n > 0 && err == nil {
				continue
			}
			select {
			case <-b.stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	return b
}

// stopped stops the consumer's loop and waits for it.
func (b *streamBeside) stopped() {
	close(b.stop)
	<-b.done
}

// finish waits for the consumer to catch up and prints what it did.
func (b *streamBeside) finish(ctx context.Context, out io.Writer, sum *bulk.ImportSummary, prices [2]float64) {
	// The loop reads on while records come; the time it takes after the
	// last row is how far the consumer trailed the import.
	began := time.Now()
	b.stopped()
	n, err := b.e.poller.Drain(ctx)
	b.records += n
	if err != nil {
		fmt.Fprintln(out, "Stream consumer: could not catch up:", err)
	}
	u := b.e.streamMeter.Take().Billed
	// Created and updated customers are what the stream has work for.
	written := max(sum.Counts["CREATED"]+sum.Counts["UPDATED"]+sum.Counts["FLAGGED"], 1)
	wru, rru := u.WriteTotal()/float64(written), u.ReadTotal()/float64(written)
	fmt.Fprintf(out, "Stream consumer beside the import: %d records, caught up %s after the last row, %d passes failed and were read again\n",
		b.records, time.Since(began).Round(time.Second), b.failed)
	fmt.Fprintf(out, "Its capacity per customer written (created, updated or flagged), billed as AWS bills it: %.1f WRU, %.1f RRU; $%.2f per 100,000\n",
		wru, rru, 1e5*(wru*prices[0]+rru*prices[1])/1e6)
}

// demoPhones returns phones the demo customers hold, for rows that
// duplicate them.
func (e *env) demoPhones(ctx context.Context) ([]string, error) {
	page, err := e.svc.Customers(crm.NewContextWithUser(ctx, &crm.User{ID: "admin", Roles: []crm.Role{crm.RoleAdmin}}),
		crm.CustomerFilter{}, crm.PageRequest{First: crm.MaxPageSize})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range page.Items {
		out = append(out, c.Phones...)
	}
	return out, nil
}

// planted counts what the generator put into the file on purpose.
type planted struct {
	rows, invalid, duplicates int
}

var (
	benchCities     = []string{"北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "天津", "西安", "重庆", "苏州"}
	benchDistricts  = []string{"东城", "西湖", "南山", "北辰", "中山", "高新"}
	benchWords      = []string{"华远", "鼎盛", "恒通", "宏达", "金桥", "东方", "瑞丰", "德信", "中科", "天成", "利民", "永安", "嘉禾", "博雅", "安泰", "启明", "正和", "新源", "长城", "海纳"}
	benchWords2     = []string{"创新", "智能", "精密", "环球", "联合", "信达", "光明", "长江", "泰和", "合众"}
	benchTrades     = []string{"科技", "贸易", "实业", "物流", "电子", "机械", "医药", "建设"}
	benchForms      = []string{"有限公司", "股份有限公司", "有限责任公司", "集团有限公司"}
	benchIndustries = []string{"制造", "软件", "贸易", "物流", "零售", "能源", "医药", "建筑"}
	benchSurnames   = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"}
	benchGiven      = []string{"伟", "芳", "娜", "敏", "静", "磊", "强", "燕", "军", "涛", "秀英", "建国"}
	benchOwners     = [][2]string{{"sales-li", "north"}, {"sales-zhao", "north"}, {"sales-liu", "south"}, {"", "north"}, {"", "south"}}
)

// writeBenchFile writes the generated rows: four in five organizations
// with unique names, one in five persons; about 6% break a rule (a short
// phone, a broken email, no name, an unknown grade, an amount in words)
// and about 5% duplicate an earlier row or a demo customer (a phone, or an
// organization's name).
func writeBenchFile(path string, n int, holders []string) (planted, error) {
	p := planted{rows: n}
	w, err := sheet.Create(path, sheet.FormatXLSX, "客户")
	if err != nil {
		return p, err
	}
	header := bulk.Header("zh")
	col := func(key string) int { return slices.Index(bulk.Header("en"), key) }
	if err := w.Write(header); err != nil {
		return p, err
	}
	r := rand.New(rand.NewPCG(2026, 17))
	names := make([]string, n)
	phones := make([]string, n)
	for i := range n {
		row := make([]string, len(header))
		person := i%5 == 4
		if person {
			row[col("kind")] = "个人"
			names[i] = benchSurnames[r.IntN(len(benchSurnames))] + benchGiven[r.IntN(len(benchGiven))]
		} else {
			k := i
			// 12 × 20 × 10 × 8 × 6 = 115,200 names that differ in more than
			// their legal form (which duplicate detection ignores).
			names[i] = benchCities[k%12] + benchDistricts[(k/19200)%6] + benchWords[(k/12)%20] + benchWords2[(k/240)%10] +
				benchTrades[(k/2400)%8] + benchForms[k%4]
		}
		phones[i] = fmt.Sprintf("1%d%d %04d %04d", 3+r.IntN(7), r.IntN(10), i/10000, i%10000)
		owner := benchOwners[r.IntN(len(benchOwners))]
		row[col("name")], row[col("phone")] = names[i], phones[i]
		row[col("region")], row[col("owner")], row[col("team")] = owner[1], owner[0], owner[1]
		row[col("industry")] = benchIndustries[r.IntN(len(benchIndustries))]
		if i%2 == 0 {
			row[col("email")] = fmt.Sprintf("c%06d@example.cn", i)
		}
		if i%4 == 0 {
			row[col("annualRevenue")] = fmt.Sprintf("%d万", 10+r.IntN(5000))
		}
		if i%10 == 0 {
			row[col("grade")] = string("ABCDEF"[r.IntN(6)])
		}
		if i%5 == 0 {
			row[col("tags")] = "vip"
		}
		if !person && i%3 == 0 {
			row[col("contact")] = benchSurnames[r.IntN(len(benchSurnames))] + benchGiven[r.IntN(len(benchGiven))]
			row[col("contactPhone")] = fmt.Sprintf("1390%07d", i)
			row[col("contactRole")] = "采购"
		}
		// What goes wrong in real files.
		switch {
		case i%37 == 1:
			row[col("phone")], p.invalid = "12345", p.invalid+1
		case i%53 == 2 && row[col("email")] != "":
			row[col("email")], p.invalid = "someone@", p.invalid+1
		case i%97 == 3:
			row[col("name")], p.invalid = "", p.invalid+1
		case i%113 == 4:
			row[col("grade")], p.invalid = "Z", p.invalid+1
		case i%131 == 5:
			row[col("annualRevenue")], p.invalid = "很多", p.invalid+1
		// The same customer twice.
		case i%29 == 6 && i >= 7:
			row[col("phone")], p.duplicates = strings.ReplaceAll(phones[i-7], " ", "-"), p.duplicates+1
		case i%101 == 7 && len(holders) > 0:
			row[col("phone")], p.duplicates = holders[r.IntN(len(holders))], p.duplicates+1
		case i%71 == 8 && !person && i >= 3 && !strings.HasPrefix(names[i-3], "个"):
			row[col("name")] = names[i-3]
			if i%5 != 4 && (i-3)%5 != 4 {
				p.duplicates++
			}
		}
		if err := w.Write(row); err != nil {
			return p, err
		}
	}
	return p, w.Close()
}

// sampler bills every every-th call with the meter, and counts calls.
type sampler struct {
	meter *ddbmeter.Meter
	every int
	next  http.RoundTripper

	// audit works out the write units of the audit entries the recorded
	// inputs wrote.
	audit func(inputs []any) float64

	mu         sync.Mutex
	calls      int
	total      ddbmeter.Usage // of every call, up to the last billed one
	billed     ddbmeter.Usage
	auditUnits float64
	rows       int // rows answered in billed calls
}

func (s *sampler) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.calls++
	bill := s.every > 0 && s.calls%s.every == 0
	s.mu.Unlock()
	if !bill {
		return s.next.RoundTrip(r)
	}
	// Calls of one import are sent one after another: between them the
	// server is idle, so what the meter sees is this call's.
	s.mu.Lock()
	s.total = s.total.Plus(s.meter.Take())
	s.mu.Unlock()
	s.meter.Set(true, false)
	res, err := s.next.RoundTrip(r)
	if err == nil {
		res.Body = &countingBody{ReadCloser: res.Body, done: func(rows int) {
			u := s.meter.Take()
			s.meter.Set(false, true)
			audit := s.audit(u.Inputs)
			u.Inputs = nil
			s.mu.Lock()
			s.billed, s.total, s.rows = s.billed.Plus(u), s.total.Plus(u), s.rows+rows
			s.auditUnits += audit
			s.mu.Unlock()
		}}
	}
	return res, err
}

// countingBody counts the rows an import call answered (results that are
// not RETRY) once its body is read.
type countingBody struct {
	io.ReadCloser
	buf  strings.Builder
	done func(rows int)
	once sync.Once
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.buf.Write(p[:n])
	if err == io.EOF {
		b.once.Do(func() {
			s := b.buf.String()
			b.done(strings.Count(s, `"status":`) - strings.Count(s, `"status":"RETRY"`))
		})
	}
	return n, err
}

func printImportBench(out io.Writer, sum *bulk.ImportSummary, p planted, s *sampler, all ddbmeter.Usage, prices [2]float64) {
	fmt.Fprintf(out, "\nImported %d rows in %s: %.1f rows/s\n", sum.Sent, sum.Elapsed.Round(time.Second), float64(sum.Sent)/sum.Elapsed.Seconds())
	fmt.Fprintf(out, "Planted in the file's %d rows: %d breaking a rule, %d duplicates (of earlier rows or demo customers)\n", p.rows, p.invalid, p.duplicates)
	fmt.Fprint(out, "Report counts:")
	for _, st := range []string{"CREATED", "UPDATED", "SKIPPED", "FLAGGED", "REJECTED"} {
		fmt.Fprintf(out, " %s %d", strings.ToLower(st), sum.Counts[st])
	}
	fmt.Fprintf(out, "; %d report lines\n", sum.Lines)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "DynamoDB calls per row\t\t")
	for _, op := range slices.Sorted(func(yield func(string) bool) {
		for op := range all.Calls {
			if !yield(op) {
				return
			}
		}
	}) {
		fmt.Fprintf(w, "%s\t%.2f\t\n", op, float64(all.Calls[op])/float64(max(sum.Sent, 1)))
	}
	_ = w.Flush()
	if s.rows == 0 {
		fmt.Fprintln(out, "No call was billed (too few calls for the sample).")
		return
	}
	b := s.billed.Billed
	perRow := func(v float64) float64 { return v / float64(s.rows) }
	wru, rru := perRow(b.WriteTotal()), perRow(b.ReadTotal())
	fmt.Fprintf(out, "Capacity per row, billed as AWS bills it, over the %d rows of one call in %d: %.1f WRU (table %.1f",
		s.rows, s.every, wru, perRow(b.Write[ddbmeter.TableUnits]))
	for _, idx := range indexes {
		if v := b.Write[idx]; v > 0 {
			fmt.Fprintf(out, ", %s %.1f", idx, perRow(v))
		}
	}
	fmt.Fprintf(out, "), %.1f RRU\n", rru)
	audit := perRow(s.auditUnits)
	fmt.Fprintf(out, "Of which the audit entries, all in the day's partition AUDIT#<day>: %.1f WRU per row; at the default pace of %.0f rows/s, %.0f of the %d write units a second one partition takes\n",
		audit, crm.DefaultImportLimits.RowsPerSecond, audit*crm.DefaultImportLimits.RowsPerSecond, partitionWriteUnits)
	fmt.Fprintf(out, "At on-demand prices: $%.2f per 100,000 rows (%s)\n", 1e5*(wru*prices[0]+rru*prices[1])/1e6, priceSource)
}

// partitionWriteUnits is what one DynamoDB partition takes a second
// (AWS, "Best practices for designing and using partition keys
// effectively", read 2026-12-01).
const partitionWriteUnits = 1000

// auditUnits works out, from the recorded write inputs, the write units
// AWS bills for the audit entries they put: a unit per KB, two in a
// transaction.
func auditUnits(inputs []any) float64 {
	var units float64
	for _, in := range inputs {
		tx, ok := in.(*dynamodb.TransactWriteItemsInput)
		if !ok {
			continue
		}
		for _, it := range tx.TransactItems {
			if it.Put == nil || !strings.HasPrefix(str(it.Put.Item["pk"]), "AUDIT#") {
				continue
			}
			units += 2 * math.Ceil(float64(dynamo.ItemSize(it.Put.Item))/1024)
		}
	}
	return units
}
