package crm

import (
	"context"
	"slices"
)

// Role is what a signed-in principal may do.
type Role string

const (
	RoleAdmin   Role = "ADMIN"
	RoleManager Role = "MANAGER"
	RoleSales   Role = "SALES"
	RoleService Role = "SERVICE"
	RoleAuditor Role = "AUDITOR"
	// RolePartner is an external partner organization's principal, signed
	// in with an API key (partner.go), never with a staff token.
	RolePartner Role = "PARTNER"
)

// Roles lists every staff role, most powerful first. RolePartner is not
// among them: a token can never grant it.
var Roles = []Role{RoleAdmin, RoleManager, RoleSales, RoleService, RoleAuditor}

// ParseRole returns the staff role named s (case-sensitive) and whether it
// exists.
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
	// Department is the directory's department of a signed-in staff user
	// (SignIn), which tokens do not carry.
	Department string
	// PartnerOrgID is set for a PARTNER principal: the organization whose
	// API key signed the request. Masked is that organization's masking
	// policy, applied to everything the principal reads.
	PartnerOrgID string
	Masked       []MaskField
	// ShowAmounts is the organization's policy on amounts
	// (PartnerOrg.ShowAmounts).
	ShowAmounts bool
}

// IsPartner reports whether u is an external partner principal, who reads
// only the customers shared with its organization, masked.
func (u *User) IsPartner() bool {
	return u != nil && (u.PartnerOrgID != "" || slices.Contains(u.Roles, RolePartner))
}

// HasRole reports whether u holds r. A partner principal holds no staff
// role, whatever its Roles say.
func (u *User) HasRole(r Role) bool {
	return u != nil && slices.Contains(u.Roles, r) && (r == RolePartner || !u.IsPartner())
}

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
