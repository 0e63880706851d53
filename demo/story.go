package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rapportcrm/rapport/crm"
)

// Each customer follows a profile that the default grading policy's rules
// turn into one level as its history grows, as seed 000 means them: key
// accounts that buy (O), the largest companies in strong industries not
// yet buying (A) and large ones (B), fairly important prospects (C),
// potential customers (D, E), contacted but unclassified (F), never
// contacted (G) and one outside the strong industries (V).
const (
	keyAccount = iota
	keyTarget
	target
	largeProspect
	midProspect
	developing
	neverContacted
	contacted
	invalid
)

// book is the demo's mix of profiles, twenty customers at a time, like a
// real book rather than one ninth each: a quarter never contacted, a few
// targets, many more prospects, a sixth buying.
var book = []int{
	keyAccount, neverContacted, midProspect, contacted, keyTarget, developing, neverContacted, largeProspect, keyAccount, contacted,
	target, neverContacted, midProspect, invalid, neverContacted, developing, contacted, largeProspect, keyAccount, neverContacted,
}

// profileLevel is the grade level a profile reaches.
var profileLevel = map[int]string{keyAccount: "O", keyTarget: "A", target: "B", largeProspect: "C", midProspect: "D",
	developing: "E", neverContacted: "G", contacted: "F", invalid: "V"}

// fate is how a key account's relationship went (seed 001's lifecycle).
type fate int

const (
	stays    fate = iota // still in stability
	declines             // contact stopped two months and more ago
	lost                 // lost, with why
	wonBack              // lost, then won back
	quiet                // nobody in touch for two months and more, decline not yet confirmed
)

// keyAccountFates are dealt to the key accounts in turn.
var keyAccountFates = []fate{stays, declines, lost, stays, wonBack, quiet}

// strongIndustries are the demo's industries in the default policy's
// list; the others are outside it.
var strongIndustries = crm.DefaultStrongIndustries

// lostReasons are why the demo's lost customers were lost (seed 001:
// 「分析客戶流失原因」).
var lostReasons = []string{"Moved to a competitor's lower tariff", "Budget cut after a merger", "Unhappy with the response to an outage"}

var lossNotes = map[crm.LossReason]string{
	crm.LossPrice:      "Our quote was 12% above the incumbent's",
	crm.LossCompetitor: "Chose the supplier its parent company uses",
	crm.LossTiming:     "Postponed to next year's budget",
	crm.LossNoBudget:   "Budget frozen after the merger",
}

const day = 24 * time.Hour

// story plans one customer's year on the timeline.
type story struct {
	svc        *crm.Service
	t          *timeline
	r          *rand.Rand
	tpl        *crm.Template
	i, profile int
	fate       fate
	start, now time.Time

	owner     *crm.User // nil: the pool's
	id        string    // set when the customer is created
	contactID string
	team      string
}

// add plans a step of this customer's.
func (s *story) add(at time.Time, what string, do func(context.Context) error) {
	s.t.add(at, fmt.Sprintf("customer %d (%s): %s", s.i, profileLevel[s.profile], what), do)
}

// between returns a moment uniformly between a and b (a when b is not
// after it).
func (s *story) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(s.r.Int64N(int64(b.Sub(a)))))
}

// days returns a duration of lo to hi days.
func (s *story) days(lo, hi int) time.Duration {
	return time.Duration(lo)*day + time.Duration(s.r.Int64N(int64(hi-lo)*int64(day)+1))
}

// workHour moves t into office hours in China (09:00–18:00, UTC+8) on its
// day.
func (s *story) workHour(t time.Time) time.Time {
	d := t.UTC().Truncate(day)
	return d.Add(time.Duration(1+s.r.IntN(9))*time.Hour + time.Duration(s.r.IntN(60))*time.Minute)
}

func user(id string) *crm.User {
	for i := range Users {
		if Users[i].ID == id {
			return &Users[i]
		}
	}
	panic("demo: no user " + id)
}

