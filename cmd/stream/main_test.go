package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func record(seq, pk, sk string) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{
		EventName: "INSERT",
		Change: events.DynamoDBStreamRecord{
			SequenceNumber: seq,
			Keys: map[string]events.DynamoDBAttributeValue{
				"pk": events.NewStringAttribute(pk),
				"sk": events.NewStringAttribute(sk),
			},
		},
	}
}

func TestHandle(t *testing.T) {
	batch := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		record("1", "CUST#a", "~P"), record("2", "CUST#a", "I#01J"), record("3", "CUST#b", "#T#vip"), record("4", "CUST#b", "~P"),
	}}
	t.Run("OK", func(t *testing.T) {
		var buf bytes.Buffer
		c := &consumer{log: slog.New(slog.NewJSONHandler(&buf, nil)), process: func(context.Context, events.DynamoDBEventRecord) error { return nil }}
		res, err := c.handle(context.Background(), batch)
		if err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("res %+v err %v", res, err)
		}
		if !strings.Contains(buf.String(), `"CUST/~P INSERT":2`) || !strings.Contains(buf.String(), `"CUST/T INSERT":1`) {
			t.Errorf("log = %s", buf.String())
		}
	})
	t.Run("PartialFailure", func(t *testing.T) {
		c := &consumer{log: slog.New(slog.DiscardHandler), process: func(_ context.Context, r events.DynamoDBEventRecord) error {
			if r.Change.SequenceNumber == "3" {
				return errors.New("boom")
			}
			return nil
		}}
		res, err := c.handle(context.Background(), batch)
		var ids []string
		for _, f := range res.BatchItemFailures {
			ids = append(ids, f.ItemIdentifier)
		}
		if err != nil || !slices.Equal(ids, []string{"3", "4"}) {
			t.Errorf("failures %v err %v", ids, err)
		}
	})
}
