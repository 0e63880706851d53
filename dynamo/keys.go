package dynamo

import (
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Key layout of the single table (docs/access-patterns.md). A customer's
// item collection sorts, descending, as profile, contacts, then interactions
// newest first, so the 360 view is one Query on sk >= "I".
const (
	skProfile        = "~P"
	skContactPrefix  = "~C#"
	skInteractPrefix = "I#"
	skGradePrefix    = "G#"
	skStagePrefix    = "H#" // below "I", outside the 360 view's range
	skCasePrefix     = "D#"
	skEvalPrefix     = "E#"
	skTagPrefix      = "#T#"
	skMergePrefix    = "F#" // below "I", outside the 360 view's range
	sk360Lower       = "I"

	skUnique       = "UNIQ"
	skCounter      = "COUNT"
	skTplLatest    = "~LATEST"
	skTplVersionFm = "V#%06d"

	listCustomers = "CUSTOMER"
	dueClaims     = "CLAIM"
	dueCases      = "CASE"
	listTemplates = "TEMPLATE"
)

// The table's global secondary indexes, by what each serves.
type index int

const (
	byOwner index = iota
	byGrade
	byStage
	byRegion
	byTeam
	byList
	byName
	byDue
)

// IndexSet names the table's indexes (template.yaml). A stack upgrading
// from the release whose profile indexes projected whole profiles
// (IndexesV1) to the keys-only ones (IndexesV2) has both for a while, and
// the code reads the set its configuration names (TABLE_INDEXES): lists
// read keys and then the items, which works on either.
type IndexSet struct {
	Owner, Grade, Stage, Region, Team, List, Name, Due string
}

// IndexesV1 are the indexes of the release before keys-only indexes;
// IndexesV2 are this release's.
var (
	IndexesV1 = IndexSet{Owner: "byOwner", Grade: "byGrade", Stage: "byStage", Region: "byRegion", Team: "byTeam",
		List: "byList", Name: "byName", Due: "byDue"}
	IndexesV2 = IndexSet{Owner: "byOwner2", Grade: "byGrade2", Stage: "byStage2", Region: "byRegion2", Team: "byTeam2",
		List: "byList2", Name: "byName2", Due: "byDue"}
)

// IndexesNumbered returns index set n (1 or 2; anything else is 2).
func IndexesNumbered(n int) IndexSet {
	if n == 1 {
		return IndexesV1
	}
	return IndexesV2
}

func (x IndexSet) name(i index) string {
	return [...]string{x.Owner, x.Grade, x.Stage, x.Region, x.Team, x.List, x.Name, x.Due}[i]
}

// indexKeyAttr is the partition key attribute of each index; all but
// byName and byDue sort by gSort.
var indexKeyAttr = map[index]string{
	byOwner: "gOwner", byGrade: "gGrade", byStage: "gStage", byRegion: "gRegion", byTeam: "gTeam", byList: "gList",
	byName: "gName", byDue: "gDue",
}

// indexSortAttr is each index's sort key attribute.
func indexSortAttr(i index) string {
	switch i {
	case byName:
		return "gNameSort"
	case byDue:
		return "gDueAt"
	}
	return "gSort"
}

func customerPK(id string) string    { return "CUST#" + id }
func contactSK(id string) string     { return skContactPrefix + id }
func interactionSK(id string) string { return skInteractPrefix + id }
func gradeSK(id string) string       { return skGradePrefix + id }
func evaluationSK(id string) string  { return skEvalPrefix + id }
func tagSK(tag string) string        { return skTagPrefix + tag }
func phonePK(n string) string        { return "UNIQ#PHONE#" + n }
func emailPK(n string) string        { return "UNIQ#EMAIL#" + n }
func creditCodePK(n string) string   { return "UNIQ#USCC#" + n }
func counterPK(dim string) string    { return "COUNT#" + dim }
func templatePK(id string) string    { return "TPL#" + id }
func templateSK(version int) string  { return fmt.Sprintf(skTplVersionFm, version) }
func ownerKey(owner string) string   { return "OWNER#" + owner }
func poolKey(region string) string   { return "POOL#" + region }
func tagListKey(tag string) string   { return "TAG#" + tag }

// ulidBound returns the smallest (or largest) ULID with time t, so a time
// range becomes a key range over ids whose time part is the event time.
func ulidBound(t time.Time, upper bool) string {
	var u ulid.ULID
	if err := u.SetTime(ulid.Timestamp(t)); err != nil {
		// Times beyond year 10889 are refused by validation; clamp anyway.
		u = ulid.ULID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	if upper {
		for i := 6; i < len(u); i++ {
			u[i] = 0xff
		}
	}
	return u.String()
}

// Claim counters: active claims per salesperson, and claims made per day.
func claimsPK(user string) string        { return "CLAIMS#" + user }
func claimDayPK(user, day string) string { return "CLAIMDAY#" + user + "#" + day }

// dueLayout writes due times with a fixed width, so that they sort as text.
const dueLayout = "2006-01-02T15:04:05.000Z"

func dueKey(t time.Time, id string) string { return t.UTC().Format(dueLayout) + "#" + id }

func stageSK(id string) string { return skStagePrefix + id }

func caseSK(id string) string { return skCasePrefix + id }

func mergeSK(id string) string { return skMergePrefix + id }

// Idempotency records of creates made with a client key.
const skIdempotency = "IDEMP"

func idempotencyPK(key string) string { return "IDEMP#" + key }

func customerIDOf(pk string) string { return strings.TrimPrefix(pk, "CUST#") }
