package crm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Import brings a team's existing customer list in: a client
// (cmd/rapport) reads a spreadsheet and sends its rows in calls of at most
// MaxImportRows. Every row is a createCustomer: checked by the same rules,
// written by the same path, graded by the same policy, so an import follows
// whatever createCustomer does. What an import adds is what a file needs:
// cells read as people write them (import_cells.go), every problem of a
// row reported at once, a policy for rows that name customers we already
// have, a dry run, and an idempotency key per row (the import's id and the
// row's number), so that a call sent again after an interruption creates
// nothing twice.

// MaxImportRows bounds the rows of one importCustomers call. A typical row
// is well under 1 KB of JSON, so 200 fit the 1 MiB request body many times
// over, and 200 row results of about fifteen fields each price at about
// 3,000 of the 5,000 complexity units a request may use; at the default
// pace (DefaultImportLimits) they take four seconds, inside the 10-second
// request limit.
const MaxImportRows = 200

// MaxImportContacts bounds the contact persons of one row.
const MaxImportContacts = 3

// DuplicatePolicy says what an import does with a row that names a
// customer we already have: one holding one of the row's phones or emails,
// or, for an organization, an organization of the same name (a
// duplicateCandidates score of 1: the same words, legal forms such as
// 有限公司 or Co., Ltd. ignored).
type DuplicatePolicy string

const (
	// DuplicateSkip leaves the existing customer as it is.
	DuplicateSkip DuplicatePolicy = "SKIP"
	// DuplicateUpdateEmpty fills the existing customer's empty fields from
	// the row; nothing it has is overwritten.
	DuplicateUpdateEmpty DuplicatePolicy = "UPDATE_EMPTY"
	// DuplicateFlag creates the row as a new customer marked as a merge
	// candidate of the existing one (MergeCandidateTag, DuplicateOfAttribute),
	// for a person to decide with mergeCustomers.
	DuplicateFlag DuplicatePolicy = "FLAG"
)

// DuplicatePolicies lists every duplicate policy.
var DuplicatePolicies = []DuplicatePolicy{DuplicateSkip, DuplicateUpdateEmpty, DuplicateFlag}

// MergeCandidateTag tags a customer an import created under the FLAG
// policy: customers(filter: {tag: "merge-candidate"}) lists them.
const MergeCandidateTag = "merge-candidate"

// DuplicateOfAttribute is the archive entry naming, on a customer created
// under the FLAG policy, the id of the existing customer it duplicates.
// The phones and emails that existing customer holds are left out of the
// new one (they are unique); a merge into the existing customer keeps them.
const DuplicateOfAttribute = "duplicateOf"

// ImportInput is one call of an import: some of a file's rows.
type ImportInput struct {
	// ImportID names the import, the same in every call of it and in a
	// rerun after an interruption: 8–40 letters, digits, '-', '_', '.' or
	// ':'. With a row's number it makes the row's idempotency key.
	ImportID string
	// FileName is the file the rows come from, for the reason of the
	// grades and stages they set.
	FileName   string
	Duplicates DuplicatePolicy // default SKIP
	// DryRun checks every row and finds its duplicates without writing.
	DryRun bool
	Rows   []ImportRow
}

// ImportRow is one row of a file. Cells are text as the file holds them;
// the import reads them as createCustomer's input (import_cells.go):
// codes or the words people write for them (企业, 存续, 120万…).
type ImportRow struct {
	// Row is the row's number in the file, unique within the import.
	Row           int
	Kind          string // default ORGANIZATION
	Name          string
	Phones        []string
	Emails        []string
	Addresses     []Address
	Industry      string
	Region        string
	Source        string // default IMPORT
	AnnualRevenue string
	CreditRating  string
	CompanyStatus string
	Stage         string
	StageReason   string
	OwnerID       string // empty: as createCustomer without one
	Team          string
	Grade         string // empty: graded by the policy, source IMPORT
	Tags          []string
	Attributes    []Attribute
	Contacts      []ImportContact
}

