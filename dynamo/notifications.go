package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/rapportcrm/rapport/crm"
)

// Inboxes (docs/access-patterns.md, "Notifications"). A user's inbox is
// the partition INBOX#<user>, its notifications N#<id> (ids are ULIDs of
// the time of what caused them: newest first is descending). An unread
// notification is also on the sparse byList partition
// INBOX#UNREAD#<user> (gSort = its id), which its read mark removes: the
// unread list and the unread count read only unread entries.
//
// Notifications are written by the stream consumer (PutNotifications),
// each conditioned on not existing: its id is a function of its cause, so a
// batch delivered again writes nothing, and a read mark is never undone.
// The one exception is the admins' notice of a webhook endpoint the
// delivery function disabled, written in the disable's own transaction
// (UpdateEndpoint).

const skNoticePrefix = "N#"

func inboxPK(user string) string       { return "INBOX#" + user }
func unreadListKey(user string) string { return "INBOX#UNREAD#" + user }
func noticeSK(id string) string        { return skNoticePrefix + id }

type notificationItem struct {
	PK         string     `dynamodbav:"pk"`
	SK         string     `dynamodbav:"sk"`
	Type       string     `dynamodbav:"type"`
	GList      string     `dynamodbav:"gList,omitempty"`
	GSort      string     `dynamodbav:"gSort,omitempty"`
	ID         string     `dynamodbav:"id"`
	UserID     string     `dynamodbav:"userId"`
	Kind       string     `dynamodbav:"kind"`
	At         time.Time  `dynamodbav:"at"`
	CustomerID string     `dynamodbav:"customerId,omitempty"`
	CaseID     string     `dynamodbav:"caseId,omitempty"`
	TaskID     string     `dynamodbav:"taskId,omitempty"`
	LeadID     string     `dynamodbav:"leadId,omitempty"`
	ContractID string     `dynamodbav:"contractId,omitempty"`
	EndpointID string     `dynamodbav:"endpointId,omitempty"`
	Actor      string     `dynamodbav:"actor,omitempty"`
	DueAt      *time.Time `dynamodbav:"dueAt,omitempty"`
	From       string     `dynamodbav:"from,omitempty"`
	To         string     `dynamodbav:"to,omitempty"`
	Message    string     `dynamodbav:"message"`
	ReadAt     *time.Time `dynamodbav:"readAt,omitempty"`
	TTL        int64      `dynamodbav:"ttl"`
}

func toNotificationItem(n *crm.Notification) *notificationItem {
	it := &notificationItem{
		PK: inboxPK(n.UserID), SK: noticeSK(n.ID), Type: "notification", ID: n.ID, UserID: n.UserID, Kind: string(n.Kind),
		At: n.At, CustomerID: n.CustomerID, CaseID: n.CaseID, TaskID: n.TaskID, LeadID: n.LeadID, ContractID: n.ContractID, EndpointID: n.EndpointID, Actor: n.Actor, DueAt: n.DueAt,
		From: n.From, To: n.To, Message: n.Message, ReadAt: n.ReadAt, TTL: n.At.Add(crm.NotificationTTL).Unix(),
	}
	if n.ReadAt == nil {
		it.GList, it.GSort = unreadListKey(n.UserID), n.ID
	}
	return it
}

func fromNotificationItem(it *notificationItem) *crm.Notification {
	return &crm.Notification{
		ID: it.ID, UserID: it.UserID, Kind: crm.NotificationKind(it.Kind), At: it.At, CustomerID: it.CustomerID,
		CaseID: it.CaseID, TaskID: it.TaskID, LeadID: it.LeadID, ContractID: it.ContractID, EndpointID: it.EndpointID, Actor: it.Actor, DueAt: it.DueAt, From: it.From, To: it.To,
		Message: it.Message, ReadAt: it.ReadAt,
	}
}

// PutNotifications writes notifications the stream derived, one
// conditional PutItem each (attribute_not_exists): one that exists already
// (a batch delivered again) is left as it is, read or not.
func (s *Store) PutNotifications(ctx context.Context, ns []*crm.Notification) error {
	for _, n := range ns {
		item, err := attributevalue.MarshalMap(toNotificationItem(n))
		if err != nil {
			return fmt.Errorf("marshal notification: %w", err)
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		var exists *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &exists) {
			return wrap("put notification", err)
		}
	}
	return nil
}