// plan puts the customer's year on the timeline.
func (s *story) plan() {
	level, _ := crm.GradeLevelByCode(profileLevel[s.profile])
	created := s.createdAt()
	in := s.input()
	s.add(created, "create customer", func(ctx context.Context) error { return s.create(ctx, in) })
	if s.owner == nil {
		return // the pool's customers nobody has called yet
	}
	first := s.workHour(created.Add(s.days(1, 3)))
	switch s.profile {
	case invalid:
		// Called once: outside the strong industries, no follow-up.
		s.contacts(first, first, level)
	case keyAccount:
		s.keyAccount(first)
	default:
		end := s.now
		if level.TakeBackWithoutDeal > 0 {
			// The pool takes a prospect back when its owner got no deal
			// from it within the grade's period: the owner stops calling
			// a week before.
			end = earliest(s.now, created.Add(level.TakeBackWithoutDeal-8*day))
		}
		times := s.contacts(first, end, level)
		if s.profile != developing && s.profile != contacted && len(times) >= 3 {
			s.stage(times[2].Add(time.Hour), crm.StageFormation, "Needs confirmed on the third contact")
		}
		if len(times) >= 2 {
			s.prospectDeal(times[1].Add(2*time.Hour), end)
		}
	}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// createdAt is when the customer arrived: through the year, key accounts
// early enough for the history their fate needs.
func (s *story) createdAt() time.Time {
	latest := map[int]time.Duration{neverContacted: day, invalid: 10 * day, keyTarget: 60 * day, target: 60 * day}
	from, to := s.start, s.now.Add(-20*day)
	if d, ok := latest[s.profile]; ok {
		to = s.now.Add(-d)
	}
	if s.profile == keyAccount {
		to = s.now.Add(-map[fate]time.Duration{stays: 150 * day, declines: 200 * day, lost: 240 * day, quiet: 200 * day}[s.fate])
		if s.fate == wonBack {
			to = s.start.Add(40 * day)
		}
	}
	return s.workHour(s.between(from, to))
}

// input is the customer as it is entered.
func (s *story) input() crm.CustomerInput {
	r := s.r
	owners := []string{"sales-li", "sales-zhao", "sales-liu"}
	s.team = "north"
	if s.profile != neverContacted {
		s.owner = user(owners[r.IntN(len(owners))])
		s.team = s.owner.Teams[0]
	} else if r.IntN(2) == 0 {
		s.team = "south"
	}
	ownerID := ""
	if s.owner != nil {
		ownerID = s.owner.ID
	}
	in := crm.CustomerInput{
		Region: s.team, Team: s.team, OwnerID: &ownerID,
		Source:   crm.Sources[r.IntN(len(crm.Sources))],
		Industry: strongIndustries[r.IntN(len(strongIndustries))],
		Phones:   []string{fmt.Sprintf("+86 1%02d %04d %04d", 30+r.IntN(60), s.i, r.IntN(10000))},
		Tags:     []string{tags[r.IntN(len(tags))]},
	}
	switch s.profile {
	case keyAccount: // buyers come from any industry
		in.Industry = industries[r.IntN(len(industries))]
	case invalid:
		in.Industry = []string{"insurance", "retail", "banking", "software"}[r.IntN(4)]
	}
	revenue := map[int][2]float64{keyAccount: {5e7, 1e9}, keyTarget: {3e8, 1e9}, target: {5e7, 2.9e8}, largeProspect: {1e7, 4.9e7},
		midProspect: {2e6, 9e6}, developing: {1e5, 9e5}, invalid: {1e5, 9e5}}
	if span, ok := revenue[s.profile]; ok {
		in.Kind = crm.KindOrganization
		in.Name = fmt.Sprintf("%s %s Co., Ltd.", orgWords[r.IntN(len(orgWords))], orgKinds[r.IntN(len(orgKinds))])
		in.Emails = []string{fmt.Sprintf("contact%d@example.com.cn", s.i)}
		rev := float64(int(span[0]+r.Float64()*(span[1]-span[0]))/1000) * 1000
		in.AnnualRevenue = &rev
		in.Attributes = []crm.Attribute{{Key: "technical lead", Value: surnames[r.IntN(len(surnames))] + " " + givenNames[r.IntN(len(givenNames))]}}
	} else {
		in.Kind = crm.KindPerson
		in.Name = surnames[r.IntN(len(surnames))] + " " + givenNames[r.IntN(len(givenNames))]
		in.Emails = []string{fmt.Sprintf("customer%d@example.cn", s.i)}
	}
	return in
}

// create enters the customer, with its contact persons.
func (s *story) create(ctx context.Context, in crm.CustomerInput) error {
	adminCtx := crm.NewContextWithUser(ctx, &Users[0])
	c, err := s.svc.CreateCustomer(operation(adminCtx, "createCustomer"), in)
	if err != nil {
		return err
	}
	s.id = c.ID
	if c.Kind != crm.KindOrganization {
		return nil
	}
	for j := range 1 + s.r.IntN(3) {
		ct, err := s.svc.AddContact(operation(adminCtx, "addContact"), c.ID, crm.ContactInput{
			Name:    surnames[s.r.IntN(len(surnames))] + " " + givenNames[s.r.IntN(len(givenNames))],
			Title:   []string{"General Manager", "CTO", "Procurement Lead", "Finance Director"}[j%4],
			Role:    crm.ContactRoles[j%len(crm.ContactRoles)],
			Primary: j == 0,
			// A direct line of their own, apart from the customers' numbers
			// (130–189): a screen pop by it finds the company.
			Phones: []string{fmt.Sprintf("+86 199 %04d %04d", s.i, 100+j)},
			Emails: []string{fmt.Sprintf("p%d.%s@example.com.cn", j, c.ID[len(c.ID)-6:])},
		})
		if err != nil {
			return err
		}
		if j == 0 {
			s.contactID = ct.ID
		}
	}
	return nil
}

// keyAccount plans a buyer's year: its first deal through the pipeline,
// orders and calls while the relationship lasts, an evaluation, and its
// fate.
func (s *story) keyAccount(first time.Time) {
	level, _ := crm.GradeLevelByCode("O")
	opened := first.Add(2 * time.Hour)
	won, deal := s.deal(opened, "Annual service contract", 100_000, 300_000, []string{"NEEDS_ANALYSIS", "PROPOSAL", "NEGOTIATION", crm.StageWon}, nil)
	s.contract(won, deal)
	stable := s.workHour(won.Add(s.days(45, 60)))
	end := s.now
	var lostAt, backAt time.Time
	switch s.fate {
	case declines:
		end = s.workHour(s.now.Add(-s.days(70, 120)))
	case quiet:
		end = s.workHour(s.now.Add(-s.days(65, 100)))
	case lost:
		lostAt = s.workHour(s.between(won.Add(100*day), s.now.Add(-60*day)))
		end = lostAt.Add(-s.days(20, 40))
	case wonBack:
		lostAt = s.workHour(won.Add(s.days(90, 110)))
		end = lostAt.Add(-s.days(20, 30))
		backAt = s.workHour(lostAt.Add(s.days(60, 100)))
	}
	s.contacts(first, end, level)
	s.orders(won.Add(s.days(30, 60)), end)
	if stable.Before(end) {
		s.stage(stable, crm.StageStability, "Orders come in regularly since the first contract")
	}
	review := map[fate]float64{stays: 0.9, declines: 0.6, lost: 0.35, wonBack: 0.75, quiet: 0.7}[s.fate]
	s.evaluate(earliest(s.workHour(won.Add(s.days(20, 40))), end), review)
	switch s.fate {
	case stays:
		s.deal(s.workHour(s.now.Add(-s.days(20, 60))), "Capacity expansion", 150_000, 600_000, []string{"NEEDS_ANALYSIS", "PROPOSAL", "NEGOTIATION"}, nil)
	case declines:
		s.stage(s.workHour(end.Add(61*day)), crm.StageDecline, "No contact for two months")
	case lost:
		s.complaint(end.Add(-s.days(5, 10)), "Service outage", 1)
		s.stage(lostAt, crm.StageLost, lostReasons[s.r.IntN(len(lostReasons))])
	case wonBack:
		s.complaint(end.Add(-s.days(5, 10)), "Late delivery", 2)
		s.stage(lostAt, crm.StageLost, lostReasons[s.r.IntN(len(lostReasons))])
		s.stage(backAt, crm.StageWonBack, "Came back for the new service package")
		s.deal(backAt.Add(2*time.Hour), "Service package", 80_000, 200_000, []string{"NEGOTIATION", crm.StageWon}, nil)
		s.contacts(s.workHour(backAt.Add(s.days(7, 14))), s.now, level)
	}
}

// prospectDeal opens the deal a prospect is worked for; one whose owner
// gives up on it is lost before the pool takes the customer back.
func (s *story) prospectDeal(opened, end time.Time) {
	givesUp := end.Before(s.now)
	switch s.profile {
	case keyTarget:
		s.deal(opened, "Network modernisation", 200_000, 800_000, []string{"NEEDS_ANALYSIS", "PROPOSAL", "NEGOTIATION"}[:1+s.r.IntN(3)], nil)
	case target:
		s.deal(opened, "Pilot project", 80_000, 300_000, []string{"NEEDS_ANALYSIS", "PROPOSAL"}[:s.r.IntN(3)], nil)
	case largeProspect:
		if givesUp {
			s.deal(opened, "First order", 30_000, 150_000, []string{"NEEDS_ANALYSIS", crm.StageLostDeal}, []crm.LossReason{crm.LossPrice, crm.LossCompetitor})
		} else {
			s.deal(opened, "First order", 30_000, 150_000, []string{"NEEDS_ANALYSIS"}[:s.r.IntN(2)], nil)
		}
	case midProspect:
		if givesUp {
			s.deal(opened, "Starter package", 10_000, 50_000, []string{crm.StageLostDeal}, []crm.LossReason{crm.LossTiming, crm.LossNoBudget})
		} else {
			s.deal(opened, "Starter package", 10_000, 50_000, nil, nil)
		}
	}
}

// deal opens an opportunity at opened, as the owner, and moves it through
// moves one to three weeks apart while they are in the past (a move still
// to come is not made). It returns when the last move was planned, and
// where the deal will be once its steps have run.
func (s *story) deal(opened time.Time, title string, lo, hi int, moves []string, reasons []crm.LossReason) (time.Time, **crm.Opportunity) {
	amount := (lo + s.r.IntN(hi-lo)) / 100 * 100
	closeOn := opened.Add(s.days(30, 120)).Truncate(day)
	var o *crm.Opportunity
	s.add(opened, "open a deal", func(ctx context.Context) (err error) {
		o, err = s.svc.CreateOpportunity(operation(crm.NewContextWithUser(ctx, s.owner), "createOpportunity"), crm.OpportunityInput{CustomerID: s.id, Title: title,
			Amount: fmt.Sprintf("%d.00", amount), ExpectedClose: closeOn})
		return err
	})
	at := opened
	for _, st := range moves {
		at = s.workHour(at.Add(s.days(7, 20)))
		move := crm.OpportunityMoveInput{Stage: st}
		if st == crm.StageLostDeal {
			reason := reasons[s.r.IntN(len(reasons))]
			move.LossReason, move.LossNote = reason, lossNotes[reason]
		}
		s.add(at, "move a deal to "+st, func(ctx context.Context) (err error) {
			o, err = s.svc.MoveOpportunity(operation(crm.NewContextWithUser(ctx, s.owner), "moveOpportunity"), crm.OpportunityKey{CustomerID: s.id, ID: o.ID}, o.Version, move)
			return err
		})
	}
	return at, &o
}

// contract plans the contract of a deal won at won: recorded the next
// day with three instalments due 30, 90 and 180 days on, and its payments
// as the buyer's fate has them: one that stays pays a few days early; one
// that declines or goes quiet pays the second instalment weeks late and
// half the third later still; one that is lost pays the second late and
// in part, the third never; one won back pays the second two months late.
// Its draws come from a generator of its own, so that the rest of the
// demo is what it was without contracts.
func (s *story) contract(won time.Time, deal **crm.Opportunity) {
	r := rand.New(rand.NewPCG(uint64(s.i), 0xC0))
	at := func(d time.Time, lateLo, lateHi int) time.Time {
		return d.Truncate(day).Add(time.Duration(lateLo+r.IntN(lateHi-lateLo+1))*day + 9*time.Hour + time.Duration(r.IntN(480))*time.Minute)
	}
	signed := at(won, 1, 1)
	if signed.After(s.now) {
		return
	}
	dues := []time.Time{signed.Truncate(day).Add(30 * day), signed.Truncate(day).Add(90 * day), signed.Truncate(day).Add(180 * day)}
	var k *crm.Contract
	s.add(signed, "record the deal's contract", func(ctx context.Context) (err error) {
		o := *deal
		third := o.Amount / 3 / 100 * 100
		plan := []crm.InstalmentInput{{DueOn: dues[0], Amount: third.String()}, {DueOn: dues[1], Amount: third.String()},
			{DueOn: dues[2], Amount: (o.Amount - 2*third).String()}}
		k, err = s.svc.CreateContract(operation(crm.NewContextWithUser(ctx, s.owner), "createContract"), crm.ContractInput{CustomerID: s.id, OpportunityID: o.ID,
			SignedOn: signed, EndsOn: signed.AddDate(1, 0, 0), Instalments: plan, Cost: contractCost(o.Amount, s.i)})
		return err
	})
	// Per instalment: days late (negative: early) and the percent paid.
	type pay struct{ lo, hi, percent int }
	plans := map[fate][3]pay{
		stays:    {{-5, 0, 100}, {-5, 0, 100}, {-5, 0, 100}},
		declines: {{-3, 2, 100}, {20, 40, 100}, {30, 60, 50}},
		quiet:    {{-3, 2, 100}, {20, 40, 100}, {30, 60, 50}},
		lost:     {{0, 5, 100}, {10, 30, 50}, {}},
		wonBack:  {{0, 5, 100}, {40, 70, 100}, {-3, 0, 100}},
	}[s.fate]
	for i, p := range plans {
		paid := at(dues[i], p.lo, p.hi)
		if p.percent == 0 || paid.After(s.now) {
			continue
		}
		s.add(paid, "record a payment", func(ctx context.Context) error {
			amount := k.Instalments[i].Amount * crm.Money(p.percent) / 100
			_, err := s.svc.RecordPayment(operation(crm.NewContextWithUser(ctx, s.owner), "recordPayment"), crm.PaymentInput{CustomerID: s.id, ContractID: k.ID,
				Amount: amount.String(), Reference: fmt.Sprintf("Bank transfer %d-%d", s.i, i+1)})
			return err
		})
	}
}

// contacts plans the owner's contacts from first to end, at the grade's
// follow-up interval (twice as far apart more than four months ago), and
// the task the last one leaves; it returns their times.
func (s *story) contacts(first, end time.Time, level crm.GradeLevel) []time.Time {
	interval := max(level.FollowUpInterval, 7*day)
	var times []time.Time
	for at := first; !at.After(end); {
		times = append(times, at)
		gap := time.Duration(float64(interval) * (0.5 + 0.4*s.r.Float64()))
		if at.Before(s.now.Add(-120 * day)) {
			gap *= 2
		}
		at = s.workHour(at.Add(gap))
		if level.Code == "V" {
			break
		}
	}
	// The call after the last is the task the last leaves its owner, while
	// the customer is still theirs; one owner in five missed it (the task
	// is overdue).
	owned := end.Equal(s.now) && level.Code != "V"
	next := s.workHour(times[len(times)-1].Add(time.Duration(float64(interval) * (0.5 + 0.5*s.r.Float64()))))
	if owned && len(times) > 1 && s.r.IntN(5) == 0 {
		next, times = times[len(times)-1], times[:len(times)-1]
	}
	var typ crm.InteractionType
	var subject string
	for k, at := range times {
		typ = s.contactType()
		subject = subjects[typ][s.r.IntN(len(subjects[typ]))]
		if typ == crm.TypeCall && s.profile != keyAccount {
			subject = prospectCalls[s.r.IntN(len(prospectCalls))]
		}
		var followUp *time.Time
		if k == 0 && level.FollowUpInterval > 0 {
			// The first contact asks for a follow-up within two weeks (not
			// a V's: no follow-up).
			f := at.Add(time.Duration(s.r.IntN(14*24)) * time.Hour)
			followUp = &f
		}
		if crm.IsCaseType(typ) {
			s.caseContact(at, typ, subject, 3+s.r.IntN(3))
			continue
		}
		s.contact(at, typ, subject, nil, followUp)
		if s.r.IntN(10) == 0 {
			// A note on what was learnt: not a contact with the customer.
			s.contact(at.Add(time.Hour), crm.TypeNote, subjects[crm.TypeNote][s.r.IntN(len(subjects[crm.TypeNote]))], nil, nil)
		}
	}
	if owned {
		s.task(times[len(times)-1], next, typ, subject)
	}
	return times
}

// prospectCalls are what calls to a customer that has not bought are
// about.
var prospectCalls = []string{"Introduced our services", "Follow-up on quote", "Asked about their plans for next year"}

// contactType is what a contact was: calls far more than anything else,
// then visits; complaints and requests come from buyers.
func (s *story) contactType() crm.InteractionType {
	if s.profile == keyAccount {
		return pick(s.r, []crm.InteractionType{crm.TypeCall, crm.TypeVisit, crm.TypeInquiry, crm.TypeFeedback, crm.TypeComplaint, crm.TypeServiceRequest},
			[]int{40, 18, 10, 8, 12, 12})
	}
	return pick(s.r, []crm.InteractionType{crm.TypeCall, crm.TypeVisit, crm.TypeInquiry}, []int{60, 18, 22})
}

// channels weigh the channels of each type of contact: phone and visits
// far more than fax.
var channels = map[crm.InteractionType]struct {
	c []crm.Channel
	w []int
}{
	crm.TypeCall:           {[]crm.Channel{crm.ChannelPhone, crm.ChannelCallCenter, crm.ChannelIM}, []int{75, 15, 10}},
	crm.TypeVisit:          {[]crm.Channel{crm.ChannelVisit, crm.ChannelMeeting}, []int{85, 15}},
	crm.TypeNote:           {[]crm.Channel{crm.ChannelEmail, crm.ChannelIM, crm.ChannelPhone}, []int{40, 40, 20}},
	crm.TypeInquiry:        {[]crm.Channel{crm.ChannelPhone, crm.ChannelWeb, crm.ChannelEmail, crm.ChannelIM, crm.ChannelFax}, []int{40, 20, 20, 15, 5}},
	crm.TypeFeedback:       {[]crm.Channel{crm.ChannelEmail, crm.ChannelWeb, crm.ChannelSocial, crm.ChannelSMS}, []int{30, 30, 20, 20}},
	crm.TypeComplaint:      {[]crm.Channel{crm.ChannelPhone, crm.ChannelCallCenter, crm.ChannelEmail, crm.ChannelFax}, []int{45, 35, 15, 5}},
	crm.TypeServiceRequest: {[]crm.Channel{crm.ChannelCallCenter, crm.ChannelPhone, crm.ChannelEmail, crm.ChannelFax}, []int{50, 30, 15, 5}},
	crm.TypeTransaction:    {[]crm.Channel{crm.ChannelMeeting, crm.ChannelEmail, crm.ChannelFax}, []int{50, 42, 8}},
}

func pick[T any](r *rand.Rand, xs []T, weights []int) T {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return xs[i]
		}
		n -= w
	}
	return xs[len(xs)-1]
}

