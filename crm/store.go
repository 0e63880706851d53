package crm

import (
	"context"
	"errors"
	"time"

	"github.com/rapportcrm/rapport/search"
)

// PageRequest asks for one page of a list. After is an opaque cursor from a
// previous page of the same list; the store rejects a cursor it did not
// issue, or issued for another list, with EINVALID on field "after".
type PageRequest struct {
	// First is the page size, 1 to MaxPageSize; anything else, 0
	// included, is EINVALID on field "first".
	First int
	After string
}

// Page size bounds.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Page is one page of a list. Cursors[i] resumes the list after Items[i].
// EndCursor resumes after the page; it can lie beyond the last item when a
// filtered list spent its read budget, and is empty when there is no next page.
type Page[T any] struct {
	Items     []T
	Cursors   []string
	EndCursor string
	HasNext   bool
	// Total counts the whole list from counters kept on write, or by a
	// bounded count. It is nil, or returns ErrNotCounted, when the list
	// cannot be counted so; it costs reads, so call it only when the count
	// is asked for.
	Total func(ctx context.Context) (int, error)
}

// ErrNotCounted is what a page's Total returns when the list holds more
// than a bounded count reads and no counter answers its filter.
var ErrNotCounted = errors.New("list not counted: no counter answers its filter and it is larger than a bounded count reads")

// TimeRange bounds a list by time; zero ends are open.
type TimeRange struct {
	From, To time.Time
}

// Change is a set of writes decided by the domain that the store applies
// atomically: all of them or none (but an interaction logged, whose case
// and audit entry may follow it from the stream). Prev values carry the version the change
// was computed from; the store refuses the change with ECONFLICT when the
// stored version differs. The store keeps unique value claims, tag and
// share index entries in the same transaction; what the change implies for
// the customer's activity, the list counters, the watch lists and the
// analytics (AggregateDeltas) follows from the table's stream, exactly
// once (package stream).
type Change struct {
	// Customer is the profile before and after; Prev nil creates it.
	CustomerPrev, Customer *Customer
	// Scope is the customer an append (an interaction, a case move, an
	// evaluation) is about, as read when the append was authorized; the
	// profile itself is not written. Its owner, team and grade are what the
	// append counts for in the analytics.
	Scope *Customer
	// ContactPrev nil creates Contact.
	ContactPrev, Contact *Contact
	// DemotedContact lost its primary flag to Contact (Version already bumped).
	DemotedContactPrev, DemotedContact *Contact
	DeleteContact                      *Contact
	// InteractionPrev nil creates Interaction.
	InteractionPrev, Interaction *Interaction
	GradeChange                  *GradeChange
	StageChange                  *StageChange
	Evaluation                   *Evaluation
	// CasePrev nil opens Case.
	CasePrev, Case *Case
	// TaskPrev nil creates Task.
	TaskPrev, Task *Task
	// ClaimQuota counts a claim against (or back to) its holder's limits.
	ClaimQuota *ClaimQuota
	// OpportunityPrev nil opens Opportunity; the store moves the pipeline
	// counters (PipelineDeltas) in the same transaction.
	OpportunityPrev, Opportunity *Opportunity
	// LeadPrev nil creates Lead.
	LeadPrev, Lead *Lead
	// ContractPrev nil records Contract; the store moves the revenue
	// counters (ContractDeltas) in the same transaction, and a contract of
	// a deal claims the deal, so that it has only one.
	ContractPrev, Contract *Contract
	// CreditSeen, on a write of Contract that was checked against the
	// customer's credit limit, is the CreditState.ContractWrites that check
	// read: the store applies the change only while no other write of the
	// customer's contracts came in between (ECONFLICT otherwise), so two
	// contracts checked at once cannot both pass a limit that holds one.
	CreditSeen *int
	// CreditPrev (Version 0: never stored) and Credit are a customer's
	// credit state; CreditChange the history entry of a new level
	// (credit.go). A write of a contract also marks its customer's credit
	// for review, which storing the credit clears.
	CreditPrev, Credit *CreditState
	CreditChange       *CreditChange
	// Idempotency records the client's key of a create; the store refuses
	// the change with EREPLAYED (naming the first result) when the key was
	// used before for the same request, and ECONFLICT for another request.
	Idempotency *Idempotency
}

