package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/server"
)

type anyone struct{}

func (anyone) Authenticate(*http.Request) (*crm.User, error) {
	return &crm.User{ID: "admin", Roles: []crm.Role{crm.RoleAdmin}}, nil
}

// A client that stalls, in its headers or inside its body, is dropped by
// the server's read deadlines rather than held open. The deadlines here
// are short; the test waits for the drop as long as it takes (up to a
// bound far beyond them, which only a server without deadlines reaches).
func TestStalledClientsAreDropped(t *testing.T) {
	h := server.New(&crm.Service{Now: time.Now}, anyone{}, slog.New(slog.DiscardHandler), server.Options{WithoutDirectory: true})
	srv := httpServer(h, 200*time.Millisecond, 500*time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	for _, tc := range []struct{ name, sent string }{
		{"InHeaders", "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl"},
		{"InBody", "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" +
			`{"query":"{ me { id } }", "variables": {"pad": "`},
		{"BetweenRequests", "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /heal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tc.sent); err != nil {
				t.Fatal(err)
			}
			// Then nothing more: the server must end the connection.
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
			r := bufio.NewReader(conn)
			for {
				res, err := http.ReadResponse(r, nil)
				if err != nil {
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						t.Fatal("the server held the stalled connection open")
					}
					return // dropped: EOF or reset
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if tc.name == "InBody" && res.StatusCode != http.StatusBadRequest {
					t.Errorf("a stalled body answered %s", res.Status)
				}
				if !strings.HasPrefix(tc.name, "Between") && res.StatusCode < 400 {
					t.Errorf("a stalled request answered %s", res.Status)
				}
			}
		})
	}
}
