package dynamo

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Data migrations: named, idempotent and resumable changes of the stored
// items from one layout to the next, applied page by page (docs/deploy.md,
// "Data migrations"). Each keeps a progress item, MIGRATION#<name> /
// PROGRESS, with the cursor of its walk and whether it is done; a page
// advances it conditioned on the page count it read, so two runners (the
// scheduled job and an operator's run, say) never both apply a page, and
// every item's own change is conditioned so that applying it twice changes
// nothing. The scheduled job runs them in bounded time each run until
// done; `make migrate` and the job's {"task": "migrate"} payload run them
// on demand; `make run` runs them at start on existing local data.

// migration is one named change of layout.
type migration struct {
	name string
	// page migrates the items of one page of a Scan from start and
	// returns how many it changed.
	page func(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error)
	// done, when set, runs once the walk is over, before the migration is
	// recorded as done (again, when that record failed: it must be
	// idempotent).
	done func(ctx context.Context, s *Store) error
}

// migrations run in this order; a new one goes at the end.
var migrations = []migration{{name: activityBackfill, page: backfillPage}, {name: followUpSchedules, page: planPage},
	{name: lookupBackfill, page: lookupPage}, {name: canonicalPhones, page: phonesPage}, {name: searchBackfill, page: searchPage},
	{name: agendaPointers, page: agendaPage}, {name: orderBackfill, page: orderPage},
	{name: departmentQueuesBackfill, page: departmentQueuePage}, {name: endpointsSeen, page: endpointsPage},
	{name: searchUnnamed, page: searchPage}, {name: valueRecount, page: recountPage, done: recountDone},
	{name: forecastCounters, page: forecastPage}, {name: searchOrder, page: searchPage},
	{name: creditItems, page: creditItemsPage}}

// activityBackfill moves what the layout before activity items kept to
// where this release keeps it (issue #10).
const activityBackfill = "2026-12-activity-items"

const (
	skProgress    = "PROGRESS"
	migrationPage = 100 // items scanned per page
)

func migrationPK(name string) string { return "MIGRATION#" + name }

type progressItem struct {
	PK         string                          `dynamodbav:"pk"`
	SK         string                          `dynamodbav:"sk"`
	Type       string                          `dynamodbav:"type"`
	Cursor     map[string]types.AttributeValue `dynamodbav:"-"` // the Scan's next key, kept as a map
	Done       bool                            `dynamodbav:"done"`
	Pages      int                             `dynamodbav:"pages"`
	Changed    int                             `dynamodbav:"changed"`
	StartedAt  time.Time                       `dynamodbav:"startedAt"`
	UpdatedAt  time.Time                       `dynamodbav:"updatedAt"`
	FinishedAt *time.Time                      `dynamodbav:"finishedAt,omitempty"`
}

// MigrationStatus is where one migration stands.
type MigrationStatus struct {
	Name    string
	Done    bool
	Pages   int
	Changed int
}

// Migrations reports where each migration stands.
func (s *Store) Migrations(ctx context.Context) ([]MigrationStatus, error) {
	var out []MigrationStatus
	for _, m := range migrations {
		p, err := s.progress(ctx, m.name)
		if err != nil {
			return nil, err
		}
		out = append(out, MigrationStatus{Name: m.name, Done: p.Done, Pages: p.Pages, Changed: p.Changed})
	}
	return out, nil
}

func (s *Store) progress(ctx context.Context, name string) (*progressItem, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(migrationPK(name), skProgress), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, wrap("get migration progress", err)
	}
	p := &progressItem{PK: migrationPK(name), SK: skProgress, Type: "migration"}
	if res.Item != nil {
		if err := attributevalue.UnmarshalMap(res.Item, p); err != nil {
			return nil, fmt.Errorf("unmarshal migration progress: %w", err)
		}
		if m, ok := res.Item["cursor"].(*types.AttributeValueMemberM); ok {
			p.Cursor = m.Value
		}
	}
	return p, nil
}

// migrated reports whether a migration is done.
func (s *Store) migrated(ctx context.Context, name string) (bool, error) {
	p, err := s.progress(ctx, name)
	return err == nil && p.Done, err
}

