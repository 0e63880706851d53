// Package ddbstream reads a table's DynamoDB stream the way Lambda's event
// source mapping does for the deployed stream function: shard by shard,
// parents before children, in batches handed to one handler as
// events.DynamoDBTimeWindowEvent (with the shard's id, as a tumbling
// window's event carries it), retrying a batch from the first record the
// handler reports as failed. It serves DynamoDB Local (`make run`, tests,
// benchmarks) through the Streams API: DescribeStream, GetShardIterator
// and GetRecords.
//
// Drain is deterministic: it reads every shard until a whole pass finds no
// record, so the records that the handler's own writes make are applied
// too. DynamoDB Local makes a write's records readable as soon as the
// write returns, so no waiting is involved, and nothing depends on time.
package ddbstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Handler applies one batch of one shard, as the stream function's Lambda
// handler does. A record named in BatchItemFailures, and every record
// after it, is delivered again; an error fails the whole batch.
type Handler func(ctx context.Context, ev events.DynamoDBTimeWindowEvent) (events.DynamoDBTimeWindowEventResponse, error)

// BatchSize is how many records a batch holds at most, as the event
// source mapping's BatchSize in template.yaml.
const BatchSize = 100

// Poller holds each shard's position between passes.
type Poller struct {
	streams *dynamodbstreams.Client
	arn     string
	handle  Handler

	mu     sync.Mutex // one pass at a time
	shards map[string]*shard
}

type shard struct {
	parent string
	// last is the sequence number of the last record the handler took;
	// "" reads from the oldest record the stream keeps.
	last     string
	iterator *string
	// done: the shard is closed and read to its end.
	done bool
}

// New returns a poller of table's stream. The table must have a stream
// (template.yaml's StreamSpecification).
func New(ctx context.Context, db *dynamodb.Client, streams *dynamodbstreams.Client, table string, h Handler) (*Poller, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("ddbstream: describe %s: %w", table, err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		return nil, fmt.Errorf("ddbstream: table %s has no stream", table)
	}
	return &Poller{streams: streams, arn: arn, handle: h, shards: map[string]*shard{}}, nil
}

// StreamARN is the stream the poller reads.
func (p *Poller) StreamARN() string { return p.arn }

// Drain reads and applies every shard until a whole pass finds nothing
// left: what the writes so far imply, including what applying them wrote,
// is then applied. It returns the records handled.
func (p *Poller) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := p.Pass(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// Pass reads each shard, parents first, up to its newest record, handing
// the records to the handler in batches. It returns how many records the
// handler took; a batch the handler fails stops that shard for this pass,
// and the error is returned once every shard was read.
func (p *Poller) Pass(ctx context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.discover(ctx); err != nil {
		return 0, err
	}
	var errs []error
	total := 0
	for progress := true; progress; {
		progress = false
		for _, id := range p.order() {
			s := p.shards[id]
			if s.done || (s.parent != "" && p.shards[s.parent] != nil && !p.shards[s.parent].done) {
				continue
			}
			n, err := p.readShard(ctx, id, s)
			total += n
			if err != nil {
				errs = append(errs, fmt.Errorf("shard %s: %w", id, err))
				continue
			}
			// A parent read to its end lets its children go in this pass.
			progress = progress || s.done
		}
		if len(errs) > 0 {
			break
		}
	}
	return total, errors.Join(errs...)
}

// Run makes a pass every interval until ctx ends, logging failures: the
// local server's stand-in for the stream function.
func (p *Poller) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := p.Drain(ctx); err != nil && ctx.Err() == nil {
			log.Error("stream pass failed; its records are read again on the next pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// discover adds the shards the stream lists that the poller does not know.
func (p *Poller) discover(ctx context.Context) error {
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.arn)}
	for {
		out, err := p.streams.DescribeStream(ctx, in)
		if err != nil {
			return fmt.Errorf("ddbstream: describe stream: %w", err)
		}
		for _, sh := range out.StreamDescription.Shards {
			id := aws.ToString(sh.ShardId)
			if _, ok := p.shards[id]; !ok {
				p.shards[id] = &shard{parent: aws.ToString(sh.ParentShardId)}
			}
		}
		if out.StreamDescription.LastEvaluatedShardId == nil {
			return nil
		}
		in.ExclusiveStartShardId = out.StreamDescription.LastEvaluatedShardId
	}
}

// order lists the shards with parents before their children.
func (p *Poller) order() []string {
	var out []string
	seen := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		if s := p.shards[id]; s != nil && s.parent != "" {
			visit(s.parent)
		}
		if p.shards[id] != nil {
			out = append(out, id)
		}
	}
	ids := make([]string, 0, len(p.shards))
	for id := range p.shards {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		visit(id)
	}
	return out
}

// readShard hands a shard's records to the handler until GetRecords finds
// none (the shard is caught up) or the handler fails a batch.
func (p *Poller) readShard(ctx context.Context, id string, s *shard) (int, error) {
	total := 0
	for {
		if s.iterator == nil {
			it, err := p.iterator(ctx, id, s.last)
			if err != nil {
				return total, err
			}
			s.iterator = it
		}
		out, err := p.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: s.iterator, Limit: aws.Int32(BatchSize)})
		var expired *types.ExpiredIteratorException
		if errors.As(err, &expired) {
			s.iterator = nil
			continue
		}
		if err != nil {
			return total, fmt.Errorf("get records: %w", err)
		}
		if len(out.Records) == 0 {
			s.iterator = out.NextShardIterator
			if s.iterator == nil {
				s.done = true // closed and read to its end
			}
			return total, nil
		}
		ev := events.DynamoDBTimeWindowEvent{DynamoDBEvent: events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(out.Records))}}
		ev.ShardID, ev.EventSourceARN, ev.State = id, p.arn, map[string]string{}
		for i, r := range out.Records {
			ev.Records[i] = Record(r, p.arn)
		}
		res, err := p.handle(ctx, ev)
		if err != nil {
			// Read the whole batch again next time.
			s.iterator = nil
			return total, err
		}
		if len(res.BatchItemFailures) > 0 {
			failed := res.BatchItemFailures[0].ItemIdentifier
			for _, r := range ev.Records {
				if r.Change.SequenceNumber == failed {
					break
				}
				s.last = r.Change.SequenceNumber
				total++
			}
			s.iterator = nil
			return total, fmt.Errorf("the handler failed the batch from record %s", failed)
		}
		s.last = ev.Records[len(ev.Records)-1].Change.SequenceNumber
		s.iterator = out.NextShardIterator
		total += len(ev.Records)
		if s.iterator == nil {
			s.done = true
			return total, nil
		}
	}
}

func (p *Poller) iterator(ctx context.Context, id, after string) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.arn), ShardId: aws.String(id),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	if after != "" {
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(after)
	}
	out, err := p.streams.GetShardIterator(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get shard iterator: %w", err)
	}
	return out.ShardIterator, nil
}
