package dynamo

import (
	"reflect"
	"slices"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// A case opened by logging an interaction (a complaint, a request) is
// created in the interaction's own entry, under the interaction's id. Its
// create repeats much of the interaction beside it: its kind and subject
// are the interaction's, it opens OPEN at the interaction's creation, by
// its creator, with the one transition that says so, and its deadline in
// force is its first response's. Recorded again, they took a complaint's
// entry over 1 KB (2 more write units, and 1 more in byList2, whose entry
// projects the changes); the entry records what the case adds (its
// priority and deadlines) and leaves out what the interaction implies,
// each field only when it holds exactly the implied value.

// impliedByCreate returns the fields of a create that the entry implies
// beyond impliedOnCreate: an interaction's occurrence time and handler
// when they are its creation time and creator (the entry's when and by
// whom), and what a case opened by an interaction of the same entry
// repeats of it (openedByInteraction).
func impliedByCreate(recs []auditRecord, r auditRecord) map[string]bool {
	if r.before != nil || r.after == nil {
		return nil
	}
	switch r.kind {
	case "interaction":
		same := func(a, b types.AttributeValue) bool { return a != nil && reflect.DeepEqual(a, b) }
		return map[string]bool{"occurredAt": same(r.after["occurredAt"], r.after["createdAt"]),
			"handledBy": same(r.after["handledBy"], r.after["createdBy"])}
	case "case":
		return openedByInteraction(recs, r)
	}
	return nil
}

// openedByInteraction returns the fields of a case's create that its
// opening interaction, created in the same entry, implies: nil when there
// is none.
func openedByInteraction(recs []auditRecord, r auditRecord) map[string]bool {
	i := slices.IndexFunc(recs, func(o auditRecord) bool {
		return o.kind == "interaction" && o.id == r.id && o.before == nil && o.after != nil
	})
	if i < 0 {
		return nil
	}
	it, cs := recs[i].after, r.after
	same := func(a, b types.AttributeValue) bool { return a != nil && reflect.DeepEqual(a, b) }
	implied := map[string]bool{
		"kind":     same(cs["kind"], it["kind"]),
		"subject":  cs["subject"] == nil && it["subject"] == nil || same(cs["subject"], it["subject"]),
		"status":   same(cs["status"], &types.AttributeValueMemberS{Value: string(crm.CaseOpen)}),
		"openedAt": same(cs["openedAt"], it["createdAt"]),
		"dueAt":    same(cs["dueAt"], cs["respondBy"]),
		"transitions": func() bool {
			var ts []caseTransitionItem
			var by, kind string
			if attributevalue.Unmarshal(cs["transitions"], &ts) != nil || len(ts) != 1 ||
				attributevalue.Unmarshal(it["createdBy"], &by) != nil || attributevalue.Unmarshal(it["kind"], &kind) != nil {
				return false
			}
			open := ts[0]
			return open.From == "" && open.To == string(crm.CaseOpen) && open.By == by && same(cs["openedAt"], it["createdAt"]) &&
				same(attributeTime(open), cs["openedAt"]) && open.Note == "opened by "+kind
		}(),
	}
	return implied
}

// attributeTime is a transition's time as the item stores times.
func attributeTime(t caseTransitionItem) types.AttributeValue {
	av, err := attributevalue.Marshal(t.At)
	if err != nil {
		return nil
	}
	return av
}
