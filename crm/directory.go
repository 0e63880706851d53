package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/names"
)

// The user directory: the people Rapport knows, and their departments.
// Work is handed only to active users of the directory (assignee.go).
// ADMIN manages it; staff sign-in registers a user from their token's
// claims on first use (signin.go). docs/security.md says who reads what.

// DirectoryUser is a person known to Rapport. Its ID is the token subject,
// what Customer.OwnerID and Case.AssignedTo hold.
type DirectoryUser struct {
	ID    string
	Name  string
	Email string
	// Roles and Teams mirror the user's token once they have signed in
	// (FirstSignInAt set): the token stays authoritative for authorization,
	// and these answer who may be handed what (CheckAssignee) and the
	// directory's lists. Before the first sign-in an admin sets them.
	Roles []Role
	Teams []string
	// DepartmentID is set by an admin; tokens carry no department.
	DepartmentID string
	// Active users may sign in and be handed work; a deactivated user's
	// requests are refused.
	Active        bool
	DeactivatedAt *time.Time
	DeactivatedBy string
	// FirstSignInAt is when the user first signed in with a token.
	FirstSignInAt *time.Time
	// ClaimsHash fingerprints the token claims last mirrored, so that a
	// sign-in writes only when they changed.
	ClaimsHash string
	Version    int
	CreatedAt  time.Time
	CreatedBy  string
	UpdatedAt  time.Time
	UpdatedBy  string
}

// Clone returns a deep copy.
func (d *DirectoryUser) Clone() *DirectoryUser {
	c := *d
	c.Roles, c.Teams = slices.Clone(d.Roles), slices.Clone(d.Teams)
	return &c
}

// HasRole reports whether the directory lists r among d's roles.
func (d *DirectoryUser) HasRole(r Role) bool { return slices.Contains(d.Roles, r) }

// NameKey is the form a user's name sorts and is searched by: folded
// (names.Fold), so "li" finds "Li Wei" and "ＬＩ ＷＥＩ".
func (d *DirectoryUser) NameKey() string { return FoldUserName(d.Name) }

// FoldUserName folds a name or a name prefix as user lists compare them.
func FoldUserName(s string) string { return names.Fold(s) }

