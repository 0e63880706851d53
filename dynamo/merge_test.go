package dynamo_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/oklog/ulid/v2"

	"github.com/rapportcrm/rapport/crm"
)

// mergeEnv is a service over a fresh table whose items a test can read
// directly, to count what a merge moved.
type mergeEnv struct {
	*env
	db    *dynamodb.Client
	table string
}

func mustMergeEnv(t *testing.T) *mergeEnv {
	t.Helper()
	e := mustEnv(t)
	return &mergeEnv{env: e, db: e.db, table: e.table}
}

// collection counts the items under a customer's key by kind (the sort key
// up to its '#'), and fails on an item whose customerId is not the key's.
func (e *env) collection(t *testing.T, id string) map[string]int {
	t.Helper()
	out := map[string]int{}
	q := &dynamodb.QueryInput{TableName: &e.table, KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "CUST#" + id}}}
	for {
		res, err := e.db.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			sk := it["sk"].(*types.AttributeValueMemberS).Value
			if c, ok := it["customerId"].(*types.AttributeValueMemberS); ok && c.Value != id {
				t.Fatalf("item %s under customer %s names customer %s", sk, id, c.Value)
			}
			if i := strings.LastIndex(sk, "#"); i >= 0 {
				sk = sk[:i+1]
			}
			out[sk]++
		}
		if q.ExclusiveStartKey = res.LastEvaluatedKey; q.ExclusiveStartKey == nil {
			return out
		}
	}
}

