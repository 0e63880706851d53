package dynamo

import (
	"context"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// List counters (docs/access-patterns.md, "Counters"), kept by the stream
// consumer from each profile's versions: TOTAL#TEAM#<team key> counts a
// team's active customers (n) and, as attributes, per grade (grade.<l>),
// stage (stage.<s>), value tier (tier.<t>) and in the pool (pool);
// TOTAL#OWNER#<id>,
// TOTAL#TAG#<tag> and TOTAL#PARTNER#<org> count theirs (n). A total that
// no single item holds (everything, a grade, a region…) is the sum over
// the teams (TEAMS).
//
// Industry and region have an item per value: TOTAL#INDUSTRY#<folded
// industry>, TOTAL#REGION#<region>, each counting everyone (n) and each
// team (team.<team key>), a region's also the pool (pool, poolTeam.<team
// key>), so that free text never grows one item past DynamoDB's 400 KB,
// and a total of one value is one small item. Kind and source, a handful
// of values each, are attributes of the team's item (kinds.<k>,
// sources.<s>). These are the per-value counters.
// A customer is counted there from the profile version its activity
// records (ValuesCounted, ValuesAt: a new customer from its creation, one
// stored before them by the recount migration, recount.go); the table's
// TEAMS item says when every customer is (valueCounts), and only then are
// they read.

const skTotal = "COUNT"

func teamTotalPK(team string) string   { return "TOTAL#TEAM#" + teamKey(team) }
func ownerTotalPK(owner string) string { return "TOTAL#OWNER#" + owner }
func tagTotalPK(tag string) string     { return "TOTAL#TAG#" + tag }
func partnerTotalPK(org string) string { return "TOTAL#PARTNER#" + org }

// valueTotalPK is the per-value counter of a dimension (KIND, SOURCE,
// INDUSTRY) and value.
func valueTotalPK(dim, value string) string { return "TOTAL#" + dim + "#" + value }

// valueTeamAttr is the attribute of a per-value counter that counts a
// team's customers.
func valueTeamAttr(team string) string { return "team." + teamKey(team) }

// counts are what a customer adds to the list counters; archived and
// merged customers count nowhere, so counters answer the default (active)
// lists. values adds the per-value counters.
func counts(c *crm.Customer, values bool) adds {
	out := adds{}
	if c == nil || c.Status != crm.StatusActive {
		return out
	}
	team := itemKey{teamTotalPK(c.Team), skTotal}
	out.add(team, "n", 1)
	out.add(team, "grade."+c.Grade.Level, 1)
	out.add(team, "stage."+string(c.Stage), 1)
	if c.ValueTier != "" {
		out.add(team, "tier."+string(c.ValueTier), 1)
	}
	if values {
		valueCounts(out, c)
	}
	if c.InPool() {
		out.add(team, "pool", 1)
	} else {
		out.add(itemKey{ownerTotalPK(c.OwnerID), skTotal}, "n", 1)
	}
	for _, tag := range c.Tags {
		out.add(itemKey{tagTotalPK(tag), skTotal}, "n", 1)
	}
	for _, org := range shareOrgs(c) {
		out.add(itemKey{partnerTotalPK(org), skTotal}, "n", 1)
	}
	return out
}

// valueCounts adds what an active customer adds to the per-value
// counters: its kind and source as attributes of its team's item (a
// handful of values each: an item of their own would cost every create a
// write unit more), its industry and region on their items.
func valueCounts(out adds, c *crm.Customer) {
	team := itemKey{teamTotalPK(c.Team), skTotal}
	if c.Kind != "" {
		out.add(team, "kinds."+string(c.Kind), 1)
	}
	if c.Source != "" {
		out.add(team, "sources."+string(c.Source), 1)
	}
	for dim, v := range valuesOf(c) {
		k := itemKey{valueTotalPK(dim, v), skTotal}
		out.add(k, "n", 1)
		out.add(k, valueTeamAttr(c.Team), 1)
		if dim == "REGION" && c.InPool() {
			out.add(k, "pool", 1)
			out.add(k, "poolTeam."+teamKey(c.Team), 1)
		}
	}
}

// valuesOf are c's values of the dimensions with an item per value.
func valuesOf(c *crm.Customer) map[string]string {
	out := map[string]string{}
	if in := industryKey(c.Industry); in != "" {
		out["INDUSTRY"] = in
	}
	if c.Region != "" {
		out["REGION"] = c.Region
	}
	return out
}

// industryKey is an industry as counters and filters compare it: as
// written, trimmed, case-insensitively.
func industryKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// startValueCounts marks a table whose per-value counters count every
// customer from its first: the TEAMS item created with valueCounts, before
// any team is added to it (the condition keeps an existing one as it is).
func (s *Store) startValueCounts(ctx context.Context) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, ConditionExpression: aws.String(notExists),
		Item: map[string]types.AttributeValue{"pk": str(teamsPK), "sk": str(teamsPK), "type": str("teams"),
			"valueCounts": &types.AttributeValueMemberBOOL{Value: true}}})
	if err = wrap("start counting values", err); crm.ErrorCode(err) == crm.ECONFLICT {
		return nil
	}
	return err
}

