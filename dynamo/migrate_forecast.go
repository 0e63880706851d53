package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// forecastCounters counts the deals stored before the forecast counters
// in them (docs/access-patterns.md, "Sales targets and performance"): an
// open deal's amount by expected month and stage, a won deal's cycle
// time, each deal marked fcv so that its later writes take out what it
// put in.
const forecastCounters = "2026-12-forecast-counters"

// forecastPage counts each deal of a page not counted yet, in one
// transaction of its own: the deal marked, conditioned on its version
// read and on not being marked (a write since has counted it, or a run
// before did: nothing to do), with the ADDs of its share to its team's
// and owner's pipeline counters. A lost deal gets the marker alone.
func forecastPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	changed := 0
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		if !strings.HasPrefix(pk, "CUST#") || !strings.HasPrefix(sk, skOppPrefix) || raw["fcv"] != nil {
			continue
		}
		var it opportunityItem
		if err := unmarshalItem(raw, &it); err != nil {
			return changed, fmt.Errorf("unmarshal opportunity %s %s: %w", pk, sk, err)
		}
		prev := fromOpportunityItem(&it)
		next := prev.Clone()
		next.ForecastCounted = true
		t := &tx{s: s}
		t.update(pk, sk, "SET fcv = :t", "version = :v AND "+notCounted, map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true}, ":v": raw["version"]}, nil)
		t.scopedCounters(crm.PipelineDeltas(prev, next), pipelinePK, skPipeline)
		writes := make([]types.TransactWriteItem, len(t.items))
		for i, w := range t.items {
			writes[i] = w.write
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
		// Failed conditions: written since the page was read (and
		// counted by that write), or counted already.
		did, err := applied(err, "count deal in the forecast")
		if err != nil {
			return changed, err
		}
		if did {
			changed++
		}
	}
	return changed, nil
}
