package crm

import (
	"context"
	"time"
)

// AuditEntry is one write recorded in the audit log: who made
// it, when, through which operation, and what it changed, field by field.
// The store writes it in the same transaction as the change itself, so no
// write happens unrecorded; an interaction logged it writes right after the
// interaction, which carries what the stream needs to write the entry when
// the request stopped before it.
type AuditEntry struct {
	ID        string // ULID, time part = At
	At        time.Time
	Actor     string // user id; "system" for the scheduled job
	Roles     []Role
	Operation string // the GraphQL mutation, or job:pool-expiry, job:sla-escalation, job:regrading
	RequestID string
	// ImportID names the import a write belongs to (ImportCustomers).
	ImportID string
	Changes  []AuditChange
}

// AuditAction says what happened to an entity.
type AuditAction string

const (
	AuditCreate AuditAction = "CREATE"
	AuditUpdate AuditAction = "UPDATE"
	AuditDelete AuditAction = "DELETE"
	// AuditRead: a read recorded because it reached beyond the caller's
	// usual reach (a screen pop, CustomerByPhone).
	AuditRead AuditAction = "READ"
)

// AuditChange is what one write did to one entity.
type AuditChange struct {
	Entity     string // customer, contact, interaction, case, gradeChange, stageChange, evaluation, merge, template, gradingPolicy, partnerOrganization, apiKey, user or department
	ID         string
	CustomerID string
	Action     AuditAction
	// Fields lists the fields that changed with their values before and
	// after, as JSON ("" when absent).
	Fields []FieldChange
}

// FieldChange is one changed field.
type FieldChange struct {
	Name   string
	Before string
	After  string
}

// AuditFilter selects audit entries: those of one customer, or those of
// one UTC day; Actor, Operation and ImportID narrow either.
type AuditFilter struct {
	CustomerID string
	Day        time.Time
	Actor      string
	Operation  string
	ImportID   string
}

// AuditScope is what a write's audit entry records about its origin.
type AuditScope struct {
	Operation string
	RequestID string
	// Import is the id of the import the write is a row of.
	Import string
}

type auditKey struct{}

// WithAuditScope tags the writes made under ctx with the operation and
// request they belong to.
func WithAuditScope(ctx context.Context, s AuditScope) context.Context {
	return context.WithValue(ctx, auditKey{}, s)
}

// AuditScopeFrom returns what WithAuditScope put in ctx.
func AuditScopeFrom(ctx context.Context) AuditScope {
	s, _ := ctx.Value(auditKey{}).(AuditScope)
	return s
}

// AuditLog lists audit entries, newest first: a customer's (the writes
// whose first entity is that customer's; a merge is listed under the
// survivor) or a day's, optionally of one actor, operation or import. ADMIN
// and AUDITOR only.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT.
func (s *Service) AuditLog(ctx context.Context, f AuditFilter, p PageRequest) (*Page[*AuditEntry], error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !u.HasRole(RoleAdmin) && !u.HasRole(RoleAuditor) {
		return nil, Errorf(EFORBIDDEN, "only an admin or an auditor may read the audit log")
	}
	if err := checkPage(&p); err != nil {
		return nil, err
	}
	var c checker
	if f.CustomerID != "" {
		if err := checkID("filter.customerId", f.CustomerID); err != nil {
			return nil, err
		}
	}
	c.text("filter.actor", f.Actor, 0, MaxShortText)
	c.text("filter.operation", f.Operation, 0, MaxShortText)
	c.text("filter.importId", f.ImportID, 0, MaxImportIDLen)
	if err := c.result(); err != nil {
		return nil, err
	}
	if f.Day.IsZero() {
		f.Day = s.now()
	}
	if f.Day.Before(epoch) {
		return nil, Invalid("filter.day", "must be after 1970")
	}
	f.Day = f.Day.UTC().Truncate(24 * time.Hour)
	return s.Store.ListAudit(ctx, f, p)
}
