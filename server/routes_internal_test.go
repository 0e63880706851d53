package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// routes answers every request as the ServeMux holding its patterns does:
// the same handler, status, Allow and Location.
func TestRoutesAnswerAsTheServeMuxOfTheSamePatterns(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Handler", "api")
		w.WriteHeader(http.StatusTeapot)
	})
	mux := http.NewServeMux()
	mux.Handle("/graphql", api)
	mux.Handle(PartnerPath, api)
	mux.HandleFunc("GET /healthz", healthz)
	h := routes(api)
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "OPTIONS", "CONNECT"} {
		for _, target := range []string{"/graphql", PartnerPath, "/healthz", "/", "/graphql/", "//graphql",
			"/a/../graphql", "/partner/./graphql", "/healthz/", "/GRAPHQL", "/graph%71l", "/nope"} {
			want, got := httptest.NewRecorder(), httptest.NewRecorder()
			mux.ServeHTTP(want, httptest.NewRequest(method, target, nil))
			h.ServeHTTP(got, httptest.NewRequest(method, target, nil))
			for _, k := range []string{"X-Handler", "Allow", "Location", "Content-Type"} {
				if got.Header().Get(k) != want.Header().Get(k) {
					t.Errorf("%s %s: %s %q, ServeMux %q", method, target, k, got.Header().Get(k), want.Header().Get(k))
				}
			}
			if got.Code != want.Code || got.Body.String() != want.Body.String() {
				t.Errorf("%s %s: %d %q, ServeMux %d %q", method, target, got.Code, got.Body, want.Code, want.Body)
			}
		}
	}
}