// seedNotes writes n notes straight into a customer's timeline, as
// LogInteraction writes them (with the customer's scope, for the stream to
// count them), in a few calls.
func (e *mergeEnv) seedNotes(t *testing.T, customerID string, n int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var puts []types.WriteRequest
	c := mustCustomer(t, e.env, customerID)
	for i := range n {
		at := now.Add(-time.Duration(i+1) * time.Hour)
		id := ulid.MustNew(ulid.Timestamp(at), rand.Reader).String()
		item, err := attributevalue.MarshalMap(map[string]any{"scope": map[string]any{"owner": c.OwnerID, "team": c.Team, "grade": c.Grade.Level}, "pk": "CUST#" + customerID, "sk": "I#" + id, "type": "interaction",
			"id": id, "customerId": customerID, "channel": "EMAIL", "direction": "OUTBOUND", "kind": "NOTE",
			"subject": fmt.Sprint("note ", i), "occurredAt": at, "version": 1, "createdAt": at, "createdBy": admin.ID,
			"updatedAt": at, "updatedBy": admin.ID})
		if err != nil {
			t.Fatal(err)
		}
		puts = append(puts, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	for start := 0; start < len(puts); start += 25 {
		pending := map[string][]types.WriteRequest{e.table: puts[start:min(start+25, len(puts))]}
		for len(pending) > 0 {
			res, err := e.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				t.Fatal(err)
			}
			pending = res.UnprocessedItems
		}
	}
	// The stream counts them, as it counts logged ones.
	e.drain(t)
}

// history gives a customer contacts, interactions (one a complaint, which
// opens a case), a grade change, a stage change and an evaluation.
func history(t *testing.T, e *env, c *crm.Customer, contacts, interactions int, tpl *crm.Template) {
	t.Helper()
	ctx := as(admin)
	for i := range contacts {
		if _, err := e.svc.AddContact(ctx, c.ID, crm.ContactInput{Name: fmt.Sprint(c.Name, " contact ", i), Primary: i == 0}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range interactions {
		typ := crm.TypeCall
		if i == 0 {
			typ = crm.TypeComplaint
		}
		if _, err := e.svc.LogInteraction(ctx, crm.InteractionInput{CustomerID: c.ID, Channel: crm.ChannelPhone,
			Type: typ, Subject: fmt.Sprint(c.Name, " call ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.SetGrade(ctx, c.ID, "B", "good prospect", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChangeStage(ctx, c.ID, crm.StageFormation, "first deal", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SubmitEvaluation(as(manager), crm.EvaluationInput{CustomerID: c.ID, TemplateID: tpl.ID,
		Kind: crm.EvalInternalReview, Scores: []crm.IndicatorScore{{Key: "satisfied", Value: 80}}}); err != nil {
		t.Fatal(err)
	}
}

func mustTemplate(t *testing.T, e *env) *crm.Template {
	t.Helper()
	tpl, err := e.svc.CreateTemplate(as(admin), crm.TemplateInput{Name: "Satisfaction", Indicators: []crm.Indicator{
		{Key: "satisfied", Name: "Satisfied", Dimension: crm.DimSatisfaction, Weight: 1, ScaleMin: 0, ScaleMax: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func mustMerge(t *testing.T, e *env, u *crm.User, sv, m *crm.Customer) *crm.MergeResult {
	t.Helper()
	res, err := e.svc.MergeCustomers(as(u), crm.MergeInput{SurvivorID: sv.ID, MergedID: m.ID,
		ExpectedSurvivorVersion: sv.Version, ExpectedMergedVersion: m.Version, Reason: "same company entered twice"})
	if err != nil {
		t.Fatalf("merge: %v", err)
	}
	return res
}

// total lists what u sees of f and reads its counter.
func total(t *testing.T, e *env, u *crm.User, f crm.CustomerFilter) (listed, counted int) {
	t.Helper()
	e.drain(t)
	page, err := e.svc.Customers(as(u), f, crm.PageRequest{First: 100})
	if err != nil {
		t.Fatal(err)
	}
	n, err := page.Total(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items), n
}

func TestMergeMovesTheWholeHistoryToTheSurvivor(t *testing.T) {
	e := mustMergeEnv(t)
	tpl := mustTemplate(t, e.env)
	sv := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "Acme Power", Team: "north", Region: "north",
		Phones: []string{"+8613800000001"}, Emails: []string{"ops@acme.cn"}, Tags: []string{"vip"}})
	m := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "ACME Power Co.", Team: "north", Region: "north", Industry: "utilities",
		Phones: []string{"+8613800000002"}, Emails: []string{"sales@acme.cn"}, Tags: []string{"vip", "steel"}})
	history(t, e.env, sv, 1, 3, tpl)
	history(t, e.env, m, 2, 4, tpl)
	for _, deal := range []struct {
		id     string
		amount float64
	}{{sv.ID, 100.5}, {m.ID, 200.25}, {m.ID, 50}} {
		if _, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: deal.id, Channel: crm.ChannelVisit,
			Type: crm.TypeTransaction, Amount: ptr(deal.amount), Currency: "CNY", OccurredAt: ptr(time.Now().Add(-time.Hour))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.UpdateCustomer(as(admin), m.ID, mustCustomer(t, e.env, m.ID).Version, crm.CustomerUpdate{
		NextFollowUpAt: ptr(time.Now().Add(48 * time.Hour).UTC().Truncate(time.Millisecond))}); err != nil {
		t.Fatal(err)
	}
	sv, m = mustCustomer(t, e.env, sv.ID), mustCustomer(t, e.env, m.ID)
	before, mergedHistory := map[string]int{}, 0
	for _, id := range []string{sv.ID, m.ID} {
		for kind, n := range e.collection(t, id) {
			before[kind] += n
			if id == m.ID && kind != "~P" && kind != "~S" && kind != "#T#" && !strings.HasPrefix(kind, "#W#") {
				mergedHistory += n
			}
		}
	}
	mergedGrades := e.collection(t, m.ID)["G#"]
	if l, n := total(t, e.env, admin, crm.CustomerFilter{}); l != 2 || n != 2 {
		t.Fatalf("before: %d listed, %d counted", l, n)
	}

	res := mustMerge(t, e.env, admin, sv, m)
	// contacts, interactions, grade change, stage change, case, evaluation
	if res.Moved != mergedHistory || mergedHistory < 2+6+1+1+1+1 {
		t.Errorf("moved %d items, want %d", res.Moved, mergedHistory)
	}

	// Every history item is now the survivor's, none lost, none twice.
	after := e.collection(t, sv.ID)
	for _, kind := range []string{"~C#", "I#", "G#", "H#", "D#", "E#"} {
		if after[kind] != before[kind] {
			t.Errorf("survivor holds %d %s items, want %d", after[kind], kind, before[kind])
		}
	}
	if after["F#"] != 1 || after["#T#"] != 2 {
		t.Errorf("survivor: %d merge records, %d tag entries; want 1 and 2", after["F#"], after["#T#"])
	}
	if left := e.collection(t, m.ID); len(left) != 3 || left["~P"] != 1 || left["F#"] != 1 || left["~S"] != 1 {
		t.Errorf("tombstone's collection: %v, want its profile, its (forwarding) activity and merge record only", left)
	}

	got := mustCustomer(t, e.env, sv.ID)
	switch {
	case got.InteractionCount != 10 || got.ContactCount != 3 || got.OpenCaseCount != 2 || len(got.OpenCases) != 2:
		t.Errorf("counters: %d interactions, %d contacts, %d open cases; want 10, 3, 2", got.InteractionCount, got.ContactCount, got.OpenCaseCount)
	case got.Transactions.Count != 3 || got.Transactions.Total != 350.75 || got.ValueScore == nil:
		t.Errorf("transactions %+v, value score %v; want 3 summing to 350.75", got.Transactions, got.ValueScore)
	case fmt.Sprint(got.Phones) != "[+8613800000001 +8613800000002]" || fmt.Sprint(got.Emails) != "[ops@acme.cn sales@acme.cn]":
		t.Errorf("phones %v, emails %v", got.Phones, got.Emails)
	case fmt.Sprint(got.Tags) != "[vip steel]" || got.Industry != "utilities" || got.Name != "Acme Power":
		t.Errorf("profile: tags %v, industry %q, name %q", got.Tags, got.Industry, got.Name)
	case !got.LastInteractionAt.Equal(*m.LastInteractionAt) || got.LastInteractionID != m.LastInteractionID:
		t.Errorf("latest interaction %s, want the merged customer's %s", got.LastInteractionID, m.LastInteractionID)
	case got.FollowUpAsked == nil || !got.FollowUpAsked.Equal(*m.FollowUpAsked) || got.NextFollowUpAt != nil:
		// Both are pool customers: the date asked for moves, and no
		// follow-up is planned.
		t.Errorf("follow-up asked %v, next %v; want %v and none", got.FollowUpAsked, got.NextFollowUpAt, m.FollowUpAsked)
	case len(got.RecentEvaluations) != 2 || got.RecentEvaluations[0].CustomerID != sv.ID || got.SatisfactionIndex == nil:
		t.Errorf("recent evaluations %+v", got.RecentEvaluations)
	case got.MergingFrom != "" || got.Version != sv.Version+2:
		t.Errorf("survivor marks: mergingFrom %q, version %d", got.MergingFrom, got.Version)
	}

	// The 360 view and the lists show the merged history.
	v, err := e.svc.Customer360(as(admin), sv.ID, 20)
	if err != nil || len(v.Contacts) != 3 || len(v.RecentInteractions) != 10 {
		t.Fatalf("360: %v, %d contacts, %d interactions", err, len(v.Contacts), len(v.RecentInteractions))
	}
	primaries := 0
	for _, c := range v.Contacts {
		if c.Primary {
			primaries++
		}
	}
	if primaries != 1 {
		t.Errorf("%d primary contacts, want the survivor's one", primaries)
	}
	grades, _ := e.svc.GradeHistory(as(admin), sv.ID, crm.PageRequest{First: crm.DefaultPageSize})
	fromMerged := 0
	for _, g := range grades.Items {
		if g.CustomerID != sv.ID {
			t.Errorf("grade change %s names %s", g.ID, g.CustomerID)
		}
		if g.MergedFrom == m.ID {
			fromMerged++
		}
	}
	if len(grades.Items) != before["G#"] || fromMerged != mergedGrades {
		t.Errorf("grade history: %d entries, %d marked as the merged customer's; want %d and %d", len(grades.Items), fromMerged, before["G#"], mergedGrades)
	}
	if g, err := e.svc.GradeAt(as(admin), sv.ID, time.Now()); err != nil || g.MergedFrom != "" || g.CustomerID != sv.ID {
		t.Errorf("the survivor's grade now: %+v, %v; the merged customer's entries are not its grade", g, err)
	}
	cases, _ := e.svc.Cases(as(admin), sv.ID, crm.PageRequest{First: crm.DefaultPageSize})
	if len(cases.Items) != 2 {
		t.Errorf("survivor has %d cases, want 2", len(cases.Items))
	}
	if l, n := total(t, e.env, admin, crm.CustomerFilter{}); l != 1 || n != 1 {
		t.Errorf("after: %d listed, %d counted; the tombstone leaves every list", l, n)
	}
	for _, tag := range []string{"vip", "steel"} {
		if l, n := total(t, e.env, admin, crm.CustomerFilter{Tag: tag}); l != 1 || n != 1 {
			t.Errorf("tag %s: %d listed, %d counted", tag, l, n)
		}
	}
	if l, n := total(t, e.env, admin, crm.CustomerFilter{Region: "north"}); l != 1 || n != 1 {
		t.Errorf("region: %d listed, %d counted", l, n)
	}
	if d, err := e.svc.DuplicateCandidates(as(admin), "Acme Power", sv.ID, 10); err != nil || len(d.Candidates) != 0 {
		t.Errorf("the tombstone is still a duplicate candidate: %+v %v", d, err)
	}

	// The tombstone points to the survivor and refuses writes, naming it.
	tomb := mustCustomer(t, e.env, m.ID)
	if tomb.Status != crm.StatusMerged || tomb.MergedInto != sv.ID || tomb.MergedAt == nil || len(tomb.Phones) != 0 || tomb.InteractionCount != 0 {
		t.Fatalf("tombstone: %+v", tomb)
	}
	name := "Renamed"
	for what, err := range map[string]error{
		"update":  second(e.svc.UpdateCustomer(as(admin), m.ID, tomb.Version, crm.CustomerUpdate{Name: &name})),
		"log":     second(e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: m.ID, Channel: crm.ChannelPhone, Type: crm.TypeCall})),
		"contact": second(e.svc.AddContact(as(admin), m.ID, crm.ContactInput{Name: "New"})),
		"grade":   second(e.svc.SetGrade(as(admin), m.ID, "A", "why", nil)),
		"archive": second(e.svc.ArchiveCustomer(as(admin), m.ID, tomb.Version)),
		"restore": second(e.svc.RestoreCustomer(as(admin), m.ID, tomb.Version)),
		"assign":  second(e.svc.AssignCustomer(as(admin), m.ID, "sales-1", "")),
		"verify":  second(e.svc.ReviewCustomerFields(as(admin), m.ID, tomb.Version, []crm.CustomerField{crm.FieldName}, true)),
	} {
		var de *crm.Error
		if !errors.As(err, &de) || de.Code != crm.ECONFLICT || de.ExistingID != sv.ID || !strings.Contains(de.Message, sv.ID) {
			t.Errorf("%s on the tombstone: %v, want CONFLICT naming %s", what, err, sv.ID)
		}
	}

	// The merged customer's phone now belongs to the survivor.
	_, err = e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindPerson, Name: "Newcomer", Phones: []string{"+86 138 0000 0002"}})
	var de *crm.Error
	if !errors.As(err, &de) || de.Code != crm.EDUPLICATE || de.ExistingID != sv.ID {
		t.Fatalf("reusing the merged phone: %v, want DUPLICATE naming the survivor", err)
	}

	// Both histories record the merge; calling again reports it, moving nothing.
	for _, id := range []string{sv.ID, m.ID} {
		recs, err := e.svc.Merges(as(admin), id, crm.PageRequest{First: crm.DefaultPageSize})
		if err != nil || len(recs.Items) != 1 || recs.Items[0].SurvivorID != sv.ID || recs.Items[0].MergedID != m.ID ||
			recs.Items[0].Interactions != 6 || fmt.Sprint(recs.Items[0].Tags) != "[steel]" {
			t.Fatalf("merge records of %s: %+v, %v", id, recs, err)
		}
	}
	again := mustMerge(t, e.env, admin, sv, m)
	if again.Moved != 0 || again.Merged.Status != crm.StatusMerged || again.Survivor.Version != got.Version {
		t.Fatalf("repeated merge: %+v", again)
	}
	e.mustHoldInvariants(t)
}

func second[T any](_ T, err error) error { return err }

func ptr[T any](v T) *T { return &v }

// failingStore fails MoveHistory after some batches, or the step that
// finishes a merge, as a crash or a timeout would.
type failingStore struct {
	crm.Store
	batches      atomic.Int64
	failAfter    int64
	failFinish   bool
	finishFailed atomic.Bool
}

var errInjected = errors.New("injected failure")

func (s *failingStore) MoveHistory(ctx context.Context, from, to string) (int, bool, error) {
	if s.failAfter > 0 && s.batches.Add(1) > s.failAfter {
		return 0, false, errInjected
	}
	return s.Store.MoveHistory(ctx, from, to)
}

func (s *failingStore) ApplyMerge(ctx context.Context, m *crm.MergeChange) error {
	if s.failFinish && m.Merged.Status == crm.StatusMerged && !s.finishFailed.Swap(true) {
		return errInjected
	}
	return s.Store.ApplyMerge(ctx, m)
}

func TestInterruptedMergeOfALargeHistoryResumesWithNothingLostOrDoubled(t *testing.T) {
	e := mustMergeEnv(t)
	sv := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "Big Survivor", Team: "north", Phones: []string{"+8613900000001"}})
	m := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "Big Duplicate", Team: "north", Phones: []string{"+8613900000002"}})
	const n = 105 // with the initial grade change, 106 items: more than one transaction holds
	e.seedNotes(t, m.ID, n)
	if _, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: sv.ID, Channel: crm.ChannelPhone, Type: crm.TypeCall}); err != nil {
		t.Fatal(err)
	}
	sv, m = mustCustomer(t, e.env, sv.ID), mustCustomer(t, e.env, m.ID)
	in := crm.MergeInput{SurvivorID: sv.ID, MergedID: m.ID, ExpectedSurvivorVersion: sv.Version,
		ExpectedMergedVersion: m.Version, Reason: "duplicate import"}

	// The first attempt dies after two batches.
	failing := &failingStore{Store: e.store, failAfter: 2}
	svc := crm.NewService(failing)
	if _, err := svc.MergeCustomers(as(admin), in); !errors.Is(err, errInjected) {
		t.Fatalf("interrupted merge: %v", err)
	}
	half := mustCustomer(t, e.env, m.ID)
	inSurvivor, inMerged := e.collection(t, sv.ID)["I#"], e.collection(t, m.ID)["I#"]
	if half.MergedInto != sv.ID || half.Status != crm.StatusActive || inSurvivor+inMerged != n+1 || inMerged == 0 || inSurvivor == 1 {
		t.Fatalf("half-way: mergedInto %q, %d interactions at the survivor, %d at the merged customer", half.MergedInto, inSurvivor, inMerged)
	}
	// Half-way, the merged customer already refuses writes, naming the survivor.
	if _, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: m.ID, Channel: crm.ChannelPhone, Type: crm.TypeCall}); code(err) != crm.ECONFLICT {
		t.Fatalf("write during the merge: %v", err)
	}
	// Another merge of either is refused meanwhile.
	other := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "Other", Team: "north"})
	if _, err := e.svc.MergeCustomers(as(admin), crm.MergeInput{SurvivorID: other.ID, MergedID: sv.ID, ExpectedSurvivorVersion: 1,
		ExpectedMergedVersion: mustCustomer(t, e.env, sv.ID).Version, Reason: "x"}); code(err) != crm.ECONFLICT {
		t.Fatalf("merging away a survivor in mid-merge: %v", err)
	}
	if _, err := e.svc.MergeCustomers(as(admin), crm.MergeInput{SurvivorID: other.ID, MergedID: m.ID, ExpectedSurvivorVersion: 1,
		ExpectedMergedVersion: half.Version, Reason: "x"}); code(err) != crm.ECONFLICT {
		t.Fatalf("merging a merging customer elsewhere: %v", err)
	}

	// The second attempt moves the rest and then dies finishing; the third
	// finishes. Each time the caller only repeats its call.
	failing = &failingStore{Store: e.store, failFinish: true}
	if _, err := crm.NewService(failing).MergeCustomers(as(admin), in); !errors.Is(err, errInjected) {
		t.Fatalf("second attempt: %v", err)
	}
	res, err := crm.NewService(failing).MergeCustomers(as(admin), in)
	if err != nil {
		t.Fatalf("resumed merge: %v", err)
	}
	if res.Survivor.InteractionCount != n+1 || res.Merged.Status != crm.StatusMerged {
		t.Fatalf("after resuming: %d interactions, tombstone %s", res.Survivor.InteractionCount, res.Merged.Status)
	}
	if c := e.collection(t, sv.ID); c["I#"] != n+1 {
		t.Fatalf("survivor holds %d interactions, want %d", c["I#"], n+1)
	}
	if c := e.collection(t, m.ID); c["I#"] != 0 {
		t.Fatalf("%d interactions left behind", c["I#"])
	}
	// Paging through the survivor's timeline lists each interaction once.
	seen := map[string]bool{}
	for p := (crm.PageRequest{First: 50}); ; {
		page, err := e.svc.Interactions(as(admin), sv.ID, crm.TimeRange{}, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if seen[it.ID] || it.CustomerID != sv.ID {
				t.Fatalf("interaction %s listed twice or under %s", it.ID, it.CustomerID)
			}
			seen[it.ID] = true
		}
		if !page.HasNext {
			break
		}
		p.After = page.EndCursor
	}
	if len(seen) != n+1 {
		t.Fatalf("timeline lists %d interactions, want %d", len(seen), n+1)
	}
	if l, n := total(t, e.env, admin, crm.CustomerFilter{}); l != 2 || n != 2 {
		t.Fatalf("lists: %d listed, %d counted; want the survivor and Other", l, n)
	}
	e.mustHoldInvariants(t)
}

