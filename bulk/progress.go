package bulk

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress shows how far an import or export has come.
type Progress interface {
	// Start begins a run of total rows (-1: not known).
	Start(total int, what string)
	// Add counts n more rows done.
	Add(n int)
	// Done ends the run.
	Done()
}

// NewProgress shows progress on w: a bar with the rate and the time left
// on a terminal, else a line every interval (CI logs, files, pipes).
func NewProgress(w io.Writer, interval time.Duration) Progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w, every: interval}
}

type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(total int, what string) {
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	)
}

func (p *barProgress) Add(n int) { _ = p.bar.Add(n) }

func (p *barProgress) Done() { _ = p.bar.Finish() }

// lineProgress writes "import: 1,200 of 5,000 rows (24%), 48 rows/s, about
// 1m19s left" lines.
type lineProgress struct {
	w      io.Writer
	every  time.Duration
	mu     sync.Mutex
	what   string
	total  int
	done   int
	start  time.Time
	last   time.Time
	report int // rows done at the last line
}

func (p *lineProgress) Start(total int, what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.what, p.done, p.start, p.last = total, what, 0, time.Now(), time.Now()
}

func (p *lineProgress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if time.Since(p.last) >= p.every {
		p.line()
	}
}

func (p *lineProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done != p.report {
		p.line()
	}
}

func (p *lineProgress) line() {
	p.last, p.report = time.Now(), p.done
	elapsed := time.Since(p.start)
	rate := float64(p.done) / max(elapsed.Seconds(), 1e-3)
	if p.total < 0 {
		fmt.Fprintf(p.w, "%s: %s rows, %.0f rows/s\n", p.what, thousands(p.done), rate)
		return
	}
	pct := 100 * p.done / max(p.total, 1)
	left := ""
	if rate > 0 && p.done < p.total {
		left = fmt.Sprintf(", about %s left", time.Duration(float64(p.total-p.done)/rate*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintf(p.w, "%s: %s of %s rows (%d%%), %.0f rows/s%s\n", p.what, thousands(p.done), thousands(p.total), pct, rate, left)
}

// thousands writes n with thousands separators: 100,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
