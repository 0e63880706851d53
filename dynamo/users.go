package dynamo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// The user directory (docs/access-patterns.md). It needs no index: its
// lists are partitions of the table holding a copy of each user they
// list, written in the same transaction as the user.
//
//	USER#<id>            / USER             the user
//	USER#<id>            / OPENCASES        n: open cases assigned to the user
//	USERS#<list>         / U#<name key>#<id> a copy of the user, in a list
//	USERS#<list>         / N                n: the list's length
//	DEPTS                / D#<id>           a department
//	DEPTS                / N                n: the number of departments
//	DEPTNAME#<name key>  / UNIQ             the department holding a name
//
// The lists: ALL, ACTIVE, INACTIVE, and, of active users only,
// TEAM#<team>, DEPT#<department id> and ROLE#<role>.
const (
	skUser          = "USER"
	skOpenCases     = "OPENCASES"
	skUserEntryPref = "U#"
	skListCount     = "N"
	pkDepartments   = "DEPTS"
	skDeptPrefix    = "D#"
)

func userPK(id string) string       { return "USER#" + id }
func userListPK(list string) string { return "USERS#" + list }
func departmentSK(id string) string { return skDeptPrefix + id }
func deptNamePK(key string) string  { return "DEPTNAME#" + key }

func userEntrySK(u *crm.DirectoryUser) string {
	return skUserEntryPref + u.NameKey() + "#" + u.ID
}

// userLists names the lists that hold u.
func userLists(u *crm.DirectoryUser) []string {
	if u == nil {
		return nil
	}
	if !u.Active {
		return []string{"ALL", "INACTIVE"}
	}
	lists := []string{"ALL", "ACTIVE"}
	for _, t := range u.Teams {
		lists = append(lists, "TEAM#"+t)
	}
	if u.DepartmentID != "" {
		lists = append(lists, "DEPT#"+u.DepartmentID)
	}
	for _, r := range u.Roles {
		lists = append(lists, "ROLE#"+string(r))
	}
	return lists
}

type userItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Type string `dynamodbav:"type"`

	ID            string     `dynamodbav:"id"`
	Name          string     `dynamodbav:"name"`
	Email         string     `dynamodbav:"email,omitempty"`
	Roles         []string   `dynamodbav:"roles,omitempty"`
	Teams         []string   `dynamodbav:"teams,omitempty"`
	DepartmentID  string     `dynamodbav:"departmentId,omitempty"`
	Active        bool       `dynamodbav:"active"`
	DeactivatedAt *time.Time `dynamodbav:"deactivatedAt,omitempty"`
	DeactivatedBy string     `dynamodbav:"deactivatedBy,omitempty"`
	FirstSignInAt *time.Time `dynamodbav:"firstSignInAt,omitempty"`
	ClaimsHash    string     `dynamodbav:"claimsHash,omitempty"`
	Version       int        `dynamodbav:"version"`
	CreatedAt     time.Time  `dynamodbav:"createdAt"`
	CreatedBy     string     `dynamodbav:"createdBy"`
	UpdatedAt     time.Time  `dynamodbav:"updatedAt"`
	UpdatedBy     string     `dynamodbav:"updatedBy"`
}

// toUserItem is u stored at pk/sk: the user itself, or its copy in a list.
func toUserItem(u *crm.DirectoryUser, pk, sk, typ string) *userItem {
	it := &userItem{PK: pk, SK: sk, Type: typ, ID: u.ID, Name: u.Name, Email: u.Email, Teams: slices.Clone(u.Teams),
		DepartmentID: u.DepartmentID, Active: u.Active, DeactivatedAt: u.DeactivatedAt, DeactivatedBy: u.DeactivatedBy,
		FirstSignInAt: u.FirstSignInAt, ClaimsHash: u.ClaimsHash, Version: u.Version,
		CreatedAt: u.CreatedAt, CreatedBy: u.CreatedBy, UpdatedAt: u.UpdatedAt, UpdatedBy: u.UpdatedBy}
	for _, r := range u.Roles {
		it.Roles = append(it.Roles, string(r))
	}
	return it
}

