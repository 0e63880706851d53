package dynamo

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// CheckInvariants scans a table (tests only, with the stream drained) and
// returns every way its derived items disagree with what they derive from,
// which is what a half-applied or twice-applied change would leave:
//   - every customer has one activity item, whose interactionCount equals
//     its interaction items (a merged customer's: none) and whose watch-list
//     keys and falling mark are where its profile and activity put them;
//     a profile's contactCount equals its contact items;
//   - every list counter (TOTAL#) equals the number of profiles it counts
//     (the per-value ones: of the profiles whose activity marks them
//     counted there, and every activity does once TEAMS says valueCounts);
//   - every unique phone and email claim names a profile holding that
//     value, and every profile's values are claimed by it;
//   - the caller lookup holds exactly the entries the profiles and
//     contacts imply (LOOKUP#);
//   - the search index holds exactly the key items, carrying what they
//     carry, that the profiles and contacts imply (SEARCH#), and each
//     customer's manifest names them (SEARCHKEYS#);
//   - the order index holds exactly the entries the profiles and
//     activities imply (ORDER#), and each activity records them (ord);
//   - every tag index entry belongs to a profile with that tag, and back;
//   - no watch mark of the layout before activity items is left;
//   - the analytics, summed over the teams and over the owners alike,
//     count every profile as gained and every interaction item (per
//     channel too), and a rolled-up month is the sum of its days;
//   - TEAMS names every team that has figures or counters;
//   - every pipeline counter (PIPE#) equals what the deals add up to, and
//     every revenue counter (REV#) what the contracts add up to;
//   - every interaction written without a transaction has its audit entry
//     and, opening a case, its case beside it (appends.go).
func CheckInvariants(ctx context.Context, db *dynamodb.Client, table string) ([]string, error) {
	items, err := scanAll(ctx, db, table)
	if err != nil {
		return nil, err
	}
	var (
		profiles     = map[string]*customerItem{}
		activities   = map[string]*activityItem{}
		falling      = map[string]map[string]types.AttributeValue{}
		interactions = map[string]int{}
		contacts     = map[string]int{}
		openCases    = map[string]int{}
		evaluations  = map[string]int{}
		deals        = map[string]crm.TransactionStats{} // TRANSACTION interactions: count and total
		totals       = map[string]map[string]float64{}   // by pk, attribute
		claims       = map[string]string{}
		tags         = map[string]bool{} // customer id + "#" + tag
		oldMarks     []string
		channels     = map[string]float64{} // interaction items by channel
		valuesAll    bool                   // TEAMS: every customer counted in the per-value counters
		byTeams      = map[string]float64{} // analytics of every team's days, by counter
		byOwners     = map[string]float64{} // of every owner's days
		days         = map[string]map[string]float64{}
		months       = map[string]map[string]float64{}
		teamsHaving  = map[string]bool{}
		teamsListed  = map[string]bool{}
		pipelineWant = map[string]map[string]int64{} // by PIPE# (REV#) pk, counter: what the deals (contracts) add up to
		pipelineHave = map[string]map[string]int64{} // the PIPE# and REV# items
		orderHave    = map[itemKey]string{}          // ORDER# entries: their customer
		stored       = map[itemKey]bool{}            // audit entries and cases
		unfinished   []itemKey                       // what interactions written without a transaction need
	)
	for _, it := range items {
		pk, sk := strAttr(it["pk"]), strAttr(it["sk"])
		switch {
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skOppPrefix):
			var o opportunityItem
			if err := attributevalue.UnmarshalMap(it, &o); err != nil {
				return nil, fmt.Errorf("%s %s: %w", pk, sk, err)
			}
			for _, d := range crm.PipelineDeltas(nil, fromOpportunityItem(&o)) {
				k := pipelinePK(d.Scope)
				if pipelineWant[k] == nil {
					pipelineWant[k] = map[string]int64{}
				}
				pipelineWant[k][d.Counter] += d.N
			}
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skContractPrefix):
			var c contractItem
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return nil, fmt.Errorf("%s %s: %w", pk, sk, err)
			}
			for _, d := range crm.ContractDeltas(nil, fromContractItem(&c)) {
				k := revenuePK(d.Scope)
				if pipelineWant[k] == nil {
					pipelineWant[k] = map[string]int64{}
				}
				pipelineWant[k][d.Counter] += d.N
			}
		case (strings.HasPrefix(pk, "PIPE#") && sk == skPipeline) || (strings.HasPrefix(pk, "REV#") && sk == skRevenue):
			pipelineHave[pk] = map[string]int64{}
			for name, v := range it {
				if n, err := strconv.ParseInt(numAttr(v), 10, 64); err == nil && n != 0 {
					pipelineHave[pk][name] = n
				}
			}
		case strings.HasPrefix(pk, "ORDER#"):
			orderHave[itemKey{pk, sk}] = strAttr(it["customerId"])
		case strings.HasPrefix(pk, "CUST#") && sk == skProfile:
			var c customerItem
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return nil, fmt.Errorf("%s: %w", pk, err)
			}
			profiles[c.ID] = &c
		case strings.HasPrefix(pk, "CUST#") && sk == skActivity:
			var a activityItem
			if err := attributevalue.UnmarshalMap(it, &a); err != nil {
				return nil, fmt.Errorf("%s: %w", pk, err)
			}
			activities[a.CustomerID] = &a
		case strings.HasPrefix(pk, "CUST#") && sk == skFalling:
			falling[customerIDOf(pk)] = it
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skWatchPrefix):
			oldMarks = append(oldMarks, pk+" "+sk)
		case strings.HasPrefix(pk, "AUDIT#"):
			stored[itemKey{pk, sk}] = true
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skInteractPrefix):
			if raw := it["aud"]; raw != nil {
				var head appendAudit
				if err := attributevalue.Unmarshal(raw, &head); err != nil {
					return nil, fmt.Errorf("%s %s: %w", pk, sk, err)
				}
				unfinished = append(unfinished, itemKey{auditDayPK(crm.TimeOfID(head.ID)), head.ID})
				if it["opens"] != nil {
					unfinished = append(unfinished, itemKey{pk, caseSK(strings.TrimPrefix(sk, skInteractPrefix))})
				}
			}
			interactions[customerIDOf(pk)]++
			channels[strAttr(it["channel"])]++
			if strAttr(it["kind"]) == string(crm.TypeTransaction) {
				d := deals[customerIDOf(pk)]
				d.Count++
				if f, err := strconv.ParseFloat(numAttr(it["amount"]), 64); err == nil {
					d.Total += f
				}
				deals[customerIDOf(pk)] = d
			}
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skCasePrefix):
			stored[itemKey{pk, sk}] = true
			if crm.CaseStatus(strAttr(it["status"])).IsOpen() {
				openCases[customerIDOf(pk)]++
			}
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skEvalPrefix):
			evaluations[customerIDOf(pk)]++
		case strings.HasPrefix(pk, "STATS#TEAM#") && strings.HasPrefix(sk, aggDayPrefix):
			teamsHaving[strings.TrimPrefix(pk, "STATS#TEAM#")] = true
			for name, v := range numbers(it) {
				byTeams[name] += v
				m := pk + " " + strings.TrimPrefix(sk, aggDayPrefix)[:7]
				if days[m] == nil {
					days[m] = map[string]float64{}
				}
				days[m][name] += v
			}
		case strings.HasPrefix(pk, "STATS#TEAM#") && strings.HasPrefix(sk, aggMonthPrefix):
			if _, ok := it["rolledUp"]; ok {
				months[pk+" "+strings.TrimPrefix(sk, aggMonthPrefix)] = numbers(it)
			}
		case (strings.HasPrefix(pk, "STATS#OWNER#") || pk == "STATS#POOL") && strings.HasPrefix(sk, aggDayPrefix):
			for name, v := range numbers(it) {
				byOwners[name] += v
			}
		case pk == teamsPK:
			v, _ := it["valueCounts"].(*types.AttributeValueMemberBOOL)
			valuesAll = v != nil && v.Value
			for _, tk := range stringSet(it["teams"]) {
				teamsListed[tk] = true
			}
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skContactPrefix):
			contacts[customerIDOf(pk)]++
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skTagPrefix):
			tags[customerIDOf(pk)+"#"+strings.TrimPrefix(sk, skTagPrefix)] = true
		case strings.HasPrefix(pk, "TOTAL#") && sk == skTotal:
			totals[pk] = numbers(it)
			if strings.HasPrefix(pk, "TOTAL#TEAM#") {
				teamsHaving[strings.TrimPrefix(pk, "TOTAL#TEAM#")] = true
			}
		case strings.HasPrefix(pk, "UNIQ#") && sk == skUnique:
			claims[pk] = strAttr(it["customerId"])
		}
	}

	var broken []string
	fail := func(format string, args ...any) { broken = append(broken, fmt.Sprintf(format, args...)) }
	if err := checkSearchKeys(items, fail); err != nil {
		return nil, err
	}
	if err := checkLookups(items, fail); err != nil {
		return nil, err
	}
	want := adds{}
	for _, id := range slices.Sorted(maps.Keys(profiles)) {
		p := profiles[id]
		a := activities[id]
		if a == nil {
			fail("customer %s has no activity", id)
			continue
		}
		c := customerOf(p, a)
		if p.Status != string(crm.StatusMerged) && a.InteractionCount != interactions[id] {
			fail("customer %s: interactionCount %d, %d interaction items", id, a.InteractionCount, interactions[id])
		}
		if p.Status != string(crm.StatusMerged) {
			if c.OpenCaseCount != openCases[id] || len(c.OpenCases) != min(openCases[id], crm.OpenCasesKept) {
				fail("customer %s: %d open cases (%d listed), %d open case items", id, c.OpenCaseCount, len(c.OpenCases), openCases[id])
			}
			if d := deals[id]; c.Transactions.Count != d.Count || math.Abs(c.Transactions.Total-d.Total) > 0.005 {
				fail("customer %s: transactions %d of %.2f, %d items of %.2f", id, c.Transactions.Count, c.Transactions.Total, d.Count, d.Total)
			}
			if len(c.RecentEvaluations) != min(evaluations[id], crm.RecentEvaluationsKept) {
				fail("customer %s: %d recent evaluations, %d evaluation items", id, len(c.RecentEvaluations), evaluations[id])
			}
		}
		if p.Status == string(crm.StatusMerged) && interactions[id] != 0 {
			fail("merged customer %s still holds %d interactions", id, interactions[id])
		}
		if p.ContactCount != contacts[id] {
			fail("customer %s: contactCount %d, %d contact items", id, p.ContactCount, contacts[id])
		}
		if got, w := activityKeys(a), activityKeys(toActivityItem(c, fromActivityItem(a, fromCustomerItem(p)), nil)); got != w {
			fail("customer %s: activity keys %v, want %v", id, got, w)
		}
		wantOrder := orderStateOf(c)
		if a.ForwardTo != "" {
			wantOrder = nil
		}
		if !sameOrderState(a.Ord, wantOrder) {
			fail("customer %s: order entries written for %+v, want %+v", id, a.Ord, wantOrder)
		}
		wantEntries := orderEntries(wantOrder)
		if k, ok := nameOrderEntry(c); ok {
			wantEntries = append(wantEntries, k) // the search manifest's (checkSearchKeys)
		}
		for _, k := range wantEntries {
			if orderHave[k] != id {
				fail("customer %s: order entry %q %q is missing", id, k.pk, k.sk)
			}
			delete(orderHave, k)
		}
		g, tm, pos, ok := fallingMark(c)
		switch m := falling[id]; {
		case ok && (m == nil || strAttr(m["gOwner"]) != g || strAttr(m["gTeam"]) != tm || strAttr(m["gSort"]) != pos):
			fail("customer %s: falling mark %v, want %s %s %s", id, m, g, tm, pos)
		case !ok && m != nil:
			fail("customer %s: a falling mark, and no falling scores", id)
		}
		// The per-value counters count the customers marked counted, and
		// every one once the table says so.
		if !a.ValuesCounted && valuesAll {
			fail("customer %s: not counted in the per-value counters, and TEAMS says every customer is", id)
		}
		for k, m := range counts(c, a.ValuesCounted) {
			for name, n := range m {
				want.add(k, name, n)
			}
		}
		for _, ph := range p.Phones {
			if claims[phonePK(ph)] != id {
				fail("customer %s: phone %s claimed by %q", id, ph, claims[phonePK(ph)])
			}
		}
		for _, e := range p.Emails {
			if claims[emailPK(e)] != id {
				fail("customer %s: email %s claimed by %q", id, e, claims[emailPK(e)])
			}
		}
		if v := p.CreditCode; v != "" && claims[creditCodePK(v)] != id {
			fail("customer %s: credit code %s claimed by %q", id, v, claims[creditCodePK(v)])
		}
		for _, tag := range p.Tags {
			if !tags[id+"#"+tag] {
				fail("customer %s: tag %s has no index entry", id, tag)
			}
		}
	}
	for id := range activities {
		if profiles[id] == nil {
			fail("activity of customer %s has no profile", id)
		}
	}
	for k, id := range orderHave {
		fail("order entry %q %q of customer %s is not where it stands", k.pk, k.sk, id)
	}
	for _, m := range oldMarks {
		fail("watch mark %s of the old layout is left", m)
	}
	total := 0.0
	for ch, n := range channels {
		total += n
		if got := byTeams["channel."+ch]; got != n {
			fail("analytics of the teams: %g %s interactions counted, %g items", got, ch, n)
		}
		if got := byOwners["channel."+ch]; got != n {
			fail("analytics of the owners: %g %s interactions counted, %g items", got, ch, n)
		}
	}
	for name, got := range map[string]float64{"teams": byTeams["interactions"], "owners": byOwners["interactions"]} {
		if got != total {
			fail("analytics of the %s: %g interactions counted, %g items", name, got, total)
		}
	}
	for name, got := range map[string]float64{"teams": byTeams["gained"], "owners": byOwners["gained"]} {
		if got != float64(len(profiles)) {
			fail("analytics of the %s: %g customers gained, %g profiles", name, got, float64(len(profiles)))
		}
	}
	for m, sum := range months {
		if d := days[m]; !maps.Equal(d, sum) {
			fail("month %s rolled up as %v, its days sum to %v", m, sum, d)
		}
	}
	for tk := range teamsHaving {
		if !teamsListed[tk] {
			fail("team %s has figures or counters and is not in TEAMS", tk)
		}
	}
	for pk, m := range totals {
		for name, n := range m {
			if w := want[itemKey{pk, skTotal}][name]; n != w {
				fail("counter %s %s is %g, %g profiles", pk, name, n, w)
			}
		}
	}
	for k, m := range want {
		for name, n := range m {
			if _, ok := totals[k.pk][name]; !ok && n != 0 {
				fail("counter %s %s is missing, %g profiles", k.pk, name, n)
			}
		}
	}
	for pk, id := range claims {
		p := profiles[id]
		v := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(pk, "UNIQ#PHONE#"), "UNIQ#EMAIL#"), "UNIQ#USCC#")
		if p == nil || !slices.Contains(p.Phones, v) && !slices.Contains(p.Emails, v) && p.CreditCode != v {
			fail("claim %s names customer %q, which does not hold it", pk, id)
		}
	}
	for k := range tags {
		id, tag, _ := strings.Cut(k, "#")
		if p := profiles[id]; p == nil || !slices.Contains(p.Tags, tag) {
			fail("tag entry %s of customer %s has no profile tag", tag, id)
		}
	}
	slices.Sort(broken)
	for _, pk := range slices.Sorted(maps.Keys(pipelineHave)) {
		if pipelineWant[pk] == nil {
			pipelineWant[pk] = map[string]int64{}
		}
	}
	for _, pk := range slices.Sorted(maps.Keys(pipelineWant)) {
		if !maps.Equal(pipelineWant[pk], pipelineHave[pk]) && !(len(pipelineWant[pk]) == 0 && len(pipelineHave[pk]) == 0) {
			fail("pipeline counters %s: %v, the deals add up to %v", pk, pipelineHave[pk], pipelineWant[pk])
		}
	}
	for _, k := range unfinished {
		if !stored[k] {
			fail("an interaction written without a transaction misses %s %s", k.pk, k.sk)
		}
	}
	return broken, nil
}

