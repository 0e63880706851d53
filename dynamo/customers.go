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
// customer first, and checks the rest of the filter on each item read.
func (s *Store) ListCustomers(ctx context.Context, f crm.CustomerFilter, p crm.PageRequest) (*crm.Page[*crm.Customer], error) {
	index, value := chooseIndex(f)
	dims, exact := constraints(f)
	plan := listPlan[*crm.Customer]{
		name: "customers/" + filterHash(f),
		query: dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(index),
			KeyConditionExpression:    aws.String(indexKeyAttr[index] + " = :k"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(value)},
			ScanIndexForward:          aws.Bool(false),
		},
		keyAttr: []string{"pk", "sk", indexKeyAttr[index], "gSort"},
		// Items of the index fail the filter only when it has more
		// than the index key to check (archived ones are rare).
		filtered: !exact || len(dims) > 1 || (f.Pool && f.Region == ""),
		decode: func(_ context.Context, raw []map[string]types.AttributeValue) ([]*crm.Customer, []bool, error) {
			return decodeCustomers(raw, f)
		},
	}
	if index == idxList && (strings.HasPrefix(value, "TAG#") || strings.HasPrefix(value, "PARTNER#")) {
		// Tag and partner share entries carry only the customer id: fetch
		// the profiles of a page of entries in one batch.
		plan.filtered = true
		plan.decode = func(ctx context.Context, raw []map[string]types.AttributeValue) ([]*crm.Customer, []bool, error) {
			return s.decodeEntries(ctx, raw, func(c *crm.Customer) bool { return matches(c, f) })
		}
	}
	if dim, ok := counterFor(f); ok {
		plan.total = s.counterTotal(dim)
	}
	return collect(ctx, s, plan, p)
}

// chooseIndex picks the index and key value that narrow f the most.
func chooseIndex(f crm.CustomerFilter) (index, value string) {
	team := effectiveTeam(f)
	switch {
	case f.VisiblePartner != "":
		// A partner sees nothing else: its share entries bound every list.
		return idxList, partnerListKey(f.VisiblePartner)
	case f.OwnerID != "":
		return idxOwner, ownerKey(f.OwnerID)
	case f.Pool && f.Region != "":
		return idxOwner, poolKey(f.Region)
	case f.Tag != "":
		return idxList, tagListKey(f.Tag)
	case f.Grade != "":
		return idxGrade, f.Grade
	case team != "":
		return idxTeam, team
	case f.Stage != "":
		return idxStage, string(f.Stage)
	case f.Region != "":
		return idxRegion, f.Region
	}
	return idxList, listCustomers
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
	// A salesperson's list always names their own key (owner or pool), so
	// VisibleOwner adds nothing; several visible teams do.
	return dims, !(effectiveTeam(f) == "" && len(f.VisibleTeams) > 1)
}

// counterFor returns the counter that counts exactly the customers f lists.
func counterFor(f crm.CustomerFilter) (string, bool) {
	dims, exact := constraints(f)
	switch {
	case f.IncludeArchived || !exact || len(dims) > 1:
		return "", false
	case len(dims) == 0:
		return "ALL", true
	}
	return dims[0], true
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
		len(f.VisibleTeams) > 0 && !slices.Contains(f.VisibleTeams, c.Team),
		f.VisibleOwner != "" && c.OwnerID != f.VisibleOwner && !c.InPool(),
		f.VisiblePartner != "" && !c.SharedWith(f.VisiblePartner):
		return false
	}
	return true
}

func decodeCustomers(raw []map[string]types.AttributeValue, f crm.CustomerFilter) ([]*crm.Customer, []bool, error) {
	out, match := make([]*crm.Customer, len(raw)), make([]bool, len(raw))
	for i, r := range raw {
		var it customerItem
		if err := unmarshalItem(r, &it); err != nil {
			return nil, nil, fmt.Errorf("unmarshal customer: %w", err)
		}
		out[i] = fromCustomerItem(&it)
		match[i] = matches(out[i], f)
	}
	return out, match, nil
}

// decodeEntries reads the profiles that a page of index entries (tag
// entries, watch-list marks) name by customerId, in one batch; keep says
// which of them the list returns.
func (s *Store) decodeEntries(ctx context.Context, raw []map[string]types.AttributeValue, keep func(*crm.Customer) bool) ([]*crm.Customer, []bool, error) {
	ids := make([]string, len(raw))
	for i, r := range raw {
		if v, ok := r["customerId"].(*types.AttributeValueMemberS); ok {
			ids[i] = v.Value
		}
	}
	found, err := s.Customers(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	out, match := make([]*crm.Customer, len(raw)), make([]bool, len(raw))
	for i, id := range ids {
		if c, ok := found[id]; ok {
			out[i], match[i] = c, keep(c)
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
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}
