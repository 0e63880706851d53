package dynamo_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/oklog/ulid/v2"

	"github.com/rapportcrm/rapport/crm"
	"github.com/rapportcrm/rapport/dynamo"
	"github.com/rapportcrm/rapport/metrics"
	"github.com/rapportcrm/rapport/stream"
)

// storeWith is a store over e's table whose calls go through intercept
// first: it answers a call itself by returning handled true.
func storeWith(e *env, intercept func(ctx context.Context, params any, next func() (any, error)) (out any, handled bool, err error)) *dynamo.Store {
	return dynamo.New(dynamodb.New(e.db.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("intercept",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					var meta middleware.Metadata
					pass := func() (any, error) {
						out, m, err := next.HandleInitialize(ctx, in)
						meta = m
						return out.Result, err
					}
					if out, handled, err := intercept(ctx, in.Parameters, pass); handled {
						return middleware.InitializeOutput{Result: out}, meta, err
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}), e.table, []byte(strings.Repeat("k", 32)))
}

// putSK is the sort key of the item a PutItem call writes, "" for another
// call.
func putSK(params any) string {
	p, ok := params.(*dynamodb.PutItemInput)
	if !ok {
		return ""
	}
	sk, _ := p.Item["sk"].(*types.AttributeValueMemberS)
	if sk == nil {
		return ""
	}
	return sk.Value
}

// stopsAfterItsInteraction is a store whose requests stop after writing
// an interaction: every other put fails.
func stopsAfterItsInteraction(e *env) *dynamo.Store {
	return storeWith(e, func(_ context.Context, params any, _ func() (any, error)) (any, bool, error) {
		if putSK(params) != "" && !isInteractionPut(params) {
			return nil, true, errors.New("the request stopped")
		}
		return nil, false, nil
	})
}

func isInteractionPut(params any) bool { return strings.HasPrefix(putSK(params), "I#") }

func complaint(customerID, key string) crm.InteractionInput {
	return crm.InteractionInput{CustomerID: customerID, Channel: crm.ChannelCallCenter, Direction: crm.Inbound,
		Type: crm.TypeComplaint, Subject: "Billing error", Content: "Charged twice for November", IdempotencyKey: key}
}

// auditOf is the customer's audit entries that record the interaction id.
func auditOf(t *testing.T, e *env, customerID, id string) []*crm.AuditEntry {
	t.Helper()
	page, err := e.svc.AuditLog(as(admin), crm.AuditFilter{CustomerID: customerID}, crm.PageRequest{First: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []*crm.AuditEntry
	for _, a := range page.Items {
		for _, c := range a.Changes {
			if c.Entity == "interaction" && c.ID == id {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// A logged complaint is written as single puts, not a transaction: the
// interaction, then its case and its audit entry, all there when the
// request returns.
func TestALoggedComplaintIsWrittenWithoutATransaction(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Complains", Team: "north", Grade: "A"})
	var mu sync.Mutex
	var calls []string
	svc := crm.NewService(storeWith(e, func(_ context.Context, params any, _ func() (any, error)) (any, bool, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, strings.TrimPrefix(reflect.TypeOf(params).String(), "*dynamodb."))
		return nil, false, nil
	}))
	it, err := svc.LogInteraction(as(admin), complaint(c.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	for _, call := range calls {
		if call == "TransactWriteItemsInput" {
			t.Errorf("logging a complaint made a transaction: %v", calls)
		}
	}
	mu.Unlock()
	cs, err := e.store.Case(as(admin), c.ID, it.ID)
	if err != nil || cs.Status != crm.CaseOpen || cs.Priority != crm.PriorityNormal || !cs.DueAt.Equal(it.CreatedAt.Add(4*3600e9)) {
		t.Fatalf("the complaint's case: %+v %v", cs, err)
	}
	entries := auditOf(t, e, c.ID, it.ID)
	if len(entries) != 1 || len(entries[0].Changes) != 2 || entries[0].Changes[1].Entity != "case" || entries[0].Actor != admin.ID {
		t.Fatalf("the complaint's audit entries: %+v", entries)
	}
	e.mustHoldInvariants(t)
}

// recordingFinisher passes what the stream asks its store to finish on,
// and keeps it, to deliver it again.
type recordingFinisher struct {
	*dynamo.Store
	mu   sync.Mutex
	seen []stream.Change
}

func (r *recordingFinisher) FinishAppends(ctx context.Context, changes []stream.Change) error {
	r.mu.Lock()
	r.seen = append(r.seen, changes...)
	r.mu.Unlock()
	return r.Store.FinishAppends(ctx, changes)
}

// A request that stops after its interaction leaves the case and the audit
// entry to the stream, which writes them exactly as the request would
// have, once however often the records come.
func TestAnAppendItsRequestLeftUnfinishedIsFinishedByTheStream(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Complains", Team: "north", Grade: "A"})
	e.drain(t)
	var mu sync.Mutex
	withheld := map[string]map[string]types.AttributeValue{}
	stopped := storeWith(e, func(_ context.Context, params any, _ func() (any, error)) (any, bool, error) {
		if sk := putSK(params); sk != "" && !isInteractionPut(params) {
			mu.Lock()
			withheld[sk] = params.(*dynamodb.PutItemInput).Item
			mu.Unlock()
			return nil, true, errors.New("the request stopped")
		}
		return nil, false, nil
	})
	usage := &metrics.Usage{}
	it, err := crm.NewService(stopped).LogInteraction(metrics.WithUsage(crm.WithAuditScope(as(admin), crm.AuditScope{Operation: "logInteraction", RequestID: "req-1"}), usage),
		complaint(c.ID, ""))
	if err != nil {
		t.Fatalf("a request whose interaction is in: %v, want it done", err)
	}
	if len(withheld) != 2 {
		t.Fatalf("withheld %d items, want the case and the audit entry", len(withheld))
	}
	if n := usage.LeftToStream(); n != 2 {
		t.Fatalf("the request's usage counts %d writes left to the stream, want 2", n)
	}
	if _, err := e.store.Case(as(admin), c.ID, it.ID); code(err) != crm.ENOTFOUND {
		t.Fatalf("the case before the stream: %v, want none", err)
	}

	rec := &recordingFinisher{Store: e.store}
	e.consumer.Consumer.Store = rec
	e.drain(t)
	for sk, want := range withheld {
		out, err := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": want["pk"], "sk": want["sk"]}})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out.Item, want) {
			t.Errorf("%s written by the stream:\n%v\nthe request's:\n%v", sk, out.Item, want)
		}
	}
	entries := auditOf(t, e, c.ID, it.ID)
	if len(entries) != 1 || entries[0].Operation != "logInteraction" || entries[0].RequestID != "req-1" {
		t.Fatalf("audit entries of the interaction: %+v", entries)
	}

	// Delivered again: nothing more.
	if err := rec.Store.FinishAppends(t.Context(), rec.seen); err != nil {
		t.Fatal(err)
	}
	if n := len(auditOf(t, e, c.ID, it.ID)); n != 1 {
		t.Fatalf("%d audit entries after the records came again, want 1", n)
	}
	e.mustHoldInvariants(t)
}

// A request that stops between its key's record and its interaction
// leaves the key naming an interaction that does not exist: the retry
// writes it under that id, once.
func TestARetryWritesTheInteractionItsKeysFirstRequestDidNot(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Complains", Team: "north", Grade: "A"})
	stopped := storeWith(e, func(_ context.Context, params any, _ func() (any, error)) (any, bool, error) {
		if isInteractionPut(params) {
			return nil, true, errors.New("the request stopped")
		}
		return nil, false, nil
	})
	if _, err := crm.NewService(stopped).LogInteraction(as(admin), complaint(c.ID, "complaint-retry-1")); err == nil {
		t.Fatal("the stopped request succeeded")
	}
	it, err := e.svc.LogInteraction(as(admin), complaint(c.ID, "complaint-retry-1"))
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	again, err := e.svc.LogInteraction(as(admin), complaint(c.ID, "complaint-retry-1"))
	if err != nil || again.ID != it.ID {
		t.Fatalf("the retry's retry: %v, %v, want %s", again, err, it.ID)
	}
	if at := ulid.Time(ulid.MustParse(it.ID).Time()); !it.OccurredAt.Equal(at) {
		t.Errorf("occurred at %v, its id says %v", it.OccurredAt, at)
	}
	page, err := e.svc.Interactions(as(admin), c.ID, crm.TimeRange{}, crm.PageRequest{First: 10})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != it.ID {
		t.Fatalf("interactions: %v %v, want %s alone", page, err, it.ID)
	}
	if _, err := e.store.Case(as(admin), c.ID, it.ID); err != nil {
		t.Fatalf("the case: %v", err)
	}
	if n := len(auditOf(t, e, c.ID, it.ID)); n != 1 {
		t.Fatalf("%d audit entries, want 1", n)
	}
	e.mustHoldInvariants(t)
}

// A put whose answer is lost after it went in is asked again: its
// condition then fails on the request's own interaction, which is done,
// and the request writes its case and audit entry.
func TestAnInteractionWhoseAnswerWasLostIsTheRequestsOwn(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Complains", Team: "north", Grade: "A"})
	var lost sync.Once
	flaky := storeWith(e, func(_ context.Context, params any, next func() (any, error)) (any, bool, error) {
		if !isInteractionPut(params) {
			return nil, false, nil
		}
		handled := false
		lost.Do(func() { handled = true })
		if !handled {
			return nil, false, nil
		}
		if _, err := next(); err != nil {
			return nil, true, err
		}
		return nil, true, errors.New("connection reset after the put went in")
	})
	it, err := crm.NewService(flaky).LogInteraction(as(admin), complaint(c.ID, ""))
	if err != nil {
		t.Fatalf("a put that went in: %v, want it done", err)
	}
	if _, err := e.store.Case(as(admin), c.ID, it.ID); err != nil {
		t.Fatalf("the case: %v", err)
	}
	if n := len(auditOf(t, e, c.ID, it.ID)); n != 1 {
		t.Fatalf("%d audit entries, want 1", n)
	}
	e.mustHoldInvariants(t)
}

// A merge moves a customer's cases: a record of the merged customer's
// interaction coming again afterwards puts no case back under it, which
// would be moved again over the survivor's copy. A complaint whose request
// stopped before its case, merged before the stream took it, gets its case
// under the survivor, from the record of its interaction's copy there.
func TestAMergedCustomersAppendsAreFinishedUnderTheSurvivor(t *testing.T) {
	e := mustEnv(t)
	sv := mustCreate(t, e, admin, crm.CustomerInput{Name: "Survivor", Team: "north", Grade: "A"})
	m := mustCreate(t, e, admin, crm.CustomerInput{Name: "Merged", Team: "north", Grade: "A"})
	e.drain(t)
	rec := &recordingFinisher{Store: e.store}
	e.consumer.Consumer.Store = rec
	done, err := e.svc.LogInteraction(as(admin), complaint(m.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	moved, err := e.svc.MoveCase(as(admin), m.ID, done.ID, 1, crm.CaseMove{To: crm.CaseTriaged})
	if err != nil {
		t.Fatal(err)
	}
	seen := rec.seen
	stopped := stopsAfterItsInteraction(e)
	left, err := crm.NewService(stopped).LogInteraction(as(admin), complaint(m.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	m, _ = e.svc.Customer(as(admin), m.ID)
	sv, _ = e.svc.Customer(as(admin), sv.ID)
	mustMerge(t, e, admin, sv, m)
	e.drain(t)
	if err := e.store.FinishAppends(t.Context(), seen); err != nil {
		t.Fatal(err)
	}
	if got := e.collection(t, m.ID); got["D"] > 0 || got["I"] > 0 {
		t.Fatalf("under the merged customer: %v", got)
	}
	c, err := e.store.Case(as(admin), sv.ID, done.ID)
	if err != nil || c.Status != crm.CaseTriaged || c.Version != moved.Version {
		t.Fatalf("the survivor's case: %+v %v, want it as moved", c, err)
	}
	if c, err := e.store.Case(as(admin), sv.ID, left.ID); err != nil || c.Status != crm.CaseOpen || c.CustomerID != sv.ID {
		t.Fatalf("the stopped request's case: %+v %v, want it open under the survivor", c, err)
	}
	if n := len(auditOf(t, e, m.ID, left.ID)); n != 1 {
		t.Fatalf("%d audit entries of the stopped request's interaction, want 1", n)
	}
	e.mustHoldInvariants(t)
}

// An interaction put that goes in and whose every answer, the resend's
// too, is lost ends UNAVAILABLE saying it may have been applied; it was,
// and the retry with its key returns it. One never sent ends saying it
// was not, and frees its key for another request.
func TestAnInteractionPutsOutcomeIsToldAsKnown(t *testing.T) {
	e := mustEnv(t)
	c := mustCreate(t, e, admin, crm.CustomerInput{Name: "Complains", Team: "north", Grade: "A"})
	unanswered := storeWith(e, func(_ context.Context, params any, next func() (any, error)) (any, bool, error) {
		if !isInteractionPut(params) {
			return nil, false, nil
		}
		_, _ = next()
		return nil, true, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	})
	_, err := crm.NewService(unanswered).LogInteraction(as(admin), complaint(c.ID, "unanswered-0001"))
	var de *crm.Error
	if !asErr(err, &de) || de.Code != crm.EUNAVAILABLE || de.Applied != crm.AppliedUnknown {
		t.Fatalf("every answer lost: %v, want UNAVAILABLE, applied UNKNOWN", err)
	}
	it, err := e.svc.LogInteraction(as(admin), complaint(c.ID, "unanswered-0001"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.svc.Interactions(as(admin), c.ID, crm.TimeRange{}, crm.PageRequest{First: 10})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != it.ID {
		t.Fatalf("interactions: %v %v, want %s alone", page, err, it.ID)
	}

	unsent := storeWith(e, func(_ context.Context, params any, _ func() (any, error)) (any, bool, error) {
		if isInteractionPut(params) {
			return nil, true, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		}
		return nil, false, nil
	})
	_, err = crm.NewService(unsent).LogInteraction(as(admin), complaint(c.ID, "unsent-0001"))
	if !asErr(err, &de) || de.Code != crm.EUNAVAILABLE || de.Applied != crm.AppliedNo {
		t.Fatalf("never sent: %v, want UNAVAILABLE, applied NO", err)
	}
	other := complaint(c.ID, "unsent-0001")
	other.Subject = "Another request with the key"
	if _, err := e.svc.LogInteraction(as(admin), other); err != nil {
		t.Fatalf("another request with the key of one not applied: %v", err)
	}
	e.mustHoldInvariants(t)
}

// While a merge is moving the merged customer's items, its survivor's copy
// of a stopped complaint gets no case from the stream as long as the merged
// customer still holds the case: the merge moves that one, and a second
// would stop the move or be overwritten by it. Once the merged customer
// holds none, the stream puts it under the survivor.
func TestASurvivorGetsNoCaseWhileTheMergedCustomerStillHoldsIt(t *testing.T) {
	e := mustEnv(t)
	sv := mustCreate(t, e, admin, crm.CustomerInput{Name: "Survivor", Team: "north", Grade: "A"})
	m := mustCreate(t, e, admin, crm.CustomerInput{Name: "Merged", Team: "north", Grade: "A"})
	stopped := stopsAfterItsInteraction(e)
	left, err := crm.NewService(stopped).LogInteraction(as(admin), complaint(m.ID, ""))
	if err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	rec := &recordingFinisher{Store: e.store}
	e.consumer.Consumer.Store = rec
	m, _ = e.svc.Customer(as(admin), m.ID)
	sv, _ = e.svc.Customer(as(admin), sv.ID)
	mustMerge(t, e, admin, sv, m)
	e.drain(t)
	var copies []stream.Change
	for _, ch := range rec.seen {
		if ch.Unfinished != nil {
			copies = append(copies, ch)
		}
	}
	if len(copies) != 1 {
		t.Fatalf("%d unfinished records after the merge, want the survivor's copy of the interaction", len(copies))
	}

	// The merge's move of the case, not done yet: it is under the merged
	// customer again.
	key := func(id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "CUST#" + id},
			"sk": &types.AttributeValueMemberS{Value: "D#" + left.ID}}
	}
	got, err := e.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &e.table, Key: key(sv.ID), ConsistentRead: aws.Bool(true)})
	if err != nil || got.Item == nil {
		t.Fatalf("the case the merge moved: %v %v", got, err)
	}
	caseItem := got.Item
	caseItem["pk"] = key(m.ID)["pk"]
	if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table, Key: key(sv.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &e.table, Item: caseItem}); err != nil {
		t.Fatal(err)
	}

	if err := e.store.FinishAppends(t.Context(), copies); err != nil {
		t.Fatal(err)
	}
	if c, err := e.store.Case(as(admin), sv.ID, left.ID); code(err) != crm.ENOTFOUND {
		t.Fatalf("the survivor's case while the merged customer holds it: %+v %v, want none", c, err)
	}

	if _, err := e.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &e.table, Key: key(m.ID)}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.FinishAppends(t.Context(), copies); err != nil {
		t.Fatal(err)
	}
	if c, err := e.store.Case(as(admin), sv.ID, left.ID); err != nil || c.Status != crm.CaseOpen || c.CustomerID != sv.ID {
		t.Fatalf("the survivor's case once the merged customer holds none: %+v %v, want it open", c, err)
	}
	// The activity's counts are not checked: the raw writes above stand
	// for the merge's moves, which the stream counts as moves.
	if got := e.collection(t, m.ID); got["D"] > 0 || got["I"] > 0 {
		t.Fatalf("under the merged customer: %v", got)
	}
}

// A keyed retry that read its customer before a merge began, and found
// the first request's interaction gone (the merge moved it), is refused
// when it writes it again: under the merged customer it would be moved
// once more over the survivor's copy. It is answered as any write to a
// merged customer is, naming the survivor.
func TestAResumedInteractionIsNotWrittenUnderAMergedCustomer(t *testing.T) {
	e := mustEnv(t)
	sv := mustCreate(t, e, admin, crm.CustomerInput{Name: "Survivor", Team: "north", Grade: "A"})
	m := mustCreate(t, e, admin, crm.CustomerInput{Name: "Merged", Team: "north", Grade: "A"})
	first, err := e.svc.LogInteraction(as(admin), complaint(m.ID, "resume-merged-1"))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := e.svc.Customer(as(admin), m.ID)
	sv, _ = e.svc.Customer(as(admin), sv.ID)
	mustMerge(t, e, admin, sv, before)
	e.drain(t)

	// The retry's write, after its reads saw the customer writable and
	// no interaction under it.
	again := *first
	err = e.store.Apply(as(admin), &crm.Change{Scope: before, Interaction: &again, Idempotency: &crm.Idempotency{
		Key: "resume-merged-1", ResultID: first.ID, RequestHash: "h", Expires: time.Now().Add(time.Hour), Resume: true}})
	var ce *crm.Error
	if !asErr(err, &ce) || ce.Code != crm.ECONFLICT || ce.ExistingID != sv.ID {
		t.Fatalf("resuming under the merged customer: %v, want CONFLICT naming %s", err, sv.ID)
	}
	if got := e.collection(t, m.ID); got["I"] > 0 || got["D"] > 0 {
		t.Fatalf("under the merged customer: %v", got)
	}
	if it, err := e.store.Interaction(as(admin), crm.InteractionKey{CustomerID: sv.ID, ID: first.ID}); err != nil || it.Subject != first.Subject {
		t.Fatalf("the survivor's copy: %+v %v", it, err)
	}
	e.mustHoldInvariants(t)
}