// ImportContact is a contact person of a row; the first is the primary
// contact.
type ImportContact struct {
	Name   string
	Title  string
	Role   string
	Phones []string
	Emails []string
}

// ImportStatus says what an import did with a row. In a dry run it is what
// the import would do.
type ImportStatus string

const (
	ImportCreated  ImportStatus = "CREATED"
	ImportUpdated  ImportStatus = "UPDATED" // a duplicate whose empty fields were filled
	ImportSkipped  ImportStatus = "SKIPPED" // a duplicate left as it was
	ImportFlagged  ImportStatus = "FLAGGED" // created as a merge candidate of a duplicate
	ImportRejected ImportStatus = "REJECTED"
	// ImportRetry rows were not processed in this call: its time ran out,
	// or the database was throttling. Send them again.
	ImportRetry ImportStatus = "RETRY"
)

// ImportRowResult is what an import did with one row.
type ImportRowResult struct {
	Row    int
	Status ImportStatus
	// CustomerID is the customer the row created or filled.
	CustomerID string
	// ExistingID is the customer the row duplicates, when the caller may
	// read it; DuplicateOn is the row's field that matched it: phones[i],
	// emails[i] or name.
	ExistingID  string
	DuplicateOn string
	// Filled lists the fields an UPDATE_EMPTY row filled.
	Filled []string
	// Problems are every rule the row broke (all of them, for a rejected
	// row's input), the duplicate it matched, and what went wrong after it
	// was written (a contact refused), with Field as an input path of the
	// call (input.rows[3].phones[1]).
	Problems []*Error
}

// ImportResult is what one importCustomers call did, a result per row in
// the order sent.
type ImportResult struct {
	ImportID string
	DryRun   bool
	Rows     []ImportRowResult
	// Throttled says the database was throttling: wait before sending the
	// RETRY rows again.
	Throttled bool
}

// importOrigin is what an import tells CreateCustomer about a row.
type importOrigin struct {
	reason string // of a grade the file gives
	dry    bool
}

// ruleSource is the source of a grade the policy's rules give a new
// customer: IMPORT for an imported one.
func (o *importOrigin) ruleSource() GradeSource {
	if o == nil {
		return GradeRule
	}
	return GradeImport
}

// gradeReason is the reason of a grade given at creation.
func (o *importOrigin) gradeReason() string {
	if o == nil {
		return "initial grade"
	}
	return o.reason
}

func (o *importOrigin) dryRun() bool { return o != nil && o.dry }

// ImportCustomers imports one call's rows. ADMIN, MANAGER and SALES
// import, each as they create customers (SALES own what they import; a
// grade in the file needs ADMIN or the team's MANAGER, as a manual grade
// does). A row's problems are in its result; the call fails only when the
// call itself is wrong, or when the server cannot take it now.
// Errors: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT (the call: its id,
// policy, row count or row numbers), UNAVAILABLE (the instance is serving
// ImportLimits.Calls imports already: retry shortly).
func (s *Service) ImportCustomers(ctx context.Context, in ImportInput) (*ImportResult, error) {
	u, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	if !u.HasRole(RoleAdmin) && !u.HasRole(RoleManager) && !u.HasRole(RoleSales) {
		return nil, Errorf(EFORBIDDEN, "only an admin, a manager or a salesperson may import customers")
	}
	if err := checkImport(&in); err != nil {
		return nil, err
	}
	release, err := s.importGate().enter()
	if err != nil {
		return nil, err
	}
	defer release()
	scope := AuditScopeFrom(ctx)
	scope.Operation, scope.Import = ImportOperation, in.ImportID
	run := &importRun{s: s, u: u, in: &in, seen: map[string]seenRow{}, owners: map[string]error{},
		res: &ImportResult{ImportID: in.ImportID, DryRun: in.DryRun, Rows: make([]ImportRowResult, len(in.Rows))}}
	return run.do(WithAuditScope(ctx, scope))
}