func TestMergeRefusals(t *testing.T) {
	e := mustMergeEnv(t)
	south := &crm.User{ID: "mgr-south", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"south"}}
	both := &crm.User{ID: "mgr-both", Roles: []crm.Role{crm.RoleManager}, Teams: []string{"north", "south"}}
	service := &crm.User{ID: "svc-1", Roles: []crm.Role{crm.RoleService}, Teams: []string{"north", "south"}}
	owner := "sales-1"
	a := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "North One", Team: "north", OwnerID: &owner,
		Phones: []string{"+8613700000001", "+8613700000002", "+8613700000003"}})
	b := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "South One", Team: "south",
		Phones: []string{"+8613700000004", "+8613700000005", "+8613700000006"}})
	c := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "North Two", Team: "north", OwnerID: &owner})
	merge := func(u *crm.User, sv, m *crm.Customer, svVersion, mVersion int) error {
		_, err := e.svc.MergeCustomers(as(u), crm.MergeInput{SurvivorID: sv.ID, MergedID: m.ID,
			ExpectedSurvivorVersion: svVersion, ExpectedMergedVersion: mVersion, Reason: "duplicate"})
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"SalesOwningBothIsForbidden", merge(sales1, a, c, 1, 1), crm.EFORBIDDEN},
		{"ServiceIsForbidden", merge(service, a, b, 1, 1), crm.EFORBIDDEN},
		{"ManagerOfOneTeamCannotSeeTheOther", merge(manager, a, b, 1, 1), crm.ENOTFOUND},
		{"ManagerOfTheOtherTeamCannotSeeTheFirst", merge(south, a, b, 1, 1), crm.ENOTFOUND},
		{"StaleSurvivorVersion", merge(admin, a, c, 2, 1), crm.ECONFLICT},
		{"StaleMergedVersion", merge(admin, a, c, 1, 0), crm.ECONFLICT},
		{"ItselfIsBadInput", merge(admin, a, a, 1, 1), crm.EINVALID},
		{"TooManyPhonesTogether", merge(both, a, b, 1, 1), crm.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code(tc.err) != tc.want {
				t.Fatalf("err = %v, want %s", tc.err, tc.want)
			}
		})
	}
	// Nothing was marked by a refused merge.
	for _, id := range []string{a.ID, b.ID, c.ID} {
		if got := mustCustomer(t, e.env, id); got.MergedInto != "" || got.MergingFrom != "" || got.Version != 1 {
			t.Fatalf("refused merges changed %s: %+v", id, got)
		}
	}

	t.Run("ArchivedSurvivorIsConflict", func(t *testing.T) {
		arch, err := e.svc.ArchiveCustomer(as(admin), c.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := merge(admin, arch, a, arch.Version, 1); code(err) != crm.ECONFLICT {
			t.Fatalf("into an archived customer: %v", err)
		}
		// An archived duplicate can be merged away.
		res, err := e.svc.MergeCustomers(as(both), crm.MergeInput{SurvivorID: a.ID, MergedID: c.ID,
			ExpectedSurvivorVersion: 1, ExpectedMergedVersion: arch.Version, Reason: "duplicate"})
		if err != nil || res.Merged.Status != crm.StatusMerged {
			t.Fatalf("merging an archived customer: %v", err)
		}
		if l, n := total(t, e.env, admin, crm.CustomerFilter{Team: "north"}); n != l {
			t.Fatalf("north: %d listed, %d counted", l, n)
		}
		e.mustHoldInvariants(t)
	})
}