func stringSet(v types.AttributeValue) []string {
	if s, ok := v.(*types.AttributeValueMemberSS); ok {
		return s.Value
	}
	return nil
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

// checkLookups compares the caller lookup's entries with those the
// profiles and contacts imply.
func checkLookups(items []map[string]types.AttributeValue, fail func(string, ...any)) error {
	want, have := map[itemKey]bool{}, map[itemKey]bool{}
	for _, it := range items {
		pk, sk := strAttr(it["pk"]), strAttr(it["sk"])
		var implied map[itemKey]*lookupItem
		switch {
		case strings.HasPrefix(pk, "LOOKUP#"):
			have[itemKey{pk, sk}] = true
		case strings.HasPrefix(pk, "CUST#") && sk == skProfile:
			var c customerItem
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return fmt.Errorf("%s: %w", pk, err)
			}
			implied = customerLookups(fromCustomerItem(&c))
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skContactPrefix):
			var c contactItem
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return fmt.Errorf("%s %s: %w", pk, sk, err)
			}
			implied = contactLookups(fromContactItem(&c))
		}
		for k := range implied {
			want[k] = true
		}
	}
	for k := range want {
		if !have[k] {
			fail("caller lookup entry %s %s is missing", k.pk, k.sk)
		}
	}
	for k := range have {
		if !want[k] {
			fail("caller lookup entry %s %s names a holder that does not hold it", k.pk, k.sk)
		}
	}
	return nil
}

