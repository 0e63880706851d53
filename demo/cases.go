package demo

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// caseContact plans a complaint or service request (typ) logged by the
// owner at, and the work on the case it opens (seed 001's steps: 判定,
// 处理责任部门确定, 提出处理方案, 提交领导批示, then resolution and the
// customer's satisfaction): in the north the service desk works it and the
// manager approves, in the south the manager triages and the owner works
// it. Steps still to come are not taken, so recent cases stand where they
// are; one case in two of the last 45 days was left alone (it goes overdue and the job
// escalates it), one in ten had its first plan rejected, one in twenty was
// withdrawn by the customer.
func (s *story) caseContact(at time.Time, typ crm.InteractionType, subject string, satisfaction int) {
	in := s.interaction(typ, subject, nil, nil)
	in.Priority = crm.PriorityNormal
	if typ == crm.TypeComplaint {
		in.Priority = crm.PriorityHigh
	}
	var caseID string
	s.add(at, "log a "+string(typ), func(ctx context.Context) error {
		in.CustomerID, in.ContactID = s.id, s.contactID
		it, err := s.svc.LogInteraction(operation(crm.NewContextWithUser(ctx, s.owner), "logInteraction"), in)
		if err == nil {
			caseID = it.ID // a case takes its interaction's id
		}
		return err
	})
	triager, worker, approver := user("service-sun"), user("service-sun"), user("manager-north")
	if s.team == "south" {
		triager, worker, approver = user("manager-south"), s.owner, user("manager-south")
	}
	stalls := at.After(s.now.Add(-45*day)) && s.r.IntN(2) == 0
	if stalls && s.r.IntN(2) == 0 {
		return // nobody responded
	}
	when := at
	move := func(by *crm.User, after time.Duration, m crm.CaseMove) {
		when = when.Add(after)
		s.add(when, "move a case to "+string(m.To), func(ctx context.Context) error {
			// Read again: the job may have escalated it meanwhile.
			cs, err := s.svc.Store.Case(ctx, s.id, caseID)
			if err != nil {
				return err
			}
			_, err = s.svc.MoveCase(operation(crm.NewContextWithUser(ctx, by), "moveCase"), s.id, caseID, cs.Version, m)
			return err
		})
	}
	hours := func(lo, hi int) time.Duration { return time.Duration(lo*60+s.r.IntN((hi-lo)*60+1)) * time.Minute }
	move(triager, hours(1, 4), crm.CaseMove{To: crm.CaseTriaged, Note: "Confirmed with the customer by phone"})
	if s.r.IntN(20) == 0 {
		move(triager, hours(4, 24), crm.CaseMove{To: crm.CaseWithdrawn, Note: "The customer withdrew it: solved on their side"})
		return
	}
	move(triager, hours(1, 3), crm.CaseMove{To: crm.CaseAssigned, AssignTo: worker.ID, Note: "Assigned to " + worker.Name})
	if stalls {
		return
	}
	move(worker, hours(4, 24), crm.CaseMove{To: crm.CaseProposed, Plan: planFor[typ][0]})
	if s.r.IntN(10) == 0 {
		move(approver, hours(4, 20), crm.CaseMove{To: crm.CasePlanRejected, Note: "Offer a visit by an engineer, not only a call"})
		move(worker, hours(4, 24), crm.CaseMove{To: crm.CaseProposed, Plan: planFor[typ][1]})
	}
	move(approver, hours(4, 20), crm.CaseMove{To: crm.CaseApproved, Note: "Go ahead"})
	move(worker, hours(12, 48), crm.CaseMove{To: crm.CaseResolved, Note: "Done as planned; the customer confirmed"})
	move(worker, hours(20, 48), crm.CaseMove{To: crm.CaseClosed, Note: "Satisfaction asked on the closing call", Satisfaction: &satisfaction})
}

// planFor is a handling plan of each type of case, and the one proposed
// after a rejection.
var planFor = map[crm.InteractionType][2]string{
	crm.TypeComplaint:      {"Call the customer back with the cause and a credit note", "Send an engineer on site, then a credit note"},
	crm.TypeServiceRequest: {"Make the change in the billing system this week", "Make the change and confirm it in writing"},
}
