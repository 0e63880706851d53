package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// agendaPointers writes the agenda pointers (task.go) of what was stored
// before agendas: open cases already assigned and active claims from the
// pool, so that they show on their users' agendas.
const agendaPointers = "2026-12-agenda-pointers"

// agendaPage writes the missing pointer of each assigned open case and
// each profile with an active claim on a page, in a transaction
// conditioned on the case's or profile's version read (a write since then
// has written its own pointer) and on the pointer not existing (a second
// run changes nothing).
func agendaPage(ctx context.Context, s *Store, items []map[string]types.AttributeValue) (int, error) {
	changed := 0
	for _, raw := range items {
		pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
		if !strings.HasPrefix(pk, "CUST#") {
			continue
		}
		var user, sort, pointer string
		switch {
		case sk == skProfile:
			var it customerItem
			if err := unmarshalItem(raw, &it); err != nil {
				return changed, fmt.Errorf("unmarshal customer %s: %w", pk, err)
			}
			user, sort = claimOnAgenda(fromCustomerItem(&it))
			pointer = skAgendaClaim
		case strings.HasPrefix(sk, skCasePrefix):
			var it caseItem
			if err := unmarshalItem(raw, &it); err != nil {
				return changed, fmt.Errorf("unmarshal case %s %s: %w", pk, sk, err)
			}
			user, sort = caseOnAgenda(fromCaseItem(&it))
			pointer = skAgendaCase + it.ID
		}
		if user == "" {
			continue
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: key(pk, sk),
				ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": raw["version"]}}},
			{Put: &types.Put{TableName: &s.table, ConditionExpression: aws.String(notExists), Item: map[string]types.AttributeValue{
				"pk": str(pk), "sk": str(pointer), "type": str("agenda"), "customerId": str(customerIDOf(pk)),
				"gDue": str(agendaKey(user)), "gDueAt": str(sort)}}},
		}})
		// Failed conditions: changed since the page was read (and
		// pointed to by its own write), or pointed to already.
		did, err := applied(err, "write agenda pointer")
		if err != nil {
			return changed, err
		}
		if did {
			changed++
		}
	}
	return changed, nil
}

// applied tells whether a migration's transaction was applied: cancelled
// by its conditions alone (the item changed since its page was read, or
// migrated already) is not applied and no error.
func applied(err error, what string) (bool, error) {
	var tce *types.TransactionCanceledException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &tce) && onlyConditionsFailed(tce):
		return false, nil
	}
	return false, wrap(what, err)
}

// onlyConditionsFailed reports whether a transaction was cancelled by its
// conditions alone (not by a conflict or throttling, which a retry cures).
func onlyConditionsFailed(tce *types.TransactionCanceledException) bool {
	for _, r := range tce.CancellationReasons {
		if c := aws.ToString(r.Code); c != "" && c != "None" && c != "ConditionalCheckFailed" {
			return false
		}
	}
	return true
}