// checkSearchKeys compares the search index's items, and the manifests,
// with those the profiles and contacts imply.
func checkSearchKeys(items []map[string]types.AttributeValue, fail func(string, ...any)) error {
	profiles, contacts := map[string]*crm.Customer{}, map[string][]*crm.Contact{}
	have, manifests := map[itemKey]*searchKeyItem{}, map[string]map[itemKey]bool{}
	for _, it := range items {
		pk, sk := strAttr(it["pk"]), strAttr(it["sk"])
		switch {
		case strings.HasPrefix(pk, "SEARCH#"), strings.HasPrefix(pk, orderPK(crm.OrderName, orderAll)):
			var k searchKeyItem
			if err := attributevalue.UnmarshalMap(it, &k); err != nil {
				return fmt.Errorf("%s %s: %w", pk, sk, err)
			}
			have[itemKey{pk, sk}] = &k
		case strings.HasPrefix(pk, "SEARCHKEYS#"):
			var m searchManifestItem
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				return fmt.Errorf("%s: %w", pk, err)
			}
			keys := map[itemKey]bool{}
			for _, k := range m.Keys {
				keys[fromManifestKey(k)] = true
			}
			manifests[strings.TrimPrefix(pk, "SEARCHKEYS#")] = keys
			if m.V != searchKeysVersion {
				fail("the search manifest of %s records layout %d, want %d", strings.TrimPrefix(pk, "SEARCHKEYS#"), m.V, searchKeysVersion)
			}
		case strings.HasPrefix(pk, "CUST#") && sk == skProfile:
			var c customerItem
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return fmt.Errorf("%s: %w", pk, err)
			}
			profiles[customerIDOf(pk)] = fromCustomerItem(&c)
		case strings.HasPrefix(pk, "CUST#") && strings.HasPrefix(sk, skContactPrefix):
			var c contactItem
			if err := attributevalue.UnmarshalMap(it, &c); err != nil {
				return fmt.Errorf("%s %s: %w", pk, sk, err)
			}
			contacts[customerIDOf(pk)] = append(contacts[customerIDOf(pk)], fromContactItem(&c))
		}
	}
	want := map[itemKey]*searchKeyItem{}
	for id, c := range profiles {
		implied, _ := searchItems(c, contacts[id])
		maps.Copy(want, implied)
		if m := manifests[id]; len(implied) > 0 && !maps.EqualFunc(m, implied, func(bool, *searchKeyItem) bool { return true }) {
			fail("the search manifest of %s names %d items, its customer implies %d", id, len(m), len(implied))
		}
	}
	for k, w := range want {
		switch h := have[k]; {
		case h == nil:
			fail("search key %s %s is missing", k.pk, k.sk)
		case *h != *w:
			fail("search key %s %s carries %+v, its customer implies %+v", k.pk, k.sk, *h, *w)
		}
	}
	for k := range have {
		if want[k] == nil {
			fail("search key %s %s is not implied by its customer", k.pk, k.sk)
		}
	}
	return nil
}
