package stream

import (
	"context"
	"fmt"

	"github.com/rapportcrm/rapport/events"
)

// Publisher publishes the domain events of a batch's changes (package
// events) to its sink, after the consumer has applied the batch: a batch
// delivered again publishes the same events, with the same ids, again.
type Publisher struct {
	// Source is the events' CloudEvents source (events.DefaultSource).
	Source string
	Sink   events.Sink
}

// HandleChanges derives the changes' events, in the stream's order, and
// publishes them in one call of the sink.
func (p *Publisher) HandleChanges(ctx context.Context, _ string, changes []Change) error {
	var evs []events.Event
	for _, ch := range changes {
		if ch.CustomerID == "" {
			continue
		}
		evs = append(evs, events.Derive(p.Source, Record(ch))...)
	}
	if len(evs) == 0 {
		return nil
	}
	if err := p.Sink.Publish(ctx, evs); err != nil {
		return fmt.Errorf("publish %d events: %w", len(evs), err)
	}
	return nil
}

// Record is the change as the events are derived from it.
func Record(ch Change) events.Record {
	return events.Record{
		ID: ch.ID, Seq: ch.Seq, At: ch.At, Op: ch.Event, CustomerID: ch.CustomerID,
		CustomerBefore: ch.CustomerBefore, Customer: ch.Customer,
		InteractionBefore: ch.InteractionBefore, Interaction: ch.Interaction,
		CaseBefore: ch.CaseBefore, Case: ch.Case, Evaluation: ch.Evaluation,
		OpportunityBefore: ch.OpportunityBefore, Opportunity: ch.Opportunity,
		TaskBefore: ch.TaskBefore, Task: ch.Task, LeadBefore: ch.LeadBefore, Lead: ch.Lead, Moved: ch.Moved,
		ContractBefore: ch.ContractBefore, Contract: ch.Contract,
	}
}