// Migrate runs the migrations not done yet, in order, a page at a time,
// until they are done or more returns false (checked before each page:
// the job stops near its deadline). It returns where each stands.
func (s *Store) Migrate(ctx context.Context, more func() bool) ([]MigrationStatus, error) {
	for _, m := range migrations {
		for {
			p, err := s.progress(ctx, m.name)
			if err != nil {
				return nil, err
			}
			if p.Done {
				break
			}
			if !more() {
				return s.Migrations(ctx)
			}
			if err := s.migratePage(ctx, m, p); err != nil && crm.ErrorCode(err) != crm.ECONFLICT {
				return nil, fmt.Errorf("migration %s, page %d: %w", m.name, p.Pages+1, err)
			}
			// On a conflict another runner took the page: read again.
		}
	}
	return s.Migrations(ctx)
}

// migratePage applies one page of a migration and advances its progress.
func (s *Store) migratePage(ctx context.Context, m migration, p *progressItem) error {
	size := s.migrationPage
	if size == 0 {
		size = migrationPage
	}
	res, err := s.db.Scan(ctx, &dynamodb.ScanInput{TableName: &s.table, ExclusiveStartKey: p.Cursor,
		Limit: aws.Int32(int32(size)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return wrap("scan", err)
	}
	n, err := m.page(ctx, s, res.Items)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	next := *p
	next.Cursor, next.Pages, next.Changed, next.UpdatedAt = res.LastEvaluatedKey, p.Pages+1, p.Changed+n, now
	if p.Pages == 0 {
		next.StartedAt = now
	}
	if res.LastEvaluatedKey == nil {
		if m.done != nil {
			if err := m.done(ctx, s); err != nil {
				return err
			}
		}
		next.Done, next.FinishedAt = true, &now
	}
	item, err := attributevalue.MarshalMap(next)
	if err != nil {
		return err
	}
	if next.Cursor != nil {
		item["cursor"] = &types.AttributeValueMemberM{Value: next.Cursor}
	}
	cond, vals := "attribute_not_exists(pk)", map[string]types.AttributeValue(nil)
	if p.Pages > 0 {
		cond, vals = "pages = :p", map[string]types.AttributeValue{":p": num(p.Pages)}
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: &cond, ExpressionAttributeValues: vals})
	return wrap("put migration progress", err)
}

// backfillPage moves one page of items of the layout before activity
// items: a profile carrying its activity gets an activity item (and is
// counted in the list counters), old watch marks and list counters are
// deleted, and the old analytics aggregates are added into the teams' and
// owners' figures and deleted, each in a transaction of its own that
// deletes the old item: applied once whatever happens.
func backfillPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	changed := 0
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		var err error
		did := true
		switch {
		case strings.HasPrefix(pk, "CUST#") && sk == skProfile:
			var p customerItem
			if err = attributevalue.UnmarshalMap(raw, &p); err != nil {
				return changed, err
			}
			_, a, rerr := s.readCustomer(ctx, p.ID)
			switch {
			case rerr != nil:
				err = rerr
			case a != nil:
				did = false
			default:
				err = s.createActivity(ctx, &p)
				if crm.ErrorCode(err) == crm.ECONFLICT {
					err, did = nil, false // made meanwhile
				}
			}
		case strings.HasPrefix(pk, "CUST#") && slices.Contains(oldWatchSlots, sk),
			strings.HasPrefix(pk, "COUNT#") && sk == skCounter && oldCounter(strings.TrimPrefix(pk, "COUNT#")):
			did, err = s.deleteIfThere(ctx, pk, sk)
		case strings.HasPrefix(pk, "AGG#"):
			did, err = s.convertAggregate(ctx, pk, sk, raw)
		default:
			did = false
		}
		if err != nil {
			return changed, fmt.Errorf("%s %s: %w", pk, sk, err)
		}
		if did {
			changed++
		}
	}
	return changed, nil
}

// deleteIfThere deletes an item and reports whether it was there.
func (s *Store) deleteIfThere(ctx context.Context, pk, sk string) (bool, error) {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(pk, sk),
		ConditionExpression: aws.String("attribute_exists(pk)")})
	if err = wrap("delete", err); crm.ErrorCode(err) == crm.ECONFLICT {
		return false, nil
	}
	return err == nil, err
}

