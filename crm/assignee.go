package crm

import (
	"context"
	"slices"
	"strings"
)

// Who may be handed what. Work goes only to active users of the directory
// (directory.go): a mistyped id is refused before anything moves.
var (
	// OwnerRoles may own customers: those who work their own portfolio.
	OwnerRoles = []Role{RoleSales, RoleManager}
	// WorkerRoles may be assigned cases and credited with interactions:
	// every staff role but AUDITOR, who writes nothing.
	WorkerRoles = []Role{RoleAdmin, RoleManager, RoleSales, RoleService}
)

// CheckAssignee refuses to hand work to userID unless the directory knows
// them as an active user holding one of roles (any role when none are
// given). Unknown and deactivated users get the same answer, so that it
// tells nobody which ids were ever users. It reads the directory
// consistently: one GetItem. Callers authorize the caller first, so that
// it answers only those who may hand the work over.
// Errors: BAD_USER_INPUT naming field; UNAVAILABLE or INTERNAL from the store.
func (s *Service) CheckAssignee(ctx context.Context, field, userID string, roles ...Role) error {
	_, err := s.assignee(ctx, field, userID, roles...)
	return err
}

// assignee is CheckAssignee that also returns the directory's user, for
// a caller with more to check of them (their teams).
func (s *Service) assignee(ctx context.Context, field, userID string, roles ...Role) (*DirectoryUser, error) {
	if err := checkID(field, userID); err != nil {
		return nil, err
	}
	d, err := s.Store.User(ctx, userID)
	switch {
	case ErrorCode(err) == ENOTFOUND || err == nil && !d.Active:
		return nil, Invalid(field, "%q is not an active user of the directory (unknown or deactivated)", userID)
	case err != nil:
		return nil, err
	case len(roles) > 0 && !slices.ContainsFunc(roles, d.HasRole):
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = string(r)
		}
		return nil, Invalid(field, "user %s cannot be handed this: it needs the role %s", userID, strings.Join(names, " or "))
	}
	return d, nil
}