func TestMergeUnionKeepsTheSurvivorsValues(t *testing.T) {
	e := mustMergeEnv(t)
	rev := 2e6
	sv := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "Survivor", Team: "north", Industry: "power",
		Attributes: []crm.Attribute{{Key: "network", Value: "ring"}}, Addresses: []crm.Address{{City: "Beijing"}}})
	m := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "Merged", Team: "north", Industry: "steel", AnnualRevenue: &rev,
		CreditRating: "AA", Attributes: []crm.Attribute{{Key: "network", Value: "star"}, {Key: "lead", Value: "Wang"}},
		Addresses: []crm.Address{{City: "Beijing"}, {City: "Tianjin"}}})
	res := mustMerge(t, e.env, admin, sv, m)
	got := res.Survivor
	attrs := make([]string, 0, len(got.Attributes))
	for _, a := range got.Attributes {
		attrs = append(attrs, a.Key+"="+a.Value)
	}
	sort.Strings(attrs)
	if got.Industry != "power" || got.AnnualRevenue == nil || *got.AnnualRevenue != rev || got.CreditRating != "AA" ||
		fmt.Sprint(attrs) != "[lead=Wang network=ring]" || len(got.Addresses) != 2 {
		t.Fatalf("union: %+v", got)
	}
}

