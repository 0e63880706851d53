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

// Index names, as in template.yaml.
const (
	idxOwner  = "byOwner"
	idxGrade  = "byGrade"
	idxStage  = "byStage"
	idxRegion = "byRegion"
	idxTeam   = "byTeam"
	idxList   = "byList"
	idxDue    = "byDue"
	idxName   = "byName"
)

// indexKeyAttr is the partition key attribute of each index; all share gSort.
var indexKeyAttr = map[string]string{
	idxOwner: "gOwner", idxGrade: "gGrade", idxStage: "gStage",
	idxRegion: "gRegion", idxTeam: "gTeam", idxList: "gList",
}

func customerPK(id string) string    { return "CUST#" + id }
func contactSK(id string) string     { return skContactPrefix + id }
func interactionSK(id string) string { return skInteractPrefix + id }
func gradeSK(id string) string       { return skGradePrefix + id }
func evaluationSK(id string) string  { return skEvalPrefix + id }
func tagSK(tag string) string        { return skTagPrefix + tag }
func phonePK(n string) string        { return "UNIQ#PHONE#" + n }
func emailPK(n string) string        { return "UNIQ#EMAIL#" + n }
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