func fromUserItem(it *userItem) *crm.DirectoryUser {
	u := &crm.DirectoryUser{ID: it.ID, Name: it.Name, Email: it.Email, Teams: it.Teams, DepartmentID: it.DepartmentID,
		Active: it.Active, DeactivatedAt: it.DeactivatedAt, DeactivatedBy: it.DeactivatedBy, FirstSignInAt: it.FirstSignInAt,
		ClaimsHash: it.ClaimsHash, Version: it.Version,
		CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy}
	for _, r := range it.Roles {
		u.Roles = append(u.Roles, crm.Role(r))
	}
	return u
}

// user writes a user created (prev nil) or changed from prev, its copies
// in the lists that hold it, and the lists' counters.
func (t *tx) user(prev, next *crm.DirectoryUser) {
	id := next.ID
	after := t.marshal(toUserItem(next, userPK(id), skUser, "user"))
	if prev == nil {
		t.put(after, notExists, nil, func(map[string]types.AttributeValue) error {
			return &crm.Error{Code: crm.EDUPLICATE, Field: "input.id", Message: fmt.Sprintf("user %s already exists", id)}
		})
		t.record("user", id, "", nil, after)
	} else {
		cond, vals := versioned(prev.Version)
		t.put(after, cond, vals, conflict("user "+id))
		t.record("user", id, "", t.marshal(toUserItem(prev, userPK(id), skUser, "user")), after)
	}
	left, entered := userLists(prev), userLists(next)
	for _, l := range left {
		if !slices.Contains(entered, l) || userEntrySK(prev) != userEntrySK(next) {
			t.del(userListPK(l), userEntrySK(prev), "", nil, nil)
		}
	}
	for _, l := range entered {
		t.put(t.marshal(toUserItem(next, userListPK(l), userEntrySK(next), "userEntry")), "", nil, nil)
	}
	for _, l := range removed(left, entered) {
		t.add(userListPK(l), skListCount, -1)
	}
	for _, l := range removed(entered, left) {
		t.add(userListPK(l), skListCount, 1)
	}
}

// CreateUser stores a new user.
func (s *Store) CreateUser(ctx context.Context, u *crm.DirectoryUser, idem *crm.Idempotency) error {
	x := &tx{s: s}
	if idem != nil {
		x.idempotency(idem)
	}
	x.user(nil, u)
	return x.commit(ctx)
}

// UpdateUser replaces prev, if it is still the stored version, by u.
func (s *Store) UpdateUser(ctx context.Context, prev, u *crm.DirectoryUser) error {
	x := &tx{s: s}
	x.user(prev, u)
	return x.commit(ctx)
}

// User reads a user.
func (s *Store) User(ctx context.Context, id string) (*crm.DirectoryUser, error) {
	var it userItem
	if err := s.get(ctx, userPK(id), skUser, &it, "user "+id+" not found"); err != nil {
		return nil, err
	}
	return fromUserItem(&it), nil
}

// ListUsers walks the list that answers most of f, by name key, and
// checks the rest of f on the copies it reads.
func (s *Store) ListUsers(ctx context.Context, f crm.UserFilter, p crm.PageRequest) (*crm.Page[*crm.DirectoryUser], error) {
	list, rest := userListOf(f)
	plan := listPlan[*crm.DirectoryUser]{
		name: fmt.Sprintf("users/%s/%q/%q/%q/%s", list, f.NamePrefix, rest.Team, rest.DepartmentID, rest.Role),
		query: dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :pre)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(userListPK(list)), ":pre": str(skUserEntryPref + f.NamePrefix)},
		},
		keyAttr:  []string{"pk", "sk"},
		filtered: rest != crm.UserFilter{},
		decode: func(_ context.Context, raw []map[string]types.AttributeValue) ([]*crm.DirectoryUser, []bool, error) {
			out, match := make([]*crm.DirectoryUser, len(raw)), make([]bool, len(raw))
			for i, r := range raw {
				var it userItem
				if err := attributevalue.UnmarshalMap(r, &it); err != nil {
					return nil, nil, fmt.Errorf("unmarshal user entry: %w", err)
				}
				out[i] = fromUserItem(&it)
				match[i] = rest.Matches(out[i])
			}
			return out, match, nil
		},
	}
	if rest == (crm.UserFilter{}) && f.NamePrefix == "" {
		plan.total = func(ctx context.Context) (int, error) { return s.count(ctx, userListPK(list), skListCount) }
	}
	return collect(ctx, s, plan, p)
}

