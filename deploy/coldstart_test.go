package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// coldStarts is how many times each bootstrap is started.
const coldStarts = 30

// BenchmarkColdStart prints every function bootstrap's size and init time
// next to an empty aws-lambda-go handler built with the same flags, and
// one that only builds a DynamoDB client (the floor of any function that
// uses DynamoDB), all measured in the same run: each is started coldStarts times, round-robin
// so that they share the machine's noise, against the Runtime API double,
// and its init is process start to its first poll for an event (what
// Lambda reports as Init Duration, less the sandbox's own start). Built
// for this machine's architecture. RAPPORT_COLDSTART_ALSO, name=path pairs
// separated by spaces, adds bootstraps built elsewhere to the round-robin
// (another branch's api, to compare under the same noise). make
// bench-coldstart runs it; it asserts nothing.
func BenchmarkColdStart(b *testing.B) {
	names := append([]string{"EmptyHandler", "DynamoHandler"}, functions...)
	paths, sizes := map[string]string{}, map[string]int64{}
	for _, name := range names {
		paths[name] = MustMakeBootstrap(b, name, hostArch)
	}
	for _, pair := range strings.Fields(os.Getenv("RAPPORT_COLDSTART_ALSO")) {
		name, path, ok := strings.Cut(pair, "=")
		if !ok || paths[name] != "" {
			b.Fatalf("RAPPORT_COLDSTART_ALSO: %q is not name=path with a new name", pair)
		}
		names, paths[name] = append(names, name), path
	}
	for _, name := range names {
		st, err := os.Stat(paths[name])
		if err != nil {
			b.Fatal(err)
		}
		sizes[name] = st.Size()
	}
	// What the functions read at init; nothing is called before the
	// first event.
	env := map[string]string{
		"TABLE_NAME":            "rapport-coldstart",
		"CURSOR_SECRET":         CursorSecret(b),
		"WEBHOOK_KEY":           CursorSecret(b), // the webhooks function's sealing key
		"OIDC_ISSUER":           "https://issuer.invalid/rapport-test",
		"OIDC_AUDIENCE":         "rapport-test",
		"AWS_ACCESS_KEY_ID":     "local",
		"AWS_SECRET_ACCESS_KEY": "local",
	}
	inits, cpus := map[string][]time.Duration{}, map[string][]time.Duration{}
	for b.Loop() {
		for range coldStarts {
			for _, name := range names {
				api := NewRuntimeAPI(b)
				boot := MustStartBootstrap(b, paths[name], api, env)
				inits[name] = append(inits[name], waitInit(b, name, boot, api))
				if cpu, err := cpuTime(boot.cmd.Process.Pid); err == nil {
					cpus[name] = append(cpus[name], cpu)
				}
				boot.Stop()
			}
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "bootstrap\tsize\tinit p50\tp90\t× empty (p50)\tCPU p50\t× empty (CPU)\t")
	empty := medianOf(inits["EmptyHandler"])
	for _, name := range names {
		d := slices.Clone(inits[name])
		slices.Sort(d)
		fmt.Fprintf(w, "%s\t%.1f MB\t%.1f ms\t%.1f ms\t%.2f\t", name, float64(sizes[name])/(1<<20),
			millis(medianOf(d)), millis(d[len(d)*9/10]), float64(medianOf(d))/float64(empty))
		if len(cpus[name]) == len(d) && len(cpus["EmptyHandler"]) > 0 {
			fmt.Fprintf(w, "%.1f ms\t%.2f\t\n", millis(medianOf(cpus[name])), float64(medianOf(cpus[name]))/float64(medianOf(cpus["EmptyHandler"])))
		} else {
			fmt.Fprintf(w, "-\t-\t\n")
		}
	}
	_ = w.Flush()
	fmt.Printf("%d starts of each, round-robin, built for %s with infra/lambda.mk's flags.\n", coldStarts, hostArch)
	fmt.Println("CPU: the time the process's threads ran until its first poll (Linux schedstat), which other work on the machine stretches less than the wall-clock init.")
}

// cpuTime is the time the threads of the process pid have run on a CPU
// (the first field of each thread's /proc schedstat, in nanoseconds): on a
// shared machine, waiting for a CPU stretches the wall-clock init of every
// bootstrap, while this stays close to what the bootstrap itself did.
func cpuTime(pid int) (time.Duration, error) {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(stats) == 0 {
		return 0, fmt.Errorf("no schedstat for %d: %v", pid, err)
	}
	var sum time.Duration
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		ns, err := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		if err != nil {
			return 0, err
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}

// waitInit waits for the bootstrap's first poll for an event.
func waitInit(tb testing.TB, name string, boot *Bootstrap, api *RuntimeAPI) time.Duration {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for api.FirstNext().IsZero() {
		select {
		case <-boot.Exited:
			tb.Fatalf("%s exited before polling for an event:\n%s", name, boot.Output())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s never polled for an event:\n%s", name, boot.Output())
		}
		time.Sleep(100 * time.Microsecond)
	}
	return InitTime(tb, boot, api)
}

func medianOf(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