// valuesCounted reports whether the per-value counters count every
// customer (startValueCounts, or the recount migration done): a GetItem
// of TEAMS until it says so, then remembered by the process.
func (s *Store) valuesCounted(ctx context.Context) (bool, error) {
	if s.valueCounts.done.Load() {
		return true, nil
	}
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(teamsPK, teamsPK),
		ProjectionExpression: aws.String("valueCounts")})
	if err != nil {
		return false, wrap("get teams", err)
	}
	v, _ := res.Item["valueCounts"].(*types.AttributeValueMemberBOOL)
	counted := v != nil && v.Value
	if counted {
		s.valueCounts.done.Store(true)
	}
	return counted, nil
}

// countMoves adds to out what a profile's move from before to after does
// to the counters (to the per-value ones too with values).
func countMoves(out adds, before, after *crm.Customer, values bool) {
	for k, m := range counts(after, values) {
		for name, n := range m {
			out.add(k, name, n)
		}
	}
	for k, m := range counts(before, values) {
		for name, n := range m {
			out.add(k, name, -n)
		}
	}
}

// total is how a list's total is read: one attribute of one counter item,
// or (sum) of every team's counter item.
type total struct {
	pk, attr string
	sum      bool
}

func (s *Store) readTotal(ctx context.Context, t total) (int, error) {
	keys := []map[string]types.AttributeValue{key(t.pk, skTotal)}
	if t.sum {
		teams, err := s.teams(ctx)
		if err != nil {
			return 0, err
		}
		keys = keys[:0]
		for _, tk := range teams {
			keys = append(keys, key("TOTAL#TEAM#"+tk, skTotal))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, it := range items {
		v, err := strconv.Atoi(numAttr(it[t.attr]))
		if err == nil {
			n += v
		}
	}
	return n, nil
}

func (s *Store) totalOf(t total) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) { return s.readTotal(ctx, t) }
}

// Distribution reads the grade and tier counters of everything (every
// team's counter item, after TEAMS) or of a team (its item).
func (s *Store) Distribution(ctx context.Context, team string, grades []string) (*crm.Distribution, error) {
	keys := []map[string]types.AttributeValue{key(teamTotalPK(team), skTotal)}
	if team == "" {
		teams, err := s.teams(ctx)
		if err != nil {
			return nil, err
		}
		keys = keys[:0]
		for _, tk := range teams {
			keys = append(keys, key("TOTAL#TEAM#"+tk, skTotal))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	d := &crm.Distribution{Grades: map[string]int{}, Tiers: map[crm.ValueTier]int{}}
	read := func(it map[string]types.AttributeValue, name string) int {
		n, _ := strconv.Atoi(numAttr(it[name]))
		return n
	}
	for _, it := range items {
		d.Total += read(it, "n")
		for _, g := range grades {
			d.Grades[g] += read(it, "grade."+g)
		}
		for _, t := range crm.ValueTiers {
			d.Tiers[t] += read(it, "tier."+string(t))
		}
	}
	for _, g := range grades {
		d.Grades[g] += 0
	}
	return d, nil
}

func strAttr(v types.AttributeValue) string {
	if x, ok := v.(*types.AttributeValueMemberS); ok {
		return x.Value
	}
	return ""
}

func numAttr(v types.AttributeValue) string {
	if x, ok := v.(*types.AttributeValueMemberN); ok {
		return x.Value
	}
	return ""
}

// numbers reads an item's counters (number attributes but a month's
// revision).
func numbers(it map[string]types.AttributeValue) map[string]float64 {
	out := map[string]float64{}
	for name, v := range it {
		if n := numAttr(v); n != "" && name != "rev" && name != "ttl" {
			f, _ := strconv.ParseFloat(n, 64)
			out[name] = f
		}
	}
	return out
}
