package graphiql

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The page and its files, without a browser (cmd/local's test runs the
// page in Chromium): the token reaches both the fetcher and the headers
// editor, the page names nothing off this server, and only the pinned
// files are served.
func TestHandler(t *testing.T) {
	dir := t.TempDir()
	a := &Assets{files: map[string]string{}}
	for name := range assets {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("/* "+name+" */"), 0o644); err != nil {
			t.Fatal(err)
		}
		a.files[name] = p
	}
	h, err := Handler(a, Options{Title: "Rapport", Endpoint: "/graphql", Token: "tok-123"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	res, page := get("/")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Security-Policy"), "connect-src 'self'") {
		t.Fatalf("page: %d, CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	for _, want := range []string{
		`headers: {"Authorization":"Bearer tok-123"}`,              // the fetcher's
		`headers: "{\n  \"Authorization\": \"Bearer tok-123\"\n}"`, // the editor's
		`src="/graphiql/` + Version + `/graphiql.min.js"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s:\n%s", want, page)
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("the page names another server:\n%s", page)
	}

	res, body := get("/graphiql/" + Version + "/graphiql.min.css")
	if res.StatusCode != http.StatusOK || body != "/* graphiql.min.css */" || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("asset: %d %q, Cache-Control %q", res.StatusCode, body, res.Header.Get("Cache-Control"))
	}
	for _, path := range []string{"/graphiql/" + Version + "/package.json", "/graphiql/0.0.1/graphiql.min.js", "/graphiql/" + Version + "/..%2f..%2fetc%2fpasswd"} {
		if res, _ := get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.StatusCode)
		}
	}
}