// Department is a unit of the company that users belong to and cases are
// assigned to.
type Department struct {
	ID   string
	Name string
	// Team is the sales or service team the department works for, if any.
	Team string
	// ManagerID is the user who manages the department, if any.
	ManagerID string
	Version   int
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// Directory bounds: a user's entries in the directory's lists are written
// with the user, in one transaction.
const (
	MaxUserTeams   = 10
	MaxDepartments = 200
)

// UserFilter selects users. Only one of Team, DepartmentID and Role is
// answered by its own list; the others are checked on the users read
// (docs/access-patterns.md).
type UserFilter struct {
	Team         string
	DepartmentID string
	Role         Role
	// Active true lists active users, false deactivated ones, nil both.
	Active *bool
	// NamePrefix is a prefix of the folded name (FoldUserName).
	NamePrefix string
}

// Matches reports whether u passes every condition of f.
func (f UserFilter) Matches(u *DirectoryUser) bool {
	return (f.Team == "" || slices.Contains(u.Teams, f.Team)) &&
		(f.DepartmentID == "" || u.DepartmentID == f.DepartmentID) &&
		(f.Role == "" || u.HasRole(f.Role)) &&
		(f.Active == nil || u.Active == *f.Active) &&
		strings.HasPrefix(u.NameKey(), f.NamePrefix)
}

// UserInput is a user an admin adds before they sign in (or who never
// signs in with a token, such as a user of the local demo).
type UserInput struct {
	ID             string
	Name           string
	Email          string
	Roles          []Role
	Teams          []string
	DepartmentID   string
	IdempotencyKey string
}

// UserUpdate changes the non-nil fields; an empty DepartmentID clears it.
type UserUpdate struct {
	Name         *string
	Email        *string
	Roles        []Role
	Teams        []string
	DepartmentID *string
}

// DepartmentInput is a new department.
type DepartmentInput struct {
	Name           string
	Team           string
	ManagerID      string
	IdempotencyKey string
}

// DepartmentUpdate changes the non-nil fields; empty strings clear Team
// and ManagerID.
type DepartmentUpdate struct {
	Name      *string
	Team      *string
	ManagerID *string
}

// Workload is what a user has in hand, for a handover: the customers they
// own and the open cases assigned to them, from counters kept by every
// write (docs/access-patterns.md says how exact each is).
type Workload struct {
	// Customers counts the active customers they own (archived ones are
	// not counted, though a handover moves them too).
	Customers int
	// OpenCases counts the open cases assigned to them, on anyone's
	// customers.
	OpenCases int
}

// UserStore persists the directory; the Store embeds it. Errors as for
// Store.
type UserStore interface {
	// CreateUser stores a new user with its entries in the directory's
	// lists; EDUPLICATE (field input.id) when the id is taken; with a key,
	// EREPLAYED or ECONFLICT as for Change.Idempotency.
	CreateUser(ctx context.Context, u *DirectoryUser, idem *Idempotency) error
	// UpdateUser replaces prev by u, and their list entries, if prev is
	// still the stored version; ECONFLICT otherwise.
	UpdateUser(ctx context.Context, prev, u *DirectoryUser) error
	// User reads a user consistently; ENOTFOUND when missing.
	User(ctx context.Context, id string) (*DirectoryUser, error)
	// ListUsers lists the users f selects by name key, then id. Total
	// counts the list when a counter answers f alone.
	ListUsers(ctx context.Context, f UserFilter, p PageRequest) (*Page[*DirectoryUser], error)
	// Workloads reads the workload counters of users; a user without any
	// has a zero workload.
	Workloads(ctx context.Context, ids []string) (map[string]Workload, error)

	// CreateDepartment stores a new department; EDUPLICATE (field
	// input.name, ExistingID the holder) when another has the same folded
	// name; EINVALID when there are MaxDepartments already.
	CreateDepartment(ctx context.Context, d *Department, idem *Idempotency) error
	// UpdateDepartment replaces prev by d if prev is still the stored
	// version; ECONFLICT otherwise, EDUPLICATE as for CreateDepartment.
	UpdateDepartment(ctx context.Context, prev, d *Department) error
	// Department reads one; ENOTFOUND when missing.
	Department(ctx context.Context, id string) (*Department, error)
	// Departments reads many; missing ones are absent from the map.
	Departments(ctx context.Context, ids []string) (map[string]*Department, error)
	// ListDepartments returns every department (at most MaxDepartments),
	// by name.
	ListDepartments(ctx context.Context) ([]*Department, error)
}

// canManageDirectory: create, change, deactivate users; departments.
func canManageDirectory(u *User) bool { return u.HasRole(RoleAdmin) }

// canReadWholeDirectory: deactivated users too, and anyone's workload.
func canReadWholeDirectory(u *User) bool {
	return u.HasRole(RoleAdmin) || u.HasRole(RoleManager) || u.HasRole(RoleAuditor)
}

// canReadDirectory: staff look colleagues up to hand work over; partners
// and principals without a staff role read nothing.
func canReadDirectory(u *User) bool {
	return !u.IsPartner() && slices.ContainsFunc(Roles, u.HasRole)
}

func directoryReader(ctx context.Context) (*User, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !canReadDirectory(u) {
		return nil, Errorf(EFORBIDDEN, "your role may not read the user directory")
	}
	return u, nil
}

func directoryAdmin(ctx context.Context) (*User, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !canManageDirectory(u) {
		return nil, Errorf(EFORBIDDEN, "only an admin may manage the user directory")
	}
	return u, nil
}

// Users lists the users of the directory that f selects, by name. SALES
// and SERVICE list active users only.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) Users(ctx context.Context, f UserFilter, p PageRequest) (*Page[*DirectoryUser], error) {
	u, err := directoryReader(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	var c checker
	c.text("filter.team", f.Team, 0, MaxShortText)
	c.text("filter.name", f.NamePrefix, 0, MaxNameLen)
	if f.Role != "" {
		checkEnum(&c, "filter.role", f.Role, Roles)
	}
	if err := c.result(); err != nil {
		return nil, err
	}
	if f.DepartmentID != "" {
		if err := checkID("filter.departmentId", f.DepartmentID); err != nil {
			return nil, err
		}
	}
	if (f.Active == nil || !*f.Active) && !canReadWholeDirectory(u) {
		return nil, &Error{Code: EFORBIDDEN, Field: "filter.active", Message: "only admins, managers and auditors list deactivated users"}
	}
	f.NamePrefix = FoldUserName(f.NamePrefix)
	return s.Store.ListUsers(ctx, f, p)
}

// User returns a user of the directory. A deactivated user is NOT_FOUND
// to those who list active users only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
func (s *Service) User(ctx context.Context, id string) (*DirectoryUser, error) {
	u, err := directoryReader(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	d, err := s.Store.User(ctx, id)
	if err != nil {
		return nil, err
	}
	if !d.Active && !canReadWholeDirectory(u) {
		return nil, Errorf(ENOTFOUND, "user %s not found", id)
	}
	return d, nil
}

// Workloads answers the workload of many users at once, for a batch
// loader: ADMIN, AUDITOR and MANAGER read anyone's (a handover may cross
// teams); everyone else their own only.
func (s *Service) Workloads(ctx context.Context, ids []string) ([]*Workload, []error) {
	out, errs := make([]*Workload, len(ids)), make([]error, len(ids))
	u, err := directoryReader(ctx)
	var allowed []string
	for i, id := range ids {
		switch {
		case err != nil:
			errs[i] = err
		case id != u.ID && !canReadWholeDirectory(u):
			errs[i] = Errorf(EFORBIDDEN, "only admins, managers, auditors and the user themself read a user's workload")
		default:
			allowed = append(allowed, id)
		}
	}
	if len(allowed) == 0 {
		return out, errs
	}
	found, err := s.Store.Workloads(ctx, allowed)
	for i, id := range ids {
		switch {
		case errs[i] != nil:
		case err != nil:
			errs[i] = err
		default:
			w := found[id]
			out[i] = &w
		}
	}
	return out, errs
}

// checkUserID refuses ids no user can have: those of checkID, and the
// system's own.
func checkUserID(field, id string) error {
	if err := checkID(field, id); err != nil {
		return err
	}
	if id == SystemUserID {
		return Invalid(field, "%q is reserved for the scheduled jobs", SystemUserID)
	}
	return nil
}

// validateUser normalizes and checks a user about to be written.
func validateUser(d *DirectoryUser) error {
	var c checker
	d.Name = strings.TrimSpace(d.Name)
	c.text("input.name", d.Name, 1, MaxNameLen)
	if d.Email = strings.TrimSpace(d.Email); d.Email != "" {
		if e, ok := NormalizeEmail(d.Email); ok {
			d.Email = e
		} else {
			c.fail("input.email", "must be an email address like name@example.com")
		}
	}
	checkRoles(&c, "input.roles", d.Roles)
	checkTeams(&c, "input.teams", d.Teams)
	return c.result()
}

func checkRoles(c *checker, field string, roles []Role) {
	for i, r := range roles {
		f := fmt.Sprintf("%s[%d]", field, i)
		checkEnum(c, f, r, Roles)
		if slices.Contains(roles[:i], r) {
			c.fail(f, "repeats %s", r)
		}
	}
}

func checkTeams(c *checker, field string, teams []string) {
	c.count(field, len(teams), MaxUserTeams)
	for i, t := range teams {
		f := fmt.Sprintf("%s[%d]", field, i)
		c.text(f, t, 1, MaxShortText)
		if slices.Contains(teams[:i], t) {
			c.fail(f, "repeats %s", t)
		}
	}
}

// checkDepartment refuses a department id the directory does not know.
func (s *Service) checkDepartment(ctx context.Context, field, id string) error {
	if id == "" {
		return nil
	}
	if err := checkID(field, id); err != nil {
		return err
	}
	_, err := s.Store.Department(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return Invalid(field, "no department %q in the directory", id)
	}
	return err
}

// CreateUser adds a user to the directory, active. A user who then signs
// in with a token keeps their id; their token's name, email, roles and
// teams replace what was given here. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, DUPLICATE (the id is
// taken), CONFLICT (an idempotency key reused for another request).
func (s *Service) CreateUser(ctx context.Context, in UserInput) (*DirectoryUser, error) {
	u, err := directoryAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkUserID("input.id", in.ID); err != nil {
		return nil, err
	}
	now := s.now()
	d := &DirectoryUser{ID: in.ID, Name: in.Name, Email: in.Email, Roles: slices.Clone(in.Roles), Teams: slices.Clone(in.Teams),
		DepartmentID: in.DepartmentID, Active: true, Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID}
	if err := validateUser(d); err != nil {
		return nil, err
	}
	if len(d.Roles) == 0 {
		return nil, Invalid("input.roles", "is required: at least one of %v", Roles)
	}
	if err := s.checkDepartment(ctx, "input.departmentId", d.DepartmentID); err != nil {
		return nil, err
	}
	return createOnce(ctx, s, u, "createUser", in.IdempotencyKey, in, d, d.ID, s.Store.CreateUser, s.Store.User)
}

// UpdateUser changes a user's name, email or department, and, until they
// first sign in with a token, their roles and teams: from then on their
// token's are authoritative and are changed in the identity provider.
// expectedVersion is the version read. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT.
func (s *Service) UpdateUser(ctx context.Context, id string, expectedVersion int, upd UserUpdate) (*DirectoryUser, error) {
	u, err := directoryAdmin(ctx)
	if err != nil {
		return nil, err
	}
	return s.changeUser(ctx, u, id, expectedVersion, func(prev, next *DirectoryUser) error {
		if prev.FirstSignInAt != nil {
			for _, f := range []struct {
				name    string
				changed bool
			}{{"input.roles", upd.Roles != nil && !slices.Equal(upd.Roles, prev.Roles)},
				{"input.teams", upd.Teams != nil && !slices.Equal(upd.Teams, prev.Teams)}} {
				if f.changed {
					return Invalid(f.name, "come from the identity provider for a user who has signed in (change their groups or teams there); Rapport mirrors them at the next sign-in")
				}
			}
		}
		set(&next.Name, upd.Name)
		set(&next.Email, upd.Email)
		set(&next.DepartmentID, upd.DepartmentID)
		if upd.Roles != nil {
			next.Roles = slices.Clone(upd.Roles)
		}
		if upd.Teams != nil {
			next.Teams = slices.Clone(upd.Teams)
		}
		if err := validateUser(next); err != nil {
			return err
		}
		if len(next.Roles) == 0 && prev.FirstSignInAt == nil {
			return Invalid("input.roles", "is required: at least one of %v", Roles)
		}
		if next.DepartmentID != prev.DepartmentID {
			return s.checkDepartment(ctx, "input.departmentId", next.DepartmentID)
		}
		return nil
	})
}

// DeactivateUser refuses the user's requests from now on (in the AWS stack
// within DirectoryTTL on other instances) and any work handed to them; it
// keeps their history and what they own, which the user's workload shows
// for a handover. An admin cannot deactivate themself. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT
// (already deactivated, or a stale version).
func (s *Service) DeactivateUser(ctx context.Context, id string, expectedVersion int) (*DirectoryUser, error) {
	u, err := directoryAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if id == u.ID {
		return nil, Invalid("id", "you cannot deactivate yourself; ask another admin")
	}
	return s.changeUser(ctx, u, id, expectedVersion, func(prev, next *DirectoryUser) error {
		if !prev.Active {
			return Errorf(ECONFLICT, "user %s is already deactivated", id)
		}
		next.Active, next.DeactivatedAt, next.DeactivatedBy = false, ptr(s.now()), u.ID
		return nil
	})
}

// ReactivateUser lets a deactivated user sign in and be handed work again.
// ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT (already active,
// or a stale version).
func (s *Service) ReactivateUser(ctx context.Context, id string, expectedVersion int) (*DirectoryUser, error) {
	u, err := directoryAdmin(ctx)
	if err != nil {
		return nil, err
	}
	return s.changeUser(ctx, u, id, expectedVersion, func(prev, next *DirectoryUser) error {
		if prev.Active {
			return Errorf(ECONFLICT, "user %s is active", id)
		}
		next.Active, next.DeactivatedAt, next.DeactivatedBy = true, nil, ""
		return nil
	})
}

// changeUser applies an admin's change to the version of a user they read,
// and forgets what this instance's sign-in cache holds of the user.
func (s *Service) changeUser(ctx context.Context, u *User, id string, expectedVersion int, change func(prev, next *DirectoryUser) error) (*DirectoryUser, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	prev, err := s.Store.User(ctx, id)
	if err != nil {
		return nil, err
	}
	if prev.Version != expectedVersion {
		return nil, staleVersion("user", id, expectedVersion, prev.Version)
	}
	next := prev.Clone()
	if err := change(prev, next); err != nil {
		return nil, err
	}
	next.Version++
	next.UpdatedAt, next.UpdatedBy = s.now(), u.ID
	if err := s.Store.UpdateUser(ctx, prev, next); err != nil {
		return nil, err
	}
	s.signIns.forget(id)
	return next, nil
}

// Departments returns every department, by name. Any staff role.
// Errors: UNAUTHENTICATED, FORBIDDEN.
func (s *Service) Departments(ctx context.Context) ([]*Department, error) {
	if _, err := directoryReader(ctx); err != nil {
		return nil, err
	}
	return s.Store.ListDepartments(ctx)
}

// Department returns one department. Any staff role.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
func (s *Service) Department(ctx context.Context, id string) (*Department, error) {
	if _, err := directoryReader(ctx); err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	return s.Store.Department(ctx, id)
}

// DepartmentsByID loads many departments for a batch loader.
func (s *Service) DepartmentsByID(ctx context.Context, ids []string) ([]*Department, []error) {
	out, errs := make([]*Department, len(ids)), make([]error, len(ids))
	var found map[string]*Department
	_, err := directoryReader(ctx)
	if err == nil {
		found, err = s.Store.Departments(ctx, ids)
	}
	for i, id := range ids {
		switch d, ok := found[id]; {
		case err != nil:
			errs[i] = err
		case ok:
			out[i] = d
		default:
			errs[i] = Errorf(ENOTFOUND, "department %s not found", id)
		}
	}
	return out, errs
}

func validateDepartment(d *Department) error {
	var c checker
	d.Name, d.Team = strings.TrimSpace(d.Name), strings.TrimSpace(d.Team)
	c.text("input.name", d.Name, 1, MaxNameLen)
	if FoldUserName(d.Name) == "" && d.Name != "" {
		c.fail("input.name", "must contain a letter or digit")
	}
	c.text("input.team", d.Team, 0, MaxShortText)
	return c.result()
}

// CreateDepartment adds a department. Its manager, if given, must be an
// active MANAGER of the directory. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, DUPLICATE (a
// department of that name exists), CONFLICT (an idempotency key reused).
func (s *Service) CreateDepartment(ctx context.Context, in DepartmentInput) (*Department, error) {
	u, err := directoryAdmin(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	d := &Department{ID: s.newID(now), Name: in.Name, Team: in.Team, ManagerID: in.ManagerID,
		Version: 1, CreatedAt: now, CreatedBy: u.ID, UpdatedAt: now, UpdatedBy: u.ID}
	if err := validateDepartment(d); err != nil {
		return nil, err
	}
	if d.ManagerID != "" {
		if err := s.CheckAssignee(ctx, "input.managerId", d.ManagerID, RoleManager); err != nil {
			return nil, err
		}
	}
	return createOnce(ctx, s, u, "createDepartment", in.IdempotencyKey, in, d, d.ID, s.Store.CreateDepartment, s.Store.Department)
}

// UpdateDepartment renames a department or changes its team or manager.
// expectedVersion is the version read. ADMIN only.
// Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT,
// DUPLICATE.
func (s *Service) UpdateDepartment(ctx context.Context, id string, expectedVersion int, upd DepartmentUpdate) (*Department, error) {
	u, err := directoryAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	prev, err := s.Store.Department(ctx, id)
	if err != nil {
		return nil, err
	}
	if prev.Version != expectedVersion {
		return nil, staleVersion("department", id, expectedVersion, prev.Version)
	}
	next := *prev
	set(&next.Name, upd.Name)
	set(&next.Team, upd.Team)
	set(&next.ManagerID, upd.ManagerID)
	if err := validateDepartment(&next); err != nil {
		return nil, err
	}
	if next.ManagerID != "" && next.ManagerID != prev.ManagerID {
		if err := s.CheckAssignee(ctx, "input.managerId", next.ManagerID, RoleManager); err != nil {
			return nil, err
		}
	}
	next.Version++
	next.UpdatedAt, next.UpdatedBy = s.now(), u.ID
	if err := s.Store.UpdateDepartment(ctx, prev, &next); err != nil {
		return nil, err
	}
	return &next, nil
}

// createOnce stores v, made by op from input, with the client's
// idempotency key if any: a retry with the key answers with what the first
// request created, read by load.
func createOnce[T any](ctx context.Context, s *Service, u *User, op, key string, input any, v T, id string,
	create func(context.Context, T, *Idempotency) error, load func(context.Context, string) (T, error)) (T, error) {
	var zero T
	idem, err := s.idempotency(u, op, key, input, id)
	if err != nil {
		return zero, err
	}
	if err := create(ctx, v, idem); err != nil {
		if first, err, ok := replay(ctx, err, load); ok {
			return first, err
		}
		return zero, err
	}
	return v, nil
}