// contact plans one logged contact of the owner's.
func (s *story) contact(at time.Time, typ crm.InteractionType, subject string, amount *float64, followUp *time.Time) {
	in := s.interaction(typ, subject, amount, followUp)
	s.add(at, "log a contact", func(ctx context.Context) error {
		in.CustomerID, in.ContactID = s.id, s.contactID
		_, err := s.svc.LogInteraction(operation(crm.NewContextWithUser(ctx, s.owner), "logInteraction"), in)
		return err
	})
}

// interaction is a contact of the owner's, on a channel its type is
// usually had on.
func (s *story) interaction(typ crm.InteractionType, subject string, amount *float64, followUp *time.Time) crm.InteractionInput {
	ch := channels[typ]
	in := crm.InteractionInput{
		Type: typ, Channel: pick(s.r, ch.c, ch.w), Direction: crm.Outbound,
		Subject: subject, Content: "Logged by the demo seed.",
		NextFollowUpAt: followUp,
	}
	switch typ {
	case crm.TypeInquiry, crm.TypeFeedback, crm.TypeComplaint, crm.TypeServiceRequest:
		in.Direction = crm.Inbound
	case crm.TypeCall, crm.TypeVisit:
		secs := 60 * (2 + s.r.IntN(map[crm.InteractionType]int{crm.TypeCall: 15, crm.TypeVisit: 120}[typ]))
		in.DurationSeconds = &secs
	}
	if amount != nil {
		in.Amount, in.Currency = amount, "CNY"
	}
	return in
}

