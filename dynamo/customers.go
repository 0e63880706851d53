package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// ListCustomers walks the most selective index the filter allows, newest
// customer first: one Query of the index's keys per page, then one
// BatchGetItem of the page's profiles (and their activities, when the
// filter asks for them), on which the rest of the filter is checked.
func (s *Store) ListCustomers(ctx context.Context, f crm.CustomerFilter, p crm.PageRequest) (*crm.Page[*crm.Customer], error) {
	if !f.Order.ByCreation() {
		return s.listOrdered(ctx, f, p)
	}
	plan := s.creationPlan(f)
	plan.total = s.listTotal(f)
	return collect(ctx, s, plan, p)
}

// creationPlan is the list of f in creation order, newest first.
func (s *Store) creationPlan(f crm.CustomerFilter) listPlan[*crm.Customer] {
	ix, value := chooseIndex(f)
	dims, exact := constraints(f)
	attr := indexKeyAttr[ix]
	plan := listPlan[*crm.Customer]{
		name: "customers/" + filterHash(f),
		query: dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(s.idx.name(ix)),
			KeyConditionExpression:    aws.String(attr + " = :k"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(value)},
			// gSort is the id, whose order is the creation time's.
			ScanIndexForward: aws.Bool(f.Order.Ascending),
			// Keys only, whatever the index projects: the items come from
			// the table, so an index that lags shows nothing stale.
			ProjectionExpression:     aws.String("pk, sk, #k, gSort"),
			ExpressionAttributeNames: map[string]string{"#k": attr},
		},
		keyAttr: []string{"pk", "sk", attr, "gSort"},
		// Items of the index fail the filter only when it has more
		// than the index key to check (archived ones are rare).
		filtered: !exact || len(dims) > 1 || (f.Pool && f.Region == "") || unindexed(f),
		decode: func(ctx context.Context, raw []map[string]types.AttributeValue) ([]*crm.Customer, []bool, error) {
			return s.decodeEntries(ctx, raw, f.WithActivity, func(c *crm.Customer) bool { return matches(c, f) })
		},
	}
	if ix == byList && (strings.HasPrefix(value, "TAG#") || strings.HasPrefix(value, "PARTNER#")) {
		plan.filtered = true
	}
	return plan
}

// creationKey is the key, in the index creationPlan reads for f, of
// customer id's entry: where a list in creation order resumes after it.
func creationKey(f crm.CustomerFilter, id string) map[string]types.AttributeValue {
	ix, value := chooseIndex(f)
	sk := skProfile
	switch {
	case strings.HasPrefix(value, "TAG#"):
		sk = tagSK(strings.TrimPrefix(value, "TAG#"))
	case strings.HasPrefix(value, "PARTNER#"):
		sk = shareSK(strings.TrimPrefix(value, "PARTNER#"))
	}
	return map[string]types.AttributeValue{"pk": str(customerPK(id)), "sk": str(sk), indexKeyAttr[ix]: str(value), "gSort": str(id)}
}

// chooseIndex picks the index and key value that narrow f the most.
func chooseIndex(f crm.CustomerFilter) (index, string) {
	team := effectiveTeam(f)
	switch {
	case f.VisiblePartner != "":
		// A partner sees nothing else: its share entries bound every list.
		return byList, partnerListKey(f.VisiblePartner)
	case f.OwnerID != "":
		return byOwner, ownerKey(f.OwnerID)
	case f.Pool && f.Region != "":
		return byOwner, poolKey(f.Region)
	case f.Tag != "":
		return byList, tagListKey(f.Tag)
	case f.Grade != "":
		return byGrade, f.Grade
	case team != "":
		return byTeam, team
	case f.Stage != "":
		return byStage, string(f.Stage)
	case f.Region != "":
		return byRegion, f.Region
	}
	return byList, listCustomers
}

// effectiveTeam is the team a list is confined to, asked for or implied by
// a caller who sees exactly one team.
func effectiveTeam(f crm.CustomerFilter) string {
	if f.Team == "" && len(f.VisibleTeams) == 1 {
		return f.VisibleTeams[0]
	}
	return f.Team
}