// ImportOperation is the operation an import's writes are audited under,
// whoever calls ImportCustomers: a customer's audit log, read through an
// index that does not hold the import's id, knows its entries by it.
const ImportOperation = "importCustomers"

// MaxImportIDLen bounds an import id, so that a row's idempotency key
// (importKey) stays within the 64 characters of a key.
const MaxImportIDLen = 40

// maxImportRowNumber is the last row a spreadsheet has (Excel's 1,048,576)
// and then some, for CSV files.
const maxImportRowNumber = 9_999_999

func checkImport(in *ImportInput) error {
	var c checker
	if len(in.ImportID) > MaxImportIDLen || !isIdempotencyKey(in.ImportID) {
		c.fail("input.importId", "must be 8 to %d letters, digits, '-', '_', '.' or ':'", MaxImportIDLen)
	}
	c.text("input.fileName", in.FileName, 0, MaxNameLen)
	if in.Duplicates == "" {
		in.Duplicates = DuplicateSkip
	}
	checkEnum(&c, "input.duplicates", in.Duplicates, DuplicatePolicies)
	switch n := len(in.Rows); {
	case n == 0:
		c.fail("input.rows", "must have at least one row")
	case n > MaxImportRows:
		c.fail("input.rows", "must have at most %d rows (got %d): send the rest in another call", MaxImportRows, n)
	}
	seen := map[int]bool{}
	for i, r := range in.Rows {
		f := fmt.Sprintf("input.rows[%d].row", i)
		switch {
		case r.Row < 1 || r.Row > maxImportRowNumber:
			c.fail(f, "must be the row's number in the file, 1 to %d", maxImportRowNumber)
		case seen[r.Row]:
			c.fail(f, "repeats row %d: each row of a file is sent once per call", r.Row)
		}
		seen[r.Row] = true
	}
	return c.result()
}

// ImportKeyWindow is how long a row's idempotency key is remembered:
// longer than other creates' (IdempotencyWindow), so that an import left
// interrupted over a holiday still finds what it wrote.
const ImportKeyWindow = 30 * 24 * time.Hour

// importKey is a row's idempotency key.
func importKey(importID string, row int) string { return "imp:" + importID + ":" + strconv.Itoa(row) }

// importRun is one importCustomers call under way.
type importRun struct {
	s   *Service
	u   *User
	in  *ImportInput
	res *ImportResult
	// done holds the customers that rows of an earlier, interrupted call
	// created, by row index.
	done map[int]string
	// seen remembers what this call's earlier rows hold (phone:, email:
	// and name: keys), so a row repeating an earlier one is its duplicate
	// even when nothing was written (a dry run) or the name index has not
	// caught up.
	seen map[string]seenRow
	// rows are the rows read and checked.
	rows []checkedRow
	// phoneHolders and emailHolders are who held the rows' phones and
	// emails when the call began.
	phoneHolders, emailHolders map[string]string
	// owners holds what checking each owner named in the call's rows
	// found (nil: a user who may own customers), so that rows naming the
	// same owner read the directory once.
	owners map[string]error
}

type seenRow struct {
	row      int
	customer *Customer // nil in a dry run
}

// importRowReserve is the time a row may take: no row starts when less
// than this is left of the request's time.
const importRowReserve = 3 * time.Second

