package ddblocal

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func jarDir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs DynamoDB Local")
	}
	cache, err := DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := EnsureJar(t.Context(), cache)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStartRejectsBadOptions(t *testing.T) {
	fakeJar := t.TempDir()
	if err := os.Mkdir(fakeJar+"/"+libDirName, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fakeJar+"/"+jarName, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    Options
		path    string // PATH override; empty keeps the real one
		wantErr string
	}{
		{name: "neither in-memory nor a db path", opts: Options{JarDir: fakeJar}, wantErr: "exactly one"},
		{name: "both in-memory and a db path", opts: Options{JarDir: fakeJar, InMemory: true, DBPath: t.TempDir()}, wantErr: "exactly one"},
		{name: "jar dir without the jar", opts: Options{JarDir: t.TempDir(), InMemory: true}, wantErr: "EnsureJar"},
		{name: "java not installed", opts: Options{JarDir: fakeJar, InMemory: true}, path: t.TempDir(), wantErr: "java"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path != "" {
				t.Setenv("PATH", tt.path)
			}
			p, err := Start(t.Context(), tt.opts)
			if err == nil {
				_ = p.Stop()
				t.Fatal("Start succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestStartFailureShowsJavaOutput(t *testing.T) {
	// A jar file that is not a jar makes java exit at once with a message
	// that Start must pass on.
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/"+libDirName, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/"+jarName, []byte("not a jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Start(t.Context(), Options{JarDir: dir, InMemory: true})
	if err == nil {
		t.Fatal("Start succeeded with a corrupt jar")
	}
	if !strings.Contains(err.Error(), "java exited") || !strings.Contains(err.Error(), "java output") {
		t.Errorf("err = %v, want the exit and java's output", err)
	}
}

func TestInMemoryInstanceServesRequestsUntilStopped(t *testing.T) {
	p, err := Start(t.Context(), Options{JarDir: jarDir(t), InMemory: true, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Endpoint(), "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q", p.Endpoint())
	}
	client, err := NewClient(t.Context(), p.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	createTable(t, client, "first")

	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(p.Endpoint(), "http://"), time.Second)
	if err == nil {
		conn.Close()
		t.Error("port still open after Stop")
	}
}

func TestDBPathInstanceKeepsTablesAcrossRestarts(t *testing.T) {
	dir, db := jarDir(t), t.TempDir()
	for i, wantExisting := range []bool{false, true} {
		p, err := Start(t.Context(), Options{JarDir: dir, DBPath: db})
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		client, err := NewClient(t.Context(), p.Endpoint())
		if err != nil {
			t.Fatal(err)
		}
		out, err := client.ListTables(t.Context(), &dynamodb.ListTablesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(out.TableNames) == 1; got != wantExisting {
			t.Errorf("start %d: tables = %v, want existing table: %v", i, out.TableNames, wantExisting)
		}
		if !wantExisting {
			createTable(t, client, "persisted")
		}
		if err := p.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// A developer's AWS environment must not leak into local clients.
func TestNewClientIgnoresAWSEnvironment(t *testing.T) {
	dir := jarDir(t)
	p, err := Start(t.Context(), Options{JarDir: dir, InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	t.Setenv("AWS_PROFILE", "does-not-exist")
	t.Setenv("AWS_ENDPOINT_URL", "http://192.0.2.1:1")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://192.0.2.1:1")
	t.Setenv("AWS_REGION", "eu-west-3")
	client, err := NewClient(t.Context(), p.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables with a hostile AWS environment: %v", err)
	}
}

func TestNewClientRejectsEmptyEndpoint(t *testing.T) {
	if _, err := NewClient(context.Background(), ""); err == nil {
		t.Fatal("NewClient(\"\") succeeded")
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	tb := newTailBuffer(5)
	for _, s := range []string{"abc", "defg", "hi"} {
		_, _ = tb.Write([]byte(s))
	}
	if got := tb.String(); got != "efghi" {
		t.Errorf("tail = %q, want %q", got, "efghi")
	}
	if got := newTailBuffer(5).String(); got != "(no output)" {
		t.Errorf("empty tail = %q", got)
	}
}

func createTable(t *testing.T, client *dynamodb.Client, name string) {
	t.Helper()
	_, err := client.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
}