// userListOf picks the list that answers f: for active users, the list of
// its team, department or role (in that order of preference), and what of
// f is left to check on the users read.
func userListOf(f crm.UserFilter) (string, crm.UserFilter) {
	rest := f
	rest.NamePrefix, rest.Active = "", nil
	switch {
	case f.Active == nil:
		return "ALL", rest
	case !*f.Active:
		return "INACTIVE", rest
	case f.Team != "":
		rest.Team = ""
		return "TEAM#" + f.Team, rest
	case f.DepartmentID != "":
		rest.DepartmentID = ""
		return "DEPT#" + f.DepartmentID, rest
	case f.Role != "":
		rest.Role = ""
		return "ROLE#" + string(f.Role), rest
	}
	return "ACTIVE", rest
}

// count reads a counter item's n; one never written is zero.
func (s *Store) count(ctx context.Context, pk, sk string) (int, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk)})
	if err != nil {
		return 0, wrap("get counter", err)
	}
	return counterValue(res.Item), nil
}

func counterValue(item map[string]types.AttributeValue) int {
	n, _ := strconv.Atoi(numAttr(item["n"]))
	return n
}

// Workloads reads, for each user, the customer total of their portfolio
// (kept by the stream consumer, counters.go) and their open-case counter:
// one BatchGetItem per 50 users.
func (s *Store) Workloads(ctx context.Context, ids []string) (map[string]crm.Workload, error) {
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, key(ownerTotalPK(id), skTotal), key(userPK(id), skOpenCases))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]crm.Workload, len(seen))
	for _, it := range items {
		pk := strAttr(it["pk"])
		if id, ok := strings.CutPrefix(pk, ownerTotalPK("")); ok {
			w := out[id]
			w.Customers = counterValue(it)
			out[id] = w
		} else if id, ok := strings.CutPrefix(pk, userPK("")); ok {
			w := out[id]
			w.OpenCases = counterValue(it)
			out[id] = w
		}
	}
	return out, nil
}

// assignedCases keeps the open-case counter of a case's assignee in step
// with a case opened, moved or reassigned (apply.go).
func (t *tx) assignedCases(prev, next *crm.Case) {
	t.userCount(skOpenCases, openAssignee(prev), openAssignee(next))
}

// userCount moves one count of a user counter sk from user was to user
// is ("" for none).
func (t *tx) userCount(sk, was, is string) {
	if was == is {
		return
	}
	if was != "" {
		t.add(userPK(was), sk, -1)
	}
	if is != "" {
		t.add(userPK(is), sk, 1)
	}
}

// openAssignee is who an open case is assigned to, "" for none.
func openAssignee(c *crm.Case) string {
	if c == nil || !c.Status.IsOpen() {
		return ""
	}
	return c.AssignedTo
}

type departmentItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Type string `dynamodbav:"type"`

	ID        string    `dynamodbav:"id"`
	Name      string    `dynamodbav:"name"`
	Team      string    `dynamodbav:"team,omitempty"`
	ManagerID string    `dynamodbav:"managerId,omitempty"`
	Version   int       `dynamodbav:"version"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	CreatedBy string    `dynamodbav:"createdBy"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
	UpdatedBy string    `dynamodbav:"updatedBy"`
}

func toDepartmentItem(d *crm.Department) *departmentItem {
	return &departmentItem{PK: pkDepartments, SK: departmentSK(d.ID), Type: "department", ID: d.ID, Name: d.Name, Team: d.Team,
		ManagerID: d.ManagerID, Version: d.Version, CreatedAt: d.CreatedAt, CreatedBy: d.CreatedBy, UpdatedAt: d.UpdatedAt, UpdatedBy: d.UpdatedBy}
}

