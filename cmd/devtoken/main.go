// Command devtoken prints a bearer token from the local development issuer,
// for calling a locally running Rapport API as one of its users:
//
//	TOKEN=$(go run ./cmd/devtoken -user sales-li)   # Li Wei, SALES, team north
//	TOKEN=$(go run ./cmd/devtoken -role AUDITOR)    # the demo auditor
//	curl -H "Authorization: Bearer $TOKEN" ...
//
// A user of the directory gets a token with the roles, teams, name and
// email the directory holds for them. The directory is read from the
// running local server (`make run` on PORT) through its API, signed in as
// the demo admin; when no server answers, the built-in demo users stand in
// for it, and a note on stderr says so. A user who is not in the directory
// needs -role (and -teams for MANAGER, SALES and SERVICE); the server then
// registers them at their first request. The token is the last line of
// stdout; hints go to stderr. It shares the key at
// $RAPPORT_LOCAL_DIR/dev-issuer/key.pem with the local server (and creates
// it if the server has not yet), so the server accepts the token.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/demo"
	"github.com/rapportcrm/rapport/oidc/devissuer"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "devtoken:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("devtoken", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "role(s), comma-separated ("+joinRoles(crm.Roles, ",")+"); alone, picks the user of the directory holding exactly those roles; default ADMIN")
	user := fs.String("user", "", "user ID: a user of the directory (the demo users: "+idsOf(demo.Users)+") or, with -role, anyone")
	name := fs.String("name", "", "display name of a user who is not in the directory")
	teams := fs.String("teams", "", "team(s), comma-separated")
	ttl := fs.Duration("ttl", 12*time.Hour, "token lifetime")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	req := request{id: *user, name: *name, teams: splitList(*teams)}
	for _, s := range splitList(*role) {
		r, ok := crm.ParseRole(strings.ToUpper(s))
		if !ok {
			return fmt.Errorf("unknown role %q (want one of %s)", s, joinRoles(crm.Roles, ","))
		}
		req.roles = append(req.roles, r)
	}
	envOr := func(key, def string) string { return or(getenv(key), def) }
	localDir := envOr("RAPPORT_LOCAL_DIR", ".local")
	port := envOr("PORT", "8080")
	issuerURL := envOr("OIDC_ISSUER", "http://localhost:"+port+"/dev-issuer")
	audience := envOr("OIDC_AUDIENCE", "rapport-local")

	iss, err := devissuer.LoadOrCreate(filepath.Join(localDir, "dev-issuer"), issuerURL)
	if err != nil {
		return err
	}
	apiURL := "http://localhost:" + port + "/graphql"
	dir, err := readDirectory(context.Background(), apiURL, iss, audience)
	if err != nil {
		fmt.Fprintf(stderr, "# the directory could not be read from %s (%v): using the built-in demo users\n", apiURL, err)
		dir = make([]entry, len(demo.Users))
		for i, u := range demo.Users {
			dir[i] = entry{User: u, Active: true}
		}
	}
	// Demo users first, in their order, so that ROLE=AUDITOR is still the
	// demo auditor when others hold the role too.
	slices.SortStableFunc(dir, func(a, b entry) int { return demoRank(a.ID) - demoRank(b.ID) })
	if i := slices.IndexFunc(dir, func(e entry) bool { return e.ID == req.id && !e.Active }); req.id != "" && i >= 0 {
		return fmt.Errorf("%s (%s) is deactivated in the directory: the server refuses their requests until an admin reactivates them (reactivateUser)", req.id, dir[i].Name)
	}
	var active []crm.User
	for _, e := range dir {
		if e.Active {
			active = append(active, e.User)
		}
	}
	u, err := findUser(req, active)
	if err != nil {
		return err
	}
	tok, err := iss.Mint(u, audience, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "# %s (%s) roles=%s teams=%s, valid %s, iss=%s aud=%s\n",
		u.ID, u.Name, joinRoles(u.Roles, ","), strings.Join(u.Teams, ","), *ttl, issuerURL, audience)
	fmt.Fprintln(stderr, `# use as: -H "Authorization: Bearer $TOKEN"`)
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// demoRank orders the demo users before the others.
func demoRank(id string) int {
	if i := slices.IndexFunc(demo.Users, func(u crm.User) bool { return u.ID == id }); i >= 0 {
		return i
	}
	return len(demo.Users)
}

// entry is a user of the directory as the API lists it.
type entry struct {
	crm.User
	Active bool
}

