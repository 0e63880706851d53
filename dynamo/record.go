package dynamo

import (
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/stream"
)

// Decode turns a record of the table's stream (as Lambda hands it to the
// stream function, or infra/ddbstream locally) into the domain values the
// write left before and after it.
func (s *Store) Decode(r events.DynamoDBEventRecord) (stream.Change, error) {
	return DecodeRecord(r)
}

// DecodeRecord decodes a stream record (see Store.Decode).
func DecodeRecord(r events.DynamoDBEventRecord) (stream.Change, error) {
	ch := stream.Change{ID: r.EventID, Seq: r.Change.SequenceNumber, At: r.Change.ApproximateCreationDateTime.Time.UTC(), Event: r.EventName}
	keys := fromEventImage(r.Change.Keys)
	return decodeChange(ch, strAttr(keys["pk"]), strAttr(keys["sk"]), fromEventImage(r.Change.OldImage), fromEventImage(r.Change.NewImage))
}

// decodeChange fills in ch, whose record's identity and event are set,
// from the item's key and images.
func decodeChange(ch stream.Change, pk, sk string, before, after map[string]types.AttributeValue) (stream.Change, error) {
	if !strings.HasPrefix(pk, "CUST#") {
		return ch, nil
	}
	ch.CustomerID = customerIDOf(pk)
	img := after
	if img == nil {
		img = before
	}
	// A merge moves history as a put under the survivor (marked
	// mergedFrom) and a delete under the merged customer: no new event.
	_, moved := after["mergedFrom"]
	ch.Moved = (moved && ch.Event == "INSERT") || ch.Event == "REMOVE"
	if raw, ok := img["scope"]; ok {
		var sc scopeItem
		if err := attributevalue.Unmarshal(raw, &sc); err != nil {
			return ch, fmt.Errorf("scope of %s %s: %w", pk, sk, err)
		}
		ch.Scope = sc.customer()
		ch.Scope.ID = ch.CustomerID
	}
	var err error
	switch {
	case sk == skProfile:
		ch.Kind = stream.KindProfile
		_, ch.Legacy = img["interactionCount"]
		ch.CustomerBefore, err = decodeImage(before, fromCustomerItem)
		if err == nil {
			ch.Customer, err = decodeImage(after, fromCustomerItem)
		}
	case strings.HasPrefix(sk, skInteractPrefix):
		ch.Kind = stream.KindInteraction
		ch.InteractionBefore, err = decodeImage(before, fromInteractionItem)
		if err == nil {
			ch.Interaction, err = decodeImage(after, fromInteractionItem)
		}
		ch.Unfinished = unfinished(ch.Event, after)
	case strings.HasPrefix(sk, skCasePrefix):
		ch.Kind = stream.KindCase
		ch.CaseBefore, err = decodeImage(before, fromCaseItem)
		if err == nil {
			ch.Case, err = decodeImage(after, fromCaseItem)
		}
	case strings.HasPrefix(sk, skEvalPrefix):
		ch.Kind = stream.KindEvaluation
		ch.Evaluation, err = decodeImage(img, fromEvaluationItem)
	case strings.HasPrefix(sk, skContactPrefix):
		ch.Kind = stream.KindContact
		ch.ContactBefore, err = decodeImage(before, fromContactItem)
		if err == nil {
			ch.Contact, err = decodeImage(after, fromContactItem)
		}
	case strings.HasPrefix(sk, skStagePrefix):
		ch.Kind = stream.KindStageChange
		ch.StageChange, err = decodeImage(img, fromStageChangeItem)
	case strings.HasPrefix(sk, skTaskPrefix):
		ch.Kind = stream.KindTask
		ch.TaskBefore, err = decodeImage(before, fromTaskItem)
		if err == nil {
			ch.Task, err = decodeImage(after, fromTaskItem)
		}
	case strings.HasPrefix(sk, skLeadPrefix):
		ch.Kind = stream.KindLead
		ch.LeadBefore, err = decodeImage(before, fromLeadItem)
		if err == nil {
			ch.Lead, err = decodeImage(after, fromLeadItem)
		}
	case strings.HasPrefix(sk, skContractPrefix):
		ch.Kind = stream.KindContract
		ch.ContractBefore, err = decodeImage(before, fromContractItem)
		if err == nil {
			ch.Contract, err = decodeImage(after, fromContractItem)
		}
	case strings.HasPrefix(sk, skOppPrefix):
		ch.Kind = stream.KindOpportunity
		ch.OpportunityBefore, err = decodeImage(before, fromOpportunityItem)
		if err == nil {
			ch.Opportunity, err = decodeImage(after, fromOpportunityItem)
		}
	}
	if err != nil {
		return ch, fmt.Errorf("%s %s: %w", pk, sk, err)
	}
	if ch.Event == "INSERT" {
		ch.InteractionBefore, ch.CaseBefore, ch.CustomerBefore, ch.ContactBefore, ch.OpportunityBefore, ch.TaskBefore = nil, nil, nil, nil, nil, nil
		ch.LeadBefore = nil
		ch.ContractBefore = nil
	}
	return ch, nil
}

// decodeImage converts one image of an item; nil for an image the record
// does not carry.
func decodeImage[I any, T any](img map[string]types.AttributeValue, conv func(*I) *T) (*T, error) {
	if img == nil {
		return nil, nil
	}
	var it I
	if err := attributevalue.UnmarshalMap(img, &it); err != nil {
		return nil, err
	}
	return conv(&it), nil
}

// fromEventImage converts an image in Lambda's shape to the SDK's.
func fromEventImage(m map[string]events.DynamoDBAttributeValue) map[string]types.AttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = fromEventValue(v)
	}
	return out
}

func fromEventValue(v events.DynamoDBAttributeValue) types.AttributeValue {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}
	case events.DataTypeList:
		l := v.List()
		out := make([]types.AttributeValue, len(l))
		for i, e := range l {
			out[i] = fromEventValue(e)
		}
		return &types.AttributeValueMemberL{Value: out}
	case events.DataTypeMap:
		return &types.AttributeValueMemberM{Value: fromEventImage(v.Map())}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}