// constraints names, as counter dimensions, what f asks for; exact is false
// when f also limits the list in a way no counter follows.
func constraints(f crm.CustomerFilter) (dims []string, exact bool) {
	add := func(ok bool, dim string) {
		if ok {
			dims = append(dims, dim)
		}
	}
	add(f.VisiblePartner != "", partnerCounterDim(f.VisiblePartner))
	add(f.OwnerID != "", "OWNER#"+f.OwnerID)
	add(f.Pool && f.Region != "", "POOL#"+f.Region)
	add(f.Pool && f.Region == "", "POOL")
	add(f.Region != "" && !f.Pool, "REGION#"+f.Region)
	add(f.Tag != "", "TAG#"+f.Tag)
	add(f.Grade != "", "GRADE#"+f.Grade)
	add(f.Stage != "", "STAGE#"+string(f.Stage))
	add(effectiveTeam(f) != "", "TEAM#"+effectiveTeam(f))
	add(f.ValueTier != "", "TIER#"+string(f.ValueTier))
	add(f.Kind != "", "KIND#"+string(f.Kind))
	add(f.Source != "", "SOURCE#"+string(f.Source))
	add(f.Industry != "", "INDUSTRY#"+industryKey(f.Industry))
	// A salesperson's list always names their own key (owner or pool), so
	// VisibleOwner adds nothing; several visible teams do.
	return dims, !(effectiveTeam(f) == "" && len(f.VisibleTeams) > 1)
}

// unindexed reports whether f asks for something no index holds, which
// the list checks on each customer it reads.
func unindexed(f crm.CustomerFilter) bool {
	return f.ValueTier != "" || f.Industry != "" || f.Kind != "" || f.Source != ""
}

// teamAttr is the attribute of a team's counter item that counts a
// dimension (GRADE#A, POOL…) within the team; "" when it has none.
func teamAttr(dim string) string {
	kind, v, _ := strings.Cut(dim, "#")
	switch kind {
	case "POOL":
		if dim == "POOL" {
			return "pool"
		}
	case "GRADE":
		return "grade." + v
	case "STAGE":
		return "stage." + v
	case "TIER":
		return "tier." + v
	case "KIND":
		return "kinds." + v
	case "SOURCE":
		return "sources." + v
	}
	return ""
}

// valueDim reports whether a constraint is counted by an item per value
// (industry, region; the pool of a region).
func valueDim(dim string) bool {
	kind, v, _ := strings.Cut(dim, "#")
	return kind == "INDUSTRY" || kind == "REGION" || (kind == "POOL" && v != "")
}

// valueTotal is the counter of a per-value constraint: everyone's (team
// "") or a team's.
func valueTotal(dim, team string) total {
	kind, v, _ := strings.Cut(dim, "#")
	if kind == "POOL" {
		attr := "pool"
		if team != "" {
			attr = "poolTeam." + teamKey(team)
		}
		return total{pk: valueTotalPK("REGION", v), attr: attr}
	}
	attr := "n"
	if team != "" {
		attr = valueTeamAttr(team)
	}
	return total{pk: valueTotalPK(kind, v), attr: attr}
}

// totalFor returns the counter that counts exactly the customers f lists.
func totalFor(f crm.CustomerFilter) (total, bool) {
	dims, exact := constraints(f)
	if f.IncludeArchived || !exact || len(dims) > 2 {
		return total{}, false
	}
	if len(dims) == 0 {
		return total{attr: "n", sum: true}, true
	}
	if len(dims) == 2 {
		// A team's item counts each of its dimensions within the team; a
		// value's item each team's customers of the value.
		for i, d := range dims {
			team, ok := strings.CutPrefix(d, "TEAM#")
			if other := dims[1-i]; ok && valueDim(other) {
				return valueTotal(other, team), true
			}
			if attr := teamAttr(dims[1-i]); ok && attr != "" {
				return total{pk: teamTotalPK(team), attr: attr}, true
			}
		}
		return total{}, false
	}
	kind, v, _ := strings.Cut(dims[0], "#")
	switch kind {
	case "OWNER":
		return total{pk: ownerTotalPK(v), attr: "n"}, true
	case "TAG":
		return total{pk: tagTotalPK(v), attr: "n"}, true
	case "PARTNER":
		return total{pk: partnerTotalPK(v), attr: "n"}, true
	case "TEAM":
		return total{pk: teamTotalPK(v), attr: "n"}, true
	case "POOL", "INDUSTRY", "REGION":
		if valueDim(dims[0]) {
			return valueTotal(dims[0], ""), true
		}
		return total{attr: teamAttr(dims[0]), sum: true}, true
	case "GRADE", "STAGE", "TIER", "KIND", "SOURCE":
		return total{attr: teamAttr(dims[0]), sum: true}, true
	}
	return total{}, false
}