// readDirectory reads every user of the directory from the local server
// at apiURL, signed in as the demo admin with a token of iss.
func readDirectory(ctx context.Context, apiURL string, iss *devissuer.Issuer, audience string) ([]entry, error) {
	tok, err := iss.Mint(demo.Users[0], audience, time.Minute)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	const query = `query($after: String) { users(filter: {active: null}, first: 100, after: $after) {
		edges { node { id name email roles teams active } } pageInfo { hasNextPage endCursor } } }`
	var out []entry
	vars := map[string]any{}
	for {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			Data *struct {
				Users struct {
					Edges []struct {
						Node struct {
							ID, Name string
							Email    *string
							Roles    []crm.Role
							Teams    []string
							Active   bool
						}
					}
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
			Errors []struct{ Message string }
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s: %w", res.Status, err)
		case len(page.Errors) > 0:
			return nil, errors.New(page.Errors[0].Message)
		case page.Data == nil:
			return nil, errors.New(res.Status)
		}
		for _, e := range page.Data.Users.Edges {
			n := e.Node
			u := crm.User{ID: n.ID, Name: n.Name, Roles: n.Roles, Teams: n.Teams}
			if n.Email != nil {
				u.Email = *n.Email
			}
			out = append(out, entry{User: u, Active: n.Active})
		}
		if !page.Data.Users.PageInfo.HasNextPage {
			return out, nil
		}
		vars["after"] = page.Data.Users.PageInfo.EndCursor
	}
}

// request is who the command line asks for: a user ID, roles, teams, a
// name, each possibly empty.
type request struct {
	id, name string
	roles    []crm.Role
	teams    []string
}

// findUser is where a token's user comes from: the active users of the
// directory (readDirectory, or the demo users when it cannot be read).
//
// A known user ID gives that user as they are (roles, teams, name), and
// any other role or team asked for is an error rather than a quietly
// different token. Roles alone (with teams, optionally) give the first
// user holding exactly those roles (in those teams); nothing at all gives
// the first admin (the demo admin). Anyone else is made up from what was asked, which must
// then include the roles.
func findUser(req request, directory []crm.User) (crm.User, error) {
	if req.id == "" && len(req.roles) == 0 {
		req.roles = []crm.Role{crm.RoleAdmin}
	}
	i := slices.IndexFunc(directory, func(d crm.User) bool {
		if req.id != "" {
			return d.ID == req.id
		}
		return slices.Equal(d.Roles, req.roles) && (len(req.teams) == 0 || sameSet(d.Teams, req.teams))
	})
	found := i >= 0
	var u crm.User
	if found {
		u = directory[i]
	}
	switch {
	case found && req.id != "":
		if len(req.roles) > 0 && !sameSet(roleNames(req.roles), roleNames(u.Roles)) ||
			len(req.teams) > 0 && !sameSet(req.teams, u.Teams) || req.name != "" && req.name != u.Name {
			return crm.User{}, fmt.Errorf("%s is in the directory (%s, roles %s, teams %s): leave ROLE, TEAMS and the name out, or give another USER_ID",
				u.ID, u.Name, joinRoles(u.Roles, ","), or(strings.Join(u.Teams, ","), "none"))
		}
	case found:
	case len(req.roles) == 0:
		return crm.User{}, fmt.Errorf("%s is not in the directory (%s): give its ROLE too, and TEAMS for MANAGER, SALES and SERVICE", req.id, idsOf(directory))
	default:
		u = crm.User{ID: req.id, Name: req.name, Roles: req.roles, Teams: req.teams}
		if u.ID == "" {
			u.ID = "dev-" + strings.ToLower(joinRoles(u.Roles, "-"))
		}
		if u.Name == "" {
			words := []string{"Dev"}
			for _, r := range u.Roles {
				words = append(words, string(r[0])+strings.ToLower(string(r[1:])))
			}
			u.Name = strings.Join(words, " ")
		}
	}
	if u.Email == "" {
		u.Email = u.ID + "@example.test"
	}
	return u, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func roleNames(rs []crm.Role) []string { return strings.Split(joinRoles(rs, ","), ",") }

func idsOf(users []crm.User) string {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return strings.Join(ids, ", ")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func joinRoles(rs []crm.Role, sep string) string {
	ss := make([]string, len(rs))
	for n, r := range rs {
		ss[n] = string(r)
	}
	return strings.Join(ss, sep)
}
