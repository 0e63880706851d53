package deploy_test

import (
	"debug/buildinfo"
	"debug/elf"
	"debug/gosym"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// functions are the template's functions and the command each one runs.
var functions = []string{"ApiFunction", "AuthorizerFunction", "JobFunction", "StreamFunction", "WebhookFunction"}

// MustMakeBootstrap runs `make build-<logicalID>` the way `sam build` does
// (in the repository root, ARTIFACTS_DIR set) and returns the bootstrap
// path. goarch overrides the Lambda architecture when not empty.
func MustMakeBootstrap(tb testing.TB, logicalID, goarch string) string {
	tb.Helper()
	mk := MustLookPath(tb, "make", "apt-get install make")
	dir := tb.TempDir()
	args := []string{"-C", root}
	if _, err := os.Stat(filepath.Join(root, "Makefile")); err != nil {
		// SAM always runs the root Makefile, which includes infra/*.mk;
		// until it exists, build from the fragment directly.
		tb.Logf("no root Makefile; using infra/lambda.mk directly")
		args = append(args, "-f", filepath.Join("infra", "lambda.mk"))
	}
	args = append(args, "build-"+logicalID, "ARTIFACTS_DIR="+dir)
	if goarch != "" {
		args = append(args, "LAMBDA_GOARCH="+goarch)
	}
	out, err := exec.Command(mk, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("make build-%s: %v\n%s", logicalID, err, out)
	}
	path := filepath.Join(dir, "bootstrap")
	if _, err := os.Stat(path); err != nil {
		tb.Fatalf("make build-%s produced no bootstrap: %v\n%s", logicalID, err, out)
	}
	return path
}

func TestMakeBuildTargets(t *testing.T) {
	for _, fn := range functions {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			path := MustMakeBootstrap(t, fn, "")
			f, err := elf.Open(path)
			if err != nil {
				t.Fatalf("bootstrap is not an ELF file: %v", err)
			}
			defer f.Close()
			if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
				t.Errorf("machine %v class %v, want arm64 (EM_AARCH64, 64-bit)", f.Machine, f.Class)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Error("bootstrap has a dynamic loader (PT_INTERP): not static")
				}
			}
			if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
				t.Errorf("bootstrap links %v: not static", libs)
			}
			if f.Section(".symtab") != nil {
				t.Error("bootstrap keeps its symbol table: not stripped (-ldflags -s)")
			}
			if st, err := os.Stat(path); err == nil && st.Mode()&0o111 == 0 {
				t.Errorf("bootstrap mode %v is not executable", st.Mode())
			}
			checkNoSlowInit(t, path)
		})
	}
}

// slowInit are modules no function may link, because their package init
// would lengthen every cold start (docs/access-patterns.md, "Cold start
// (built)"), and what stands in for them.
var slowInit = map[string]string{
	"github.com/mozillazg/go-pinyin": "compiles regular expressions at package init and, where a reading is reachable, " +
		"builds its dictionary, a map of 41,000 characters (2.7 ms); names reads the table generated from it (names/pinyin_table.go)",
	"go.opentelemetry.io/otel": "came with dataloadgen and was part of what the api initialised that an empty handler does not; " +
		"resolvers/batchloader.go batches without it",
	"github.com/aws/aws-sdk-go-v2/service/sts": "comes with config.LoadDefaultConfig's credential chain; " +
		"the functions build aws.Config from their environment (config.LambdaAWS)",
}

// slowInitPackages are packages no function may link although their
// module is needed, for the same reason as slowInit.
var slowInitPackages = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas": "came with service/dynamodb v1.69.0 (schema-based " +
		"(de)serialization) and builds about 3,150 objects (587 KB) at package init, about 3 ms and 14% of the api's " +
		"CPU to its first poll, in every function that imports service/dynamodb; go.mod keeps service/dynamodb at " +
		"v1.68.0, the last version without it, until an upgrade is measured with make bench-coldstart",
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/schemas": "came with service/eventbridge v1.49.0, the same " +
		"schema-based (de)serialization, and is built at package init in the stream and webhook functions, which " +
		"publish to EventBridge; go.mod keeps service/eventbridge at v1.48.7, the last version without it, until an " +
		"upgrade is measured with make bench-coldstart",
}

// checkNoSlowInit fails when the bootstrap at path links a module of
// slowInit, as its build information records, or a package of
// slowInitPackages, as its function table (.gopclntab, kept when the
// symbol table is stripped) records.
func checkNoSlowInit(t *testing.T, path string) {
	t.Helper()
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("bootstrap has no build information: %v", err)
	}
	for _, m := range info.Deps {
		// A module split off one of them (go.opentelemetry.io/otel/trace)
		// is linked for the same reason.
		for slow, why := range slowInit {
			if m.Path == slow || strings.HasPrefix(m.Path, slow+"/") {
				t.Errorf("bootstrap links %s, which %s", m.Path, why)
			}
		}
	}
	for _, pkg := range linkedPackages(t, path) {
		if why, ok := slowInitPackages[pkg]; ok {
			t.Errorf("bootstrap links package %s, which %s", pkg, why)
		}
	}
}

// linkedPackages lists the packages whose functions the Go binary at path
// holds, from its function table.
func linkedPackages(t *testing.T, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF file: %v", err)
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		t.Fatal("bootstrap has no .gopclntab or .text section")
	}
	data, err := pcln.Data()
	if err != nil {
		t.Fatalf("reading .gopclntab: %v", err)
	}
	table, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		t.Fatalf("parsing .gopclntab: %v", err)
	}
	seen := map[string]bool{}
	var pkgs []string
	for _, fn := range table.Funcs {
		if pkg := fn.PackageName(); !seen[pkg] {
			seen[pkg] = true
			pkgs = append(pkgs, pkg)
		}
	}
	if len(pkgs) == 0 {
		t.Fatal("bootstrap's function table lists no functions")
	}
	return pkgs
}

// hostArch is the GOARCH the API bootstrap is built for when the test runs it.
var hostArch = runtime.GOARCH
