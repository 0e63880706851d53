package ddblocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// readyTimeout bounds how long Start waits for the JVM to answer. A cold JVM
// on a loaded CI machine running several test binaries at once can take tens
// of seconds, so this is generous.
const readyTimeout = 60 * time.Second

// Options configures Start.
type Options struct {
	// JarDir holds DynamoDBLocal.jar and DynamoDBLocal_lib (see EnsureJar).
	JarDir string
	// Port to listen on; 0 picks a free loopback port.
	Port int
	// InMemory keeps all data in RAM; exactly one of InMemory and DBPath
	// must be set so that persistence is always a deliberate choice.
	InMemory bool
	// DBPath persists data in a single shared database file in this
	// directory (-sharedDb), so every region/credential sees the same tables.
	DBPath string
	// Stdout and Stderr receive the JVM's output if set.
	Stdout, Stderr io.Writer
}

// Process is a running DynamoDB Local.
type Process struct {
	cmd      *exec.Cmd
	endpoint string
	tail     *tailBuffer
	exited   chan struct{} // closed once cmd.Wait returns
	waitErr  error         // valid after exited is closed
	stopOnce sync.Once
	stopErr  error
}

// Endpoint is the base URL to point an SDK client at.
func (p *Process) Endpoint() string { return p.endpoint }

// StartCached starts DynamoDB Local from the user cache (DefaultCacheDir),
// fetching it there first if needed (EnsureJar); opts.JarDir is ignored.
func StartCached(ctx context.Context, opts Options) (*Process, error) {
	cache, err := DefaultCacheDir()
	if err != nil {
		return nil, err
	}
	if opts.JarDir, err = EnsureJar(ctx, cache); err != nil {
		return nil, err
	}
	return Start(ctx, opts)
}

// Start launches DynamoDB Local and returns once it answers ListTables.
func Start(ctx context.Context, opts Options) (*Process, error) {
	if opts.InMemory == (opts.DBPath != "") {
		return nil, errors.New("ddblocal: set exactly one of Options.InMemory and Options.DBPath")
	}
	if !jarPresent(opts.JarDir) {
		return nil, fmt.Errorf("ddblocal: %q does not contain %s and %s (use EnsureJar)", opts.JarDir, jarName, libDirName)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("ddblocal: java (17 or newer) is needed to run DynamoDB Local but is not on PATH: %w", err)
	}
	port := opts.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, fmt.Errorf("ddblocal: pick a port: %w", err)
		}
	}

	args := []string{
		"-Djava.library.path=" + filepath.Join(opts.JarDir, libDirName),
		"-jar", filepath.Join(opts.JarDir, jarName),
		"-port", strconv.Itoa(port),
		"-disableTelemetry",
	}
	if opts.InMemory {
		args = append(args, "-inMemory")
	} else {
		args = append(args, "-dbPath", opts.DBPath, "-sharedDb")
	}

	tail := newTailBuffer(8 << 10)
	// Not CommandContext: ctx bounds startup only, the process must outlive
	// it until Stop.
	cmd := exec.Command(java, args...)
	cmd.Stdout = teeTo(tail, opts.Stdout)
	cmd.Stderr = teeTo(tail, opts.Stderr)
	// DynamoDB Local writes a metadata file into its working directory even
	// in memory; keep it out of the caller's (often the source tree).
	cmd.Dir = os.TempDir()
	if opts.DBPath != "" {
		cmd.Dir = opts.DBPath
	}
	setProcAttrs(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ddblocal: start java: %w", err)
	}
	p := &Process{
		cmd:      cmd,
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		tail:     tail,
		exited:   make(chan struct{}),
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()

	if err := p.waitReady(ctx); err != nil {
		_ = p.Stop()
		return nil, fmt.Errorf("ddblocal: %w\n--- java output (tail) ---\n%s", err, p.tail.String())
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	client, err := NewClient(ctx, p.endpoint)
	if err != nil {
		return err
	}
	// The client's retryer would back off for seconds on "connection
	// refused"; polling here is cheaper and lets us notice a dead JVM.
	noRetry := func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} }
	var lastErr error
	for {
		attemptCtx, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListTables(attemptCtx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}, noRetry)
		cancelAttempt()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-p.exited:
			return fmt.Errorf("java exited before DynamoDB Local became ready on %s: %v", p.endpoint, p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("DynamoDB Local did not answer on %s within %s: %w (last error: %v)", p.endpoint, readyTimeout, ctx.Err(), lastErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop terminates the JVM and its process group and waits for it to exit.
// It is safe to call more than once.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
			return // already gone; nothing we caused, nothing to report
		default:
		}
		// SIGTERM first so a -dbPath database is closed cleanly; in-memory
		// instances die just as fast either way.
		_ = signalGroup(p.cmd, false)
		select {
		case <-p.exited:
			return
		case <-time.After(5 * time.Second):
		}
		if err := signalGroup(p.cmd, true); err != nil {
			p.stopErr = fmt.Errorf("ddblocal: kill java (pid %d): %w", p.cmd.Process.Pid, err)
			return
		}
		<-p.exited
	})
	return p.stopErr
}

// freePort asks the kernel for an unused loopback port. Another process could
// grab it before java binds; Start would then report the bind failure.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func teeTo(tail *tailBuffer, w io.Writer) io.Writer {
	if w == nil {
		return tail
	}
	return io.MultiWriter(tail, w)
}

// tailBuffer keeps the last max bytes written, so a startup failure can show
// why java died without holding its whole log in memory. Both stdout and
// stderr write to it concurrently, hence the mutex.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return "(no output)"
	}
	return strings.TrimSpace(string(t.buf))
}
