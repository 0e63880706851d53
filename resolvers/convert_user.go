package resolvers

import (
	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/graph/model"
)

// Converters of the user directory.

func toUser(u *crm.DirectoryUser) *model.User {
	return &model.User{ID: u.ID, Name: u.Name, Email: opt(u.Email), Roles: toRoles(u.Roles), Teams: nonNil(u.Teams),
		DepartmentID: opt(u.DepartmentID), Active: u.Active, DeactivatedAt: u.DeactivatedAt, DeactivatedBy: opt(u.DeactivatedBy),
		FirstSignInAt: u.FirstSignInAt, Version: u.Version,
		CreatedAt: u.CreatedAt, CreatedBy: u.CreatedBy, UpdatedAt: u.UpdatedAt, UpdatedBy: u.UpdatedBy}
}

func toRoles(rs []crm.Role) []model.Role {
	return nonNil(mapAll(rs, func(r crm.Role) model.Role { return model.Role(r) }))
}

// fromRoles keeps nil (not given) apart from an empty list.
func fromRoles(rs []model.Role) []crm.Role {
	if rs == nil {
		return nil
	}
	return nonNil(mapAll(rs, func(r model.Role) crm.Role { return crm.Role(r) }))
}

func toDepartment(d *crm.Department) *model.Department {
	return &model.Department{ID: d.ID, Name: d.Name, Team: opt(d.Team), ManagerID: opt(d.ManagerID), Version: d.Version,
		CreatedAt: d.CreatedAt, CreatedBy: d.CreatedBy, UpdatedAt: d.UpdatedAt, UpdatedBy: d.UpdatedBy}
}

func toWorkload(w *crm.Workload) *model.Workload {
	return &model.Workload{Customers: w.Customers, OpenCases: w.OpenCases}
}

// fromUserFilter reads a filter; without one, the default lists active
// users, as the input's default does.
func fromUserFilter(f *model.UserFilter) crm.UserFilter {
	if f == nil {
		active := true
		return crm.UserFilter{Active: &active}
	}
	return crm.UserFilter{Team: val(f.Team), DepartmentID: val(f.DepartmentID), Role: val(cast[crm.Role](f.Role)),
		Active: f.Active, NamePrefix: val(f.Name)}
}

func fromCreateUser(in model.CreateUserInput) crm.UserInput {
	return crm.UserInput{ID: in.ID, Name: in.Name, Email: val(in.Email), Roles: fromRoles(in.Roles), Teams: in.Teams,
		DepartmentID: val(in.DepartmentID), IdempotencyKey: val(in.IdempotencyKey)}
}

func fromUpdateUser(in model.UpdateUserInput) crm.UserUpdate {
	return crm.UserUpdate{Name: in.Name, Email: in.Email, Roles: fromRoles(in.Roles), Teams: in.Teams, DepartmentID: in.DepartmentID}
}

func fromCreateDepartment(in model.CreateDepartmentInput) crm.DepartmentInput {
	return crm.DepartmentInput{Name: in.Name, Team: val(in.Team), ManagerID: val(in.ManagerID), IdempotencyKey: val(in.IdempotencyKey)}
}

func userConnection(p *crm.Page[*crm.DirectoryUser]) *model.UserConnection {
	return &model.UserConnection{PageInfo: pageInfo(p), Counted: model.Counted{Total: p.Total},
		Edges: edges(p, func(cursor string, it *crm.DirectoryUser) *model.UserEdge {
			return &model.UserEdge{Cursor: cursor, Node: toUser(it)}
		})}
}