// Store persists the domain. Implementations translate storage errors into
// *Error: ENOTFOUND, ECONFLICT (stale version, racing writer), EDUPLICATE
// (with ExistingID), EINVALID (bad cursor) and EUNAVAILABLE (throttled or
// down after retries). Every write (but TouchAPIKey's last-use stamp, which
// the authorizer makes with no right to write anything else, and a
// notification's read mark, the reader's own bookkeeping) also records an
// AuditEntry in the same transaction, or, for an interaction logged, right
// after it (the stream writes it if the request stopped between): its
// actor is the user in the context ("system" without one), its operation
// and request come from WithAuditScope. Apply answers EREPLAYED naming a
// key's first result when the key's record exists, even if the first
// request stopped before writing the result (LogInteraction then writes
// it).
type Store interface {
	PartnerStore
	UserStore
	LookupStore
	NotificationStore
	ChangeFeedStore

	// Apply writes a change atomically.
	Apply(ctx context.Context, ch *Change) error

	// Customer returns ENOTFOUND when there is no such customer.
	Customer(ctx context.Context, id string) (*Customer, error)
	// Customers loads many customers in batches; missing ones are absent
	// from the map.
	Customers(ctx context.Context, ids []string) (map[string]*Customer, error)
	// Customer360 reads the profile, contacts and the recent interactions
	// in one query.
	Customer360(ctx context.Context, id string, recent int) (*Customer360, error)
	// ListCustomers lists customers newest first. A filtered list keeps
	// reading within a bounded budget until the page is full.
	ListCustomers(ctx context.Context, f CustomerFilter, p PageRequest) (*Page[*Customer], error)
	// SearchCustomers lists the customers matching a search's lookup (it
	// has one) and f, best match first, from the search index.
	SearchCustomers(ctx context.Context, q search.Query, f CustomerFilter, p PageRequest) (*Page[*Customer], error)

	// DuplicateMatches lists the customers whose name or core key of the
	// search index starts with l's prefix (search.DuplicateLookup), each
	// once, reading at most a bound of them; complete is false when more
	// were there.
	DuplicateMatches(ctx context.Context, l search.Lookup) (entries []NameEntry, complete bool, err error)
	// UniqueHolders returns the ids of the customers holding the given
	// normalized phones and emails, by value, read consistently; a value
	// no customer holds is absent.
	UniqueHolders(ctx context.Context, phones, emails []string) (phoneHolders, emailHolders map[string]string, err error)
	// ReleaseClaim deletes the unique claim of a value that the customer
	// it names no longer holds (field as an input names it: phones[i],
	// emails[i], creditCode), if that customer's profile is still at
	// version, which was read without the value: a claim left behind by a
	// request that stopped before releasing it. ECONFLICT when either
	// moved.
	ReleaseClaim(ctx context.Context, field, value, customerID string, version int) error
	// IdempotencyRecords returns the idempotency records of the given
	// keys (Idempotency.Key) that exist, by key.
	IdempotencyRecords(ctx context.Context, keys []string) (map[string]*Idempotency, error)

	Contacts(ctx context.Context, customerID string) ([]*Contact, error)
	Contact(ctx context.Context, customerID, id string) (*Contact, error)

	Interaction(ctx context.Context, k InteractionKey) (*Interaction, error)
	// Interactions loads many interactions in batches; missing ones are
	// absent from the map.
	Interactions(ctx context.Context, keys []InteractionKey) (map[InteractionKey]*Interaction, error)
	// ListInteractions lists a customer's interactions in r, newest first.
	ListInteractions(ctx context.Context, customerID string, r TimeRange, p PageRequest) (*Page[*Interaction], error)

	// ClaimsDue returns the ids of customers whose active claim expires
	// before t, soonest first.
	ClaimsDue(ctx context.Context, before time.Time) ([]string, error)

	// ListGradeChanges lists a customer's grade history, newest first.
	ListGradeChanges(ctx context.Context, customerID string, p PageRequest) (*Page[*GradeChange], error)
	// Case reads one case; ListCases lists a customer's cases, newest first.
	Case(ctx context.Context, customerID, id string) (*Case, error)
	ListCases(ctx context.Context, customerID string, p PageRequest) (*Page[*Case], error)
	// CasesDue returns open cases due before t, soonest first.
	CasesDue(ctx context.Context, before time.Time) ([]InteractionKey, error)

	// Task reads one task; ListTasks lists a customer's tasks, newest
	// first.
	Task(ctx context.Context, customerID, id string) (*Task, error)
	ListTasks(ctx context.Context, customerID string, p PageRequest) (*Page[*Task], error)
	// ListOpenTasks lists the open tasks assigned to f.AssigneeID due
	// before f.DueBefore (zero: all), soonest first; ListAssignedCases the
	// open cases assigned to a user, soonest due first; both of customers
	// the filter's Readable accepts.
	ListOpenTasks(ctx context.Context, f TaskFilter, p PageRequest) (*Page[*Task], error)
	ListAssignedCases(ctx context.Context, userID string, f CaseQueueFilter, p PageRequest) (*Page[*Case], error)
	// ListDepartmentCases lists the open cases a department is responsible
	// for (unassigned ones only with f.Unassigned), soonest due first; its
	// total counts them when f.Status is empty.
	ListDepartmentCases(ctx context.Context, departmentID string, f CaseQueueFilter, p PageRequest) (*Page[*Case], error)
	// TasksDue returns the open tasks due before t whose assignee has not
	// been told of that due time yet (Task.DueNoticePending), soonest
	// first.
	TasksDue(ctx context.Context, before time.Time) ([]InteractionKey, error)
	// Agenda reads a user's day (see AgendaQuery) in at most three calls.
	Agenda(ctx context.Context, q AgendaQuery) (*AgendaRead, error)

	// GradeAt returns the latest grade change at or before at; ENOTFOUND
	// when there is none. Entries moved in by a merge (MergedFrom set) were
	// another customer's grade and do not count.
	GradeAt(ctx context.Context, customerID string, at time.Time) (*GradeChange, error)
	// FirstGradeChange returns the customer's oldest grade change of its
	// own (not moved in by a merge); ENOTFOUND when there is none.
	FirstGradeChange(ctx context.Context, customerID string) (*GradeChange, error)
	// GradingPolicy returns the stored grading policy; ENOTFOUND when none
	// was ever stored (the built-in default is in force).
	GradingPolicy(ctx context.Context) (*GradingPolicy, error)
	// PutGradingPolicy stores p as the version after p.Version-1; ECONFLICT
	// when another version was stored meanwhile.
	PutGradingPolicy(ctx context.Context, p *GradingPolicy) error
	// EachCustomer calls fn with every customer profile, archived ones
	// included, page by page; an error from fn stops the walk. It reads
	// the whole book: for scheduled jobs, never for requests.
	EachCustomer(ctx context.Context, fn func(*Customer) error) error

	// ListStageChanges lists a customer's lifecycle history, newest first.
	ListStageChanges(ctx context.Context, customerID string, p PageRequest) (*Page[*StageChange], error)
	// Evaluation reads one evaluation.
	Evaluation(ctx context.Context, customerID, id string) (*Evaluation, error)
	// ListAudit lists audit entries newest first: a customer's when
	// f.CustomerID is set, else those of the UTC day f.Day; Actor and
	// Operation filter either.
	ListAudit(ctx context.Context, f AuditFilter, p PageRequest) (*Page[*AuditEntry], error)
	// ListEvaluations lists a customer's evaluations, newest first.
	ListEvaluations(ctx context.Context, customerID string, p PageRequest) (*Page[*Evaluation], error)

	// ApplyMerge writes one step of a merge atomically (see MergeChange).
	ApplyMerge(ctx context.Context, m *MergeChange) error
	// MoveHistory moves one batch of a customer's history (contacts,
	// interactions, grade and stage changes, cases, evaluations, merge
	// records) to the customer it is being merged into, keeping the items'
	// ids, in one transaction conditioned on both customers' merge marks;
	// each item is in exactly one place before and after. It returns how
	// many items moved and whether none are left.
	MoveHistory(ctx context.Context, fromID, toID string) (moved int, done bool, err error)
	// ListMerges lists the merge records in a customer's history, newest
	// first.
	ListMerges(ctx context.Context, customerID string, p PageRequest) (*Page[*MergeRecord], error)

	// CreateTemplate stores version 1 of a new template.
	CreateTemplate(ctx context.Context, t *Template) error
	// AddTemplateVersion stores t as the version after t.Version-1; ECONFLICT
	// when another version was added meanwhile.
	AddTemplateVersion(ctx context.Context, t *Template) error
	// Template returns one version; version 0 means the latest.
	Template(ctx context.Context, id string, version int) (*Template, error)
	// ListTemplates lists the latest version of each template, newest first.
	ListTemplates(ctx context.Context, p PageRequest) (*Page[*Template], error)

	AnalyticsStore
	PipelineStore
	LeadStore
	ContractStore
	PerformanceStore
	CreditStore
}