func fromDepartmentItem(it *departmentItem) *crm.Department {
	return &crm.Department{ID: it.ID, Name: it.Name, Team: it.Team, ManagerID: it.ManagerID, Version: it.Version,
		CreatedAt: it.CreatedAt, CreatedBy: it.CreatedBy, UpdatedAt: it.UpdatedAt, UpdatedBy: it.UpdatedBy}
}

// departmentName keeps one item per folded department name naming the
// department holding it, so two departments cannot share a name.
func (t *tx) departmentName(prev, next *crm.Department) {
	before, after := "", crm.FoldUserName(next.Name)
	if prev != nil {
		before = crm.FoldUserName(prev.Name)
	}
	if before == after {
		return
	}
	mine := map[string]types.AttributeValue{":id": str(next.ID)}
	if before != "" {
		t.del(deptNamePK(before), skUnique, "departmentId = :id", mine, conflict("department "+next.ID))
	}
	t.put(map[string]types.AttributeValue{
		"pk": str(deptNamePK(after)), "sk": str(skUnique), "type": str("departmentName"), "departmentId": str(next.ID),
	}, "attribute_not_exists(pk) OR departmentId = :id", mine, func(old map[string]types.AttributeValue) error {
		holder := strAttr(old["departmentId"])
		return &crm.Error{Code: crm.EDUPLICATE, Field: "input.name", ExistingID: holder,
			Message: fmt.Sprintf("department %s is already called %q", holder, next.Name)}
	})
}

// CreateDepartment stores a new department, counted against
// MaxDepartments in the same transaction.
func (s *Store) CreateDepartment(ctx context.Context, d *crm.Department, idem *crm.Idempotency) error {
	x := &tx{s: s}
	if idem != nil {
		x.idempotency(idem)
	}
	x.created("department", d.ID, "", toDepartmentItem(d))
	x.departmentName(nil, d)
	x.update(pkDepartments, skListCount, "ADD n :one", "attribute_not_exists(n) OR n < :max",
		map[string]types.AttributeValue{":one": num(1), ":max": num(crm.MaxDepartments)},
		func(map[string]types.AttributeValue) error {
			return crm.Invalid("input.name", "the directory already has the maximum of %d departments", crm.MaxDepartments)
		})
	return x.commit(ctx)
}

// UpdateDepartment replaces prev, if it is still the stored version, by d.
func (s *Store) UpdateDepartment(ctx context.Context, prev, d *crm.Department) error {
	x := &tx{s: s}
	x.entity("department", d.ID, "", toDepartmentItem(prev), toDepartmentItem(d))
	x.departmentName(prev, d)
	return x.commit(ctx)
}

// Department reads one department.
func (s *Store) Department(ctx context.Context, id string) (*crm.Department, error) {
	var it departmentItem
	if err := s.get(ctx, pkDepartments, departmentSK(id), &it, "department "+id+" not found"); err != nil {
		return nil, err
	}
	return fromDepartmentItem(&it), nil
}

// Departments reads many departments.
func (s *Store) Departments(ctx context.Context, ids []string) (map[string]*crm.Department, error) {
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, key(pkDepartments, departmentSK(id)))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*crm.Department, len(items))
	for _, raw := range items {
		var it departmentItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal department: %w", err)
		}
		out[it.ID] = fromDepartmentItem(&it)
	}
	return out, nil
}

// ListDepartments reads every department with one Query (MaxDepartments
// of them fit in one page) and orders them by name.
func (s *Store) ListDepartments(ctx context.Context) ([]*crm.Department, error) {
	q := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pkDepartments), ":pre": str(skDeptPrefix)},
	}
	var out []*crm.Department
	for {
		res, err := s.db.Query(ctx, q)
		if err != nil {
			return nil, wrap("query departments", err)
		}
		for _, raw := range res.Items {
			var it departmentItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal department: %w", err)
			}
			out = append(out, fromDepartmentItem(&it))
		}
		if res.LastEvaluatedKey == nil {
			break
		}
		q.ExclusiveStartKey = res.LastEvaluatedKey
	}
	slices.SortFunc(out, func(a, b *crm.Department) int {
		return cmp.Or(strings.Compare(crm.FoldUserName(a.Name), crm.FoldUserName(b.Name)), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}
