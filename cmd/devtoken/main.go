// Command devtoken prints a bearer token from the local development issuer,
// for calling a locally running Rapport API as one of the demo users:
//
//	TOKEN=$(go run ./cmd/devtoken -user sales-li)   # Li Wei, SALES, team north
//	TOKEN=$(go run ./cmd/devtoken -role AUDITOR)    # the demo auditor
//	curl -H "Authorization: Bearer $TOKEN" ...
//
// A demo user's token carries their roles, teams and name. A user who is
// not a demo user needs -role (and -teams for MANAGER, SALES and SERVICE).
// The token is the last line of stdout; hints go to stderr. It shares the
// key at $RAPPORT_LOCAL_DIR/dev-issuer/key.pem with the local server (and
// creates it if the server has not yet), so the server accepts the token.
package main

import (
	"errors"
	"flag"
	"fmt"
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
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devtoken:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("devtoken", flag.ContinueOnError)
	role := fs.String("role", "", "role(s), comma-separated ("+joinRoles(crm.Roles, ",")+"); alone, picks the demo user with that role; default ADMIN")
	user := fs.String("user", "", "user ID: a demo user ("+demoIDs()+") or, with -role, anyone")
	name := fs.String("name", "", "display name of a user who is not a demo user")
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
	u, err := findUser(req, demo.Users)
	if err != nil {
		return err
	}

	localDir := envOr("RAPPORT_LOCAL_DIR", ".local")
	issuerURL := envOr("OIDC_ISSUER", "http://localhost:"+envOr("PORT", "8080")+"/dev-issuer")
	audience := envOr("OIDC_AUDIENCE", "rapport-local")

	iss, err := devissuer.LoadOrCreate(filepath.Join(localDir, "dev-issuer"), issuerURL)
	if err != nil {
		return err
	}
	tok, err := iss.Mint(u, audience, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "# %s (%s) roles=%s teams=%s, valid %s, iss=%s aud=%s\n",
		u.ID, u.Name, joinRoles(u.Roles, ","), strings.Join(u.Teams, ","), *ttl, issuerURL, audience)
	fmt.Fprintln(os.Stderr, `# use as: -H "Authorization: Bearer $TOKEN"`)
	_, err = fmt.Println(tok)
	return err
}

// request is who the command line asks for: a user ID, roles, teams, a
// name, each possibly empty.
type request struct {
	id, name string
	roles    []crm.Role
	teams    []string
}

// findUser is where a token's user comes from, and the one place that
// reads the directory of users: today the demo staff (demo.Users); a real
// user directory takes their place here.
//
// A known user ID gives that user as they are (roles, teams, name), and
// any other role or team asked for is an error rather than a quietly
// different token. Roles alone (with teams, optionally) give the first
// user holding exactly those roles (in those teams); nothing at all gives
// the demo admin. Anyone else is made up from what was asked, which must
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
			return crm.User{}, fmt.Errorf("%s is a demo user (%s, roles %s, teams %s): leave ROLE, TEAMS and the name out, or give another USER_ID",
				u.ID, u.Name, joinRoles(u.Roles, ","), or(strings.Join(u.Teams, ","), "none"))
		}
	case found:
	case len(req.roles) == 0:
		return crm.User{}, fmt.Errorf("%s is not a demo user (%s): give its ROLE too, and TEAMS for MANAGER, SALES and SERVICE", req.id, demoIDs())
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

func demoIDs() string {
	ids := make([]string, len(demo.Users))
	for i, u := range demo.Users {
		ids[i] = u.ID
	}
	return strings.Join(ids, ", ")
}

func envOr(key, def string) string { return or(os.Getenv(key), def) }

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
