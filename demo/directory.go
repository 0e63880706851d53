package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/rapportcrm/rapport/crm"
)

// Departments are the demo's departments, by name, with their team and
// manager; deptOf places the demo users in them.
var Departments = []crm.DepartmentInput{
	{Name: "Sales North", Team: "north", ManagerID: "manager-north"},
	{Name: "Sales South", Team: "south", ManagerID: "manager-south"},
	{Name: "Service Desk", Team: "north", ManagerID: "manager-north"},
}

var deptOf = map[string]string{
	"manager-north": "Sales North", "sales-li": "Sales North", "sales-zhao": "Sales North",
	"manager-south": "Sales South", "sales-liu": "Sales South",
	"service-sun": "Service Desk",
}

// SeedDirectory registers the demo users in the user directory as their
// first sign-in would (so that their dev tokens, made from the directory,
// sign in without a write), creates the demo departments and places the
// users in them. It is safe to run again: what exists is kept.
func SeedDirectory(ctx context.Context, svc *crm.Service) error {
	for i := range Users {
		u := Users[i]
		if _, err := svc.SignIn(crm.NewContextWithUser(ctx, &u), &u); err != nil {
			return fmt.Errorf("seed directory: sign %s in: %w", u.ID, err)
		}
	}
	admin := crm.NewContextWithUser(ctx, &Users[0])
	ids := map[string]string{}
	for _, in := range Departments {
		d, err := svc.CreateDepartment(operation(admin, "createDepartment"), in)
		var e *crm.Error
		switch {
		case errors.As(err, &e) && e.Code == crm.EDUPLICATE && e.ExistingID != "":
			ids[in.Name] = e.ExistingID // seeded before
		case err != nil:
			return fmt.Errorf("seed department %s: %w", in.Name, err)
		default:
			ids[in.Name] = d.ID
		}
	}
	for _, u := range Users {
		want := ids[deptOf[u.ID]]
		d, err := svc.User(admin, u.ID)
		if err != nil {
			return fmt.Errorf("seed directory: %w", err)
		}
		if want == "" || d.DepartmentID != "" {
			continue // an admin may have moved them since
		}
		if _, err := svc.UpdateUser(operation(admin, "updateUser"), u.ID, d.Version, crm.UserUpdate{DepartmentID: &want}); err != nil {
			return fmt.Errorf("seed directory: place %s: %w", u.ID, err)
		}
	}
	return nil
}