// orders plans a buyer's repeat orders, every one and a half to three
// months from first while the relationship lasts.
func (s *story) orders(first, end time.Time) {
	for at := s.workHour(first); at.Before(end); at = s.workHour(at.Add(s.days(45, 90))) {
		amount := float64((100_000 + s.r.IntN(200_000)) / 100 * 100)
		s.contact(at, crm.TypeTransaction, subjects[crm.TypeTransaction][1+s.r.IntN(2)], &amount, nil)
	}
}

// stage plans a lifecycle move by the owner.
func (s *story) stage(at time.Time, to crm.Stage, reason string) {
	s.add(at, "move to "+string(to), func(ctx context.Context) error {
		_, err := s.svc.ChangeStage(operation(crm.NewContextWithUser(ctx, s.owner), "changeStage"), s.id, to, reason, nil)
		return err
	})
}

// evaluate plans the team manager's review of the customer (never its
// owner's: the conflict of interest rule), share of each indicator's scale.
func (s *story) evaluate(at time.Time, share float64) {
	var scores []crm.IndicatorScore
	for _, ind := range s.tpl.Indicators {
		v := ind.ScaleMin + share*(ind.ScaleMax-ind.ScaleMin) + float64(s.r.IntN(2))
		scores = append(scores, crm.IndicatorScore{Key: ind.Key, Value: min(float64(int(v)), ind.ScaleMax)})
	}
	s.add(at, "evaluate", func(ctx context.Context) error {
		_, err := s.svc.SubmitEvaluation(operation(crm.NewContextWithUser(ctx, user("manager-"+s.team)), "submitEvaluation"), crm.EvaluationInput{CustomerID: s.id, TemplateID: s.tpl.ID,
			Kind: crm.EvalInternalReview, Scores: scores, Comment: "Quarterly relationship review."})
		return err
	})
}