func (r *importRun) do(ctx context.Context) (*ImportResult, error) {
	if !r.in.DryRun {
		var err error
		if r.done, err = r.s.importedBefore(ctx, r.u, r.in); err != nil {
			return nil, err
		}
	}
	// Every row is read and checked first: that reads no data. Then who
	// holds the phones and emails of the rows to write is read at once,
	// 100 values a call.
	r.rows = make([]checkedRow, len(r.in.Rows))
	var phones, emails []string
	for i := range r.in.Rows {
		var err error
		if r.rows[i], err = r.check(ctx, i); err != nil {
			return nil, fmt.Errorf("import %s row %d: %w", r.in.ImportID, r.in.Rows[i].Row, err)
		}
		if c := r.rows[i]; len(c.problems) == 0 {
			phones, emails = append(phones, c.customer.Phones...), append(emails, c.customer.Emails...)
		}
	}
	var err error
	if r.phoneHolders, r.emailHolders, err = r.s.Store.UniqueHolders(ctx, phones, emails); err != nil {
		return nil, err
	}
	stop := false
	for i := range r.in.Rows {
		res := &r.res.Rows[i]
		res.Row = r.in.Rows[i].Row
		if d, ok := ctx.Deadline(); stop || (ok && time.Until(d) < importRowReserve) {
			res.Status, stop = ImportRetry, true
			continue
		}
		out, err := r.row(ctx, i)
		switch {
		case err == nil:
			*res = out
			res.Row = r.in.Rows[i].Row
		case ErrorCode(err) == EUNAVAILABLE:
			// Throttled, or out of time: this row and the rest are sent
			// again; what this row wrote is found by its key then.
			res.Status, stop = ImportRetry, true
			r.res.Throttled = ctx.Err() == nil
		default:
			return nil, fmt.Errorf("import %s row %d: %w", r.in.ImportID, res.Row, err)
		}
	}
	return r.res, nil
}

// importedBefore reads the idempotency records of the call's rows: rows
// that an earlier call of the same import created.
func (s *Service) importedBefore(ctx context.Context, u *User, in *ImportInput) (map[int]string, error) {
	keys := make([]string, len(in.Rows))
	for i, row := range in.Rows {
		keys[i] = idempotencyKey(u, "createCustomer", importKey(in.ImportID, row.Row))
	}
	found, err := s.Store.IdempotencyRecords(ctx, keys)
	if err != nil {
		return nil, err
	}
	now := s.now()
	done := map[int]string{}
	for i, k := range keys {
		if rec, ok := found[k]; ok && rec.Expires.After(now) {
			done[i] = rec.ResultID
		}
	}
	return done, nil
}

// rowFault reports whether err is the row's own problem, reported in its
// result, rather than a failure of the call.
func rowFault(err error) bool {
	switch ErrorCode(err) {
	case EINVALID, EFORBIDDEN, EDUPLICATE, ECONFLICT, ENOTFOUND:
		return true
	}
	return false
}

// problems turns a domain error into the row's problems: the error and
// every further rule in its Also, their fields moved from the input of the
// single operation (input.phones[1]) to the row (input.rows[3].phones[1]).
func problems(prefix string, err error) []*Error {
	var e *Error
	if !errors.As(err, &e) {
		return []*Error{{Code: ErrorCode(err), Message: ErrorMessage(err)}}
	}
	var out []*Error
	for _, x := range append([]*Error{e}, e.Also...) {
		p := &Error{Code: x.Code, Field: x.Field, Message: x.Message, ExistingID: x.ExistingID}
		if rest, ok := strings.CutPrefix(p.Field, "input."); ok && prefix != "" {
			p.Field = prefix + "." + rest
		} else if p.Field != "" && prefix != "" {
			p.Field = prefix + "." + p.Field
		}
		out = append(out, p)
	}
	return out
}

func (r *importRun) rowPath(i int) string { return fmt.Sprintf("input.rows[%d]", i) }

// checkedRow is a row read and checked, before anything is written.
type checkedRow struct {
	in       CustomerInput
	contacts []ContactInput
	// customer is the customer createCustomer would make of the row,
	// normalized (phones, emails, tags).
	customer *Customer
	// problems are every rule the row breaks; none, and it is written.
	problems []*Error
}