// oldCounter tells the list counters of the layout before (COUNT#<dim>)
// from counters that stay (COUNT#TEMPLATES).
func oldCounter(dim string) bool {
	if dim == "ALL" || dim == "POOL" {
		return true
	}
	kind, _, _ := strings.Cut(dim, "#")
	return slices.Contains([]string{"GRADE", "STAGE", "POOL", "OWNER", "REGION", "TEAM", "TIER", "TAG", "PARTNER", "TEAMGRADE", "TEAMTIER"}, kind)
}

// convertAggregate adds an old aggregate item into this release's
// figures and deletes it, in one transaction. The old layout kept
// everything (ALL), the owner or pool across teams, the team (in four
// shards) and the owner or pool within a team; this one keeps the team
// (customers without a team under "-") and the owner per team. So an
// item of everything adds to the figures of no team and a team's takes
// away from them (everything less the teams), and likewise an owner's
// across teams adds to their figures of no team and one within a team
// takes away from them. Only days are converted: finished months are
// rolled up from them by the job.
func (s *Store) convertAggregate(ctx context.Context, pk, sk string, raw map[string]types.AttributeValue) (bool, error) {
	if !strings.HasPrefix(sk, aggDayPrefix) {
		return s.deleteIfThere(ctx, pk, sk)
	}
	day, _, _ := strings.Cut(strings.TrimPrefix(sk, aggDayPrefix), "#")
	counters := numbers(raw)
	target := adds{}
	plus := func(k itemKey, sign float64) {
		for name, v := range counters {
			target.add(k, name, sign*v)
		}
	}
	noTeam := teamKey("")
	scope := strings.TrimPrefix(pk, "AGG#")
	teams := map[string]bool{noTeam: true}
	owner := func(rest string) (string, bool, bool) {
		switch {
		case rest == "POOL":
			return "", true, true
		case strings.HasPrefix(rest, "OWNER#"):
			return strings.TrimPrefix(rest, "OWNER#"), false, true
		}
		return "", false, false
	}
	switch {
	case scope == "ALL":
		plus(itemKey{"STATS#TEAM#" + noTeam, aggDayPrefix + day}, 1)
	case strings.HasPrefix(scope, "TEAM#"):
		escaped, rest, _ := strings.Cut(strings.TrimPrefix(scope, "TEAM#"), "#")
		team, err := url.PathUnescape(escaped)
		if err != nil {
			return false, err
		}
		tk := teamKey(team)
		teams[tk] = true
		if rest == "" {
			plus(itemKey{"STATS#TEAM#" + tk, aggDayPrefix + day}, 1)
			plus(itemKey{"STATS#TEAM#" + noTeam, aggDayPrefix + day}, -1)
		} else if o, pool, ok := owner(rest); ok {
			plus(itemKey{ownerStatsPK(o, pool), aggDayPrefix + day + "#" + tk}, 1)
			plus(itemKey{ownerStatsPK(o, pool), aggDayPrefix + day + "#" + noTeam}, -1)
		}
	default:
		if o, pool, ok := owner(scope); ok {
			plus(itemKey{ownerStatsPK(o, pool), aggDayPrefix + day + "#" + noTeam}, 1)
		}
	}
	t := &tx{s: s}
	t.del(pk, sk, "attribute_exists(pk)", nil, func(map[string]types.AttributeValue) error {
		return crm.Errorf(crm.ECONFLICT, "converted meanwhile")
	})
	for _, k := range sortedKeys(target) {
		t.addTo(k, target[k], "aggregate")
	}
	t.update(teamsPK, teamsPK, "SET #type = :type ADD teams :t", "", map[string]types.AttributeValue{
		":type": str("teams"), ":t": &types.AttributeValueMemberSS{Value: slices.Sorted(maps.Keys(teams))}}, nil)
	t.items[len(t.items)-1].write.Update.ExpressionAttributeNames = map[string]string{"#type": "type"}
	err := s.transact(ctx, t.items)
	if crm.ErrorCode(err) == crm.ECONFLICT {
		return false, nil
	}
	return err == nil, err
}