// complaint plans a complaint worked to its close, the customer giving
// satisfaction.
func (s *story) complaint(at time.Time, subject string, satisfaction int) {
	s.caseContact(s.workHour(at), crm.TypeComplaint, subject, satisfaction)
}

// task plans the task the last contact (at, of type typ about subject)
// leaves the owner: the next contact, due at due.
func (s *story) task(at, due time.Time, typ crm.InteractionType, subject string) {
	dayOf := at.Format("2 Jan")
	in := crm.TaskInput{AssigneeID: s.owner.ID, Type: crm.TaskCallBack, Title: fmt.Sprintf("Follow up on %q", subject),
		Priority: crm.PriorityNormal, DueAt: due.Truncate(time.Hour)}
	switch typ {
	case crm.TypeInquiry:
		in.Type, in.Title = crm.TaskSendQuote, "Send the quote asked for on "+dayOf
	case crm.TypeComplaint, crm.TypeServiceRequest:
		in.Type, in.Title, in.Priority = crm.TaskSatisfactionCallBack, fmt.Sprintf("Ask how %q was handled", subject), crm.PriorityHigh
	case crm.TypeVisit:
		in.Title = "Call back after the visit of " + dayOf
	}
	s.add(at.Add(time.Minute), "create a task", func(ctx context.Context) error {
		in.CustomerID = s.id
		_, err := s.svc.CreateTask(operation(crm.NewContextWithUser(ctx, s.owner), "createTask"), in)
		return err
	})
}