// check reads row i and checks it by createCustomer's rules, reporting
// every rule it breaks. Only failures of the call (the user directory
// unavailable) are errors.
func (r *importRun) check(ctx context.Context, i int) (checkedRow, error) {
	path := r.rowPath(i)
	in, contacts, probs := r.read(i)
	c := newCustomer(in, r.u, "", r.s.now())
	if err := validateCustomer(c); err != nil {
		probs = append(probs, problems(path, err)...)
	}
	if err := checkInitialStage(c.Stage, in.StageReason, true); err != nil {
		probs = append(probs, problems(path, err)...)
	}
	for j := range contacts {
		ct := &Contact{Name: contacts[j].Name, Title: contacts[j].Title, Role: contacts[j].Role,
			Phones: slices.Clone(contacts[j].Phones), Emails: slices.Clone(contacts[j].Emails)}
		if err := validateContact(ct); err != nil {
			probs = append(probs, problems(fmt.Sprintf("%s.contacts[%d]", path, j), err)...)
		}
	}
	if in.OwnerID != nil && *in.OwnerID != "" {
		if err := r.checkOwner(ctx, path+".ownerId", *in.OwnerID); err != nil {
			if !rowFault(err) {
				return checkedRow{}, err
			}
			probs = append(probs, problems("", err)...)
		}
	}
	return checkedRow{in: in, contacts: contacts, customer: c, problems: probs}, nil
}

// checkOwner checks that ownerID may own customers (CheckAssignee), once
// per owner and call; field is the row's owner field.
func (r *importRun) checkOwner(ctx context.Context, field, ownerID string) error {
	err, ok := r.owners[ownerID]
	if !ok {
		err = r.s.CheckAssignee(ctx, "ownerId", ownerID, OwnerRoles...)
		if !rowFault(err) && err != nil {
			return err
		}
		r.owners[ownerID] = err
	}
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	moved := *e
	moved.Field = field
	return &moved
}

// row imports row i: a row that breaks no rule is found among what
// earlier calls of the import created, or its duplicate is looked for,
// and it is created, filled or skipped by the import's policy. Only
// failures of the call (the database unavailable, faults of ours) are
// errors.
func (r *importRun) row(ctx context.Context, i int) (ImportRowResult, error) {
	cr := r.rows[i]
	if len(cr.problems) > 0 {
		return ImportRowResult{Status: ImportRejected, Problems: cr.problems}, nil
	}
	// Checking read no data; from here the row costs the database.
	cost := 1.0
	if r.in.DryRun {
		cost = dryRunCost
	}
	if err := r.s.importGate().pace(ctx, cost); err != nil {
		return ImportRowResult{}, err
	}
	if id, ok := r.done[i]; ok {
		return r.replayed(ctx, i, id, cr.contacts)
	}
	dup, err := r.duplicate(ctx, i, cr.customer)
	if err != nil {
		return ImportRowResult{}, err
	}
	return r.apply(ctx, i, cr.in, cr.customer, cr.contacts, dup)
}

// create creates row i's customer (in; c is the row checked) and its
// contacts; dup is the customer a FLAG row duplicates.
func (r *importRun) create(ctx context.Context, i int, in CustomerInput, c *Customer, contacts []ContactInput, dup *duplicate) (ImportRowResult, error) {
	path := r.rowPath(i)
	row := r.in.Rows[i]
	in.IdempotencyKey = importKey(r.in.ImportID, row.Row)
	in.imported = &importOrigin{dry: r.in.DryRun,
		reason: fmt.Sprintf("given in %s, row %d (import %s)", r.fileName(), row.Row, r.in.ImportID)}
	made, err := r.s.CreateCustomer(ctx, in)
	if err != nil {
		if !rowFault(err) {
			return ImportRowResult{}, err
		}
		var e *Error
		if errors.As(err, &e) && e.Code == EDUPLICATE && dup == nil && e.ExistingID != "" {
			// Taken since the look-up: the policy applies to its holder.
			if holder, rerr := r.s.readable(ctx, r.u, e.ExistingID); rerr == nil {
				field := strings.TrimPrefix(e.Field, "input.")
				return r.apply(ctx, i, in, c, contacts, &duplicate{existing: holder, field: field, value: listValue(c, field)})
			}
		}
		return ImportRowResult{Status: ImportRejected, Problems: problems(path, err)}, nil
	}
	r.remember(i, made, createdOrNil(made, r.in.DryRun))
	out := ImportRowResult{Status: ImportCreated, CustomerID: made.ID}
	if dup != nil {
		out = dup.result(path, ImportFlagged)
		out.CustomerID = made.ID
	}
	if r.in.DryRun {
		out.CustomerID = ""
		return out, nil
	}
	probs, err := r.addContacts(ctx, i, made.ID, contacts)
	out.Problems = append(out.Problems, probs...)
	return out, err
}

