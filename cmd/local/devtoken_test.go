package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// checkMakeToken runs `make token` (cmd/devtoken) against the running
// server: the demo users, a user an admin added and one they deactivated
// come from the directory, with the roles, teams and name it holds.
func checkMakeToken(t *testing.T, base, port, localDir, adminToken string) {
	bin := filepath.Join(t.TempDir(), "devtoken")
	if out, err := exec.Command("go", "build", "-o", bin, "../devtoken").CombinedOutput(); err != nil {
		t.Fatalf("build devtoken: %v\n%s", err, out)
	}
	var out struct{ Errors []any }
	query(t, base, adminToken, `mutation { createUser(input: {id: "sales-wu", name: "Wu Lin", roles: [SALES], teams: ["east"]}) { id } }`, &out)
	query(t, base, adminToken, `mutation { deactivateUser(id: "sales-zhao", expectedVersion: 2) { id } }`, &out)
	if len(out.Errors) > 0 {
		t.Fatalf("directory setup: %v", out.Errors)
	}
	token := func(args ...string) (map[string]any, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "PORT="+port, "RAPPORT_LOCAL_DIR="+localDir)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		if err != nil {
			return nil, stderr.String(), err
		}
		lines := strings.Split(strings.TrimSpace(string(stdout)), "\n")
		parts := strings.Split(lines[len(lines)-1], ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		return claims, stderr.String(), nil
	}
	for _, tc := range []struct {
		name               string
		args               []string
		sub, uname, groups string
		teams              string
	}{
		{"DemoUser", []string{"-user", "manager-south"}, "manager-south", "Chen Jie", "MANAGER", "south"},
		{"RoleAndTeam", []string{"-role", "MANAGER", "-teams", "south"}, "manager-south", "Chen Jie", "MANAGER", "south"},
		{"AddedByAnAdmin", []string{"-user", "sales-wu"}, "sales-wu", "Wu Lin", "SALES", "east"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims, stderr, err := token(tc.args...)
			if err != nil {
				t.Fatalf("%v: %s", err, stderr)
			}
			groups, _ := claims["cognito:groups"].([]any)
			if claims["sub"] != tc.sub || claims["name"] != tc.uname || !slices.Equal(groups, []any{tc.groups}) ||
				claims["custom:teams"] != tc.teams || strings.Contains(stderr, "could not be read") {
				t.Fatalf("claims %v\n%s", claims, stderr)
			}
		})
	}
	if _, stderr, err := token("-user", "sales-zhao"); err == nil || !strings.Contains(stderr, "deactivated") {
		t.Fatalf("a deactivated user got a token: %v %s", err, stderr)
	}
}
