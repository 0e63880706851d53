package crm

import "context"

// Authorization by role (docs/security.md). ADMIN does everything; AUDITOR reads
// everything and writes nothing; MANAGER reads and writes the customers of
// their teams; SALES reads and writes their own customers and reads the pool;
// SERVICE reads the customers of their team, logs interactions, works cases
// and submits evaluations on them.
// PARTNER reads only the customers shared with its organization, masked,
// and writes nothing; no other rule applies to a partner principal.

func currentUser(ctx context.Context) (*User, error) {
	u := UserFromContext(ctx)
	if u == nil || u.ID == "" {
		return nil, Errorf(EUNAUTHORIZED, "sign-in required")
	}
	return u, nil
}

func canRead(u *User, c *Customer) bool {
	if u.IsPartner() {
		return c.SharedWith(u.PartnerOrgID)
	}
	switch {
	case u.HasRole(RoleAdmin), u.HasRole(RoleAuditor):
		return true
	case u.HasRole(RoleSales) && (c.OwnerID == u.ID || c.InPool()):
		return true
	case (u.HasRole(RoleManager) || u.HasRole(RoleService)) && u.InTeam(c.Team):
		return true
	}
	return false
}

// canEdit: change the customer's profile and contacts.
func canEdit(u *User, c *Customer) bool {
	switch {
	case u.HasRole(RoleAdmin):
		return true
	case u.HasRole(RoleManager) && u.InTeam(c.Team):
		return true
	case u.HasRole(RoleSales) && c.OwnerID == u.ID:
		return true
	}
	return false
}

// canWork: log interactions and submit evaluations.
func canWork(u *User, c *Customer) bool {
	return canEdit(u, c) || (u.HasRole(RoleService) && u.InTeam(c.Team))
}

// canAssign: change owner, team or grade by hand.
func canAssign(u *User, c *Customer) bool {
	return u.HasRole(RoleAdmin) || (u.HasRole(RoleManager) && u.InTeam(c.Team))
}

func forbidden(action, id string) error {
	return Errorf(EFORBIDDEN, "not allowed to %s customer %s", action, id)
}

// notVisible hides a customer the caller may not read behind NOT_FOUND, so
// that ids cannot be probed.
func notVisible(id string) error { return Errorf(ENOTFOUND, "customer %s not found", id) }

// visibility narrows a customer filter to what the caller may read, or
// refuses a filter that asks for someone else's customers.
func visibility(u *User, f *CustomerFilter) error {
	switch {
	case u.IsPartner():
		if u.PartnerOrgID == "" {
			return Errorf(EFORBIDDEN, "no partner organization is assigned to you")
		}
		f.VisiblePartner = u.PartnerOrgID
		return nil
	case u.HasRole(RoleAdmin), u.HasRole(RoleAuditor):
		return nil
	case u.HasRole(RoleManager), u.HasRole(RoleService):
		if len(u.Teams) == 0 {
			return Errorf(EFORBIDDEN, "no team is assigned to you")
		}
		if f.Team != "" && !u.InTeam(f.Team) {
			return &Error{Code: EFORBIDDEN, Field: "filter.team", Message: "not one of your teams"}
		}
		f.VisibleTeams = u.Teams
		return nil
	case u.HasRole(RoleSales):
		if f.OwnerID != "" && f.OwnerID != u.ID {
			return &Error{Code: EFORBIDDEN, Field: "filter.ownerId", Message: "you may list only your own customers and the pool"}
		}
		if f.OwnerID == "" && !f.Pool {
			f.OwnerID = u.ID
		}
		f.VisibleOwner = u.ID
		return nil
	}
	return Errorf(EFORBIDDEN, "your role may not list customers")
}