func createdOrNil(c *Customer, dry bool) *Customer {
	if dry {
		return nil
	}
	return c
}

// fieldValues is the list of c's unique values a path such as phones[1]
// or creditCode names, and whether it names one.
func fieldValues(c *Customer, field string) ([]string, bool) {
	switch {
	case strings.HasPrefix(field, "phones["):
		return c.Phones, true
	case strings.HasPrefix(field, "emails["):
		return c.Emails, true
	case field == "creditCode":
		return []string{c.CreditCode}, true
	}
	return nil, false
}

// listValue is the value at a path such as phones[1] or creditCode of c.
func listValue(c *Customer, field string) string {
	list, ok := fieldValues(c, field)
	switch {
	case !ok:
		return ""
	case field == "creditCode": // one value, not a list
		return c.CreditCode
	}
	k, err := strconv.Atoi(strings.TrimSuffix(field[strings.IndexByte(field, '[')+1:], "]"))
	if err != nil || k < 0 || k >= len(list) {
		return ""
	}
	return list[k]
}

func (r *importRun) fileName() string {
	if r.in.FileName == "" {
		return "the imported file"
	}
	return r.in.FileName
}

// replayed answers a row an earlier call of the import created: the
// customer it made, and the contacts that call may not have reached.
func (r *importRun) replayed(ctx context.Context, i int, id string, contacts []ContactInput) (ImportRowResult, error) {
	c, err := r.s.readable(ctx, r.u, id)
	if err != nil {
		if rowFault(err) {
			return ImportRowResult{Status: ImportRejected, Problems: []*Error{{Code: ECONFLICT,
				Message: fmt.Sprintf("this row was imported before as customer %s, which you can no longer read", id)}}}, nil
		}
		return ImportRowResult{}, err
	}
	out := ImportRowResult{Status: ImportCreated, CustomerID: c.ID}
	if k := slices.IndexFunc(c.Attributes, func(a Attribute) bool { return a.Key == DuplicateOfAttribute }); k >= 0 &&
		slices.Contains(c.Tags, MergeCandidateTag) {
		out.Status, out.ExistingID = ImportFlagged, c.Attributes[k].Value
	}
	r.remember(i, c, c)
	// The contacts the earlier call added are there by name; the others
	// are added (a contact's key is remembered only a day).
	have, err := r.s.Store.Contacts(ctx, c.ID)
	if err != nil {
		return ImportRowResult{}, err
	}
	var missing []int
	for j, ct := range contacts {
		if !slices.ContainsFunc(have, func(h *Contact) bool { return h.Name == strings.TrimSpace(ct.Name) }) {
			missing = append(missing, j)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	probs, err := r.addContacts(ctx, i, c.ID, contacts, missing...)
	out.Problems = append(out.Problems, probs...)
	return out, err
}

// addContacts adds a row's contacts to its customer (those of only, when
// given), the first as the primary contact, each with its own idempotency
// key.
func (r *importRun) addContacts(ctx context.Context, i int, customerID string, contacts []ContactInput, only ...int) ([]*Error, error) {
	var probs []*Error
	for j, ct := range contacts {
		if only != nil && !slices.Contains(only, j) {
			continue
		}
		ct.IdempotencyKey = fmt.Sprintf("%s:c%d", importKey(r.in.ImportID, r.in.Rows[i].Row), j+1)
		ct.Primary = j == 0
		if _, err := r.s.AddContact(ctx, customerID, ct); err != nil {
			if !rowFault(err) {
				return probs, err
			}
			probs = append(probs, problems(fmt.Sprintf("%s.contacts[%d]", r.rowPath(i), j), err)...)
		}
	}
	return probs, nil
}
