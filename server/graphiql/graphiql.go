// Package graphiql serves GraphiQL, the in-browser GraphQL IDE, from files
// fetched once from the npm registry into the user cache (npmcache), as
// DynamoDB Local is: the page loads nothing from a CDN, so it works offline
// and behind a proxy, and no third-party bundle is committed to the
// repository. Only the local server (cmd/local) serves it; the Lambda API
// does not link this package.
package graphiql

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path/filepath"

	"github.com/rapportcrm/rapport/infra/npmcache"
)

// Versions served. GraphiQL 4 is the last major version with a browser
// bundle (graphiql.min.js, graphql-js included) that needs no build step;
// it runs on React 18's browser bundles (React 19 ships none).
const (
	Version      = "4.1.2"
	ReactVersion = "18.3.1"
)

// asset is one file the page loads: its npm package and path in it.
type asset struct {
	pkg  npmcache.Package
	file string
}

func pkg(name, version string, files ...string) npmcache.Package {
	return npmcache.Package{Name: name, Version: version, Dir: name, Keep: append(files, "LICENSE"),
		Complete: func(dir string) bool {
			for _, f := range files {
				if st, err := os.Stat(filepath.Join(dir, f)); err != nil || !st.Mode().IsRegular() {
					return false
				}
			}
			return true
		}}
}

var (
	graphiqlPkg = pkg("graphiql", Version, "graphiql.min.js", "graphiql.min.css")
	reactPkg    = pkg("react", ReactVersion, "umd/react.production.min.js")
	reactDOMPkg = pkg("react-dom", ReactVersion, "umd/react-dom.production.min.js")
)

// assets by the name the page asks for them under /graphiql/<version>/.
var assets = map[string]asset{
	"graphiql.min.js":             {graphiqlPkg, "graphiql.min.js"},
	"graphiql.min.css":            {graphiqlPkg, "graphiql.min.css"},
	"react.production.min.js":     {reactPkg, "umd/react.production.min.js"},
	"react-dom.production.min.js": {reactDOMPkg, "umd/react-dom.production.min.js"},
}

// Assets are GraphiQL's files on disk.
type Assets struct {
	files map[string]string // asset name → path
}

// Fetch returns GraphiQL's files, downloading them with npm into cacheDir
// (npmcache.DefaultDir) on first use: 1.6 MB kept.
func Fetch(ctx context.Context, cacheDir string) (*Assets, error) {
	dirs := map[string]string{}
	for _, p := range []npmcache.Package{graphiqlPkg, reactPkg, reactDOMPkg} {
		dir, err := npmcache.Ensure(ctx, cacheDir, p)
		if err != nil {
			return nil, fmt.Errorf("graphiql: %w", err)
		}
		dirs[p.Name] = dir
	}
	a := &Assets{files: map[string]string{}}
	for name, as := range assets {
		a.files[name] = filepath.Join(dirs[as.pkg.Name], filepath.FromSlash(as.file))
	}
	return a, nil
}

// Options say what the page talks to.
type Options struct {
	// Title of the page.
	Title string
	// Endpoint is the GraphQL endpoint's path on this server.
	Endpoint string
	// Token, if set, is put in the headers editor as the Authorization
	// bearer token, so the page opens signed in.
	Token string
}

// prefix is where the assets are served; the version in the path lets
// browsers keep them for good.
const prefix = "/graphiql/" + Version + "/"

// Handler serves the page at / and its assets under /graphiql/.
func Handler(a *Assets, o Options) (http.Handler, error) {
	headers := map[string]string{}
	if o.Token != "" {
		headers["Authorization"] = "Bearer " + o.Token
	}
	editor, err := json.MarshalIndent(headers, "", "  ")
	if err != nil {
		return nil, err
	}
	page := pageData{Title: o.Title, Endpoint: o.Endpoint, Headers: headers, EditorHeaders: string(editor), Prefix: prefix, DefaultQuery: defaultQuery}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The page may run only the scripts it was served with, and
		// talk only to this server.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'")
		w.Header().Set("Cache-Control", "no-store")
		if err := pageTemplate.Execute(w, page); err != nil {
			http.Error(w, "GraphiQL page failed", http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET "+prefix+"{name}", func(w http.ResponseWriter, r *http.Request) {
		path, ok := a.files[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeFile(w, r, path)
	})
	return mux, nil
}

const defaultQuery = `# Rapport's GraphiQL: you are signed in as the demo admin (the
# Authorization header below). To be someone else, run
#   make token USER_ID=sales-li
# and paste the token into that header. Docs (the book icon) lists the schema.
{
  me {
    id
    name
    roles
    teams
  }
}
`

type pageData struct {
	Title, Endpoint, Prefix, DefaultQuery string
	// Headers go with every request; EditorHeaders show them, as JSON,
	// in the headers editor.
	Headers       map[string]string
	EditorHeaders string
}

var pageTemplate = template.Must(template.New("graphiql").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.Prefix}}graphiql.min.css">
<style>body { margin: 0; } #graphiql { height: 100vh; }</style>
<script src="{{.Prefix}}react.production.min.js"></script>
<script src="{{.Prefix}}react-dom.production.min.js"></script>
<script src="{{.Prefix}}graphiql.min.js"></script>
</head>
<body>
<div id="graphiql">Loading…</div>
<script>
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    // The fetcher sends the token too: GraphiQL reads the schema before
    // its headers editor is up. A header typed in the editor wins.
    fetcher: GraphiQL.createFetcher({ url: location.origin + {{.Endpoint}}, headers: {{.Headers}} }),
    defaultQuery: {{.DefaultQuery}},
    headers: {{.EditorHeaders}},
    defaultHeaders: {{.EditorHeaders}},
    shouldPersistHeaders: false,
    isHeadersEditorEnabled: true,
    defaultEditorToolsVisibility: 'headers',
    inputValueDeprecation: true,
  }),
);
</script>
</body>
</html>
`))