func TestMergeEndsTheMergedCustomersPartnerShares(t *testing.T) {
	e := mustPartnerEnv(t)
	acme := mustPartnerOrg(t, e.svc, "Acme", []crm.MaskField{crm.MaskPhones, crm.MaskInteractionContent})
	sv, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindOrganization, Name: "Kept", Team: "north"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.svc.CreateCustomer(as(admin), crm.CustomerInput{Kind: crm.KindOrganization, Name: "Gone", Team: "north",
		Phones: []string{"+8613200000001"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{sv.ID, m.ID} {
		if _, err := e.svc.ShareCustomer(as(admin), id, acme.ID); err != nil {
			t.Fatal(err)
		}
	}
	u, err := e.svc.VerifyAPIKey(context.Background(), mustIssue(t, e.svc, acme.ID))
	if err != nil {
		t.Fatal(err)
	}
	if l, n := total(t, e.toEnv(), u, crm.CustomerFilter{}); l != 2 || n != 2 {
		t.Fatalf("before: the partner lists %d, counts %d", l, n)
	}
	mustMerge(t, e.toEnv(), admin, mustCustomer(t, e.toEnv(), sv.ID), mustCustomer(t, e.toEnv(), m.ID))
	if l, n := total(t, e.toEnv(), u, crm.CustomerFilter{}); l != 1 || n != 1 {
		t.Fatalf("after: the partner lists %d, counts %d; want the survivor only", l, n)
	}
	if _, err := e.svc.Customer(as(u), m.ID); code(err) != crm.ENOTFOUND {
		t.Fatalf("the partner reads the tombstone: %v", err)
	}
	if _, err := e.svc.ShareCustomer(as(admin), m.ID, acme.ID); code(err) != crm.ECONFLICT {
		t.Fatalf("sharing the tombstone: %v", err)
	}
	// The survivor's merge history is masked as the partner's policy says.
	recs, err := e.svc.Merges(as(u), sv.ID, crm.PageRequest{First: crm.DefaultPageSize})
	if err != nil || len(recs.Items) != 1 || recs.Items[0].Phones[0] != "+86 *** **** 0001" || recs.Items[0].Reason != "***" {
		t.Fatalf("the partner's view of the merge: %+v %v", recs, err)
	}
}

// An interaction logged on a customer just before its merge, whose stream
// record is applied only after the merge finished, was moved by the merge
// itself: the stream counts it on the survivor once and leaves the
// survivor's copy, and the correction made to it since, as they are.
func TestAnAppendMovedByTheMergeBeforeTheStreamAppliedItKeepsItsCorrection(t *testing.T) {
	e := mustMergeEnv(t)
	sv := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "Lanting Tea", Team: "north"})
	m := mustCreate(t, e.env, admin, crm.CustomerInput{Name: "Lanting Tea Co.", Team: "north"})
	e.drain(t)
	it, err := e.svc.LogInteraction(as(admin), crm.InteractionInput{CustomerID: m.ID, Channel: crm.ChannelPhone,
		Type: crm.TypeCall, Subject: "before the merge"})
	if err != nil {
		t.Fatal(err)
	}
	// Not drained: the stream has not applied the interaction yet.
	read := func(id string) *crm.Customer {
		c, err := e.svc.Customer(as(admin), id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	mustMerge(t, e.env, admin, read(sv.ID), read(m.ID))
	k := crm.InteractionKey{CustomerID: sv.ID, ID: it.ID}
	moved, err := e.store.Interaction(context.Background(), k)
	if err != nil {
		t.Fatalf("the merge did not move the interaction: %v", err)
	}
	if _, err := e.svc.UpdateInteraction(as(admin), k, moved.Version, crm.InteractionUpdate{Subject: ptr("corrected")}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	got, err := e.store.Interaction(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "corrected" {
		t.Errorf("the survivor's interaction reads %q after the stream applied its first record, want the correction", got.Subject)
	}
	if n := mustCustomer(t, e.env, sv.ID).InteractionCount; n != 1 {
		t.Errorf("the survivor counts %d interactions, want 1", n)
	}
	e.mustHoldInvariants(t)
}
