package crm

import (
	"context"
	"slices"
)

// Role is what a signed-in principal may do (SPEC §6).
type Role string

const (
	RoleAdmin   Role = "ADMIN"
	RoleManager Role = "MANAGER"
	RoleSales   Role = "SALES"
	RoleService Role = "SERVICE"
	RoleAuditor Role = "AUDITOR"
)

// Roles lists every staff role, most powerful first.
var Roles = []Role{RoleAdmin, RoleManager, RoleSales, RoleService, RoleAuditor}

// ParseRole returns the role named s (case-sensitive) and whether it exists.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	return r, slices.Contains(Roles, r)
}

// User is the authenticated principal of a request, built from verified
// token claims. ID is the token subject and is what Customer.OwnerID holds.
type User struct {
	ID    string
	Name  string
	Email string
	Roles []Role
	// Teams the user belongs to; a MANAGER manages these teams and SERVICE
	// reads their customers.
	Teams []string
}

// HasRole reports whether u holds r.
func (u *User) HasRole(r Role) bool { return u != nil && slices.Contains(u.Roles, r) }

// InTeam reports whether u belongs to team.
func (u *User) InTeam(team string) bool {
	return u != nil && team != "" && slices.Contains(u.Teams, team)
}

type userKey struct{}

// NewContextWithUser returns a copy of ctx that carries u.
func NewContextWithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFromContext returns the user ctx carries, or nil.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}
