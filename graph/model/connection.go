package model

import (
	"context"
	"errors"

	"github.com/rapportcrm/rapport/crm"
)

// Counted gives a connection a totalCount that is read only when asked for:
// counting costs a DynamoDB read, and most list queries do not need it.
type Counted struct {
	// Total is nil, or returns crm.ErrNotCounted, when the list is not
	// counted: totalCount is then null.
	Total func(ctx context.Context) (int, error)
}

// TotalCount resolves the totalCount field.
func (c Counted) TotalCount(ctx context.Context) (*int, error) {
	if c.Total == nil {
		return nil, nil
	}
	n, err := c.Total(ctx)
	if errors.Is(err, crm.ErrNotCounted) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// CustomerConnection is a page of customers.
type CustomerConnection struct {
	Edges    []*CustomerEdge
	PageInfo *PageInfo
	Counted
}

// InteractionConnection is a page of interactions.
type InteractionConnection struct {
	Edges    []*InteractionEdge
	PageInfo *PageInfo
	Counted
}

// GradeChangeConnection is a page of grade changes.
type GradeChangeConnection struct {
	Edges    []*GradeChangeEdge
	PageInfo *PageInfo
	Counted
}

// EvaluationConnection is a page of evaluations.
type EvaluationConnection struct {
	Edges    []*EvaluationEdge
	PageInfo *PageInfo
	Counted
}

// TemplateConnection is a page of templates.
type TemplateConnection struct {
	Edges    []*TemplateEdge
	PageInfo *PageInfo
	Counted
}

// StageChangeConnection is a page of stage changes.
type StageChangeConnection struct {
	Edges    []*StageChangeEdge
	PageInfo *PageInfo
	Counted
}

// CaseConnection is a page of cases.
type CaseConnection struct {
	Edges    []*CaseEdge
	PageInfo *PageInfo
	Counted
}

// TaskConnection is a page of tasks.
type TaskConnection struct {
	Edges    []*TaskEdge
	PageInfo *PageInfo
	Counted
}

// CustomerMergeConnection is a page of merge records.
type CustomerMergeConnection struct {
	Edges    []*CustomerMergeEdge
	PageInfo *PageInfo
	Counted
}

// AuditEntryConnection is a page of audit entries.
type AuditEntryConnection struct {
	Edges    []*AuditEntryEdge
	PageInfo *PageInfo
	Counted
}