// matches checks every part of the filter, including the caller's
// visibility, on a customer read from any index.
func matches(c *crm.Customer, f crm.CustomerFilter) bool {
	switch {
	case !f.IncludeArchived && c.Status == crm.StatusArchived,
		c.Status == crm.StatusMerged, // a lagging index entry of a tombstone
		f.OwnerID != "" && c.OwnerID != f.OwnerID,
		f.Pool && !c.InPool(),
		f.Grade != "" && c.Grade.Level != f.Grade,
		f.Stage != "" && c.Stage != f.Stage,
		f.Region != "" && c.Region != f.Region,
		f.Team != "" && c.Team != f.Team,
		f.Tag != "" && !slices.Contains(c.Tags, f.Tag),
		f.ValueTier != "" && c.ValueTier != f.ValueTier,
		f.Industry != "" && industryKey(c.Industry) != industryKey(f.Industry),
		f.Kind != "" && c.Kind != f.Kind,
		f.Source != "" && c.Source != f.Source,
		len(f.VisibleTeams) > 0 && !slices.Contains(f.VisibleTeams, c.Team),
		f.VisibleOwner != "" && c.OwnerID != f.VisibleOwner && !c.InPool(),
		f.VisiblePartner != "" && !c.SharedWith(f.VisiblePartner):
		return false
	}
	return true
}

// decodeEntries reads the customers that a page of index entries (their
// profiles, tag or share entries, activity items, watch marks: all under
// the customer's key) name, in one BatchGetItem, with their activities when
// activity is set; keep says which of them the list returns.
func (s *Store) decodeEntries(ctx context.Context, raw []map[string]types.AttributeValue, activity bool, keep func(*crm.Customer) bool) ([]*crm.Customer, []bool, error) {
	ids := make([]string, len(raw))
	for i, r := range raw {
		ids[i] = customerIDOf(strAttr(r["pk"]))
	}
	return s.decodeIDs(ctx, ids, activity, func(_ int, c *crm.Customer) bool { return keep(c) })
}

// decodeIDs reads the customers of a page of entries by their ids, in one
// BatchGetItem; keep says which of them the list returns.
func (s *Store) decodeIDs(ctx context.Context, ids []string, activity bool, keep func(i int, c *crm.Customer) bool) ([]*crm.Customer, []bool, error) {
	found, err := s.customers(ctx, ids, activity)
	if err != nil {
		return nil, nil, err
	}
	out, match := make([]*crm.Customer, len(ids)), make([]bool, len(ids))
	for i, id := range ids {
		if c, ok := found[id]; ok {
			out[i], match[i] = c, keep(i, c)
		}
	}
	return out, match, nil
}

// filterHash names a filtered list, visibility included, for its cursors.
func filterHash(f crm.CustomerFilter) string {
	b := fmt.Appendf(nil, "%q|%t|%q|%q|%q|%q|%q|%t|%q|%q",
		f.OwnerID, f.Pool, f.Grade, f.Stage, f.Region, f.Team, f.Tag, f.IncludeArchived, f.VisibleTeams, f.VisibleOwner)
	if f.VisiblePartner != "" {
		b = fmt.Appendf(b, "|partner=%q", f.VisiblePartner)
	}
	if unindexed(f) {
		b = fmt.Appendf(b, "|tier=%q|industry=%q|kind=%q|source=%q", f.ValueTier, f.Industry, f.Kind, f.Source)
	}
	if f.Order != (crm.CustomerOrder{}) {
		b = fmt.Appendf(b, "|order=%q|%t", f.Order.Field, f.Order.Ascending)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}