// ListNotifications lists a user's notifications, newest first: the
// inbox's partition (one Query per page), or for unreadOnly the unread
// list's keys and then the page's notifications (two calls per page),
// each checked again as read (the index lags the table).
func (s *Store) ListNotifications(ctx context.Context, userID string, unreadOnly bool, p crm.PageRequest) (*crm.Page[*crm.Notification], error) {
	if !unreadOnly {
		return collect(ctx, s, listPlan[*crm.Notification]{
			name: "inbox/" + userID,
			query: dynamodb.QueryInput{
				TableName:              &s.table,
				KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :n)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": str(inboxPK(userID)), ":n": str(skNoticePrefix)},
				ScanIndexForward: aws.Bool(false),
			},
			keyAttr: []string{"pk", "sk"},
			decode:  decodeAll(fromNotificationItem),
		}, p)
	}
	return collect(ctx, s, listPlan[*crm.Notification]{
		name:     "inbox-unread/" + userID,
		query:    unreadPage(s.unreadQuery(userID)),
		keyAttr:  []string{"pk", "sk", "gList", "gSort"},
		filtered: true,
		decode: func(ctx context.Context, raw []map[string]types.AttributeValue) ([]*crm.Notification, []bool, error) {
			out, match := make([]*crm.Notification, len(raw)), make([]bool, len(raw))
			keys := make([]map[string]types.AttributeValue, 0, len(raw))
			at := map[string]int{}
			for i, r := range raw {
				sk := strAttr(r["sk"])
				keys = append(keys, key(strAttr(r["pk"]), sk))
				at[sk] = i
			}
			items, err := s.batchGet(ctx, keys)
			if err != nil {
				return nil, nil, err
			}
			for _, it := range items {
				i, ok := at[strAttr(it["sk"])]
				if !ok {
					continue
				}
				var v notificationItem
				if err := unmarshalItem(it, &v); err != nil {
					return nil, nil, fmt.Errorf("unmarshal notification: %w", err)
				}
				out[i], match[i] = fromNotificationItem(&v), v.ReadAt == nil
			}
			return out, match, nil
		},
	}, p)
}

// unreadQuery reads a user's unread list (byList, INBOX#UNREAD#<user>).
func (s *Store) unreadQuery(userID string) dynamodb.QueryInput {
	return dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(s.idx.List),
		KeyConditionExpression:    aws.String("gList = :k"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": str(unreadListKey(userID))},
	}
}

// unreadPage is the unread list's keys, newest first.
func unreadPage(q dynamodb.QueryInput) dynamodb.QueryInput {
	q.ProjectionExpression, q.ScanIndexForward = aws.String("pk, sk, gList, gSort"), aws.Bool(false)
	return q
}

// UnreadNotifications counts a user's unread notifications: Query of the
// unread list with Select COUNT (a page holds a megabyte of keys, some
// ten thousand entries).
func (s *Store) UnreadNotifications(ctx context.Context, userID string) (int, error) {
	n := 0
	var start map[string]types.AttributeValue
	for {
		q := s.unreadQuery(userID)
		q.Select, q.ExclusiveStartKey = types.SelectCount, start
		res, err := s.db.Query(ctx, &q)
		if err != nil {
			return 0, wrap("count unread notifications", err)
		}
		n += int(res.Count)
		if start = res.LastEvaluatedKey; start == nil {
			return n, nil
		}
	}
}

// markRead is the update that marks a notification read: its first read
// time stays, and it leaves the unread list.
const markRead = "SET readAt = if_not_exists(readAt, :at) REMOVE gList, gSort"

// MarkNotificationRead marks one notification read: one UpdateItem
// conditioned on the notification existing in the user's inbox.
func (s *Store) MarkNotificationRead(ctx context.Context, userID, id string, at time.Time) (*crm.Notification, error) {
	when, err := attributevalue.Marshal(at)
	if err != nil {
		return nil, err
	}
	res, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(inboxPK(userID), noticeSK(id)),
		UpdateExpression:          aws.String(markRead),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": when},
		ReturnValues:              types.ReturnValueAllNew,
	})
	var missing *types.ConditionalCheckFailedException
	if errors.As(err, &missing) {
		return nil, crm.Errorf(crm.ENOTFOUND, "notification %s not found", id)
	}
	if err != nil {
		return nil, wrap("mark notification read", err)
	}
	var it notificationItem
	if err := unmarshalItem(res.Attributes, &it); err != nil {
		return nil, fmt.Errorf("unmarshal notification: %w", err)
	}
	return fromNotificationItem(&it), nil
}

// MarkNotificationsRead marks every notification on the user's unread
// list read: the list's keys a page at a time (continuing after the last
// page's end, so entries the index has not dropped yet are not read
// again), one UpdateItem per notification.
func (s *Store) MarkNotificationsRead(ctx context.Context, userID string, at time.Time) (int, error) {
	when, err := attributevalue.Marshal(at)
	if err != nil {
		return 0, err
	}
	marked := 0
	var start map[string]types.AttributeValue
	for {
		q := s.unreadQuery(userID)
		q.ProjectionExpression, q.ExclusiveStartKey = aws.String("pk, sk"), start
		res, err := s.db.Query(ctx, &q)
		if err != nil {
			return marked, wrap("list unread notifications", err)
		}
		for _, raw := range res.Items {
			pk, sk := strAttr(raw["pk"]), strAttr(raw["sk"])
			if pk != inboxPK(userID) || !strings.HasPrefix(sk, skNoticePrefix) {
				continue
			}
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: &s.table, Key: key(pk, sk),
				UpdateExpression:          aws.String(markRead),
				ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(readAt)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":at": when},
			})
			var done *types.ConditionalCheckFailedException
			switch {
			case errors.As(err, &done): // read meanwhile, or expired
			case err != nil:
				return marked, wrap("mark notification read", err)
			default:
				marked++
			}
		}
		if start = res.LastEvaluatedKey; start == nil {
			return marked, nil
		}
	}
}
