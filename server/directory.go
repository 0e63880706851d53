package server

import (
	"log/slog"
	"net/http"

	"github.com/rapportcrm/rapport/crm"
)

// signIn admits an authenticated staff caller through the user directory
// (crm.Service.SignIn): registered from their claims on first use, refused
// when deactivated, and given the directory's department. It runs after
// the request's checks, so a malformed request costs the directory nothing;
// a warm instance answers from its cache without a DynamoDB call. Partner
// principals pass through.
func signIn(svc *crm.Service, log *slog.Logger, opts Options, next http.Handler) http.Handler {
	if opts.WithoutDirectory {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := crm.WithAuditScope(r.Context(), crm.AuditScope{Operation: "signIn", RequestID: RequestID(r.Context())})
		u, err := svc.SignIn(ctx, crm.UserFromContext(r.Context()))
		switch code := crm.ErrorCode(err); {
		case code == crm.EFORBIDDEN:
			writeError(w, r, log, http.StatusForbidden, err)
		case code == crm.EUNAVAILABLE:
			writeError(w, r, log, http.StatusServiceUnavailable, err)
		case err != nil:
			writeError(w, r, log, http.StatusInternalServerError, err)
		default:
			next.ServeHTTP(w, r.WithContext(crm.NewContextWithUser(r.Context(), u)))
		}
	})
}
