// Command devtoken prints a bearer token from the local development issuer,
// for calling a locally running Rapport API:
//
//	TOKEN=$(go run ./cmd/devtoken -role SALES)
//	curl -H "Authorization: Bearer $TOKEN" ...
//
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
	"strings"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/oidc/devissuer"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devtoken:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("devtoken", flag.ContinueOnError)
	role := fs.String("role", "ADMIN", "role(s), comma-separated: "+joinRoles(crm.Roles, ","))
	user := fs.String("user", "", `subject (user ID); default derived from the roles, e.g. "dev-sales"`)
	name := fs.String("name", "", `display name; default derived from the roles, e.g. "Dev Sales"`)
	teams := fs.String("teams", "north", "team(s), comma-separated")
	ttl := fs.Duration("ttl", 12*time.Hour, "token lifetime")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	var roles []crm.Role
	for _, s := range splitList(*role) {
		r, ok := crm.ParseRole(strings.ToUpper(s))
		if !ok {
			return fmt.Errorf("unknown role %q (want one of %s)", s, joinRoles(crm.Roles, ","))
		}
		roles = append(roles, r)
	}
	if len(roles) == 0 {
		return errors.New("-role is required")
	}
	u := crm.User{ID: *user, Name: *name, Roles: roles, Teams: splitList(*teams)}
	if u.ID == "" {
		u.ID = "dev-" + strings.ToLower(joinRoles(roles, "-"))
	}
	if u.Name == "" {
		words := []string{"Dev"}
		for _, r := range roles {
			words = append(words, string(r[0])+strings.ToLower(string(r[1:])))
		}
		u.Name = strings.Join(words, " ")
	}
	u.Email = u.ID + "@example.test"

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
		u.ID, u.Name, joinRoles(roles, ","), strings.Join(u.Teams, ","), *ttl, issuerURL, audience)
	fmt.Fprintln(os.Stderr, `# use as: -H "Authorization: Bearer $TOKEN"`)
	_, err = fmt.Println(tok)
	return err
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
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
