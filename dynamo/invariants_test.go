package dynamo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CheckInvariants scans a table (tests only) and returns every way its
// derived items disagree with the profiles they derive from, which is what
// a half-applied change would leave behind:
//   - a profile's interactionCount and contactCount equal its interaction
//     and contact items;
//   - every list counter equals the number of profiles it counts;
//   - every unique phone and email claim names a profile holding that
//     value, and every profile's values are claimed by it;
//   - every tag index entry belongs to a profile with that tag, and back;
//   - every watch mark is where its profile puts it, and back;
//   - the analytics of everything count every profile as gained and every
//     interaction item (per channel too), in day buckets and in month
//     buckets alike.
func CheckInvariants(ctx context.Context, db *dynamodb.Client, table string) ([]string, error) {
	items, err := scanAll(ctx, db, table)
	if err != nil {
		return nil, err
	}
	var (
		profiles     = map[string]*customerItem{} // by customer id
		interactions = map[string]int{}
		contacts     = map[string]int{}
		counters     = map[string]int{} // by dimension
		claims       = map[string]string{}
		tags         = map[string]bool{}      // customer id + "#" + tag
		marks        = map[string]watchMark{} // customer id + sk
		channels     = map[string]float64{}   // interaction items by channel
		gained       = map[string]float64{}   // by granularity prefix
		counted      = map[string]float64{}   // analytics counters of everything, by prefix + counter
	)
	for _, it := range items {
		pk, sk := strAttr(it["pk"]), strAttr(it["sk"])
		switch {
		case strings.HasPrefix(pk, "CUST#") && sk == skProfile:
			var c customerItem
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return nil, fmt.Errorf("%s: %w", pk, err)
			}
			profiles[c.ID] = &c
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skInteractPrefix):
			interactions[customerIDOf(pk)]++
			channels[strAttr(it["channel"])]++
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skWatchPrefix):
			marks[customerIDOf(pk)+sk] = watchMark{list: strAttr(it["gList"]), sort: strAttr(it["gSort"])}
		case pk == aggregatePK("ALL"):
			for name, v := range it {
				if n, err := strconv.ParseFloat(numAttr(v), 64); err == nil && numAttr(v) != "" {
					counted[sk[:2]+name] += n
				}
			}
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skContactPrefix):
			contacts[customerIDOf(pk)]++
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skTagPrefix):
			tags[customerIDOf(pk)+"#"+strings.TrimPrefix(sk, skTagPrefix)] = true
		case strings.HasPrefix(pk, "COUNT#") && sk == skCounter:
			n, _ := strconv.Atoi(numAttr(it["n"]))
			counters[strings.TrimPrefix(pk, "COUNT#")] = n
		case strings.HasPrefix(pk, "UNIQ#") && sk == skUnique:
			claims[pk] = strAttr(it["customerId"])
		}
	}

	var broken []string
	want := map[string]int{}
	for _, id := range slices.Sorted(maps.Keys(profiles)) {
		c := profiles[id]
		if c.InteractionCount != interactions[id] {
			broken = append(broken, fmt.Sprintf("customer %s: interactionCount %d, %d interaction items", id, c.InteractionCount, interactions[id]))
		}
		if c.ContactCount != contacts[id] {
			broken = append(broken, fmt.Sprintf("customer %s: contactCount %d, %d contact items", id, c.ContactCount, contacts[id]))
		}
		for _, d := range counterDims(fromCustomerItem(c)) {
			want[d]++
		}
		for _, p := range c.Phones {
			if claims[phonePK(p)] != id {
				broken = append(broken, fmt.Sprintf("customer %s: phone %s claimed by %q", id, p, claims[phonePK(p)]))
			}
		}
		for _, e := range c.Emails {
			if claims[emailPK(e)] != id {
				broken = append(broken, fmt.Sprintf("customer %s: email %s claimed by %q", id, e, claims[emailPK(e)]))
			}
		}
		for _, tag := range c.Tags {
			if !tags[id+"#"+tag] {
				broken = append(broken, fmt.Sprintf("customer %s: tag %s has no index entry", id, tag))
			}
		}
		for slot, m := range watchMarks(fromCustomerItem(c)) {
			if got, ok := marks[id+slot]; !ok || got != m {
				broken = append(broken, fmt.Sprintf("customer %s: watch mark %s is %+v, want %+v", id, slot, got, m))
			}
			delete(marks, id+slot)
		}
		for _, p := range []string{aggDayPrefix, aggMonthPrefix} {
			gained[p]++
		}
	}
	for key := range marks {
		broken = append(broken, fmt.Sprintf("watch mark %s has no place on its profile", key))
	}
	total := 0.0
	for ch, n := range channels {
		total += n
		for _, p := range []string{aggDayPrefix, aggMonthPrefix} {
			if got := counted[p+"channel."+ch]; got != n {
				broken = append(broken, fmt.Sprintf("analytics %s: %g %s interactions counted, %g items", p, got, ch, n))
			}
		}
	}
	for _, p := range []string{aggDayPrefix, aggMonthPrefix} {
		if got := counted[p+"interactions"]; got != total {
			broken = append(broken, fmt.Sprintf("analytics %s: %g interactions counted, %g items", p, got, total))
		}
		if got := counted[p+"gained"]; got != gained[p] {
			broken = append(broken, fmt.Sprintf("analytics %s: %g customers gained, %g profiles", p, got, gained[p]))
		}
	}
	for pk, id := range claims {
		c := profiles[id]
		v := strings.TrimPrefix(strings.TrimPrefix(pk, "UNIQ#PHONE#"), "UNIQ#EMAIL#")
		if c == nil || !slices.Contains(c.Phones, v) && !slices.Contains(c.Emails, v) {
			broken = append(broken, fmt.Sprintf("claim %s names customer %q, which does not hold it", pk, id))
		}
	}
	for key := range tags {
		id, tag, _ := strings.Cut(key, "#")
		if c := profiles[id]; c == nil || !slices.Contains(c.Tags, tag) {
			broken = append(broken, fmt.Sprintf("tag entry %s of customer %s has no profile tag", tag, id))
		}
	}
	// Counters of the kinds counterDims keeps; others (claims per user,
	// analytics) have their own rules.
	listed := func(d string) bool {
		return d == "ALL" || d == "POOL" || slices.ContainsFunc([]string{"GRADE#", "STAGE#", "POOL#", "OWNER#", "REGION#", "TEAM#", "TIER#", "TAG#",
			"TEAMGRADE#", "TEAMTIER#"},
			func(p string) bool { return strings.HasPrefix(d, p) })
	}
	for d, n := range counters {
		if listed(d) && n != want[d] {
			broken = append(broken, fmt.Sprintf("counter %s is %d, %d profiles", d, n, want[d]))
		}
	}
	for d, n := range want {
		if _, ok := counters[d]; !ok {
			broken = append(broken, fmt.Sprintf("counter %s is missing, %d profiles", d, n))
		}
	}
	slices.Sort(broken)
	return broken, nil
}

func scanAll(ctx context.Context, db *dynamodb.Client, table string) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		res, err := db.Scan(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
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
